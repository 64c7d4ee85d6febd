// `sigil audit receipts` fetches a tenant's release receipts, each with its audit record and an
// inclusion proof under one signed checkpoint, verifies the whole bundle here against the pinned
// audit key and only then writes it; `sigil audit verify-receipt` checks such a bundle (or one
// receipt as a release returned it) offline (docs/protocol.md "Release receipts").
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "broker/audit/audit_tree.h"
#include "broker/audit/audit_wire.h"
#include "broker/audit/checkpoint_note.h"
#include "broker/audit/merkle.h"
#include "broker/audit/release_receipt.h"
#include "cli/commands.h"
#include "core/encoding.h"
#include "core/file_io.h"
#include "core/rfc3339.h"
#include "core/text.h"

namespace sigil::cli {
namespace {

namespace merkle = broker::merkle;
namespace receipt = broker::receipt;
namespace tlog = broker::tlog;

constexpr char kBundleFormat[] = "sigil-release-receipts/v1";

Unexpected<Error> Refused(const std::string& what) { return Fail(Code::kVerificationFailed, what); }

Result<std::uint64_t> Unsigned(const Json& j, const char* field, const std::string& where) {
  if (!j.contains(field) || !j[field].is_number_unsigned()) return Refused(where + " has no " + field);
  return j[field].get<std::uint64_t>();
}

Result<std::vector<merkle::Hash>> Hashes(const Json& entry, const std::string& where) {
  if (!entry.contains("proof") || !entry["proof"].is_array()) return Refused(where + " has no proof");
  if (entry["proof"].size() > merkle::kMaxInclusionProofHashes) return Refused(where + ": proof is too long");
  std::vector<merkle::Hash> out;
  for (const Json& item : entry["proof"]) {
    auto bytes = item.is_string() ? Base64Decode(item.get<std::string>()) : Result<Bytes>(Fail(Code::kInvalidArgument, ""));
    if (!bytes || bytes->size() != 32) return Refused(where + ": proof hash is not 32 bytes of base64");
    merkle::Hash h;
    std::copy(bytes->begin(), bytes->end(), h.begin());
    out.push_back(h);
  }
  return out;
}

struct BundleSummary {
  std::string tenant;
  std::uint64_t tree_size = 0;
  std::vector<receipt::Receipt> receipts;
};

// Every check an independent verifier makes (tests/integration/receipt_verify.py): the signed
// checkpoint; per entry the receipt's signature, that the record is the one the receipt states
// (leaf hash and every field), and the inclusion proof from that leaf to the checkpoint's root.
Result<BundleSummary> VerifyBundle(const Json& b, ByteSpan audit_public_key) {
  if (!b.is_object() || b.value("format", "") != kBundleFormat) {
    return Fail(Code::kInvalidArgument, std::string("not a receipt bundle (format is not '") + kBundleFormat + "')");
  }
  BundleSummary out;
  if (!b.contains("tenant") || !b["tenant"].is_string()) return Refused("bundle has no tenant");
  out.tenant = b["tenant"].get<std::string>();
  SIGIL_ASSIGN_OR_RETURN(out.tree_size, Unsigned(b, "tree_size", "bundle"));
  if (!b.contains("checkpoint") || !b["checkpoint"].is_string()) return Refused("bundle has no checkpoint");
  const std::string origin = broker::AuditTreeOrigin(out.tenant);
  SIGIL_ASSIGN_OR_RETURN(auto key, tlog::MakeVerifierKey(origin, audit_public_key));
  auto head = tlog::OpenCheckpoint(b["checkpoint"].get<std::string>(), key, origin);
  if (!head) return Refused("checkpoint: " + head.error().message());
  if (head->size != out.tree_size) return Refused("the checkpoint is for another tree size than the bundle states");
  if (!b.contains("receipts") || !b["receipts"].is_array()) return Refused("bundle has no receipts");
  for (std::size_t i = 0; i < b["receipts"].size(); ++i) {
    const Json& e = b["receipts"][i];
    const std::string where = "receipts[" + std::to_string(i) + "]";
    if (!e.is_object() || !e.contains("receipt") || !e["receipt"].is_string() || !e.contains("record")) {
      return Refused(where + " has no receipt or record");
    }
    auto r = receipt::Open(e["receipt"].get<std::string>(), audit_public_key);
    if (!r) return Refused(where + ": " + r.error().message());
    if (r->tenant != out.tenant) return Refused(where + " is a receipt of another tenant");
    SIGIL_ASSIGN_OR_RETURN(std::uint64_t seq, Unsigned(e, "seq", where));
    if (seq != r->seq) return Refused(where + ": seq differs from the receipt's");
    auto row = broker::AuditRowFromJson(e["record"]);
    if (!row) return Refused(where + ": record: " + row.error().message());
    if (row->seq != r->seq) return Refused(where + ": the record is another seq than the receipt's");
    if (auto m = receipt::MatchesRecord(*r, *row); !m) return Refused(where + ": " + m.error().message());
    if (r->seq > out.tree_size) return Refused(where + ": the receipt's record is beyond the checkpoint's tree");
    SIGIL_ASSIGN_OR_RETURN(auto proof, Hashes(e, where));
    if (auto v = merkle::VerifyInclusion(r->seq - 1, out.tree_size, r->leaf, proof, head->root); !v) {
      return Refused(where + ": inclusion proof: " + v.error().message());
    }
    out.receipts.push_back(std::move(*r));
  }
  return out;
}

// A /v1 artifact id (64 hex digits) shortened to its first 16; a KBS one
// ("kbs:<repository>/<type>/<version>") in full, as it is short and means nothing cut.
std::string ShortArtifact(const std::string& id) {
  if (id.rfind("kbs:", 0) == 0) return EscapeForDisplay(id, 160);
  return EscapeForDisplay(id.substr(0, 16));
}

std::string Describe(const receipt::Receipt& r) {
  return "seq " + std::to_string(r.seq) + ": " + EscapeForDisplay(r.tenant + "/" + r.key) + " v" +
         std::to_string(r.version) + " artifact " + ShortArtifact(r.artifact_id) + " to " + EscapeForDisplay(r.tee) +
         " measurement " + EscapeForDisplay(r.measurement.substr(0, 16)) + " policy v" +
         std::to_string(r.policy_version) + " at " + FormatRfc3339Utc(std::chrono::system_clock::time_point(
                                                          std::chrono::milliseconds(r.time_ms)));
}

Json ReceiptJson(const receipt::Receipt& r) {
  return Json{{"tenant", r.tenant},         {"key", r.key},
              {"version", r.version},       {"artifact_id", r.artifact_id},
              {"tee", r.tee},               {"measurement", r.measurement},
              {"evidence_digest", r.evidence_digest}, {"policy_version", r.policy_version},
              {"request_id", r.request_id}, {"time_ms", r.time_ms},
              {"seq", r.seq},               {"leaf", Base64Encode(ByteSpan(r.leaf.data(), r.leaf.size()))}};
}

struct FetchOptions {
  std::string tenant, key, since, out, key_file;
  std::uint32_t page_size = 1000;
};

int Fetch(const GlobalOptions& g, const FetchOptions& o) {
  auto pub = LoadAuditKey(g, o.key_file);
  if (!pub) return ReportError(pub.error());
  Json body{{"limit", o.page_size}};
  if (!o.key.empty()) body["key"] = o.key;
  if (!o.since.empty()) {
    auto ms = ParseRfc3339Ms(o.since, "--since");
    if (!ms) return ReportError(ms.error());
    body["since_ms"] = *ms;
  }
  auto client = AdminClient::Connect(g.endpoint);
  if (!client) return ReportError(client.error());
  const std::string path = "/v1/admin/tenants/" + o.tenant + "/audit/receipts";
  auto first = (*client)->Call("POST", path, body);
  if (!first) return ReportError(first.error());
  Json bundle = std::move(*first);
  // Later pages are proved in the first page's tree, so one checkpoint covers every receipt.
  while (bundle.contains("next_after_seq")) {
    body["after_seq"] = bundle["next_after_seq"];
    body["size"] = bundle["tree_size"];
    auto page = (*client)->Call("POST", path, body);
    if (!page) return ReportError(page.error());
    if (!page->contains("receipts") || !(*page)["receipts"].is_array()) {
      return ReportError(Error(Code::kVerificationFailed, "audit receipts: NOT verified: a page has no receipts"));
    }
    for (auto& e : (*page)["receipts"]) bundle["receipts"].push_back(std::move(e));
    bundle.erase("next_after_seq");
    if (page->contains("next_after_seq")) bundle["next_after_seq"] = (*page)["next_after_seq"];
  }
  auto summary = VerifyBundle(bundle, *pub);
  if (!summary) return ReportError(summary.error().Wrap("audit receipts: NOT verified"));
  if (auto w = WriteFileAtomic(o.out, AsBytes(bundle.dump(2) + "\n"), 0600); !w) return ReportError(w.error());
  if (g.json) {
    std::printf("%s\n", Json{{"tenant", summary->tenant}, {"receipts", summary->receipts.size()},
                             {"tree_size", summary->tree_size}, {"out", o.out}, {"verified", true}}
                            .dump(2)
                            .c_str());
  } else {
    std::printf("audit receipts: %zu receipts of %s written to %s, each proved in the log at size %llu "
                "(checkpoint signed with the pinned audit key)\n",
                summary->receipts.size(), EscapeForDisplay(summary->tenant).c_str(), o.out.c_str(),
                static_cast<unsigned long long>(summary->tree_size));
  }
  return 0;
}

int VerifyReceiptFile(const GlobalOptions& g, const std::string& file, const std::string& key_file) {
  auto pub = LoadAuditKey(g, key_file);
  if (!pub) return ReportError(pub.error());
  auto text = ReadTextFile(file, tlog::kMaxNoteSize * 64);
  if (!text) return ReportError(text.error());
  // A receipt as a release returned it: only its signature can be checked; inclusion needs a
  // proof, which `sigil audit receipts` fetches.
  if (text->rfind(std::string(receipt::kHeader) + "\n", 0) == 0) {
    auto r = receipt::Open(*text, *pub);
    if (!r) return ReportError(r.error().Wrap("verify-receipt: NOT verified"));
    if (g.json) {
      Json out{{"signature", true}, {"included", false}, {"receipt", ReceiptJson(*r)}};
      std::printf("%s\n", out.dump(2, ' ', false, Json::error_handler_t::replace).c_str());
    } else {
      std::printf("verify-receipt: signature OK (%s); inclusion NOT proved: this file has no proof "
                  "(fetch one with sigil audit receipts)\n", Describe(*r).c_str());
    }
    return 0;
  }
  auto j = ParseJson(*text, file);
  if (!j) return ReportError(j.error());
  auto summary = VerifyBundle(*j, *pub);
  if (!summary) return ReportError(summary.error().Wrap("verify-receipt: NOT verified"));
  if (g.json) {
    Json list = Json::array();
    for (const auto& r : summary->receipts) list.push_back(ReceiptJson(r));
    Json out{{"signature", true}, {"included", true}, {"tenant", summary->tenant},
             {"tree_size", summary->tree_size}, {"receipts", std::move(list)}};
    std::printf("%s\n", out.dump(2, ' ', false, Json::error_handler_t::replace).c_str());
  } else {
    for (const auto& r : summary->receipts) std::printf("verify-receipt: %s\n", Describe(r).c_str());
    std::printf("verify-receipt: OK: %zu receipts of %s, each signed and proved in the log at size %llu "
                "(checkpoint signed with the pinned audit key)\n",
                summary->receipts.size(), EscapeForDisplay(summary->tenant).c_str(),
                static_cast<unsigned long long>(summary->tree_size));
  }
  return 0;
}

}  // namespace

void AddAuditReceiptCommands(CLI::App& audit, GlobalOptions& g, std::vector<Command>& out) {
  auto o = std::make_shared<FetchOptions>();
  auto* fetch = audit.add_subcommand(
      "receipts", "fetch a tenant's release receipts with inclusion proofs, verify them here, write them to a file");
  fetch->add_option("--tenant", o->tenant, "tenant")->required();
  fetch->add_option("--key", o->key, "only releases of this tenant-relative key");
  fetch->add_option("--since", o->since, "RFC 3339 time: only releases at or after it");
  fetch->add_option("--out", o->out, "output file (JSON bundle, written atomically)")->required();
  fetch->add_option("--audit-key", o->key_file, "pinned audit public key (default ADMIN_DIR/audit.pub)");
  fetch->add_option("--page-size", o->page_size, "receipts per request, 1..1000 (all pages are proved in one tree)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  out.push_back({fetch, [&g, o] { return Fetch(g, *o); }});

  auto file = std::make_shared<std::string>();
  auto key_file = std::make_shared<std::string>();
  auto* verify = audit.add_subcommand(
      "verify-receipt", "check a receipt bundle (signatures, records, inclusion) or one receipt (signature) offline");
  verify->add_option("--file", *file, "a bundle from sigil audit receipts, or one receipt note")->required();
  verify->add_option("--audit-key", *key_file, "pinned audit public key (default ADMIN_DIR/audit.pub)");
  out.push_back({verify, [&g, file, key_file] { return VerifyReceiptFile(g, *file, *key_file); }});
}

}  // namespace sigil::cli
