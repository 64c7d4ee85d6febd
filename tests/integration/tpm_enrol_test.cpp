// The broker side of TPM 2.0 with a real swtpm and the real binaries:
//  - `sigild init --seal tpm` seals the root key to the swtpm's PCRs; `sigild serve` unseals it
//    and answers /healthz; after a PCR change it refuses to start with the documented error, and
//    `sigild recover-root-key` restores service;
//  - per-tenant AK registration through `sigil tpm register-ak|list-aks|remove-ak` (admin mTLS,
//    audited); a quote from an AK not registered for the requesting tenant is refused and
//    audited as a deny; the replay state per AK survives a broker restart (a TPM whose state
//    was rolled back to an older snapshot is refused).
// Its own binary and broker (tests/support/tpm_broker_fixture.h): the root key must be sealed to
// this test's swtpm.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "core/file_io.h"
#include "core/json.h"
#include "net/broker_client.h"
#include "tests/support/matchers.h"
#include "tests/support/process.h"
#include "tests/support/tpm_broker_fixture.h"

namespace sigil::integration {
namespace {

namespace fs = std::filesystem;

class TpmEnrol : public sigil::testing::TpmBrokerFixture {
 protected:
  std::string AkId() {
    auto r = Sigil({"--json", "tpm", "list-aks", "--tenant", "acme"});
    auto j = ParseJson(r.out, "list-aks");
    if (!j || (*j)["aks"].empty()) return "";
    return (*j)["aks"][0]["id"].get<std::string>();
  }
};

TEST_F(TpmEnrol, SealedRootKeyServesRefusesAfterPcrChangeAndRecovers) {
  auto init = Init();
  ASSERT_EQ(init.exit_code, 0) << init.err;
  auto file = ReadTextFile(Data() + "/root.key");
  ASSERT_TRUE(file.has_value());
  EXPECT_NE(file->find(R"("mode": "tpm")"), std::string::npos) << *file;
  ASSERT_TRUE(StartBroker()) << ReadTextFile(dir_.File("sigild.log")).value_or("");
  auto client = net::BrokerClient::Connect(url_, Data() + "/admin/ca.pem");
  ASSERT_TRUE(client.has_value());
  auto health = Sigil({"tenant", "list"});
  EXPECT_EQ(health.exit_code, 0) << health.err;
  auto hz = sigil::testing::Run({"/usr/bin/curl", "-sS", "--cacert", Data() + "/admin/ca.pem", url_ + "/healthz"});
  EXPECT_EQ(hz.out, R"({"status":"ok"})") << hz.err;
  StopBroker();

  // A reboot into a different boot chain: PCR 7 now holds another value.
  RestartTpm();
  auto extend = sigil::testing::Run({"/usr/bin/tpm2_pcrextend", "7:sha256=" + std::string(64, 'e')},
                    {"TPM2TOOLS_TCTI=" + swtpm_->ToolsTcti()});
  ASSERT_EQ(extend.exit_code, 0) << extend.err;
  auto refused = Sigild({"serve", "--data-dir", Data(), "--tpm-tcti", swtpm_->Tcti(), "--listen", "127.0.0.1:0"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("PCRs changed"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find(kSealPcrs), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("sigild recover-root-key"), std::string::npos) << refused.err;

  auto recover = Sigild({"recover-root-key", "--data-dir", Data(), "--recovery-passphrase-file",
                         dir_.File("recovery.txt"), "--tpm-tcti", swtpm_->Tcti()});
  ASSERT_EQ(recover.exit_code, 0) << recover.err;
  ASSERT_TRUE(StartBroker()) << ReadTextFile(dir_.File("sigild.log")).value_or("");
  auto list = Sigil({"tenant", "list"});
  EXPECT_EQ(list.exit_code, 0) << list.err;
}

TEST_F(TpmEnrol, PerTenantAkRegistrationIsEnforcedAuditedAndReplayStateSurvivesRestart) {
  ASSERT_EQ(Init().exit_code, 0);
  ASSERT_TRUE(StartBroker()) << ReadTextFile(dir_.File("sigild.log")).value_or("");
  Provision();

  // Unregistered anywhere: refused with a clear error and a deny record.
  auto unknown = Attest("acme");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code(), Code::kVerificationFailed) << unknown.error().message();
  EXPECT_NE(unknown.error().message().find("not registered for tenant 'acme'"), std::string::npos)
      << unknown.error().message();
  auto recs = Audit("acme");
  ASSERT_FALSE(recs.empty());
  EXPECT_EQ(recs.back().value("action", ""), "attest");
  EXPECT_EQ(recs.back().value("decision", ""), "deny");

  // Registration round trip, audited as an admin action.
  auto reg = Sigil({"tpm", "register-ak", "--tenant", "acme", "--ak", dir_.File("ak.pem"), "--name", "rack-1"});
  ASSERT_EQ(reg.exit_code, 0) << reg.err;
  auto dup = Sigil({"tpm", "register-ak", "--tenant", "acme", "--ak", dir_.File("ak.pem")});
  EXPECT_NE(dup.exit_code, 0);
  std::string id = AkId();
  ASSERT_EQ(id.size(), 64u);
  auto list = Sigil({"tpm", "list-aks", "--tenant", "acme"});
  EXPECT_NE(list.out.find(id), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("rack-1"), std::string::npos) << list.out;
  recs = Audit("acme");
  ASSERT_FALSE(recs.empty());
  EXPECT_EQ(recs.back().value("action", ""), "admin.tpm.ak.register");
  EXPECT_NE(recs.back().value("reason", "").find(id), std::string::npos);

  auto ok = Attest("acme");
  ASSERT_TRUE(ok.has_value()) << ok.error().message();
  // Tenant isolation: acme's AK is refused for bob.
  auto other = Attest("bob");
  ASSERT_FALSE(other.has_value());
  EXPECT_NE(other.error().message().find("not registered for tenant 'bob'"), std::string::npos)
      << other.error().message();
  auto bob = Audit("bob");
  ASSERT_FALSE(bob.empty());
  EXPECT_EQ(bob.back().value("decision", ""), "deny");

  // Replay state is durable: snapshot the TPM's state now, move it forward (two reboots, quotes
  // accepted), restart the broker, then roll the TPM back to the snapshot. Its quotes report an
  // older resetCount than the broker accepted before the restart: refused.
  swtpm_->Stop();
  swtpm_.reset();
  fs::copy(State(), dir_.File("swtpm-snapshot"), fs::copy_options::recursive);
  StartTpm();
  ASSERT_TRUE(Attest("acme").has_value());
  RestartTpm();
  ASSERT_TRUE(Attest("acme").has_value());
  StopBroker();
  swtpm_->Stop();
  swtpm_.reset();
  fs::remove_all(State());
  fs::copy(dir_.File("swtpm-snapshot"), State(), fs::copy_options::recursive);
  StartTpm();
  ASSERT_TRUE(StartBroker()) << ReadTextFile(dir_.File("sigild.log")).value_or("");
  auto rolled_back = Attest("acme");
  ASSERT_FALSE(rolled_back.has_value());
  EXPECT_EQ(rolled_back.error().code(), Code::kReplay) << rolled_back.error().message();

  // Removal: the AK is refused again.
  auto rm = Sigil({"tpm", "remove-ak", "--tenant", "acme", "--id", id});
  ASSERT_EQ(rm.exit_code, 0) << rm.err;
  auto gone = Attest("acme");
  ASSERT_FALSE(gone.has_value());
  EXPECT_NE(gone.error().message().find("not registered"), std::string::npos) << gone.error().message();
  auto rm_again = Sigil({"tpm", "remove-ak", "--tenant", "acme", "--id", id});
  EXPECT_NE(rm_again.exit_code, 0);
  recs = Audit("acme");
  bool removed = false;
  for (const auto& r : recs) removed |= r.value("action", "") == "admin.tpm.ak.remove";
  EXPECT_TRUE(removed);
}

TEST_F(TpmEnrol, AkRegisteredByItsPublicAreaMustBeTheQuotesQualifiedSigner) {
  ASSERT_EQ(Init().exit_code, 0);
  ASSERT_TRUE(StartBroker()) << ReadTextFile(dir_.File("sigild.log")).value_or("");
  Provision();
  auto read = sigil::testing::Run({"/usr/bin/tpm2_readpublic", "-c", kAkHandle, "-o", dir_.File("ak.pub")},
                                  {"TPM2TOOLS_TCTI=" + swtpm_->ToolsTcti()});
  ASSERT_EQ(read.exit_code, 0) << read.err;
  auto reg = Sigil({"--json", "tpm", "register-ak", "--tenant", "acme", "--ak-public", dir_.File("ak.pub")});
  ASSERT_EQ(reg.exit_code, 0) << reg.err;
  auto j = ParseJson(reg.out, "register-ak");
  ASSERT_TRUE(j.has_value() && j->contains("tpm_name")) << reg.out;
  auto ok = Attest("acme");
  ASSERT_TRUE(ok.has_value()) << ok.error().message();

  // The same key with one attribute bit changed (noDA): same SPKI, different Name. The TPM
  // names the real public area in its quotes, so they no longer match what was registered.
  ASSERT_OK_AND_ASSIGN(Bytes pub, ReadFile(dir_.File("ak.pub")));
  pub[8] ^= 0x04;  // TPM2B size(2) type(2) nameAlg(2) objectAttributes(4, big-endian): bit 10
  ASSERT_OK(WriteFileAtomic(dir_.File("ak-edited.pub"), pub, 0644));
  auto rm = Sigil({"tpm", "remove-ak", "--tenant", "acme", "--id", (*j)["id"].get<std::string>()});
  ASSERT_EQ(rm.exit_code, 0) << rm.err;
  auto reg2 = Sigil({"tpm", "register-ak", "--tenant", "acme", "--ak-public", dir_.File("ak-edited.pub")});
  ASSERT_EQ(reg2.exit_code, 0) << reg2.err;
  auto refused = Attest("acme");
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), Code::kVerificationFailed);
  EXPECT_NE(refused.error().message().find("qualifiedSigner"), std::string::npos) << refused.error().message();

  // Not a TPM2B_PUBLIC, or not a restricted signing key: refused at registration.
  pub.resize(pub.size() - 1);
  ASSERT_OK(WriteFileAtomic(dir_.File("ak-short.pub"), pub, 0644));
  auto bad = Sigil({"tpm", "register-ak", "--tenant", "bob", "--ak-public", dir_.File("ak-short.pub")});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_NE(bad.err.find("TPM2B_PUBLIC"), std::string::npos) << bad.err;
  ASSERT_OK_AND_ASSIGN(Bytes unrestricted, ReadFile(dir_.File("ak.pub")));
  unrestricted[7] ^= 0x01;  // bit 16: restricted
  ASSERT_OK(WriteFileAtomic(dir_.File("ak-unrestricted.pub"), unrestricted, 0644));
  auto bad2 = Sigil({"tpm", "register-ak", "--tenant", "bob", "--ak-public", dir_.File("ak-unrestricted.pub")});
  EXPECT_EQ(bad2.exit_code, 2) << bad2.err;
  EXPECT_NE(bad2.err.find("restricted signing key"), std::string::npos) << bad2.err;
}

}  // namespace
}  // namespace sigil::integration
