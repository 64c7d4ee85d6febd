// `sigil audit proof`: fetches a signed checkpoint of a tenant's audit Merkle tree with an
// inclusion proof (--seq) or a consistency proof (--from/--to) and verifies both here, against
// the pinned audit key, before printing anything as proven (docs/protocol.md "Audit proofs").
#include <cstdio>
#include <memory>
#include <utility>
#include <vector>

#include "broker/audit/audit_tree.h"
#include "broker/audit/audit_wire.h"
#include "broker/audit/checkpoint_note.h"
#include "broker/audit/merkle.h"
#include "cli/commands.h"
#include "core/encoding.h"
#include "core/text.h"

namespace sigil::cli {
namespace {

namespace merkle = broker::merkle;
namespace tlog = broker::tlog;

// A size or seq of 0 means "not given"; given ones are checked to be at least 1 in Proof().
struct ProofOptions {
  std::string tenant;
  std::uint64_t seq = 0, size = 0, from = 0, to = 0;
  std::string key_file;
  std::vector<std::string> zero;  // options given as 0
};

Result<std::vector<merkle::Hash>> ProofHashes(const Json& response) {
  if (!response.contains("proof") || !response["proof"].is_array()) {
    return Fail(Code::kVerificationFailed, "response has no proof");
  }
  const Json& list = response["proof"];
  if (list.size() > merkle::kMaxConsistencyProofHashes) return Fail(Code::kVerificationFailed, "proof is too long");
  std::vector<merkle::Hash> out;
  for (const Json& item : list) {
    auto bytes = item.is_string() ? Base64Decode(item.get<std::string>()) : Result<Bytes>(Fail(Code::kInvalidArgument, ""));
    if (!bytes || bytes->size() != 32) return Fail(Code::kVerificationFailed, "proof hash is not 32 bytes of base64");
    merkle::Hash h;
    std::copy(bytes->begin(), bytes->end(), h.begin());
    out.push_back(h);
  }
  return out;
}

Result<tlog::Checkpoint> OpenHead(const Json& response, const char* field, const tlog::NoteVerifierKey& key,
                                  std::uint64_t expected_size) {
  if (!response.contains(field) || !response[field].is_string()) {
    return Fail(Code::kVerificationFailed, std::string("response has no ") + field);
  }
  SIGIL_ASSIGN_OR_RETURN(auto cp, tlog::OpenCheckpoint(response[field].get<std::string>(), key, key.name));
  if (cp.size != expected_size) {
    return Fail(Code::kVerificationFailed, "signed checkpoint is for tree size " + std::to_string(cp.size) + ", not " +
                                               std::to_string(expected_size));
  }
  return cp;
}

Result<std::uint64_t> SizeField(const Json& response, const char* field) {
  if (!response.contains(field) || !response[field].is_number_unsigned()) {
    return Fail(Code::kVerificationFailed, std::string("response has no ") + field);
  }
  return response[field].get<std::uint64_t>();
}

// Verifies the broker's answer; returns the line to print.
Result<std::string> Check(const ProofOptions& o, const Json& r, const tlog::NoteVerifierKey& key) {
  const std::string who = EscapeForDisplay(o.tenant);
  if (o.seq != 0) {
    SIGIL_ASSIGN_OR_RETURN(std::uint64_t size, SizeField(r, "tree_size"));
    if (o.size != 0 && size != o.size) return Fail(Code::kVerificationFailed, "answer is for another tree size");
    SIGIL_ASSIGN_OR_RETURN(auto head, OpenHead(r, "checkpoint", key, size));
    if (!r.contains("record")) return Fail(Code::kVerificationFailed, "response has no record");
    SIGIL_ASSIGN_OR_RETURN(auto row, broker::AuditRowFromJson(r["record"]));
    if (row.seq != o.seq) return Fail(Code::kVerificationFailed, "answer is for another record");
    SIGIL_ASSIGN_OR_RETURN(auto proof, ProofHashes(r));
    SIGIL_RETURN_IF_ERROR(merkle::VerifyInclusion(o.seq - 1, size, merkle::LeafHash(AsBytes(row.record)), proof, head.root));
    return "audit proof: record " + std::to_string(o.seq) + " is in the log of " + who + " at size " +
           std::to_string(size) + " (root " + Base64Encode(ByteSpan(head.root.data(), head.root.size())) +
           ", checkpoint signed with the pinned audit key)";
  }
  SIGIL_ASSIGN_OR_RETURN(std::uint64_t from, SizeField(r, "from"));
  SIGIL_ASSIGN_OR_RETURN(std::uint64_t to, SizeField(r, "to"));
  if (from != o.from || (o.to != 0 && to != o.to)) return Fail(Code::kVerificationFailed, "answer is for other sizes");
  SIGIL_ASSIGN_OR_RETURN(auto old_head, OpenHead(r, "from_checkpoint", key, from));
  SIGIL_ASSIGN_OR_RETURN(auto new_head, OpenHead(r, "checkpoint", key, to));
  SIGIL_ASSIGN_OR_RETURN(auto proof, ProofHashes(r));
  SIGIL_RETURN_IF_ERROR(merkle::VerifyConsistency(from, to, old_head.root, new_head.root, proof));
  return "audit proof: the log of " + who + " at size " + std::to_string(from) + " is a prefix of the log at size " +
         std::to_string(to) + " (consistency proof verified, both checkpoints signed with the pinned audit key)";
}

int Proof(const GlobalOptions& g, const ProofOptions& o) {
  if (!o.zero.empty()) return ReportError(Error(Code::kInvalidArgument, o.zero.front() + " must be at least 1 (sizes and seq count from 1)"));
  if ((o.seq != 0) == (o.from != 0) || (o.seq != 0 && o.to != 0) || (o.from != 0 && o.size != 0)) {
    return ReportError(Error(Code::kInvalidArgument, "give --seq N [--size S] or --from A [--to B]"));
  }
  if (o.from != 0 && o.to != 0 && o.from > o.to) return ReportError(Error(Code::kInvalidArgument, "--from must not exceed --to"));
  auto pub = LoadAuditKey(g, o.key_file);
  if (!pub) return ReportError(pub.error());
  auto key = tlog::MakeVerifierKey(broker::AuditTreeOrigin(o.tenant), *pub);
  if (!key) return ReportError(key.error());
  Json body = Json::object();
  if (o.seq != 0) body["seq"] = o.seq;
  if (o.size != 0) body["size"] = o.size;
  if (o.from != 0) body["from"] = o.from;
  if (o.to != 0) body["to"] = o.to;
  auto client = AdminClient::Connect(g.endpoint);
  if (!client) return ReportError(client.error());
  auto r = (*client)->Call("POST", "/v1/admin/tenants/" + o.tenant + "/audit/proof", body);
  if (!r) return ReportError(r.error());
  auto line = Check(o, *r, *key);
  if (!line) return ReportError(line.error().Wrap("audit proof: NOT verified"));
  if (g.json) {
    Json out = *r;
    out["verified"] = true;
    std::printf("%s\n", out.dump(2, ' ', false, Json::error_handler_t::replace).c_str());
  } else {
    std::printf("%s\n", line->c_str());
  }
  return 0;
}

}  // namespace

void AddAuditProofCommand(CLI::App& audit, GlobalOptions& g, std::vector<Command>& out) {
  auto o = std::make_shared<ProofOptions>();
  auto* proof = audit.add_subcommand(
      "proof", "prove that a record is in a tenant's log (--seq) or that the log only grew (--from/--to), verified here");
  proof->add_option("--tenant", o->tenant, "tenant")->required();
  auto* seq = proof->add_option("--seq", o->seq, "record to prove included");
  auto* size = proof->add_option("--size", o->size, "tree size to prove it in (default: the log now)");
  auto* from = proof->add_option("--from", o->from, "earlier tree size");
  auto* to = proof->add_option("--to", o->to, "later tree size (default: the log now)");
  proof->add_option("--audit-key", o->key_file, "pinned audit public key (default ADMIN_DIR/audit.pub)");
  out.push_back({proof, [&g, o, seq, size, from, to] {
    for (auto [opt, value] : {std::pair{seq, o->seq}, {size, o->size}, {from, o->from}, {to, o->to}}) {
      if (opt->count() > 0 && value == 0) o->zero.push_back(opt->get_name());
    }
    return Proof(g, *o);
  }});
}

}  // namespace sigil::cli
