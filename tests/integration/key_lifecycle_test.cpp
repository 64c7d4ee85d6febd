// Key lifecycle against the real sigild: disable/enable, destroy (all or one version), import.
// Uses its own tenant "keylife" so the shared fixture's tenants keep their keys.
#include <filesystem>
#include <fstream>
#include <iterator>

#include "cli/admin_client.h"
#include "core/encoding.h"
#include "core/file_io.h"
#include "core/protocol.h"
#include "tests/integration/broker_fixture.h"
#include "tests/support/matchers.h"

namespace sigil::integration {
namespace {

constexpr const char* kTenant = "keylife";
constexpr const char* kPolicy = R"({
  "version": 1,
  "rules": [{"name": "engines", "keys": ["dis", "gone", "ver", "imp"],
             "when": {"allOf": [{"claim": "tee", "equals": "dev"},
                                {"claim": "debug", "equals": false},
                                {"claim": "measurement", "in_reference": "engines"}]}}]
})";

testing::CommandResult Sigil(std::vector<std::string> args) { return BrokerEnv::Get().Sigil(std::move(args)); }

class KeyLifecycle : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    testing::TempDir dir;
    ASSERT_TRUE(WriteFileAtomic(dir.File("p.json"), AsBytes(kPolicy), 0644).has_value());
    for (auto args : std::vector<std::vector<std::string>>{
             {"tenant", "create", kTenant}, {"refs", "add", kTenant, "engines", kMeasurementA},
             {"policy", "set", kTenant, dir.File("p.json")}}) {
      auto r = Sigil(args);
      ASSERT_EQ(r.exit_code, 0) << args[0] << " " << args[1] << ": " << r.err;
    }
  }

  // Attests a fresh workload and releases `a`; returns the opened DEK's equality with a.dek.
  static Result<bool> ReleaseOpens(const TestArtifact& a) {
    auto c = BrokerEnv::Get().Client();
    Workload w = Workload::Make();
    SIGIL_ASSIGN_OR_RETURN(Bytes nonce, c->Challenge(kTenant, "dev"));
    SIGIL_ASSIGN_OR_RETURN(std::string token, c->Attest(kTenant, "dev", nonce, w.Evidence(nonce, kMeasurementA, false),
                                                        w.key.public_key));
    SIGIL_ASSIGN_OR_RETURN(auto rel, c->Release(token, w.key.public_key, {a.artifact}));
    if (rel.size() != 1) return Fail(Code::kInternal, "expected one released key");
    auto info = protocol::ReleaseInfo(kTenant, rel[0].key.substr(rel[0].key.find('/') + 1), rel[0].version,
                                      rel[0].artifact_id);
    SIGIL_ASSIGN_OR_RETURN(SecretBytes dek, hpke::OpenSecret(hpke::kSigilSuite, rel[0].enc, w.key.private_key, info, {},
                                                             rel[0].sealed_dek));
    return ConstantTimeEquals(dek, a.dek);
  }

  static void ExpectLastDeny(const std::string& needle) {
    auto recs = AuditRecords(kTenant);
    ASSERT_FALSE(recs.empty());
    EXPECT_EQ(recs.back().value("action", ""), "release") << recs.back().dump();
    EXPECT_EQ(recs.back().value("decision", ""), "deny") << recs.back().dump();
    EXPECT_NE(recs.back().value("reason", "").find(needle), std::string::npos) << recs.back().dump();
  }

  static bool HasAdminRecord(const std::string& action, const std::string& key) {
    for (const auto& r : AuditRecords(kTenant)) {
      if (r.value("action", "") == action && r.value("key", "") == key && r.value("decision", "") == "ok" &&
          r.value("actor", "").rfind("admin:", 0) == 0) {
        return true;
      }
    }
    return false;
  }

  static std::string StateOf(const std::string& key, int version) {
    auto r = Sigil({"--json", "key", "list", kTenant});
    auto j = ParseJson(r.out, "key list");
    if (!j) return "";
    for (const auto& k : (*j)["keys"]) {
      if (k["key"] == key && k["version"] == version) return k["state"].get<std::string>();
    }
    return "";
  }

  static Bytes WrappedKey(const std::string& key, int version) {
    return ReadSqliteBlob(BrokerEnv::Get().data_dir() + "/store.db",
                          "SELECT private_key FROM key_versions WHERE tenant=? AND name=? AND version=?",
                          {kTenant, key, std::to_string(version)});
  }

  static std::string FileBytes(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
  }
};

TEST_F(KeyLifecycle, DisableRefusesReleaseAndEnableRestoresIt) {
  ASSERT_EQ(Sigil({"key", "create", "keylife/dis"}).exit_code, 0);
  TestArtifact a = MakeArtifact(kTenant, "dis");
  ASSERT_OK_AND_ASSIGN(bool same, ReleaseOpens(a));
  EXPECT_TRUE(same);

  auto d = Sigil({"key", "disable", "--tenant", kTenant, "--key", "dis"});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  EXPECT_NE(d.out.find("disabled"), std::string::npos) << d.out;
  EXPECT_EQ(StateOf("dis", 1), "disabled");
  EXPECT_TRUE(HasAdminRecord("admin.key.disable", "dis"));
  auto denied = ReleaseOpens(a);
  ASSERT_FALSE(denied.has_value());
  // Its own code, answered as 403 (net::BrokerError appends "[code, HTTP status]").
  EXPECT_EQ(denied.error().code(), Code::kKeyDisabled);
  EXPECT_NE(denied.error().message().find("key_disabled:"), std::string::npos) << denied.error().message();
  EXPECT_NE(denied.error().message().find("[key_disabled, HTTP 403]"), std::string::npos) << denied.error().message();
  ExpectLastDeny("key_disabled");

  auto rot = Sigil({"key", "rotate", "keylife/dis"});  // a disabled key is not silently extended
  EXPECT_NE(rot.exit_code, 0);
  EXPECT_NE(rot.err.find("key_disabled"), std::string::npos) << rot.err;
  EXPECT_NE(rot.err.find("[key_disabled, HTTP 403]"), std::string::npos) << rot.err;

  auto e = Sigil({"key", "enable", "keylife/dis"});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  EXPECT_TRUE(HasAdminRecord("admin.key.enable", "dis"));
  ASSERT_OK_AND_ASSIGN(bool again, ReleaseOpens(a));
  EXPECT_TRUE(again);
}

TEST_F(KeyLifecycle, DestroyNeedsConfirmationThenErasesForGood) {
  ASSERT_EQ(Sigil({"key", "create", "keylife/gone"}).exit_code, 0);
  TestArtifact a = MakeArtifact(kTenant, "gone");

  auto no_confirm = Sigil({"key", "destroy", "--tenant", kTenant, "--key", "gone"});
  EXPECT_EQ(no_confirm.exit_code, 2);
  EXPECT_NE(no_confirm.err.find("confirm"), std::string::npos) << no_confirm.err;
  auto wrong = Sigil({"key", "destroy", "--tenant", kTenant, "--key", "gone", "--confirm", "dis"});
  EXPECT_EQ(wrong.exit_code, 2);
  ASSERT_OK_AND_ASSIGN(bool still, ReleaseOpens(a));
  EXPECT_TRUE(still);

  Bytes wrapped = WrappedKey("gone", 1);
  ASSERT_GT(wrapped.size(), 16u);
  auto d = Sigil({"key", "destroy", "--tenant", kTenant, "--key", "gone", "--confirm", "gone"});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  EXPECT_EQ(StateOf("gone", 1), "destroyed");
  EXPECT_TRUE(WrappedKey("gone", 1).empty());
  // The old wrapped blob is nowhere in the database file or its WAL (secure_delete + checkpoint).
  const std::string needle(wrapped.begin(), wrapped.end());
  const std::string db = BrokerEnv::Get().data_dir() + "/store.db";
  EXPECT_EQ(FileBytes(db).find(needle), std::string::npos);
  if (std::filesystem::exists(db + "-wal")) {
    EXPECT_EQ(FileBytes(db + "-wal").find(needle), std::string::npos);
  }
  EXPECT_TRUE(HasAdminRecord("admin.key.destroy", "gone"));

  auto denied = ReleaseOpens(a);
  ASSERT_FALSE(denied.has_value());
  // Its own code, answered as 410 Gone: the key material is never coming back.
  EXPECT_EQ(denied.error().code(), Code::kKeyDestroyed);
  EXPECT_NE(denied.error().message().find("key_destroyed:"), std::string::npos) << denied.error().message();
  EXPECT_NE(denied.error().message().find("[key_destroyed, HTTP 410]"), std::string::npos) << denied.error().message();
  ExpectLastDeny("key_destroyed");

  for (const char* verb : {"enable", "disable", "rotate"}) {
    auto r = Sigil({"key", verb, "keylife/gone"});
    EXPECT_NE(r.exit_code, 0) << verb;
    EXPECT_NE(r.err.find("key_destroyed"), std::string::npos) << verb << ": " << r.err;
    EXPECT_NE(r.err.find("[key_destroyed, HTTP 410]"), std::string::npos) << verb << ": " << r.err;
  }
  auto twice = Sigil({"key", "destroy", "keylife/gone", "--confirm", "gone"});
  EXPECT_NE(twice.exit_code, 0);
  auto pub = Sigil({"key", "public", "keylife/gone"});
  EXPECT_NE(pub.exit_code, 0) << "no recipient file for a destroyed key";
}

TEST_F(KeyLifecycle, DestroyOneVersionLeavesTheOthers) {
  ASSERT_EQ(Sigil({"key", "create", "keylife/ver"}).exit_code, 0);
  TestArtifact v1 = MakeArtifact(kTenant, "ver");
  ASSERT_EQ(Sigil({"key", "rotate", "keylife/ver"}).exit_code, 0);
  auto d = Sigil({"key", "destroy", "keylife/ver", "--version", "1", "--confirm", "ver"});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  EXPECT_EQ(StateOf("ver", 1), "destroyed");
  EXPECT_EQ(StateOf("ver", 2), "enabled");
  EXPECT_FALSE(WrappedKey("ver", 2).empty());
  auto denied = ReleaseOpens(v1);
  ASSERT_FALSE(denied.has_value());
  EXPECT_EQ(denied.error().code(), Code::kKeyDestroyed);
  EXPECT_NE(denied.error().message().find("key_destroyed"), std::string::npos);
  EXPECT_EQ(Sigil({"key", "rotate", "keylife/ver"}).exit_code, 0);
  EXPECT_EQ(StateOf("ver", 3), "enabled");
  auto missing = Sigil({"key", "destroy", "keylife/ver", "--version", "9", "--confirm", "ver"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("unknown key"), std::string::npos) << missing.err;
}

TEST_F(KeyLifecycle, ImportUsesTheOperatorsKeyMaterial) {
  testing::TempDir dir;
  ASSERT_OK_AND_ASSIGN(SecretBytes sk, SecretBytes::Random(32));
  auto raw = sk.Reveal(SecretAccess::Get());
  ASSERT_OK(WriteFileAtomic(dir.File("k.bin"), Bytes(raw.begin(), raw.end()), 0600));
  auto r = Sigil({"key", "import", "--tenant", kTenant, "--key", "imp", "--from", dir.File("k.bin")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_OK_AND_ASSIGN(Bytes pk, hpke::PublicKeyFromPrivate(hpke::Kem::kX25519HkdfSha256, sk));
  EXPECT_EQ(BrokerEnv::Get().PublicKey(kTenant, "imp"), pk);
  ASSERT_OK_AND_ASSIGN(bool same, ReleaseOpens(MakeArtifact(kTenant, "imp")));
  EXPECT_TRUE(same);
  EXPECT_TRUE(HasAdminRecord("admin.key.import", "imp"));
  // The audit log never carries the private key.
  const std::string sk_b64 = Base64UrlEncode(raw);
  for (const auto& rec : AuditRecords(kTenant)) EXPECT_EQ(rec.dump().find(sk_b64), std::string::npos);

  ASSERT_OK(WriteFileAtomic(dir.File("short.bin"), Bytes(31, 7), 0600));
  auto bad = Sigil({"key", "import", "keylife/imp2", "--from", dir.File("short.bin")});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("32 bytes"), std::string::npos) << bad.err;
}

TEST_F(KeyLifecycle, RefusalsForUnknownKeysAndBrokerKeepsServing) {
  for (const char* verb : {"disable", "enable"}) {
    auto r = Sigil({"key", verb, "--tenant", kTenant, "--key", "nosuch"});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("unknown key"), std::string::npos) << r.err;
  }
  auto d = Sigil({"key", "destroy", "keylife/nosuch", "--confirm", "nosuch"});
  EXPECT_NE(d.exit_code, 0);
  EXPECT_NE(d.err.find("unknown key"), std::string::npos) << d.err;
  auto usage = Sigil({"key", "disable", "--tenant", kTenant});  // no key named
  EXPECT_EQ(usage.exit_code, 2);
  auto t = Sigil({"tenant", "list"});
  EXPECT_EQ(t.exit_code, 0);
  EXPECT_NE(t.out.find(kTenant), std::string::npos);
}

// Malformed admin bodies, sent raw over the operator's mTLS channel: each is refused with
// invalid_argument naming the field, changes nothing, and the broker keeps serving.
TEST_F(KeyLifecycle, BadAdminBodiesAreRefusedPrecisely) {
  ASSERT_EQ(Sigil({"key", "create", "keylife/bad"}).exit_code, 0);
  ASSERT_OK_AND_ASSIGN(auto admin, cli::AdminClient::Connect({BrokerEnv::Get().admin_dir(), BrokerEnv::Get().url()}));
  const std::string t = "/v1/admin/tenants/keylife";
  struct Case {
    std::string path;
    Json body;
    std::string needle;
  };
  const std::vector<Case> cases = {
      {t + "/keys/bad/destroy", Json{{"confirm", "bad"}, {"version", "one"}}, "request.version"},
      {t + "/keys/bad/destroy", Json{{"confirm", "bad"}, {"version", 0}}, "request.version"},
      {t + "/keys/bad/destroy", Json{{"confirm", 7}}, "request.confirm"},
      {t + "/keys/import", Json{{"name", "imp3"}, {"private_key", "not base64!"}}, "request.private_key"},
      {t + "/keys/import", Json{{"name", "imp3"}, {"private_key", Base64UrlEncode(Bytes(16, 1))}}, "32-byte"},
      {t + "/keys/import", Json{{"name", "../x"}, {"private_key", Base64UrlEncode(Bytes(32, 1))}}, "key name"},
      {t + "/keys/import", Json{{"name", "imp3"}, {"private_key", Base64UrlEncode(Bytes(32, 1))}, {"class", "x"}},
       "request.class"},
      {t + "/audit/query", Json{{"limit", 5000}}, "request.limit"},
      {t + "/audit/query", Json{{"since_ms", "yesterday"}}, "request.since_ms"},
      {t + "/audit/query", Json{{"after_seq", -1}}, "request.after_seq"},
      {t + "/audit/proof", Json{{"seq", "one"}}, "request.seq"},
      {t + "/audit/proof", Json{{"seq", 0}}, "request.seq"},
      {t + "/audit/proof", Json{{"seq", -5}}, "request.seq"},
      {t + "/audit/proof", Json{{"seq", 1}, {"size", 9223372036854775807LL}}, "'size'"},
      {t + "/audit/proof", Json{{"seq", 9223372036854775807LL}}, "'seq'"},
      {t + "/audit/proof", Json{{"from", 1}, {"to", Json{{"deep", Json::array({1, 2})}}}}, "request.to"},
      {t + "/audit/proof", Json{{"seq", 1}, {"from", 1}}, "either seq"},
      {t + "/audit/proof", Json{{"seq", 1}, {"extra", true}}, "unknown field"},
      {t + "/audit/proof", Json::object(), "either seq"},
  };
  for (const auto& c : cases) {
    auto r = admin->Call("POST", c.path, c.body);
    ASSERT_FALSE(r.has_value()) << c.path << " " << c.body.dump();
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument) << c.body.dump() << ": " << r.error().message();
    EXPECT_NE(r.error().message().find(c.needle), std::string::npos) << r.error().message();
  }
  EXPECT_EQ(StateOf("bad", 1), "enabled");
  EXPECT_EQ(StateOf("imp3", 1), "");
  auto wrong_method = admin->Call("GET", t + "/keys/bad/destroy");
  ASSERT_FALSE(wrong_method.has_value());
  EXPECT_EQ(wrong_method.error().code(), Code::kNotFound);
  EXPECT_OK(admin->Call("GET", "/v1/admin/tenants"));
}

}  // namespace
}  // namespace sigil::integration
