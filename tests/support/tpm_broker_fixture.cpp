#include "tests/support/tpm_broker_fixture.h"

#include <filesystem>

#include "core/bytes.h"
#include "core/file_io.h"
#include "core/hpke.h"
#include "core/protocol.h"
#include "enclave/tpm/tpm_attester.h"
#include "net/broker_client.h"
#include "tests/support/audit_records.h"
#include "tests/support/matchers.h"

namespace sigil::testing {

namespace fs = std::filesystem;

void TpmBrokerFixture::SetUp() {
  fs::create_directories(State());
  StartTpm();
  ASSERT_OK(WriteFileAtomic(dir_.File("recovery.txt"),
                            AsBytes(std::string("a long recovery passphrase\n")), 0600));
}

void TpmBrokerFixture::TearDown() {
  StopBroker();
  if (swtpm_) {
    swtpm_->Stop();
  }
}

void TpmBrokerFixture::StartTpm() {
  auto sw = Swtpm::Start(State());
  ASSERT_TRUE(sw.has_value()) << sw.error().message();
  swtpm_.emplace(std::move(*sw));
}

void TpmBrokerFixture::RestartTpm() {
  swtpm_->Stop();
  swtpm_.reset();
  StartTpm();
}

CommandResult TpmBrokerFixture::Sigild(std::vector<std::string> args) {
  args.insert(args.begin(), BinPath("sigild"));
  return sigil::testing::Run(args);
}

CommandResult TpmBrokerFixture::Init() {
  return Sigild({"init", "--data-dir", Data(), "--seal", "tpm", "--tpm-tcti", swtpm_->Tcti(),
                 "--seal-pcrs", kSealPcrs, "--recovery-passphrase-file", dir_.File("recovery.txt"),
                 "--listen", "127.0.0.1:0"});
}

bool TpmBrokerFixture::StartBroker() {
  // A port file left by an earlier broker would be read as this one's.
  fs::remove(dir_.File("port"));
  sigild_ = std::make_unique<BackgroundProcess>(
      std::vector<std::string>{BinPath("sigild"), "serve", "--data-dir", Data(), "--tpm-tcti",
                               swtpm_->Tcti(), "--port-file", dir_.File("port")},
      dir_.File("sigild.log"));
  std::string port = WaitForFile(dir_.File("port"), 30);
  if (port.empty()) {
    return false;
  }
  url_ = "https://127.0.0.1:" + port.substr(0, port.find('\n'));
  return true;
}

void TpmBrokerFixture::StopBroker() {
  if (sigild_) {
    sigild_->Stop();
  }
  sigild_.reset();
}

CommandResult TpmBrokerFixture::Sigil(std::vector<std::string> args) const {
  args.insert(args.begin(), {BinPath("sigil"), "--admin-dir", Data() + "/admin", "--broker", url_});
  return sigil::testing::Run(args);
}

void TpmBrokerFixture::Provision() {
  for (auto args : std::vector<std::vector<std::string>>{{"tenant", "create", "acme"},
                                                         {"tenant", "create", "bob"}}) {
    auto r = Sigil(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  std::string policy = R"({"version": 1, "rules": [{"name": "tpm", "keys": ["model"],
      "when": {"claim": "tee", "equals": "tpm"}}]})";
  ASSERT_OK(WriteFileAtomic(dir_.File("policy.json"), AsBytes(policy), 0644));
  for (const char* t : {"acme", "bob"}) {
    auto r = Sigil({"policy", "set", t, dir_.File("policy.json")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  auto ak = sigil::testing::Run({BinPath("sigil-load"), "tpm-ak", "--tpm-tcti", swtpm_->Tcti(),
                                 "--persist", kAkHandle, "--out", dir_.File("ak.pem")});
  ASSERT_EQ(ak.exit_code, 0) << ak.err;
}

Result<std::string> TpmBrokerFixture::Attest(const std::string& tenant) {
  SIGIL_ASSIGN_OR_RETURN(auto client, net::BrokerClient::Connect(url_, Ca()));
  SIGIL_ASSIGN_OR_RETURN(Bytes nonce, client->Challenge(tenant, "tpm"));
  SIGIL_ASSIGN_OR_RETURN(hpke::KeyPair kp, hpke::GenerateKeyPair(hpke::Kem::kX25519HkdfSha256));
  auto binding = protocol::Binding(nonce, kp.public_key);
  SIGIL_ASSIGN_OR_RETURN(Bytes evidence, QuoteEvidence(binding));
  return client->Attest(tenant, "tpm", nonce, evidence, kp.public_key);
}

Result<Bytes> TpmBrokerFixture::QuoteEvidence(ByteSpan binding) {
  enclave::tpm::TpmAttesterConfig c;
  c.tcti = swtpm_->Tcti();
  c.pcrs = "sha256:0,1,7";
  SIGIL_ASSIGN_OR_RETURN(c.ak_handle, enclave::tpm::ParsePersistentHandle(kAkHandle));
  SIGIL_ASSIGN_OR_RETURN(auto attester, enclave::tpm::TpmAttester::Create(c));
  return attester->Evidence(binding);
}

std::vector<Json> TpmBrokerFixture::Audit(const std::string& tenant) const {
  return ParseAuditList(Sigil({"--json", "audit", "list", tenant}).out);
}

}  // namespace sigil::testing
