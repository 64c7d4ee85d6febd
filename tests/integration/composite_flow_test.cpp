// Composite CPU + GPU attestation through the broker's own request handlers, store, policy engine
// and audit log (challenge -> attest -> release), with NO test-only binding path: the CPU is the
// dev TEE (its evidence is made here over the real composite binding) and the eight GPUs are the
// real nvtrust H100 report re-signed by eight generated device keys over the real derived GPU
// nonce (tests/unit/attestation/nvidia's test PKI, one root), each with a current CRL. The root is in
// the data directory's trust/nvidia-gpu/, read by sigild's own start-up code (broker/data_dir.cpp).
// The unmodified H100 report, with NVIDIA's real root also trusted, shows the refusal of a GPU
// report made for another attestation. The policy requires exactly 8 GPUs, every GPU's
// measurement approved, driver >= 550.54.15 and revocation checked.
#include <gtest/gtest.h>

#include <ctime>
#include <filesystem>

#include "attestation/composite/binding.h"
#include "attestation/composite/bundle.h"
#include "attestation/dev/platform_key.h"
#include "attestation/nvidia/nvidia_claims.h"
#include "attestation/nvidia/report.h"
#include "broker/api/admin_api.h"
#include "broker/api/workload_api.h"
#include "broker/data_dir.h"
#include "core/encoding.h"
#include "core/file_io.h"
#include "core/hpke.h"
#include "core/jwk.h"
#include "core/protocol.h"
#include "enclave/dev_attester.h"
#include "tests/support/matchers.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/attestation/nvidia/nvidia_test_util.h"

namespace sigil {
namespace {

namespace nv = sigil::testing::nvidia;
using attestation::composite::GpuEntry;

constexpr std::int64_t k20241201 = 1733011200;
constexpr std::int64_t k20250201 = 1738368000;

constexpr const char* kPolicy = R"({"version": 1, "rules": [{"name": "dev-h100x8", "keys": ["*"], "when": {"allOf": [
  {"claim": "tee", "equals": "dev"},
  {"claim": "workload.mode", "equals": "sealed-memory"},
  {"claim": "gpu.count", "equals": 8},
  {"forEachGpu": {"allOf": [
    {"claim": "measurement", "in_reference": "approved-h100-cc-on"},
    {"claim": "nvidia.driver_version", "version_gte": "550.54.15"},
    {"claim": "nvidia.revocation", "equals": "good"}]}}]}}]})";

template <std::size_t N>
Bytes B(const std::array<std::uint8_t, N>& a) { return Bytes(a.begin(), a.end()); }

std::array<std::uint8_t, 48> VectorFwid() {
  std::array<std::uint8_t, 48> f{};
  const Bytes b = HexDecode(nv::kFwidHex).value();
  std::copy(b.begin(), b.end(), f.begin());
  return f;
}

class CompositeFlow : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.File("data");
    auto init = sigil::testing::Run(
        {sigil::testing::BinPath("sigild"), "init", "--data-dir", data_, "--dev-root-key", "--dev-tee"});
    ASSERT_EQ(init.exit_code, 0) << init.err;
    std::filesystem::create_directories(data_ + "/trust/nvidia-gpu");
    pki_ = nv::MakePki(VectorFwid());
    for (int i = 0; i < 8; ++i) leaves_.push_back(nv::IssueLeaf(pki_, VectorFwid(), 100 + i));
    ASSERT_OK(WriteFileAtomic(data_ + "/trust/nvidia-gpu/test-root.pem", ToBytes(nv::Pem(*pki_.root)), 0644));
    ASSERT_OK(WriteFileAtomic(data_ + "/trust/nvidia-gpu/nvidia-device-identity-ca.pem", nv::RootPem(), 0644));
    auto opened = broker::OpenDataDir(data_, "");
    ASSERT_TRUE(opened.has_value()) << opened.error().message();
    open_ = std::move(opened).value();
    open_->context.now = [] { return nv::VerifyTime(); };  // inside the test CRLs' window
    ASSERT_OK_AND_ASSIGN(dev_key_, attestation::dev::LoadDevPlatformKey(data_ + "/dev/platform.key"));

    ASSERT_OK(broker::AdminCreateTenant(ctx(), admin_, Json{{"name", "acme"}}));
    ASSERT_OK(broker::AdminCreateKey(ctx(), admin_, "acme", Json{{"name", "llama"}}));
    ASSERT_OK(broker::AdminSetPolicy(ctx(), admin_, "acme", Json{{"policy", kPolicy}, {"source", "h100.json"}}));
    const Sha384Digest h100 = attestation::nvidia::MeasurementDigest(
        attestation::nvidia::ParseReport(nv::ReportBytes()).value());
    ASSERT_OK(broker::AdminAddReference(ctx(), admin_, "acme",
                                        Json{{"set", "approved-h100-cc-on"}, {"value", HexEncode(h100)}}));
  }

  const broker::BrokerContext& ctx() const { return open_->context; }

  // GPU i's report for session binding `b`: the real H100 measurements, re-signed by test device
  // i over GpuNonce(b), with its chain and a current CRL.
  GpuEntry Gpu(int i, const Bytes& b) {
    auto report = attestation::nvidia::ParseReport(nv::ReportBytes()).value();
    const Sha256Digest nonce = attestation::composite::GpuNonce(b);
    std::copy(nonce.begin(), nonce.end(), report.request_nonce.begin());
    const nv::TestLeaf& leaf = leaves_[static_cast<std::size_t>(i)];
    return {nv::SignReport(report, *leaf.key),
            ToBytes(nv::Pem(*leaf.cert) + nv::Pem(*pki_.root) +
                    nv::CrlPem(*pki_.root, *pki_.root_key, k20241201, k20250201, nullptr))};
  }

  // challenge -> bundle made by `make_gpus` for the session -> attest -> release.
  Result<SecretBytes> Flow(const std::function<std::vector<GpuEntry>(const Bytes&)>& make_gpus, Json* token = nullptr) {
    SIGIL_ASSIGN_OR_RETURN(Json pub, broker::AdminPublicKey(ctx(), "acme", "llama"));
    SIGIL_ASSIGN_OR_RETURN(Bytes key_pub, Base64UrlDecode(pub["public_key"].get<std::string>()));
    SIGIL_ASSIGN_OR_RETURN(SecretBytes dek, SecretBytes::Random(32));
    SIGIL_ASSIGN_OR_RETURN(hpke::Sealed sealed, hpke::Seal(hpke::kSigilSuite, key_pub,
                                                           protocol::DekSealInfo("acme", "llama", 1), {},
                                                           dek.Reveal(SecretAccess::Get())));
    SIGIL_ASSIGN_OR_RETURN(hpke::KeyPair tee_key, hpke::GenerateKeyPair(hpke::Kem::kX25519HkdfSha256));
    SIGIL_ASSIGN_OR_RETURN(Json ch, broker::HandleChallenge(ctx(), workload_, Json{{"tenant", "acme"}, {"tee", "dev"}}));
    SIGIL_ASSIGN_OR_RETURN(Bytes nonce, Base64UrlDecode(ch["nonce"].get<std::string>()));
    const Bytes b = B(protocol::Binding(nonce, tee_key.public_key));

    std::vector<GpuEntry> gpus = make_gpus(b);
    std::vector<Bytes> reports;
    for (const auto& g : gpus) reports.push_back(g.report);
    const Bytes cpu_binding = B(attestation::composite::CompositeCpuBinding(
        b, attestation::composite::GpuEvidenceDigest(reports)));
    const std::string engine = HexEncode(Sha384(AsBytes("sigil composite test engine")));
    SIGIL_ASSIGN_OR_RETURN(Bytes cpu, enclave::MakeDevEvidence(dev_key_.seed, cpu_binding, engine, false,
                                                                nv::VerifyTime(),
                                                                attestation::WorkloadPurpose{"sealed-memory", engine,
                                                                                             std::string(64, '5')}));
    const Bytes evidence = attestation::composite::SerializeGpuBundle({cpu, gpus});
    Json attest{{"tenant", "acme"}, {"tee", "dev"}, {"nonce", ch["nonce"]}, {"evidence", Base64UrlEncode(evidence)},
                {"tee_public_key", X25519PublicKeyToJwk(tee_key.public_key)}};
    SIGIL_ASSIGN_OR_RETURN(Json tok, broker::HandleAttest(ctx(), workload_, attest));
    if (token != nullptr) *token = tok;
    Json release{{"tee_public_key", X25519PublicKeyToJwk(tee_key.public_key)},
                 {"artifacts", Json::array({Json{{"key", "acme/llama"}, {"version", 1},
                                                 {"enc", Base64UrlEncode(sealed.enc)},
                                                 {"sealed_dek", Base64UrlEncode(sealed.ciphertext)}}})}};
    SIGIL_ASSIGN_OR_RETURN(Json out, broker::HandleRelease(ctx(), workload_, tok["token"].get<std::string>(), release));
    const Json& a = out["artifacts"][0];
    SIGIL_ASSIGN_OR_RETURN(Bytes enc, Base64UrlDecode(a["enc"].get<std::string>()));
    SIGIL_ASSIGN_OR_RETURN(Bytes ct, Base64UrlDecode(a["sealed_dek"].get<std::string>()));
    SIGIL_ASSIGN_OR_RETURN(SecretBytes got,
                           hpke::OpenSecret(hpke::kSigilSuite, enc, tee_key.private_key,
                                            protocol::ReleaseInfo("acme", "llama", 1, a["artifact_id"].get<std::string>()),
                                            {}, ct));
    EXPECT_TRUE(ConstantTimeEqual(got.Reveal(SecretAccess::Get()), dek.Reveal(SecretAccess::Get())));
    return got;
  }

  std::vector<GpuEntry> Gpus(int n, const Bytes& b) {
    std::vector<GpuEntry> out;
    for (int i = 0; i < n; ++i) out.push_back(Gpu(i, b));
    return out;
  }

  sigil::testing::TempDir dir_;
  std::string data_;
  nv::TestPki pki_;
  std::vector<nv::TestLeaf> leaves_;
  std::unique_ptr<broker::OpenBroker> open_;
  Ed25519KeyPair dev_key_;
  broker::RequestMeta admin_{"req-admin", "127.0.0.1", "operator:composite-test"};
  broker::RequestMeta workload_{"req-workload", "127.0.0.1", ""};
};

TEST_F(CompositeFlow, EightBoundGpusGetTheKey) {
  Json tok;
  ASSERT_OK(Flow([&](const Bytes& b) { return Gpus(8, b); }, &tok));
  EXPECT_EQ(tok["claims"]["tee"], "dev");
  EXPECT_EQ(tok["claims"]["gpu.count"], 8);
  EXPECT_EQ(tok["claims"]["gpu.7.nvidia.driver_version"], "550.90.07");
  EXPECT_EQ(tok["claims"]["gpu.7.nvidia.revocation"], "good");
}

TEST_F(CompositeFlow, SevenGpusAreDeniedByThePolicy) {
  auto r = Flow([&](const Bytes& b) { return Gpus(7, b); });
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kPolicyDenied) << r.error().message();
  EXPECT_NE(r.error().message().find("gpu.count"), std::string::npos) << r.error().message();
}

TEST_F(CompositeFlow, AGpuReportOfAnotherAttestationIsRefusedAtAttest) {
  // GPU 3 replaced by the real H100 report (made for nvtrust's nonce, not this session's): its
  // chain verifies to NVIDIA's real root, which this broker trusts, but its nonce does not match.
  auto r = Flow([&](const Bytes& b) {
    auto gpus = Gpus(8, b);
    gpus[3] = {nv::ReportBytes(), nv::ChainPem()};
    return gpus;
  });
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kVerificationFailed) << r.error().message();
  EXPECT_NE(r.error().message().find("gpu 3: NVIDIA report nonce mismatch"), std::string::npos) << r.error().message();
  // And a duplicated GPU (one device twice) is refused whatever the policy says.
  auto dup = Flow([&](const Bytes& b) {
    auto gpus = Gpus(8, b);
    gpus[7] = gpus[0];
    return gpus;
  });
  ASSERT_FALSE(dup.has_value());
  EXPECT_NE(dup.error().message().find("appears twice"), std::string::npos) << dup.error().message();
}

}  // namespace
}  // namespace sigil
