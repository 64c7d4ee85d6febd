// `sigil audit proof`: fetches a signed checkpoint of a tenant's audit Merkle tree with an
// inclusion proof (--seq) or a consistency proof (--from/--to) and verifies both here, against
// the pinned audit key, before printing anything as proven (docs/protocol.md "Audit proofs").
#include <chrono>
#include <cstdio>
#include <memory>
#include <utility>
#include <vector>

#include "broker/audit/audit_tree.h"
#include "broker/audit/audit_wire.h"
#include "broker/audit/checkpoint_note.h"
#include "broker/audit/merkle.h"
#include "cli/audit_memory.h"
#include "cli/commands.h"
#include "core/encoding.h"
#include "core/rfc3339.h"
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

// `sigil audit checkpoint`: the tenant's published tree head, opened with the pinned audit key
// and, as a Certificate Transparency monitor does, checked to extend the log this user accepted
// before (cli/audit_memory.h) by a consistency proof from the broker verified here; only then is
// it remembered as the newest accepted log.
struct CheckpointOptions {
  std::string tenant;
  std::string key_file;
};

int TreeHeadCommand(const GlobalOptions& g, const CheckpointOptions& o) {
  auto pub = LoadAuditKey(g, o.key_file);
  if (!pub) return ReportError(pub.error());
  auto key = tlog::MakeVerifierKey(broker::AuditTreeOrigin(o.tenant), *pub);
  if (!key) return ReportError(key.error());
  auto client = AdminClient::Connect(g.endpoint);
  if (!client) return ReportError(client.error());
  auto r = (*client)->Call("GET", "/v1/admin/tenants/" + o.tenant + "/audit/checkpoint");
  if (!r) return ReportError(r.error());
  const auto fail = [](const Error& e) { return ReportError(e.Wrap("audit checkpoint: NOT verified")); };
  auto size = SizeField(*r, "tree_size");
  if (!size) return fail(size.error());
  auto head = OpenHead(*r, "checkpoint", *key, *size);
  if (!head) return fail(head.error());
  auto remembered = RecallLog(*pub, o.tenant);
  if (!remembered) return ReportError(remembered.error());
  std::string said = "first tree head of this log accepted here";
  if (*remembered) {
    const RememberedLog& m = **remembered;
    if (m.size > head->size) {
      return fail(Error(Code::kVerificationFailed, "log shrank: the signed tree head is for " + std::to_string(head->size) +
                                                       " records, but this user accepted " + std::to_string(m.size) +
                                                       " before (" + m.file + ")"));
    }
    if (m.size == head->size && m.root != head->root) {
      return fail(Error(Code::kVerificationFailed, "history rewritten: the signed root for " + std::to_string(m.size) +
                                                       " records is not the one this user accepted before (" + m.file + ")"));
    }
    if (m.size < head->size) {
      // The broker proves that the remembered tree is a prefix of this one: both heads are
      // signed, the remembered root is ours, and the proof is checked here (RFC 9162 2.1.4.2).
      auto c = (*client)->Call("POST", "/v1/admin/tenants/" + o.tenant + "/audit/proof",
                               Json{{"from", m.size}, {"to", head->size}});
      if (!c) return ReportError(c.error());
      auto to = OpenHead(*c, "checkpoint", *key, head->size);
      if (!to) return fail(to.error());
      if (to->root != head->root) return fail(Error(Code::kVerificationFailed, "two different signed roots for one tree size"));
      auto proof = ProofHashes(*c);
      if (!proof) return fail(proof.error());
      if (auto v = merkle::VerifyConsistency(m.size, head->size, m.root, head->root, *proof); !v) {
        return fail(v.error().Wrap("the log is not an extension of the one this user accepted before (" + m.file + ")"));
      }
      said = "extends the log accepted here before (" + std::to_string(m.size) + " -> " + std::to_string(head->size) +
             " records, consistency proof verified)";
    } else {
      said = "unchanged since accepted here";
    }
  }
  auto file = RememberLog(*pub, o.tenant, head->size, head->root);
  if (!file) return ReportError(file.error());
  const std::string root = Base64Encode(ByteSpan(head->root.data(), head->root.size()));
  if (g.json) {
    Json out = *r;
    out["verified"] = true;
    out["root"] = root;
    out["memory"] = said;
    std::printf("%s\n", out.dump(2, ' ', false, Json::error_handler_t::replace).c_str());
  } else {
    std::printf("audit checkpoint: tenant %s: %llu records, root %s, signed %s with the pinned audit key; %s\n",
                EscapeForDisplay(o.tenant).c_str(), static_cast<unsigned long long>(head->size), root.c_str(),
                FormatRfc3339Utc(std::chrono::system_clock::time_point(std::chrono::milliseconds(head->time_ms))).c_str(), EscapeForDisplay(said, 400).c_str());
  }
  return 0;
}

}  // namespace

void AddAuditCheckpointCommand(CLI::App& audit, GlobalOptions& g, std::vector<Command>& out) {
  auto o = std::make_shared<CheckpointOptions>();
  auto* cmd = audit.add_subcommand(
      "checkpoint", "fetch the tenant's signed tree head, verify it and that it extends the log accepted here before");
  cmd->add_option("--tenant", o->tenant, "tenant")->required();
  cmd->add_option("--audit-key", o->key_file, "pinned audit public key (default ADMIN_DIR/audit.pub)");
  out.push_back({cmd, [&g, o] { return TreeHeadCommand(g, *o); }});
}

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
