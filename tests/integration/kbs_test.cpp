// The KBS front end against a real sigild, driven by an independent CoCo guest
// (tests/integration/kbs_guest.py: Debian's jwcrypto and cryptography, written from the protocol
// text): auth, attest with dev-TEE evidence bound to the JCS runtime data, resources by cookie
// and by bearer token for RSA, P-256 and P-384 TEE keys, the EAR token checked with the published
// JWKS, and the refusals. Then the tenant's audit log: every KBS release and refusal is an
// ordinary release record that says it came through KBS. Every KBS release has a release receipt
// (artifact "kbs:<repository>/<type>/<version>"), fetched and verified with `sigil audit receipts`
// and `sigil audit verify-receipt` as docs/cli.md documents them, and by the independent verifier
// tests/integration/receipt_verify.py.
#include <string>

#include "core/encoding.h"
#include "core/file_io.h"
#include "core/json.h"
#include "tests/integration/broker_fixture.h"
#include "tests/support/matchers.h"

namespace sigil::integration {
namespace {

constexpr char kPython[] = "/usr/bin/python3";  // Debian's, with python3-jwcrypto

constexpr const char* kKbsPolicy = R"({
  "version": 1,
  "rules": [{"name": "coco-guests", "keys": ["secret", "off"],
             "when": {"allOf": [{"claim": "tee", "equals": "dev"},
                                {"claim": "debug", "equals": false},
                                {"claim": "measurement", "in_reference": "engines"}]}}]
})";

TEST(Kbs, IndependentCocoGuestGetsTheResourceAndIsRefusedOtherwise) {
  auto& env = BrokerEnv::Get();
  testing::TempDir dir;
  // Tenant "kbsrepo": key "secret" with known key material (imported), "denied" outside the
  // policy, "off" inside it but disabled.
  Bytes secret(32);
  for (std::size_t i = 0; i < secret.size(); ++i) secret[i] = static_cast<std::uint8_t>(0xa0 + i);
  ASSERT_OK(WriteFileAtomic(dir.File("secret.key"), secret, 0600));
  ASSERT_OK(WriteFileAtomic(dir.File("policy.json"), AsBytes(kKbsPolicy), 0644));
  for (auto args : std::vector<std::vector<std::string>>{
           {"tenant", "create", "kbsrepo"},
           {"key", "import", "kbsrepo/secret", "--from", dir.File("secret.key"), "--class", "dataset"},
           {"key", "create", "kbsrepo/denied", "--class", "dataset"},
           {"key", "create", "kbsrepo/off", "--class", "dataset"},
           {"key", "disable", "kbsrepo/off"},
           {"refs", "add", "kbsrepo", "engines", kMeasurementA},
           {"policy", "set", "kbsrepo", dir.File("policy.json")}}) {
    auto r = env.Sigil(args);
    ASSERT_EQ(r.exit_code, 0) << args[0] << " " << args[1] << ": " << r.err;
  }
  const std::string script = std::string(SIGIL_SOURCE_DIR) + "/tests/integration/kbs_guest.py";
  auto run = testing::Run({kPython, script, env.url(), env.ca(), env.data_dir() + "/dev/platform.key", kMeasurementA,
                           HexEncode(secret), "kbsrepo"});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("checks passed"), std::string::npos) << run.out << run.err;
  std::printf("%s", run.out.c_str());

  // The audit log: 6 releases allowed (3 key types x cookie and bearer), each saying KBS, and
  // the policy, key-state and unknown-key refusals recorded as release denials.
  int allowed = 0, denied_policy = 0, denied_disabled = 0, denied_unknown = 0;
  for (const Json& rec : AuditRecords("kbsrepo")) {
    if (rec.value("action", "") != "release") continue;
    const std::string detail = rec.value("detail", "");
    EXPECT_NE(detail.find(R"("via":"kbs")"), std::string::npos) << rec.dump();
    EXPECT_EQ(rec.value("tee", ""), "dev") << rec.dump();
    if (rec.value("decision", "") == "allow") {
      ++allowed;
      EXPECT_EQ(rec.value("key", ""), "secret") << rec.dump();
      EXPECT_EQ(rec.value("version", 0), 1) << rec.dump();
      // What the receipt states: the resolved resource (also for tag "latest"), the policy
      // version that allowed it, the measurement.
      EXPECT_EQ(rec.value("artifact_id", ""), "kbs:kbsrepo/secret/1") << rec.dump();
      EXPECT_EQ(rec.value("policy_version", 0), 1) << rec.dump();
      EXPECT_EQ(rec.value("measurement", ""), kMeasurementA) << rec.dump();
    } else if (rec.value("key", "") == "denied") {
      ++denied_policy;
    } else if (rec.value("key", "") == "off") {
      ++denied_disabled;
      EXPECT_NE(rec.value("reason", "").find("key_disabled"), std::string::npos) << rec.dump();
    } else {
      ++denied_unknown;
    }
  }
  EXPECT_EQ(allowed, 6);
  EXPECT_EQ(denied_policy, 1);
  EXPECT_EQ(denied_disabled, 1);
  EXPECT_EQ(denied_unknown, 2);  // nosuch key, version 7 of secret
  // The log still verifies as a chain.
  auto verify = env.Sigil({"audit", "verify", "kbsrepo"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;

  // Release receipts (docs/cli.md): all 6 KBS releases are receipted, none is unreceipted, and
  // the bundle verifies offline in sigil and in the independent verifier.
  const std::string bundle_file = dir.File("receipts.json");
  auto fetched = env.Sigil({"audit", "receipts", "--tenant", "kbsrepo", "--out", bundle_file});
  ASSERT_EQ(fetched.exit_code, 0) << fetched.out << fetched.err;
  EXPECT_EQ(fetched.out.rfind("audit receipts: 6 receipts of kbsrepo written to " + bundle_file, 0), 0u) << fetched.out;
  auto text = ReadTextFile(bundle_file);
  ASSERT_TRUE(text.has_value());
  auto bundle = ParseJson(*text, bundle_file);
  ASSERT_TRUE(bundle.has_value());
  EXPECT_EQ(bundle->value("unreceipted", -1), 0) << bundle->dump();
  ASSERT_TRUE((*bundle)["receipts"].is_array());
  EXPECT_EQ((*bundle)["receipts"].size(), 6u);
  for (const Json& e : (*bundle)["receipts"]) {
    const std::string note = e.value("receipt", "");
    EXPECT_EQ(note.rfind("sigil/v1/release-receipt\ntenant kbsrepo\nkey secret\nversion 1\n"
                         "artifact kbs:kbsrepo/secret/1\ntee dev\nmeasurement " + std::string(kMeasurementA) + "\n", 0),
              0u) << note;
    EXPECT_NE(note.find("\npolicy 1\n"), std::string::npos) << note;
  }
  const std::string audit_pub = env.admin_dir() + "/audit.pub";
  auto checked = env.Sigil({"audit", "verify-receipt", "--file", bundle_file, "--audit-key", audit_pub});
  EXPECT_EQ(checked.exit_code, 0) << checked.out << checked.err;
  EXPECT_NE(checked.out.find("verify-receipt: OK: 6 receipts of kbsrepo"), std::string::npos) << checked.out;
  EXPECT_NE(checked.out.find("artifact kbs:kbsrepo/secret/1 to dev"), std::string::npos) << checked.out;
  auto independent = testing::Run(
      {kPython, std::string(SIGIL_SOURCE_DIR) + "/tests/integration/receipt_verify.py", bundle_file, audit_pub});
  EXPECT_EQ(independent.exit_code, 0) << independent.out << independent.err;
  EXPECT_EQ(independent.out, "OK 6\n");
}

// Policies with memory hold on the KBS front end too (policies/README.md "Release limits"): the
// independent guest is refused a second release with a token a single-use rule spent (by cookie
// and by bearer), and a second release of a key limited to one per hour per measurement; each
// refusal is a KBS release deny record saying why.
TEST(Kbs, SingleUseTokensAndReleaseLimitsHoldForKbsGuests) {
  auto& env = BrokerEnv::Get();
  testing::TempDir dir;
  Bytes secret(32, 0x5a);
  ASSERT_OK(WriteFileAtomic(dir.File("secret.key"), secret, 0600));
  ASSERT_OK(WriteFileAtomic(dir.File("policy.json"), AsBytes(R"({"version": 1, "rules": [
    {"name": "once", "keys": ["once"], "single_use_token": true,
     "when": {"allOf": [{"claim": "tee", "equals": "dev"}, {"claim": "measurement", "in_reference": "engines"}]}},
    {"name": "capped", "keys": ["capped"], "limits": [{"max": 1, "per_seconds": 3600, "per_claim": "measurement"}],
     "when": {"allOf": [{"claim": "tee", "equals": "dev"}, {"claim": "measurement", "in_reference": "engines"}]}}]})"),
                            0644));
  for (auto args : std::vector<std::vector<std::string>>{
           {"tenant", "create", "kbsmem"},
           {"key", "import", "kbsmem/once", "--from", dir.File("secret.key"), "--class", "dataset"},
           {"key", "import", "kbsmem/capped", "--from", dir.File("secret.key"), "--class", "dataset"},
           {"refs", "add", "kbsmem", "engines", kMeasurementA},
           {"policy", "set", "kbsmem", dir.File("policy.json")}}) {
    auto r = env.Sigil(args);
    ASSERT_EQ(r.exit_code, 0) << args[0] << " " << args[1] << ": " << r.err;
  }
  const std::string script = std::string(SIGIL_SOURCE_DIR) + "/tests/integration/kbs_guest.py";
  auto run = testing::Run({kPython, script, env.url(), env.ca(), env.data_dir() + "/dev/platform.key", kMeasurementA,
                           HexEncode(secret), "kbsmem", "memory"});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  int spent = 0, limited = 0, allowed = 0;
  for (const Json& rec : AuditRecords("kbsmem")) {
    if (rec.value("action", "") != "release") continue;
    const std::string reason = rec.value("reason", "");
    if (rec.value("decision", "") == "allow") ++allowed;
    if (reason.find("kbs: replay: token_spent:") == 0) ++spent;
    if (reason.find("kbs: policy_denied: release_limit:") == 0) ++limited;
  }
  EXPECT_EQ(allowed, 2);
  EXPECT_EQ(spent, 2);
  EXPECT_EQ(limited, 1);
  auto verify = env.Sigil({"audit", "verify", "kbsmem"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

}  // namespace
}  // namespace sigil::integration
