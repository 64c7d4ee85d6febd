// Composite CPU + GPU attestation (attestation/composite): the binding derivations against
// values computed independently (Python hashlib, docs/protocol.md), the bundle's strict form, and
// the verifier on REAL evidence: the nvtrust H100 report with dev CPU evidence bound for real,
// and with the real virtee SEV-SNP Milan report.
//
// TEST-ONLY BINDING PATH. A captured report cannot carry a binding derived from this test's
// challenge. TestOnlyBindingMap wraps a real verifier and, ONLY when it is asked for the one
// expected binding the test registered (derived from the test's challenge and, for the CPU, the
// exact GPU report list), checks the report against the vector's own value instead; any other
// expected binding goes to the real verifier unchanged and the real report fails. So a GPU
// report moved into another attestation, a changed GPU list or another challenge still fail
// exactly as in production. The decorator exists only in this file.
#include <gtest/gtest.h>

#include "attestation/composite/binding.h"
#include "attestation/composite/bundle.h"
#include "attestation/composite/verifier.h"
#include "attestation/dev/verifier.h"
#include "attestation/nvidia/report.h"
#include "attestation/nvidia/verifier.h"
#include "attestation/snp/report.h"
#include "attestation/snp/verifier.h"
#include "core/encoding.h"
#include "core/protocol.h"
#include "enclave/dev_attester.h"
#include "policies/evaluate.h"
#include "policies/parse.h"
#include "tests/support/matchers.h"
#include "tests/unit/attestation/composite/composite_test_util.h"
#include "tests/unit/attestation/dev_test_util.h"
#include "tests/unit/attestation/nvidia/nvidia_test_util.h"
#include "tests/unit/attestation/snp/snp_test_util.h"

namespace sigil::attestation::composite {
namespace {

namespace nv = sigil::testing::nvidia;

std::array<std::uint8_t, 48> VectorFwid() {
  std::array<std::uint8_t, 48> f{};
  const Bytes b = HexDecode(nv::kFwidHex).value();
  std::copy(b.begin(), b.end(), f.begin());
  return f;
}
template <std::size_t N>
Bytes B(const std::array<std::uint8_t, N>& a) { return Bytes(a.begin(), a.end()); }

// The session binding of a challenge: nonce = `seed` repeated, key = bytes 32..63.
Bytes SessionBinding(std::uint8_t seed) {
  Bytes pk(32);
  for (std::size_t i = 0; i < pk.size(); ++i) pk[i] = static_cast<std::uint8_t>(32 + i);
  return B(protocol::Binding(Bytes(32, seed), pk));
}

using sigil::testing::composite::Borrowed;
using sigil::testing::composite::TestOnlyBindingMap;

void ExpectRefused(const Result<Claims>& r, Code code, std::string_view text) {
  ASSERT_FALSE(r.has_value()) << "accepted";
  EXPECT_EQ(r.error().code(), code) << r.error().message();
  EXPECT_NE(r.error().message().find(text), std::string::npos) << r.error().message();
}

TEST(CompositeBindingTest, DerivationsMatchIndependentValues) {
  // nonce = 00..1f, key = 20..3f; reports "\x11\xe0first" and "second report" (docs/protocol.md).
  Bytes nonce(32);
  for (std::size_t i = 0; i < 32; ++i) nonce[i] = static_cast<std::uint8_t>(i);
  Bytes pk(32);
  for (std::size_t i = 0; i < 32; ++i) pk[i] = static_cast<std::uint8_t>(32 + i);
  const Bytes binding = B(protocol::Binding(nonce, pk));
  EXPECT_EQ(HexEncode(binding),
            "7d223cfa919403d1c066dcc7b91c0db2512bc7a898d9ea6f7e8e3f4af52be8c4cc5b823d1361aea9ae8b368179c1ac75"
            "cda195cddb5c07c752fb02fb1065d70e");
  EXPECT_EQ(HexEncode(GpuNonce(binding)), "e4a522d32a57cc72f0abd67151616e67b4e64d89a0e68ced781cd551eafc4e8a");
  const Sha512Digest d = GpuEvidenceDigest({ToBytes("\x11\xe0" "first"), ToBytes("second report")});
  EXPECT_EQ(HexEncode(d),
            "4bbf76745cc860593d8e40048225b8f882170ae06953c58a9e9ed82da13b786d6f876c126d5618105882c892c6e78f26"
            "1b4b7396d87d10dec5cdf8b318d38082");
  EXPECT_EQ(HexEncode(CompositeCpuBinding(binding, d)),
            "aed4f71b36a3a3b276771ce48aa28cdb7fd39c052620ae5e86920871b71790f3b3d7478d065911302d52fef88b4c554b"
            "7fd4061d8b61f4c5a93dcef069e29567");
  // Order and count are covered: the same reports in another order give another digest.
  EXPECT_NE(d, GpuEvidenceDigest({ToBytes("second report"), ToBytes("\x11\xe0" "first")}));
  EXPECT_NE(GpuEvidenceDigest({ToBytes("ab"), ToBytes("c")}), GpuEvidenceDigest({ToBytes("a"), ToBytes("bc")}));
}

TEST(CompositeBundleTest, RoundTripAndStrictForm) {
  GpuBundle bundle{ToBytes("cpu evidence"), {{ToBytes("r1"), ToBytes("chain")}, {ToBytes("r2"), {}}}};
  const Bytes text = SerializeGpuBundle(bundle);
  EXPECT_TRUE(LooksLikeGpuBundle(text));
  ASSERT_OK_AND_ASSIGN(GpuBundle back, ParseGpuBundle(text));
  EXPECT_EQ(back, bundle);

  const std::string s = ToString(text);
  auto refused = [](const std::string& t, std::string_view why) {
    auto r = ParseGpuBundle(ToBytes(t));
    ASSERT_FALSE(r.has_value()) << t;
    EXPECT_EQ(r.error().code(), Code::kMalformedEvidence);
    EXPECT_NE(r.error().message().find(why), std::string::npos) << r.error().message();
  };
  refused(" " + s, "canonical");
  refused(R"({"cpu":"YQ","format":"sigil-gpu-composite/v1","gpus":[]})", "1..16");
  refused(R"({"cpu":"YQ","format":"sigil-gpu-composite/v2","gpus":[{"collateral":"","report":"YQ"}]})", "format");
  refused(R"({"cpu":"YQ","format":"sigil-gpu-composite/v1","gpus":[{"collateral":"","report":""}]})", "empty");
  refused(R"({"cpu":"","format":"sigil-gpu-composite/v1","gpus":[{"collateral":"","report":"YQ"}]})", "empty");
  refused(R"({"cpu":"YQ","format":"sigil-gpu-composite/v1","gpus":[{"report":"YQ"}]})", "exactly");
  refused(R"({"cpu":"YQ","extra":1,"format":"sigil-gpu-composite/v1","gpus":[{"collateral":"","report":"YQ"}]})",
          "exactly");
  refused(R"({"cpu":"YQ","cpu":"Yg","format":"sigil-gpu-composite/v1","gpus":[{"collateral":"","report":"YQ"}]})",
          "duplicate key");
  refused(R"({"cpu":"YQ==","format":"sigil-gpu-composite/v1","gpus":[{"collateral":"","report":"YQ"}]})", "cpu");
  GpuBundle many{ToBytes("c"), std::vector<GpuEntry>(kMaxGpus + 1, GpuEntry{ToBytes("r"), {}})};
  refused(ToString(SerializeGpuBundle(many)), "1..16");
}

// The real H100 report and the virtee SNP report under composites, plus the dev verifier.
class CompositeTest : public ::testing::Test {
 protected:
  CompositeTest() {
    nvidia::NvidiaConfig cfg;
    cfg.roots.push_back(nv::RootPem());
    gpu_ = std::move(nvidia::NvidiaVerifier::Create(std::move(cfg))).value();
    dev_ = std::move(dev::DevVerifier::Create(sigil::testing::TestPublicKey())).value();
  }

  // The composite for session binding `session` whose GPU verifier accepts the real report only
  // for that session (the vector's nonce stands in for GpuNonce(session)).
  std::unique_ptr<Verifier> WithRealGpu(const Verifier& cpu, const Bytes& session) {
    auto gpu = std::make_shared<TestOnlyBindingMap>(*gpu_, B(GpuNonce(session)), nv::ExpectedNonce());
    return std::make_unique<GpuCompositeVerifier>(std::make_unique<Borrowed>(cpu), std::move(gpu));
  }

  // Dev CPU evidence whose report data is the composite binding over `reports`: a real binding.
  Bytes DevCpu(const Bytes& session, const std::vector<Bytes>& reports) {
    return enclave::MakeDevEvidence(sigil::testing::TestSeed(),
                                    B(CompositeCpuBinding(session, GpuEvidenceDigest(reports))),
                                    sigil::testing::TestMeasurement(), false, At())
        .value();
  }
  // When every evidence here is fresh and every chain valid (dev evidence lives 600 s).
  static std::chrono::system_clock::time_point At() { return nv::VerifyTime(); }

  static Bytes Bundle(const Bytes& cpu, const std::vector<GpuEntry>& gpus) { return SerializeGpuBundle({cpu, gpus}); }
  static GpuEntry RealGpu() { return {nv::ReportBytes(), nv::ChainPem()}; }

  Result<Claims> Run(const Verifier& v, const Bytes& evidence, const Bytes& session) {
    return v.Verify({evidence, {}, session, At()});
  }

  std::unique_ptr<Verifier> gpu_;
  std::unique_ptr<Verifier> dev_;
};

TEST_F(CompositeTest, RealH100WithDevCpuGivesGpuClaims) {
  const Bytes session = SessionBinding(1);
  auto v = WithRealGpu(*dev_, session);
  ASSERT_OK_AND_ASSIGN(Claims c, Run(*v, Bundle(DevCpu(session, {nv::ReportBytes()}), {RealGpu()}), session));
  EXPECT_EQ(c.GetString("tee"), "dev");
  EXPECT_EQ(c.GetString("measurement"), sigil::testing::TestMeasurement());
  EXPECT_EQ(c.GetInt("gpu.count"), 1);
  EXPECT_EQ(c.GetString("gpu.0.tee"), "nvidia-gpu");
  EXPECT_EQ(c.GetString("gpu.0.nvidia.driver_version"), "550.90.07");
  EXPECT_EQ(c.GetString("gpu.0.nvidia.vbios_version"), "96.00.9f.00.01");
  EXPECT_EQ(c.GetString("gpu.0.nvidia.fwid"), nv::kFwidHex);
  EXPECT_EQ(c.GetString("gpu.0.nvidia.measurement.2"),
            "8048dfd18fe229bf16eb9d30cca0f11a24dafe6eb731de1462984645a0b189b77c4e4e17de727a5e19e3d07de51da338");
  EXPECT_EQ(c.GetString("gpu.0.nvidia.device_key")->size(), 64u);
  EXPECT_FALSE(c.Find("gpu.1.tee"));
  // The hex text NVIDIA's tools write is the same report: same digest, same verdict.
  EXPECT_OK(Run(*v, Bundle(DevCpu(session, {nv::ReportBytes()}), {{nv::ReportHexText(), nv::ChainPem()}}), session));
}

TEST_F(CompositeTest, RealH100WithRealSnpReport) {
  auto snp_cfg = snp::SnpConfig{};
  snp_cfg.anchors.roots.push_back(sigil::testing::snp::ReadVector("go-sev-guest/ask_ark_milan.pem"));
  snp_cfg.vcek_cache = {sigil::testing::snp::ReadVector("virtee-sev/vcek_milan.der")};
  auto snp = std::move(snp::SnpVerifier::Create(std::move(snp_cfg))).value();
  const Bytes report = sigil::testing::snp::Snp2Report();
  const auto parsed = snp::ParseReport(report).value();
  const Bytes session = SessionBinding(2);
  // The SNP report's data stands in for the composite binding over exactly [the H100 report].
  TestOnlyBindingMap cpu(*snp, B(CompositeCpuBinding(session, GpuEvidenceDigest({nv::ReportBytes()}))),
                         Bytes(parsed.report_data.begin(), parsed.report_data.end()));
  auto v = WithRealGpu(cpu, session);
  const auto at = sigil::testing::snp::Snp2Time();
  ASSERT_OK_AND_ASSIGN(Claims c, v->Verify({Bundle(report, {RealGpu()}), {}, session, at}));
  EXPECT_EQ(c.GetString("tee"), "sev-snp");
  EXPECT_EQ(c.GetInt("gpu.count"), 1);
  EXPECT_EQ(c.GetString("gpu.0.nvidia.driver_version"), "550.90.07");
  // The same bundle for another session: the CPU binding differs and the real report fails.
  ExpectRefused(v->Verify({Bundle(report, {RealGpu()}), {}, SessionBinding(3), at}), Code::kVerificationFailed,
                "composite evidence: cpu");
}

TEST_F(CompositeTest, DuplicateGpuReportIsRefused) {
  const Bytes session = SessionBinding(4);
  auto v = WithRealGpu(*dev_, session);
  const std::vector<Bytes> twice{nv::ReportBytes(), nv::ReportBytes()};
  ExpectRefused(Run(*v, Bundle(DevCpu(session, twice), {RealGpu(), RealGpu()}), session), Code::kVerificationFailed,
                "gpu 1: the same GPU report appears twice");
  // Raw and hex of one report are one report.
  ExpectRefused(Run(*v, Bundle(DevCpu(session, twice), {RealGpu(), {nv::ReportHexText(), nv::ChainPem()}}), session),
                Code::kVerificationFailed, "appears twice");
}

TEST_F(CompositeTest, OneGpuAskedTwiceIsRefused) {
  // Two different reports (responder nonces differ) signed by one device key, both with the
  // right nonce: one GPU answering twice must not count as two.
  const nv::TestPki pki = nv::MakePki(VectorFwid());
  nvidia::NvidiaConfig cfg;
  cfg.roots.push_back(ToBytes(nv::Pem(*pki.root)));
  std::shared_ptr<const Verifier> test_gpu = std::move(nvidia::NvidiaVerifier::Create(std::move(cfg))).value();
  const Bytes session = SessionBinding(5);
  auto report = nvidia::ParseReport(nv::ReportBytes()).value();
  const Sha256Digest nonce = GpuNonce(session);
  std::copy(nonce.begin(), nonce.end(), report.request_nonce.begin());
  const Bytes first = nv::SignReport(report, *pki.leaf_key);
  report.responder_nonce[0] ^= 1;
  const Bytes second = nv::SignReport(report, *pki.leaf_key);
  const Bytes chain = ToBytes(nv::Pem(*pki.leaf) + nv::Pem(*pki.root));
  GpuCompositeVerifier v(std::make_unique<Borrowed>(*dev_), test_gpu);
  auto at = nv::VerifyTime();
  // Each alone verifies with the real binding (no test-only path here).
  ASSERT_OK_AND_ASSIGN(Claims one, v.Verify({Bundle(DevCpu(session, {first}), {{first, chain}}), {}, session, at}));
  EXPECT_EQ(one.GetInt("gpu.count"), 1);
  ExpectRefused(v.Verify({Bundle(DevCpu(session, {first, second}), {{first, chain}, {second, chain}}), {}, session, at}),
                Code::kVerificationFailed, "gpu 1: signed by the same GPU device key");
}

TEST_F(CompositeTest, GpuReportWithTheWrongNonceIsRefused) {
  // The GPU verifier knows the real report only for session 6; the attestation is for session 7,
  // so the report's nonce is not GpuNonce(session 7).
  auto v = WithRealGpu(*dev_, SessionBinding(6));
  const Bytes session = SessionBinding(7);
  ExpectRefused(Run(*v, Bundle(DevCpu(session, {nv::ReportBytes()}), {RealGpu()}), session),
                Code::kVerificationFailed, "gpu 0: NVIDIA report nonce mismatch");
}

TEST_F(CompositeTest, GpuEvidenceSwappedFromAnotherCompositeIsRefused) {
  // Machine A's attestation (session 8) with the real H100; machine B's (session 9) with a GPU
  // report made for B (re-signed by a test device key with B's real nonce).
  const nv::TestPki pki = nv::MakePki(VectorFwid());
  nvidia::NvidiaConfig cfg;
  cfg.roots.push_back(nv::RootPem());
  cfg.roots.push_back(ToBytes(nv::Pem(*pki.root)));
  const auto both_roots = std::shared_ptr<const Verifier>(std::move(nvidia::NvidiaVerifier::Create(std::move(cfg))).value());
  const Bytes a = SessionBinding(8), b = SessionBinding(9);
  auto gpu = std::make_shared<TestOnlyBindingMap>(*both_roots, B(GpuNonce(a)), nv::ExpectedNonce());
  GpuCompositeVerifier v(std::make_unique<Borrowed>(*dev_), gpu);
  auto report = nvidia::ParseReport(nv::ReportBytes()).value();
  const Sha256Digest nonce_b = GpuNonce(b);
  std::copy(nonce_b.begin(), nonce_b.end(), report.request_nonce.begin());
  const GpuEntry gpu_b{nv::SignReport(report, *pki.leaf_key), ToBytes(nv::Pem(*pki.leaf) + nv::Pem(*pki.root))};
  const auto at = nv::VerifyTime();
  const Bytes cpu_a = DevCpu(a, {nv::ReportBytes()});
  const Bytes cpu_b = DevCpu(b, {gpu_b.report});
  // Both genuine attestations verify.
  ASSERT_OK(v.Verify({Bundle(cpu_a, {RealGpu()}), {}, a, at}));
  ASSERT_OK(v.Verify({Bundle(cpu_b, {gpu_b}), {}, b, at}));
  // B's CPU evidence with A's GPU: the CPU report data covers B's GPU list, not this one.
  ExpectRefused(v.Verify({Bundle(cpu_b, {RealGpu()}), {}, b, at}), Code::kVerificationFailed,
                "composite evidence: cpu");
  // Even with CPU evidence made over the swapped list, A's GPU signed A's nonce, not B's.
  ExpectRefused(v.Verify({Bundle(DevCpu(b, {nv::ReportBytes()}), {RealGpu()}), {}, b, at}),
                Code::kVerificationFailed, "gpu 0: NVIDIA report nonce mismatch");
  // A GPU dropped from B's attestation: the CPU binding covered two, the bundle has one.
  ExpectRefused(v.Verify({Bundle(DevCpu(b, {gpu_b.report, nv::ReportBytes()}), {gpu_b}), {}, b, at}),
                Code::kVerificationFailed, "composite evidence: cpu");
}

TEST_F(CompositeTest, PlainCpuEvidenceGoesThroughWithoutGpuClaims) {
  const Bytes session = SessionBinding(10);
  auto v = WithRealGpu(*dev_, session);
  const Bytes plain = enclave::MakeDevEvidence(sigil::testing::TestSeed(), session, sigil::testing::TestMeasurement(),
                                               false, At())
                          .value();
  ASSERT_OK_AND_ASSIGN(Claims c, Run(*v, plain, session));
  EXPECT_EQ(c.GetString("tee"), "dev");
  EXPECT_FALSE(c.Find("gpu.count"));
  // Plain evidence made for the composite binding is not accepted as plain evidence.
  EXPECT_FALSE(Run(*v, DevCpu(session, {nv::ReportBytes()}), session).has_value());
}

TEST_F(CompositeTest, BundleNeedsGpuAnchorsAndTheBinding) {
  const Bytes session = SessionBinding(11);
  const Bytes bundle = Bundle(DevCpu(session, {nv::ReportBytes()}), {RealGpu()});
  GpuCompositeVerifier no_gpu(std::make_unique<Borrowed>(*dev_), nullptr);
  ExpectRefused(Run(no_gpu, bundle, session), Code::kVerificationFailed, "no GPU trust anchors");
  auto v = WithRealGpu(*dev_, session);
  ExpectRefused(Run(*v, bundle, {}), Code::kInvalidArgument, "64-byte expected binding");
  ExpectRefused(Run(*v, ToBytes(R"({"cpu":"YQ"})"), session), Code::kMalformedEvidence, "exactly the fields");
}

TEST_F(CompositeTest, PolicyRequiringEightGpusRefusesOne) {
  const Bytes session = SessionBinding(12);
  auto v = WithRealGpu(*dev_, session);
  ASSERT_OK_AND_ASSIGN(Claims one, Run(*v, Bundle(DevCpu(session, {nv::ReportBytes()}), {RealGpu()}), session));
  ASSERT_OK_AND_ASSIGN(policy::Policy p, policy::ParsePolicy(R"({"version": 1, "rules": [{"name": "h100x8",
      "keys": ["*"], "when": {"allOf": [{"claim": "tee", "equals": "dev"}, {"claim": "gpu.count", "equals": 8}]}}]})",
                                                              "test.json"));
  const policy::MapReferenceSets refs;
  policy::Decision d = policy::Evaluate(p, one, "llama", refs);
  EXPECT_FALSE(d.allow);
  EXPECT_NE(d.reason.find("gpu.count"), std::string::npos) << d.reason;
  // And plain CPU evidence (no gpu.count at all) never satisfies it: the test is an error.
  const Bytes plain = enclave::MakeDevEvidence(sigil::testing::TestSeed(), session, sigil::testing::TestMeasurement(),
                                               false, At())
                          .value();
  ASSERT_OK_AND_ASSIGN(Claims none, Run(*v, plain, session));
  d = policy::Evaluate(p, none, "llama", refs);
  EXPECT_FALSE(d.allow);
  EXPECT_NE(d.reason.find("'gpu.count' is absent"), std::string::npos) << d.reason;
}

}  // namespace
}  // namespace sigil::attestation::composite
