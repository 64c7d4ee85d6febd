#include "tests/integration/broker_fixture.h"

#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "attestation/dev/platform_key.h"
#include "core/digest.h"
#include "core/encoding.h"
#include "core/file_io.h"
#include "core/protocol.h"
#include "enclave/dev_attester.h"
#include "tests/support/audit_records.h"

namespace sigil::integration {
namespace {
BrokerEnv* g_env = nullptr;

}  // namespace

BrokerEnv& BrokerEnv::Get() { return *g_env; }

testing::CommandResult BrokerEnv::Sigil(std::vector<std::string> args) const {
  args.insert(args.begin(), {testing::BinPath("sigil"), "--admin-dir", admin_dir(), "--broker", url_});
  return testing::Run(args);
}

void BrokerEnv::SetUp() {
  g_env = this;
  dir_ = std::make_unique<testing::TempDir>();
  // `sigil audit verify` remembers the logs it accepted in the user's state directory
  // (cli/audit_memory.h): the tests' memory stays in their own directory.
  ::setenv("XDG_STATE_HOME", dir_->File("state").c_str(), 1);
  auto init = testing::Run({testing::BinPath("sigild"), "init", "--data-dir", data_dir(), "--dev-root-key", "--dev-tee",
                            "--listen", "127.0.0.1:0"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  // Enable the SEV-SNP verifier with AMD's Milan ARK as the trust anchor.
  std::filesystem::create_directories(data_dir() + "/trust/sev-snp");
  std::filesystem::copy_file(std::string(SIGIL_SHARED_DIR) + "/vectors/sev-snp/go-sev-guest/ask_ark_milan.pem",
                             data_dir() + "/trust/sev-snp/ask_ark_milan.pem");
  sigild_ = std::make_unique<testing::BackgroundProcess>(
      // The functional tests send bursts from one address (127.0.0.1) faster than the default
      // limits allow; the limits themselves are tested on a broker of their own (flood_test.cpp).
      std::vector<std::string>{testing::BinPath("sigild"), "serve", "--data-dir", data_dir(), "--nonce-ttl", "2",
                               "--port-file", dir_->File("port"), "--unauth-rate-per-address", "0",
                               "--unauth-rate-per-tenant", "0"},
      dir_->File("sigild.log"));
  std::string port = testing::WaitForFile(dir_->File("port"), 20);
  ASSERT_FALSE(port.empty()) << "sigild did not start";
  url_ = "https://127.0.0.1:" + port.substr(0, port.find('\n'));
  for (auto args : std::vector<std::vector<std::string>>{
           {"tenant", "create", "acme"}, {"tenant", "create", "bob"}, {"tenant", "create", "carol"},
           {"key", "create", "acme/model"}, {"key", "create", "acme/other"}, {"key", "create", "bob/model"},
           {"key", "create", "carol/model"}, {"key", "create", "acme/data", "--class", "dataset"},
           {"refs", "add", "acme", "engines", kMeasurementA},
           {"refs", "add", "carol", "engines", kMeasurementA}}) {
    auto r = Sigil(args);
    ASSERT_EQ(r.exit_code, 0) << args[0] << " " << args[1] << ": " << r.err;
  }
  auto w = WriteFileAtomic(dir_->File("acme.json"), AsBytes(kAcmePolicy), 0644);
  ASSERT_TRUE(w.has_value());
  for (const char* t : {"acme", "carol"}) {
    auto r = Sigil({"policy", "set", t, dir_->File("acme.json")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
}

std::string BrokerEnv::log() const {
  std::ifstream in(dir_->File("sigild.log"), std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void BrokerEnv::TearDown() {
  if (sigild_) {
    EXPECT_EQ(sigild_->Stop(), 0) << "sigild did not shut down cleanly on SIGTERM";
  }
}

std::unique_ptr<net::BrokerClient> BrokerEnv::Client() const {
  auto c = net::BrokerClient::Connect(url_, ca());
  return c ? std::move(*c) : nullptr;
}

Result<SecretBytes> BrokerEnv::PlatformSeed() const {
  SIGIL_ASSIGN_OR_RETURN(Ed25519KeyPair kp, attestation::dev::LoadDevPlatformKey(data_dir() + "/dev/platform.key"));
  return std::move(kp.seed);
}

Bytes BrokerEnv::PublicKey(const std::string& tenant, const std::string& key) const {
  auto r = Sigil({"key", "public", tenant + "/" + key});
  auto j = ParseJson(r.out, "key public");
  if (!j) return {};
  auto b = Base64UrlDecode(j->value("public_key", ""));
  return b ? *b : Bytes{};
}

Workload Workload::Make() {
  auto kp = hpke::GenerateKeyPair(hpke::Kem::kX25519HkdfSha256);
  SIGIL_CHECK(kp.has_value());
  return Workload{std::move(*kp)};
}

Bytes Workload::Evidence(ByteSpan nonce, const std::string& measurement, bool debug, ByteSpan bound_key) const {
  auto seed = BrokerEnv::Get().PlatformSeed();
  SIGIL_CHECK(seed.has_value());
  return EvidenceFor(*seed, nonce, measurement, debug, bound_key);
}

Bytes Workload::EvidenceFor(const SecretBytes& seed, ByteSpan nonce, const std::string& measurement, bool debug,
                            ByteSpan bound_key) const {
  auto binding = protocol::Binding(nonce, bound_key.empty() ? ByteSpan(key.public_key) : bound_key);
  std::optional<attestation::WorkloadPurpose> purpose;
  if (!mode.empty()) purpose = attestation::WorkloadPurpose{mode, measurement, HexEncode(Sha256(AsBytes("")))};
  auto ev = enclave::MakeDevEvidence(seed, binding, measurement, debug, std::chrono::system_clock::now(), purpose);
  SIGIL_CHECK(ev.has_value());
  return *ev;
}

bool DevWorkloadReleased(const std::string& tenant, const TestArtifact& artifact, const std::string& measurement) {
  auto c = BrokerEnv::Get().Client();
  Workload w = Workload::Make();
  auto nonce = c->Challenge(tenant, "dev");
  EXPECT_TRUE(nonce.has_value());
  if (!nonce) return false;
  auto token = c->Attest(tenant, "dev", *nonce, w.Evidence(*nonce, measurement, false), w.key.public_key);
  EXPECT_TRUE(token.has_value()) << token.error().message();
  if (!token) return false;
  return c->Release(*token, w.key.public_key, {artifact.artifact}).has_value();
}

TestArtifact MakeArtifact(const std::string& tenant, const std::string& key) {
  Bytes pk = BrokerEnv::Get().PublicKey(tenant, key);
  auto dek = SecretBytes::Random(32);
  SIGIL_CHECK(dek.has_value() && pk.size() == 32);
  auto sealed = hpke::Seal(hpke::kSigilSuite, pk, protocol::DekSealInfo(tenant, key, 1), {}, dek->Reveal(SecretAccess::Get()));
  SIGIL_CHECK(sealed.has_value());
  return TestArtifact{net::ReleaseArtifact{tenant + "/" + key, 1, sealed->enc, sealed->ciphertext}, std::move(*dek)};
}

Bytes ReadSqliteBlob(const std::string& db_path, const std::string& sql, const std::vector<std::string>& args) {
  sqlite3* db = nullptr;
  Bytes out;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK) {
      for (std::size_t i = 0; i < args.size(); ++i) {
        sqlite3_bind_text(s, static_cast<int>(i + 1), args[i].c_str(), -1, SQLITE_TRANSIENT);
      }
      if (sqlite3_step(s) == SQLITE_ROW) {
        const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(s, 0));
        out.assign(p, p + sqlite3_column_bytes(s, 0));
      }
    }
    sqlite3_finalize(s);
  }
  sqlite3_close(db);
  return out;
}

std::vector<Json> AuditRecords(const std::string& tenant) {
  return testing::ParseAuditList(BrokerEnv::Get().Sigil({"--json", "audit", "list", tenant}).out);
}

}  // namespace sigil::integration

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new sigil::integration::BrokerEnv);
  return RUN_ALL_TESTS();
}
