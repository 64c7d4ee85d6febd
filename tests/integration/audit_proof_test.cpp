// sigil audit proof against the real sigild: inclusion proofs (`--seq N`) and consistency proofs
// (`--from A --to B`) over tenant acme's audit log. Every --json response is checked again by an
// independent verifier, tests/integration/audit_proof_verify.py (RFC 9162 section 2.1 and C2SP
// signed-note written from the specs, python3-cryptography), which must also refuse each tampered
// copy; and the CLI must refuse requests that name no record or size of the log.
//
// Wire format under test: leaf i of tenant T's tree is the stored bytes of the record with
// seq i + 1 (the "record" string of GET /v1/admin/tenants/T/audit); checkpoints are C2SP signed
// notes with origin and key name "sigil-audit/T", signed by the audit key in ADMIN_DIR/audit.pub.
#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "core/digest.h"
#include "core/encoding.h"
#include "core/file_io.h"
#include "tests/integration/broker_fixture.h"

namespace sigil::integration {
namespace {

constexpr const char* kTenant = "acme";
constexpr char kPython[] = "/usr/bin/python3";  // Debian's, with python3-cryptography

testing::CommandResult Sigil(std::vector<std::string> args) { return BrokerEnv::Get().Sigil(std::move(args)); }

std::string ToLower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool StartsWith(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

// Line `index` (0-based) of a note's text: 0 origin, 1 tree size, 2 base64 root.
std::string NoteLine(const std::string& note, std::size_t index) {
  std::size_t pos = 0;
  for (std::size_t i = 0; i < index; ++i) {
    pos = note.find('\n', pos);
    if (pos == std::string::npos) return "";
    ++pos;
  }
  return note.substr(pos, note.find('\n', pos) - pos);
}

// A copy of `b64` (standard base64 of a hash) with one bit of the decoded bytes flipped.
std::string FlipBit(const std::string& b64, std::size_t bit) {
  auto raw = Base64Decode(b64);
  if (!raw || raw->empty()) return b64 + "A";
  (*raw)[(bit / 8) % raw->size()] ^= static_cast<std::uint8_t>(1u << (bit % 8));
  return Base64Encode(*raw);
}

// The note with one character of its signature line's base64 changed (inside the Ed25519
// signature, after the 4-byte key id and before the padding).
std::string EditSignature(std::string note) {
  std::size_t end = note.size() - 1;  // the final '\n'
  std::size_t at = end - 10;
  note[at] = note[at] == 'A' ? 'B' : 'A';
  return note;
}

// The note with its tree size line replaced (the signature no longer covers the text).
std::string EditNoteSize(const std::string& note, std::uint64_t size) {
  std::size_t a = note.find('\n') + 1;
  std::size_t b = note.find('\n', a);
  return note.substr(0, a) + std::to_string(size) + note.substr(b);
}

class AuditProof : public ::testing::Test {
 protected:
  // A few admin actions on acme so that its log has several records besides the fixture's.
  static void SetUpTestSuite() {
    for (auto args : std::vector<std::vector<std::string>>{{"key", "create", "acme/proof-k1"},
                                                           {"key", "create", "acme/proof-k2"},
                                                           {"key", "disable", "acme/proof-k1"},
                                                           {"key", "enable", "acme/proof-k1"}}) {
      auto r = Sigil(args);
      ASSERT_EQ(r.exit_code, 0) << args[0] << " " << args[1] << " " << args[2] << ": " << r.err;
    }
  }

  // The raw rows of `sigil --json audit list TENANT`: {"seq", "record", "hash"}, in seq order.
  static std::vector<Json> Rows(const std::string& tenant) {
    auto r = Sigil({"--json", "audit", "list", tenant});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto j = ParseJson(r.out, "audit list");
    if (!j || !j->contains("records") || !(*j)["records"].is_array()) {
      ADD_FAILURE() << "not an audit listing: " << r.out;
      return {};
    }
    std::vector<Json> rows((*j)["records"].begin(), (*j)["records"].end());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      EXPECT_EQ(rows[i].value("seq", std::uint64_t{0}), i + 1) << "the listing is not seq 1..n in order";
    }
    return rows;
  }

  // Runs `sigil --json audit proof --tenant TENANT ARGS`; returns its exact stdout (the broker's
  // response plus "verified": true) and, parsed, `*response`.
  static std::string ProofJson(const std::string& tenant, std::vector<std::string> args, Json* response) {
    args.insert(args.begin(), {"--json", "audit", "proof", "--tenant", tenant});
    auto r = Sigil(args);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    auto j = ParseJson(r.out, "audit proof --json");
    EXPECT_TRUE(j.has_value()) << r.out;
    if (j) {
      EXPECT_EQ(j->value("verified", false), true) << r.out;
      EXPECT_EQ(j->value("tenant", ""), tenant) << r.out;
      *response = *j;
    }
    return r.out;
  }

  // Runs the independent verifier on `text` (a response) with acme's broker's pinned audit key.
  static testing::CommandResult Python(const testing::TempDir& dir, const char* mode, const std::string& text) {
    static int n = 0;
    const std::string path = dir.File("response-" + std::to_string(++n) + ".json");
    EXPECT_TRUE(WriteFileAtomic(path, AsBytes(text), 0600).has_value());
    return testing::Run({kPython, std::string(SIGIL_SOURCE_DIR) + "/tests/integration/audit_proof_verify.py", mode,
                         path, BrokerEnv::Get().admin_dir() + "/audit.pub"});
  }

  static void ExpectPythonAccepts(const testing::TempDir& dir, const char* mode, const std::string& text) {
    auto r = Python(dir, mode, text);
    EXPECT_EQ(r.exit_code, 0) << "python verifier refused (is python3-cryptography installed?): " << r.out << r.err
                              << "\nresponse: " << text;
    EXPECT_EQ(r.out, "OK\n");
  }

  static void ExpectPythonRefuses(const testing::TempDir& dir, const char* mode, const Json& tampered,
                                  const char* what) {
    auto r = Python(dir, mode, DumpJson(tampered));
    EXPECT_EQ(r.exit_code, 1) << what << ": the independent verifier accepted it: " << r.out << r.err;
    EXPECT_EQ(r.out.find("OK"), std::string::npos) << what << ": " << r.out;
  }

  // A request the CLI must refuse: non-zero exit (not 4: nothing was verified and failed), an
  // error on stderr that mentions one of `words`, and nothing on stdout that reads as a proof.
  static void ExpectCliRefuses(std::vector<std::string> args, std::initializer_list<const char*> words) {
    std::string shown;
    for (const auto& a : args) shown += " " + a;
    for (bool json : {false, true}) {
      std::vector<std::string> full = {"audit", "proof"};
      full.insert(full.end(), args.begin(), args.end());
      if (json) full.insert(full.begin(), "--json");
      auto r = Sigil(full);
      EXPECT_NE(r.exit_code, 0) << shown << ": accepted: " << r.out;
      EXPECT_NE(r.exit_code, 4) << shown << ": a bad request is not a failed verification: " << r.err;
      EXPECT_EQ(r.out.find("audit proof:"), std::string::npos) << shown << ": " << r.out;
      EXPECT_EQ(r.out.find("verified"), std::string::npos) << shown << ": " << r.out;
      EXPECT_TRUE(StartsWith(r.err, "sigil: error: ")) << shown << ": " << r.err;
      const std::string err = ToLower(r.err);
      EXPECT_TRUE(std::any_of(words.begin(), words.end(), [&](const char* w) { return err.find(w) != std::string::npos; }))
          << shown << ": the message does not say what is wrong: " << r.err;
    }
  }
};

TEST_F(AuditProof, InclusionOfFirstAndLastRecordVerifiesInTheCliAndIndependently) {
  auto rows = Rows(kTenant);
  ASSERT_GE(rows.size(), 8u) << "fixture (tenant, keys, refs, policy) plus this suite's four key actions";
  const std::uint64_t last = rows.size();
  testing::TempDir dir;

  for (std::uint64_t seq : {std::uint64_t{1}, last}) {
    const std::string n = std::to_string(seq);
    auto human = Sigil({"audit", "proof", "--tenant", kTenant, "--seq", n});
    EXPECT_EQ(human.exit_code, 0) << human.out << human.err;
    EXPECT_TRUE(StartsWith(human.out, "audit proof: record " + n + " is in the log of acme")) << human.out;

    Json resp;
    const std::string text = ProofJson(kTenant, {"--seq", n}, &resp);
    ExpectPythonAccepts(dir, "inclusion", text);
    ASSERT_TRUE(resp.is_object());
    EXPECT_EQ(resp.value("seq", std::uint64_t{0}), seq);
    EXPECT_EQ(resp.value("leaf_index", std::uint64_t{99999}), seq - 1);
    EXPECT_GE(resp.value("tree_size", std::uint64_t{0}), last);
    ASSERT_TRUE(resp.contains("record") && resp["record"].is_object()) << text;
    // The proven leaf is exactly the record that `audit list` shows at that seq.
    EXPECT_EQ(resp["record"], rows[seq - 1]) << "proof record differs from the listing's";
    const std::string cp = resp.value("checkpoint", "");
    EXPECT_EQ(NoteLine(cp, 0), "sigil-audit/acme") << cp;
    EXPECT_EQ(NoteLine(cp, 1), std::to_string(resp.value("tree_size", std::uint64_t{0}))) << cp;
  }
}

TEST_F(AuditProof, ConsistencyBetweenSizesVerifiesInTheCliAndIndependently) {
  auto rows = Rows(kTenant);
  ASSERT_GE(rows.size(), 8u);
  const std::string n = std::to_string(rows.size());
  testing::TempDir dir;

  for (auto [from, to] : std::vector<std::pair<std::string, std::string>>{{"1", n}, {"2", "3"}}) {
    auto human = Sigil({"audit", "proof", "--tenant", kTenant, "--from", from, "--to", to});
    EXPECT_EQ(human.exit_code, 0) << human.out << human.err;
    EXPECT_TRUE(StartsWith(human.out, "audit proof: the log of acme at size " + from +
                                          " is a prefix of the log at size " + to))
        << human.out;

    Json resp;
    const std::string text = ProofJson(kTenant, {"--from", from, "--to", to}, &resp);
    ExpectPythonAccepts(dir, "consistency", text);
    EXPECT_EQ(std::to_string(resp.value("from", std::uint64_t{0})), from);
    EXPECT_EQ(std::to_string(resp.value("to", std::uint64_t{0})), to);
    EXPECT_EQ(NoteLine(resp.value("from_checkpoint", ""), 1), from);
    EXPECT_EQ(NoteLine(resp.value("checkpoint", ""), 1), to);
  }

  // The size-1 tree is the leaf hash of the first listed record (RFC 9162: MTH of one entry).
  Json one;
  ProofJson(kTenant, {"--from", "1", "--to", n}, &one);
  Bytes leaf{0x00};
  const std::string first = rows[0].value("record", "");
  leaf.insert(leaf.end(), first.begin(), first.end());
  EXPECT_EQ(NoteLine(one.value("from_checkpoint", ""), 2), Base64Encode(Sha256(leaf)));
}

TEST_F(AuditProof, AProvenTreeStaysAPrefixAsTheLogGrows) {
  testing::TempDir dir;
  Json inc;
  ProofJson(kTenant, {"--seq", "1"}, &inc);
  const std::uint64_t then = inc.value("tree_size", std::uint64_t{0});
  ASSERT_GT(then, 1u);
  const std::string then_root = NoteLine(inc.value("checkpoint", ""), 2);

  ASSERT_EQ(Sigil({"key", "create", "acme/proof-k3"}).exit_code, 0);
  const std::uint64_t now = Rows(kTenant).size();
  ASSERT_GT(now, then);

  Json con;
  const std::string text =
      ProofJson(kTenant, {"--from", std::to_string(then), "--to", std::to_string(now)}, &con);
  ExpectPythonAccepts(dir, "consistency", text);
  // The broker signs the same root for size `then` in both answers: one history, not a fork.
  EXPECT_EQ(NoteLine(con.value("from_checkpoint", ""), 2), then_root);
}

TEST_F(AuditProof, IndependentVerifierRefusesTamperedResponses) {
  testing::TempDir dir;
  Json inc, con, bob;
  ExpectPythonAccepts(dir, "inclusion", ProofJson(kTenant, {"--seq", "1"}, &inc));
  ExpectPythonAccepts(dir, "consistency", ProofJson(kTenant, {"--from", "2", "--to", "3"}, &con));
  ExpectPythonAccepts(dir, "inclusion", ProofJson("bob", {"--seq", "1"}, &bob));  // valid as bob's
  ASSERT_TRUE(inc.contains("proof") && inc["proof"].is_array() && !inc["proof"].empty()) << inc.dump();
  ASSERT_TRUE(con.contains("proof") && con["proof"].is_array() && !con["proof"].empty()) << con.dump();
  ASSERT_TRUE(inc.contains("record") && inc["record"].contains("record")) << inc.dump();
  const std::uint64_t size = inc.value("tree_size", std::uint64_t{0});

  for (std::size_t i = 0; i < inc["proof"].size(); ++i) {
    Json t = inc;
    t["proof"][i] = FlipBit(t["proof"][i].get<std::string>(), 8 * i + 3);
    ExpectPythonRefuses(dir, "inclusion", t, "inclusion proof hash flipped");
  }
  for (std::size_t i = 0; i < con["proof"].size(); ++i) {
    Json t = con;
    t["proof"][i] = FlipBit(t["proof"][i].get<std::string>(), 255);
    ExpectPythonRefuses(dir, "consistency", t, "consistency proof hash flipped");
  }
  {
    Json t = inc;
    t["proof"].erase(t["proof"].size() - 1);
    ExpectPythonRefuses(dir, "inclusion", t, "inclusion proof hash dropped");
  }
  {
    Json t = inc;
    std::string rec = t["record"]["record"].get<std::string>();
    rec.insert(1, " ");  // still the same JSON value, different bytes
    t["record"]["record"] = rec;
    ExpectPythonRefuses(dir, "inclusion", t, "record edited");
  }
  {
    Json t = inc;
    t["record"] = bob["record"];  // bob's record 1, same seq
    ExpectPythonRefuses(dir, "inclusion", t, "another tenant's record");
  }
  {
    Json t = inc;
    t["tree_size"] = size + 1;
    ExpectPythonRefuses(dir, "inclusion", t, "tree size changed in the response");
  }
  {
    Json t = inc;
    t["tree_size"] = size + 1;
    t["checkpoint"] = EditNoteSize(inc["checkpoint"].get<std::string>(), size + 1);
    ExpectPythonRefuses(dir, "inclusion", t, "tree size changed in the note");
  }
  {
    Json t = con;
    t["to"] = 4;
    ExpectPythonRefuses(dir, "consistency", t, "consistency 'to' changed");
  }
  {
    Json t = con;
    t["from_checkpoint"] = EditNoteSize(con["from_checkpoint"].get<std::string>(), 1);
    t["from"] = 1;
    ExpectPythonRefuses(dir, "consistency", t, "consistency 'from' size changed in the note");
  }
  {
    Json t = inc;
    t["checkpoint"] = EditSignature(inc["checkpoint"].get<std::string>());
    ExpectPythonRefuses(dir, "inclusion", t, "note signature edited");
  }
  {
    Json t = con;
    t["from_checkpoint"] = EditSignature(con["from_checkpoint"].get<std::string>());
    ExpectPythonRefuses(dir, "consistency", t, "from_checkpoint signature edited");
  }
  {  // bob's checkpoint: signed by the same broker key, but under key name "sigil-audit/bob"
    Json t = inc;
    t["checkpoint"] = bob["checkpoint"];
    t["tree_size"] = bob["tree_size"];
    ExpectPythonRefuses(dir, "inclusion", t, "a checkpoint under another tenant's origin");
  }
  {  // acme's proof presented as bob's
    Json t = inc;
    t["tenant"] = "bob";
    ExpectPythonRefuses(dir, "inclusion", t, "acme's proof claimed for bob");
    Json c = con;
    c["tenant"] = "bob";
    ExpectPythonRefuses(dir, "consistency", c, "acme's consistency proof claimed for bob");
  }
}

// The documented options not exercised above: --size (a proof in an earlier tree), --from alone
// (up to the log now), and --audit-key: a checkpoint is only believed under the pinned key, so
// another key makes the same answer fail verification (exit 4) and nothing is printed as proven.
TEST_F(AuditProof, SizeFromAloneAndThePinnedKeyDecide) {
  auto at_size = Sigil({"audit", "proof", "--tenant", kTenant, "--seq", "1", "--size", "2"});
  EXPECT_EQ(at_size.exit_code, 0) << at_size.err;
  EXPECT_TRUE(StartsWith(at_size.out, "audit proof: record 1 is in the log of acme at size 2 ")) << at_size.out;
  auto from_alone = Sigil({"audit", "proof", "--tenant", kTenant, "--from", "2"});
  EXPECT_EQ(from_alone.exit_code, 0) << from_alone.err;
  EXPECT_TRUE(StartsWith(from_alone.out, "audit proof: the log of acme at size 2 is a prefix of the log at size "))
      << from_alone.out;
  auto pinned = Sigil({"audit", "proof", "--tenant", kTenant, "--seq", "1", "--audit-key",
                       BrokerEnv::Get().admin_dir() + "/audit.pub"});
  EXPECT_EQ(pinned.exit_code, 0) << pinned.err;

  testing::TempDir dir;
  const std::string other = dir.File("other.pub");
  ASSERT_TRUE(WriteFileAtomic(other, AsBytes(Json{{"public_key", Base64UrlEncode(Bytes(32, 0x42))}}.dump()), 0600)
                  .has_value());
  for (std::vector<std::string> args : {std::vector<std::string>{"--seq", "1"}, {"--from", "1", "--to", "2"}}) {
    args.insert(args.begin(), {"audit", "proof", "--tenant", kTenant, "--audit-key", other});
    auto r = Sigil(args);
    EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
    EXPECT_EQ(r.out.find("audit proof:"), std::string::npos) << r.out;
    EXPECT_NE(r.err.find("NOT verified"), std::string::npos) << r.err;
  }
}

TEST_F(AuditProof, CliRefusesRequestsOutsideTheLog) {
  const std::uint64_t n = Rows(kTenant).size();
  ASSERT_GE(n, 3u);
  ExpectCliRefuses({"--tenant", kTenant, "--seq", "0"}, {"seq", "record"});
  ExpectCliRefuses({"--tenant", kTenant, "--seq", std::to_string(n + 1000)}, {"seq", "size", "record"});
  ExpectCliRefuses({"--tenant", kTenant, "--from", "3", "--to", "2"}, {"from", "size"});
  ExpectCliRefuses({"--tenant", kTenant, "--from", "1", "--to", std::to_string(n + 1000)}, {"size", "--to", "tree"});
  ExpectCliRefuses({"--tenant", "nosuchtenant", "--seq", "1"}, {"unknown tenant", "no such tenant"});
  ExpectCliRefuses({"--tenant", "nosuchtenant", "--from", "1", "--to", "2"}, {"unknown tenant", "no such tenant"});
}

}  // namespace
}  // namespace sigil::integration
