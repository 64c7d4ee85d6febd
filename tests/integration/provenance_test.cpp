// Who made the model (issue 12) through the real sigild, sigil and sigil-load: once
// `sigil key owners` pins an owner key, the broker releases the key's DEKs only for containers
// that owner signed (`sigil model encrypt --sign`, keys from the real openssl command): unsigned
// and other-signer containers are refused with a deny record, an artifact allowlist holds, and
// sigil-load refuses a modified container or an owner outside --trust-owner before attesting.
#include "core/file_io.h"
#include "core/protocol.h"
#include "loader/owner_key.h"
#include "tests/integration/broker_fixture.h"
#include "tests/support/matchers.h"

namespace sigil::integration {
namespace {

using testing::BinPath;

class Provenance : public ::testing::Test {
 protected:
  void SetUp() override {
    auto& env = BrokerEnv::Get();
    auto m = sigil::testing::Run({BinPath("sigil-load"), "measure", "--engine", BinPath("sigil-infer")});
    ASSERT_EQ(m.exit_code, 0) << m.err;
    ASSERT_EQ(env.Sigil({"refs", "add", "acme", "engines", m.out.substr(0, 96)}).exit_code, 0);
    for (const char* who : {"owner", "other"}) {
      auto g = sigil::testing::Run({"/usr/bin/openssl", "genpkey", "-algorithm", "ed25519", "-out", dir_.File(std::string(who) + ".pem")});
      ASSERT_EQ(g.exit_code, 0) << g.err;
      auto p = sigil::testing::Run({"/usr/bin/openssl", "pkey", "-in", dir_.File(std::string(who) + ".pem"), "-pubout",
                                    "-out", dir_.File(std::string(who) + ".pub")});
      ASSERT_EQ(p.exit_code, 0) << p.err;
    }
    ASSERT_OK_AND_ASSIGN(Bytes owner, loader::ReadOwnerPublicKeyFile(dir_.File("owner.pub")));
    owner_id_ = protocol::OwnerKeyId(owner);
    auto mk = sigil::testing::Run({BinPath("sigil-infer"), "make-weights", dir_.File("w.safetensors"), "--seed", "5"});
    ASSERT_EQ(mk.exit_code, 0) << mk.err;
    auto pub = env.Sigil({"key", "public", "acme/model"});
    ASSERT_EQ(pub.exit_code, 0) << pub.err;
    ASSERT_OK(WriteFileAtomic(dir_.File("model.pub"), AsBytes(pub.out), 0644));
    Encrypt({}, "unsigned.sgl");
    Encrypt({"--sign", dir_.File("owner.pem")}, "signed.sgl");
    Encrypt({"--sign", dir_.File("owner.pem")}, "signed2.sgl");
    Encrypt({"--sign", dir_.File("other.pem")}, "other.sgl");
  }
  void TearDown() override {
    // The broker is shared by the suite: acme/model goes back to releasing unsigned artifacts.
    EXPECT_EQ(BrokerEnv::Get().Sigil({"key", "owners", "acme/model", "--clear"}).exit_code, 0);
  }
  void Encrypt(std::vector<std::string> sign, const std::string& out) {
    std::vector<std::string> argv{"model", "encrypt", "--recipient", dir_.File("model.pub")};
    argv.insert(argv.end(), sign.begin(), sign.end());
    argv.push_back(dir_.File("w.safetensors"));
    argv.push_back(dir_.File(out));
    auto enc = BrokerEnv::Get().Sigil(argv);
    ASSERT_EQ(enc.exit_code, 0) << enc.err;
  }
  std::string ArtifactId(const std::string& file) {
    auto i = BrokerEnv::Get().Sigil({"model", "inspect", dir_.File(file)});
    EXPECT_EQ(i.exit_code, 0) << i.err;
    auto j = ParseJson(i.out, "inspect");
    return j ? j->value("artifact_id", "") : "";
  }
  testing::CommandResult Run(const std::string& file, std::vector<std::string> extra = {}) {
    auto& env = BrokerEnv::Get();
    std::vector<std::string> argv{BinPath("sigil-load"), "run", "--broker", env.url(), "--ca", env.ca(), "--tenant",
                                  "acme", "--dev-platform-key", env.data_dir() + "/dev/platform.key", "--model",
                                  dir_.File(file)};
    argv.insert(argv.end(), extra.begin(), extra.end());
    for (const char* a : {"--", "ENGINE", "run", "{model}"}) argv.push_back(a);
    argv[argv.size() - 3] = BinPath("sigil-infer");
    return sigil::testing::Run(argv);
  }
  static Json LastRecord() {
    auto recs = AuditRecords("acme");
    return recs.empty() ? Json::object() : recs.back();
  }
  testing::TempDir dir_;
  std::string owner_id_;
};

TEST_F(Provenance, PinnedKeyReleasesOnlyWhatThePinnedOwnerSigned) {
  auto& env = BrokerEnv::Get();
  // Before any pin: an unsigned container is released, and its record says so.
  auto before = Run("unsigned.sgl");
  ASSERT_EQ(before.exit_code, 0) << before.err;
  EXPECT_NE(LastRecord().value("reason", "").find("artifact unsigned"), std::string::npos) << LastRecord().dump();

  auto pin = env.Sigil({"key", "owners", "acme/model", "--owner", dir_.File("owner.pub")});
  ASSERT_EQ(pin.exit_code, 0) << pin.err;
  EXPECT_NE(pin.out.find(owner_id_), std::string::npos) << pin.out;
  auto show = env.Sigil({"key", "owners", "acme/model"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("owner " + owner_id_), std::string::npos) << show.out;
  EXPECT_EQ(LastRecord().value("action", ""), "admin.key.owners") << LastRecord().dump();

  auto unsigned_run = Run("unsigned.sgl");
  EXPECT_NE(unsigned_run.exit_code, 0);
  EXPECT_NE(unsigned_run.err.find("policy_denied"), std::string::npos) << unsigned_run.err;
  Json deny = LastRecord();
  EXPECT_EQ(deny.value("decision", ""), "deny") << deny.dump();
  EXPECT_NE(deny.value("reason", "").find("provenance: "), std::string::npos) << deny.dump();
  EXPECT_NE(deny.value("reason", "").find("is unsigned"), std::string::npos) << deny.dump();

  auto other_run = Run("other.sgl");
  EXPECT_NE(other_run.exit_code, 0);
  deny = LastRecord();
  EXPECT_EQ(deny.value("decision", ""), "deny") << deny.dump();
  EXPECT_NE(deny.value("reason", "").find("which the key does not pin"), std::string::npos) << deny.dump();

  auto expected = sigil::testing::Run({BinPath("sigil-infer"), "run", dir_.File("w.safetensors")});
  ASSERT_EQ(expected.exit_code, 0) << expected.err;
  auto ok = Run("signed.sgl");
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out, expected.out);
  Json allow = LastRecord();
  EXPECT_EQ(allow.value("decision", ""), "allow") << allow.dump();
  EXPECT_NE(allow.value("reason", "").find("signed by owner key " + owner_id_), std::string::npos) << allow.dump();
  EXPECT_EQ(allow.value("signer", ""), owner_id_) << allow.dump();

  // The release receipt names the signer (its 15th line; an unsigned artifact's has 14), and the
  // independent verifier (python3-cryptography, from docs/protocol.md) accepts the bundle.
  const std::string out = dir_.File("receipts.json");
  auto fetched = env.Sigil({"audit", "receipts", "--tenant", "acme", "--key", "model", "--out", out});
  ASSERT_EQ(fetched.exit_code, 0) << fetched.err;
  auto text = ReadTextFile(out);
  ASSERT_TRUE(text.has_value());
  auto bundle = ParseJson(*text, out);
  ASSERT_TRUE(bundle.has_value());
  bool signed_seen = false, unsigned_seen = false;
  for (const Json& e : (*bundle)["receipts"]) {
    const std::string receipt = e.value("receipt", "");
    const bool names_signer = receipt.find("\nsigner " + owner_id_ + "\n\n") != std::string::npos;
    const std::string record = e["record"].value("record", "");
    if (record.find("\"signer\"") != std::string::npos) {
      EXPECT_TRUE(names_signer) << receipt;
      signed_seen = true;
    } else {
      EXPECT_EQ(receipt.find("\nsigner "), std::string::npos) << receipt;
      unsigned_seen = true;
    }
  }
  EXPECT_TRUE(signed_seen && unsigned_seen);
  auto py = sigil::testing::Run({"/usr/bin/python3", std::string(SIGIL_SOURCE_DIR) + "/tests/integration/receipt_verify.py",
                                 out, env.admin_dir() + "/audit.pub"});
  EXPECT_EQ(py.exit_code, 0) << py.out << py.err;
  auto own = env.Sigil({"audit", "verify-receipt", "--file", out, "--audit-key", env.admin_dir() + "/audit.pub"});
  EXPECT_EQ(own.exit_code, 0) << own.out << own.err;
}

TEST_F(Provenance, ArtifactAllowlistHolds) {
  auto& env = BrokerEnv::Get();
  const std::string id = ArtifactId("signed.sgl");
  ASSERT_EQ(id.size(), 64u);
  auto pin = env.Sigil({"key", "owners", "acme/model", "--owner", dir_.File("owner.pub"), "--artifact", id});
  ASSERT_EQ(pin.exit_code, 0) << pin.err;
  auto refused = Run("signed2.sgl");  // the same owner, another artifact
  EXPECT_NE(refused.exit_code, 0);
  Json deny = LastRecord();
  EXPECT_EQ(deny.value("decision", ""), "deny") << deny.dump();
  EXPECT_NE(deny.value("reason", "").find("not on the key's allowlist"), std::string::npos) << deny.dump();
  auto ok = Run("signed.sgl");
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

TEST_F(Provenance, LoaderRefusesModifiedOrUntrustedContainersBeforeAttesting) {
  const std::size_t records = AuditRecords("acme").size();
  auto untrusted = Run("signed.sgl", {"--trust-owner", dir_.File("other.pub")});
  EXPECT_NE(untrusted.exit_code, 0);
  EXPECT_NE(untrusted.err.find("not one of the --trust-owner keys"), std::string::npos) << untrusted.err;
  auto unsigned_run = Run("unsigned.sgl", {"--trust-owner", dir_.File("owner.pub")});
  EXPECT_NE(unsigned_run.exit_code, 0);
  EXPECT_NE(unsigned_run.err.find("not signed"), std::string::npos) << unsigned_run.err;
  ASSERT_OK_AND_ASSIGN(Bytes f, ReadFile(dir_.File("signed.sgl")));
  f[f.size() - 102 - 1] ^= 1;  // the last chunk's tag, just before the 102-byte trailer
  ASSERT_OK(WriteFileAtomic(dir_.File("modified.sgl"), f, 0644));
  auto modified = Run("modified.sgl");
  EXPECT_NE(modified.exit_code, 0);
  EXPECT_NE(modified.err.find("modified after signing"), std::string::npos) << modified.err;
  // None of these reached the broker: no challenge, attestation or release was recorded.
  EXPECT_EQ(AuditRecords("acme").size(), records);
  auto trusted = Run("signed.sgl", {"--trust-owner", dir_.File("other.pub"), "--trust-owner", dir_.File("owner.pub")});
  EXPECT_EQ(trusted.exit_code, 0) << trusted.err;
}

}  // namespace
}  // namespace sigil::integration
