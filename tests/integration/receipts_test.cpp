// Release receipts against the real sigild (docs/protocol.md "Release receipts"): a real dev-TEE
// release of two artifacts returns one signed receipt per artifact naming its committed record;
// `sigil audit receipts` re-derives them (byte-identical) with inclusion proofs under one signed
// checkpoint; `sigil audit verify-receipt` and an independent verifier,
// tests/integration/receipt_verify.py (python3-cryptography, written from the protocol text),
// both accept the bundle and both refuse a receipt with one field changed, a proof of another
// leaf, and a checkpoint signed by another key.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "broker/audit/checkpoint_note.h"
#include "core/ed25519.h"
#include "core/encoding.h"
#include "core/file_io.h"
#include "core/jwk.h"
#include "tests/integration/broker_fixture.h"
#include "tests/support/matchers.h"

namespace sigil::integration {
namespace {

constexpr char kPython[] = "/usr/bin/python3";  // Debian's, with python3-cryptography

testing::CommandResult Sigil(std::vector<std::string> args) { return BrokerEnv::Get().Sigil(std::move(args)); }
std::string AuditPub() { return BrokerEnv::Get().admin_dir() + "/audit.pub"; }

// The value of line "<name> <value>" of a receipt's text ("" if absent).
std::string Line(const std::string& note, const std::string& name) {
  const std::string prefix = "\n" + name + " ";
  const std::size_t at = note.find(prefix);
  if (at == std::string::npos) return "";
  const std::size_t begin = at + prefix.size();
  return note.substr(begin, note.find('\n', begin) - begin);
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  const std::size_t at = s.find(from);
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

class Receipts : public ::testing::Test {
 protected:
  // One real release of two artifacts of acme/model by an attested dev-TEE workload: the raw
  // response (so the receipts are seen as the workload sees them) and the artifact ids.
  static void SetUpTestSuite() {
    auto c = BrokerEnv::Get().Client();
    Workload w = Workload::Make();
    auto nonce = c->Challenge("acme", "dev");
    ASSERT_TRUE(nonce.has_value()) << nonce.error().message();
    auto token = c->Attest("acme", "dev", *nonce, w.Evidence(*nonce, kMeasurementA, false), w.key.public_key);
    ASSERT_TRUE(token.has_value()) << token.error().message();
    Json arts = Json::array();
    for (int i = 0; i < 2; ++i) {
      TestArtifact a = MakeArtifact("acme", "model");
      arts.push_back(Json{{"key", a.artifact.key}, {"version", a.artifact.version},
                          {"enc", Base64UrlEncode(a.artifact.enc)}, {"sealed_dek", Base64UrlEncode(a.artifact.sealed_dek)}});
    }
    Json req{{"tee_public_key", X25519PublicKeyToJwk(w.key.public_key)}, {"artifacts", arts}};
    auto r = c->Post("/v1/release", req.dump(), *token);
    ASSERT_TRUE(r.has_value()) << r.error().message();
    response_ = new Json(std::move(*r));
  }
  static void TearDownTestSuite() {
    delete response_;
    response_ = nullptr;
  }

  static std::vector<std::string> ReleasedReceipts() {
    std::vector<std::string> out;
    if (response_ == nullptr) return out;
    for (const auto& a : (*response_)["artifacts"]) out.push_back(a.value("receipt", ""));
    return out;
  }

  // `sigil audit receipts --tenant acme --key model --out FILE`, parsed.
  static Json Fetch(const testing::TempDir& dir, const std::string& name) {
    const std::string out = dir.File(name);
    auto r = Sigil({"audit", "receipts", "--tenant", "acme", "--key", "model", "--out", out});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    auto text = ReadTextFile(out);
    if (!text) return Json();
    auto j = ParseJson(*text, out);
    return j ? *j : Json();
  }

  static std::string Write(const testing::TempDir& dir, const Json& bundle) {
    static int n = 0;
    const std::string path = dir.File("bundle-" + std::to_string(++n) + ".json");
    EXPECT_TRUE(WriteFileAtomic(path, AsBytes(bundle.dump(2)), 0600).has_value());
    return path;
  }

  static testing::CommandResult Python(const std::string& path) {
    return testing::Run({kPython, std::string(SIGIL_SOURCE_DIR) + "/tests/integration/receipt_verify.py", path, AuditPub()});
  }

  // Both verifiers refuse `bundle`: sigil exits 4 saying NOT verified, python exits 1.
  // Both verifiers refuse `bundle`, each naming the check that failed: sigil exits 4 saying NOT
  // verified and `sigil_why`, python exits 1 saying `python_why`.
  static void ExpectBothRefuse(const testing::TempDir& dir, const Json& bundle, const std::string& what,
                               const char* sigil_why, const char* python_why) {
    const std::string path = Write(dir, bundle);
    auto s = Sigil({"audit", "verify-receipt", "--file", path, "--audit-key", AuditPub()});
    EXPECT_EQ(s.exit_code, 4) << what << ": sigil accepted it: " << s.out << s.err;
    EXPECT_NE(s.err.find("NOT verified"), std::string::npos) << what << ": " << s.err;
    EXPECT_NE(s.err.find(sigil_why), std::string::npos) << what << ": " << s.err;
    EXPECT_EQ(s.out.find("OK"), std::string::npos) << what << ": " << s.out;
    auto p = Python(path);
    EXPECT_EQ(p.exit_code, 1) << what << ": the independent verifier accepted it: " << p.out << p.err;
    EXPECT_EQ(p.out.rfind("refused: ", 0), 0u) << what << ": " << p.out;
    EXPECT_NE(p.out.find(python_why), std::string::npos) << what << ": " << p.out;
  }

  static Json* response_;
};

Json* Receipts::response_ = nullptr;

TEST_F(Receipts, EachReleasedArtifactCarriesASignedReceiptOfItsCommittedRecord) {
  ASSERT_NE(response_, nullptr);
  const auto& arts = (*response_)["artifacts"];
  ASSERT_EQ(arts.size(), 2u);
  auto records = AuditRecords("acme");
  std::uint64_t prev_seq = 0;
  for (const auto& a : arts) {
    const std::string note = a.value("receipt", "");
    ASSERT_EQ(note.rfind("sigil/v1/release-receipt\ntenant acme\nkey model\nversion 1\n", 0), 0u) << note;
    EXPECT_EQ(Line(note, "artifact"), a.value("artifact_id", "")) << note;
    EXPECT_EQ(Line(note, "tee"), "dev");
    EXPECT_EQ(Line(note, "measurement"), kMeasurementA);
    EXPECT_EQ(Line(note, "policy"), "1") << note;
    const std::uint64_t seq = std::stoull(Line(note, "seq"));
    EXPECT_EQ(Line(note, "leaf_index"), std::to_string(seq - 1));
    EXPECT_GT(seq, prev_seq) << "one record per artifact";
    prev_seq = seq;
    // The record at that seq is the committed release record, holding every receipt field.
    ASSERT_LE(seq, records.size());
    const Json& rec = records[seq - 1];
    EXPECT_EQ(rec.value("action", ""), "release");
    EXPECT_EQ(rec.value("decision", ""), "allow");
    EXPECT_EQ(rec.value("artifact_id", ""), a.value("artifact_id", ""));
    EXPECT_EQ(rec.value("measurement", ""), kMeasurementA);
    EXPECT_EQ(rec.value("evidence_digest", ""), Line(note, "evidence"));
    EXPECT_EQ(std::to_string(rec.value("time_ms", std::int64_t{0})), Line(note, "time"));
    EXPECT_EQ(rec.value("request_id", ""), Line(note, "request"));
    EXPECT_NE(note.find("\n\n\xe2\x80\x94 sigil-audit/acme "), std::string::npos) << "a C2SP signed note: " << note;
  }
}

TEST_F(Receipts, AReceiptAloneVerifiesItsSignatureButSaysInclusionIsNotProved) {
  testing::TempDir dir;
  const std::string path = dir.File("receipt.txt");
  ASSERT_TRUE(WriteFileAtomic(path, AsBytes(ReleasedReceipts().at(0)), 0600).has_value());
  auto r = Sigil({"audit", "verify-receipt", "--file", path});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out.rfind("verify-receipt: signature OK (seq ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("inclusion NOT proved"), std::string::npos) << r.out;

  const std::string edited = dir.File("edited.txt");
  ASSERT_TRUE(WriteFileAtomic(edited, AsBytes(Replace(ReleasedReceipts().at(0), kMeasurementA, kMeasurementB)), 0600)
                  .has_value());
  auto bad = Sigil({"audit", "verify-receipt", "--file", edited});
  EXPECT_EQ(bad.exit_code, 4) << bad.out << bad.err;
  EXPECT_NE(bad.err.find("NOT verified"), std::string::npos) << bad.err;
}

// The documented lines (docs/cli.md): fetch with --key and --since, verify offline with the key.
TEST_F(Receipts, FetchedReceiptsAreTheReleasedOnesProvedAndVerifyInSigilAndIndependently) {
  testing::TempDir dir;
  const std::string out = dir.File("receipts.json");
  auto r = Sigil({"audit", "receipts", "--tenant", "acme", "--key", "model", "--since", "2026-01-01T00:00:00Z",
                  "--out", out});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out.rfind("audit receipts: ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find(" of acme written to " + out + ", each proved in the log at size "), std::string::npos) << r.out;
  auto text = ReadTextFile(out);
  ASSERT_TRUE(text.has_value());
  auto bundle = ParseJson(*text, out);
  ASSERT_TRUE(bundle.has_value());
  ASSERT_TRUE((*bundle)["receipts"].is_array());

  // Re-derived from the records, byte for byte the receipts the release returned.
  std::vector<std::string> fetched;
  for (const auto& e : (*bundle)["receipts"]) fetched.push_back(e.value("receipt", ""));
  for (const auto& released : ReleasedReceipts()) {
    EXPECT_NE(std::find(fetched.begin(), fetched.end(), released), fetched.end()) << "not re-derived: " << released;
  }

  auto v = Sigil({"audit", "verify-receipt", "--file", out, "--audit-key", AuditPub()});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  EXPECT_NE(v.out.find("verify-receipt: OK: " + std::to_string(fetched.size()) + " receipts of acme"), std::string::npos)
      << v.out;
  auto p = Python(out);
  EXPECT_EQ(p.exit_code, 0) << "python verifier refused (is python3-cryptography installed?): " << p.out << p.err;
  EXPECT_EQ(p.out, "OK " + std::to_string(fetched.size()) + "\n");

  // Pages of one receipt (docs/cli.md): the same receipts, all proved under one checkpoint, and
  // the --json summaries.
  const std::string paged = dir.File("paged.json");
  auto pr = Sigil({"--json", "audit", "receipts", "--tenant", "acme", "--key", "model", "--page-size", "1", "--out", paged});
  ASSERT_EQ(pr.exit_code, 0) << pr.out << pr.err;
  auto summary = ParseJson(pr.out, "receipts --json");
  ASSERT_TRUE(summary.has_value()) << pr.out;
  EXPECT_EQ(summary->value("verified", false), true);
  EXPECT_EQ(summary->value("receipts", std::size_t{0}), fetched.size());
  auto paged_text = ReadTextFile(paged);
  ASSERT_TRUE(paged_text.has_value());
  auto paged_bundle = ParseJson(*paged_text, paged);
  ASSERT_TRUE(paged_bundle.has_value());
  ASSERT_EQ((*paged_bundle)["receipts"].size(), fetched.size());
  for (std::size_t i = 0; i < fetched.size(); ++i) {
    EXPECT_EQ((*paged_bundle)["receipts"][i].value("receipt", ""), fetched[i]) << i;
  }
  EXPECT_FALSE(paged_bundle->contains("next_after_seq"));
  EXPECT_EQ(Python(paged).out, "OK " + std::to_string(fetched.size()) + "\n");
  auto vj = Sigil({"--json", "audit", "verify-receipt", "--file", paged});
  ASSERT_EQ(vj.exit_code, 0) << vj.err;
  auto vjson = ParseJson(vj.out, "verify-receipt --json");
  ASSERT_TRUE(vjson.has_value()) << vj.out;
  EXPECT_EQ(vjson->value("included", false), true);
  EXPECT_EQ((*vjson)["receipts"].size(), fetched.size());
  EXPECT_EQ((*vjson)["receipts"][0].value("measurement", ""), kMeasurementA);

  // --since after every release, and a key never released: nothing to receipt, still a verified
  // bundle.
  for (std::vector<std::string> args :
       {std::vector<std::string>{"--since", "2999-01-01T00:00:00Z"}, {"--key", "never-released"}}) {
    const std::string empty = dir.File("empty.json");
    args.insert(args.begin(), {"audit", "receipts", "--tenant", "acme"});
    args.insert(args.end(), {"--out", empty});
    auto e = Sigil(args);
    EXPECT_EQ(e.exit_code, 0) << e.out << e.err;
    EXPECT_EQ(e.out.rfind("audit receipts: 0 receipts of acme", 0), 0u) << e.out;
  }
}

TEST_F(Receipts, BothVerifiersRefuseAChangedFieldAnotherLeafsProofAndAForeignCheckpoint) {
  testing::TempDir dir;
  const Json bundle = Fetch(dir, "good.json");
  ASSERT_TRUE(bundle.contains("receipts") && bundle["receipts"].size() >= 2) << bundle.dump();
  const std::size_t n = bundle["receipts"].size();
  const std::size_t a = n - 2, b = n - 1;  // this suite's two artifacts
  ASSERT_EQ(Python(Write(dir, bundle)).exit_code, 0);

  // One field of one receipt changed (its signature no longer covers the text).
  for (auto [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"\nmeasurement " + std::string(kMeasurementA), "\nmeasurement " + std::string(kMeasurementB)},
           {"\nversion 1\n", "\nversion 2\n"},
           {"\ntee dev\n", "\ntee snp\n"}}) {
    Json t = bundle;
    const std::string note = t["receipts"][a]["receipt"].get<std::string>();
    ASSERT_NE(note.find(from), std::string::npos) << from;
    t["receipts"][a]["receipt"] = Replace(note, from, to);
    ExpectBothRefuse(dir, t, "receipt field changed: " + to, "does not verify", "receipt: signature");
  }
  {  // the proof of the other artifact's leaf
    Json t = bundle;
    t["receipts"][a]["proof"] = bundle["receipts"][b]["proof"];
    ExpectBothRefuse(dir, t, "a proof for another leaf", "inclusion proof", "inclusion proof");
  }
  {  // the other artifact's record under this receipt
    Json t = bundle;
    t["receipts"][a]["record"] = bundle["receipts"][b]["record"];
    ExpectBothRefuse(dir, t, "another artifact's record", "another seq", "another seq");
  }
  {  // the record's bytes changed (same JSON value): its leaf is no longer the receipt's
    Json t = bundle;
    std::string rec = t["receipts"][a]["record"]["record"].get<std::string>();
    rec.insert(1, " ");
    t["receipts"][a]["record"]["record"] = rec;
    ExpectBothRefuse(dir, t, "record bytes changed", "leaf hash", "leaf hash");
  }
  {  // a field of the record changed, with a receipt and proof that are otherwise intact
    Json t = bundle;
    std::string rec = t["receipts"][a]["record"]["record"].get<std::string>();
    rec = Replace(rec, kMeasurementA, kMeasurementB);
    t["receipts"][a]["record"]["record"] = rec;
    ExpectBothRefuse(dir, t, "record field changed", "leaf hash", "leaf hash");
  }
  {  // the same checkpoint text, signed by another key under the same name
    auto other = Ed25519Generate();
    ASSERT_TRUE(other.has_value());
    const std::string cp = bundle["checkpoint"].get<std::string>();
    const std::string text = cp.substr(0, cp.rfind("\n\n") + 1);
    auto forged = broker::tlog::SignNote(text, "sigil-audit/acme", other->seed);
    ASSERT_TRUE(forged.has_value()) << forged.error().message();
    Json t = bundle;
    t["checkpoint"] = *forged;
    ExpectBothRefuse(dir, t, "a checkpoint signed by another key", "checkpoint", "checkpoint");
  }
  {  // and the whole bundle against another pinned key
    const std::string path = Write(dir, bundle);
    const std::string other_pub = dir.File("other.pub");
    ASSERT_TRUE(WriteFileAtomic(other_pub, AsBytes(Json{{"public_key", Base64UrlEncode(Bytes(32, 0x42))}}.dump()), 0600)
                    .has_value());
    auto s = Sigil({"audit", "verify-receipt", "--file", path, "--audit-key", other_pub});
    EXPECT_EQ(s.exit_code, 4) << s.out << s.err;
  }
}

}  // namespace
}  // namespace sigil::integration
