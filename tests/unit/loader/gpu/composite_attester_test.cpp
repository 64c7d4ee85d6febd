// GpuCompositeAttester (loader/gpu/composite_attester.h): the bundle it builds, the CPU binding
// it asks for, the refusal of a report made for another nonce, and its output verified by the
// broker's own GpuCompositeVerifier:
//  - with reports re-signed over the session's GPU nonce by a generated test device key
//    (tests/unit/attestation/nvidia's test PKI): the full real verification, no test-only path;
//  - with the REAL captured nvtrust H100 report from a --gpu-report file: its nonce is fixed, so
//    it passes only through the composite tests' TEST-ONLY BINDING PATH (TestOnlyBindingMap,
//    tests/unit/attestation/composite/composite_test_util.h) and GpuNonceCheck::kSkippedForTest,
//    which sigil-load has no flag for.
#include "loader/gpu/composite_attester.h"

#include <gtest/gtest.h>

#include <atomic>

#include "attestation/composite/binding.h"
#include "attestation/composite/bundle.h"
#include "attestation/composite/verifier.h"
#include "attestation/dev/verifier.h"
#include "attestation/nvidia/report.h"
#include "attestation/nvidia/verifier.h"
#include "core/encoding.h"
#include "core/file_io.h"
#include "core/json.h"
#include "enclave/dev_attester.h"
#include "tests/support/matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/attestation/composite/composite_test_util.h"
#include "tests/unit/attestation/dev_test_util.h"
#include "tests/unit/attestation/nvidia/nvidia_test_util.h"

namespace sigil::loader::gpu {
namespace {

namespace nv = sigil::testing::nvidia;
namespace composite = attestation::composite;
using composite::GpuEntry;

template <std::size_t N>
Bytes B(const std::array<std::uint8_t, N>& a) {
  return Bytes(a.begin(), a.end());
}

Bytes Session(std::uint8_t seed) { return Bytes(64, seed); }

// Records the binding it was asked for; its evidence is a fixed marker.
class RecordingAttester final : public enclave::Attester {
 public:
  explicit RecordingAttester(Bytes* seen, std::atomic<int>* calls) : seen_(seen), calls_(calls) {}
  std::string_view tee() const override { return "sev-snp"; }
  Result<Bytes> Evidence(ByteSpan binding) const override {
    ++*calls_;
    *seen_ = Bytes(binding.begin(), binding.end());
    return ToBytes("cpu evidence");
  }

 private:
  Bytes* seen_;
  std::atomic<int>* calls_;
};

// The real H100 report with its request nonce replaced (not re-signed: the attester only parses).
Bytes ReportFor(const Sha256Digest& nonce, std::uint8_t responder_tweak = 0) {
  auto r = attestation::nvidia::ParseReport(nv::ReportBytes()).value();
  std::copy(nonce.begin(), nonce.end(), r.request_nonce.begin());
  r.responder_nonce[0] ^= responder_tweak;  // two "GPUs" with different reports
  return attestation::nvidia::SerializeReport(r);
}

std::array<std::uint8_t, 48> VectorFwid() {
  std::array<std::uint8_t, 48> f{};
  const Bytes b = HexDecode(nv::kFwidHex).value();
  std::copy(b.begin(), b.end(), f.begin());
  return f;
}

class GpuCompositeAttesterTest : public ::testing::Test {
 protected:
  enclave::AttesterPtr Recording() { return std::make_unique<RecordingAttester>(&seen_, &calls_); }
  // The dev CPU attester at the NVIDIA vectors' verification time.
  static enclave::AttesterPtr Dev() {
    return enclave::DevAttester::Create(sigil::testing::TestSeed(), sigil::testing::TestMeasurement(), false,
                                        [] { return nv::VerifyTime(); })
        .value();
  }
  static std::unique_ptr<attestation::Verifier> DevVerifier() {
    return attestation::dev::DevVerifier::Create(sigil::testing::TestPublicKey()).value();
  }
  static std::unique_ptr<attestation::Verifier> GpuVerifier(Bytes root_pem) {
    attestation::nvidia::NvidiaConfig cfg;
    cfg.roots.push_back(std::move(root_pem));
    return attestation::nvidia::NvidiaVerifier::Create(std::move(cfg)).value();
  }
  std::string WriteLines(const std::string& name, const std::vector<GpuEntry>& gpus) {
    std::string text;
    for (const auto& g : gpus)
      text += Json{{"report", HexEncode(g.report)}, {"cert_chain", ToString(g.collateral)}}.dump() + "\n";
    EXPECT_OK(WriteFileAtomic(dir_.File(name), AsBytes(text), 0600));
    return dir_.File(name);
  }

  sigil::testing::TempDir dir_;
  Bytes seen_;
  std::atomic<int> calls_{0};
};

TEST_F(GpuCompositeAttesterTest, BundleCarriesTheReportsAndTheCpuEvidenceOverTheCompositeBinding) {
  const Bytes session = Session(7);
  Sha256Digest asked{};
  std::vector<GpuEntry> made;
  GpuCompositeAttester a(Recording(), [&](const Sha256Digest& nonce) -> Result<std::vector<GpuEntry>> {
    asked = nonce;
    made = {{ReportFor(nonce, 0), ToBytes("chain 0")}, {ReportFor(nonce, 1), ToBytes("chain 1")}};
    return made;
  });
  EXPECT_EQ(a.tee(), "sev-snp");
  ASSERT_OK_AND_ASSIGN(Bytes evidence, a.Evidence(session));
  EXPECT_EQ(asked, composite::GpuNonce(session));
  ASSERT_OK_AND_ASSIGN(composite::GpuBundle bundle, composite::ParseGpuBundle(evidence));
  EXPECT_EQ(bundle.cpu, ToBytes("cpu evidence"));
  EXPECT_EQ(bundle.gpus, made);
  EXPECT_EQ(seen_,
            B(composite::CompositeCpuBinding(session, composite::GpuEvidenceDigest({made[0].report, made[1].report}))));
  EXPECT_EQ(ToString(evidence).rfind(R"({"cpu":)", 0), 0u);
}

TEST_F(GpuCompositeAttesterTest, ACapturedReportIsRefusedBeforeTheCpuIsAsked) {
  ASSERT_OK_AND_ASSIGN(
      GpuCollector files,
      MakeGpuCollector({.report_files = {WriteLines("h100.jsonl", {{nv::ReportBytes(), nv::ChainPem()}})}}));
  GpuCompositeAttester a(Recording(), std::move(files));
  auto r = a.Evidence(Session(1));
  EXPECT_CODE(r, Code::kVerificationFailed);
  EXPECT_NE(r.error().message().find("GPU 0: its report answers nonce 931d8dd0add203ac"), std::string::npos)
      << r.error().message();
  EXPECT_NE(r.error().message().find("--gpu-report"), std::string::npos) << r.error().message();
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(GpuCompositeAttesterTest, CollectorFailuresAndBadInputStopBeforeTheCpu) {
  GpuCompositeAttester failing(Recording(), [](const Sha256Digest&) -> Result<std::vector<GpuEntry>> {
    return Fail(Code::kUnavailable, "GPU report command x: exited with status 1");
  });
  EXPECT_CODE(failing.Evidence(Session(1)), Code::kUnavailable);
  GpuCompositeAttester none(Recording(),
                            [](const Sha256Digest&) { return Result<std::vector<GpuEntry>>(std::vector<GpuEntry>{}); });
  EXPECT_CODE(none.Evidence(Session(1)), Code::kMalformedEvidence);
  EXPECT_CODE(none.Evidence(Bytes(32, 1)), Code::kInvalidArgument);
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(GpuCompositeAttesterTest, SourceConfigurationIsChecked) {
  EXPECT_CODE(MakeGpuCollector({}), Code::kInvalidArgument);
  EXPECT_CODE(MakeGpuCollector({.command = "a", .report_files = {"f"}}), Code::kInvalidArgument);
  EXPECT_CODE(MakeGpuCollector({.command = "a 'b"}), Code::kInvalidArgument);
}

// The command receives the nonce through {nonce} and its lines become the bundle's GPUs.
TEST_F(GpuCompositeAttesterTest, CommandGetsTheNonceAndItsOutputIsTheGpuList) {
  const Bytes session = Session(9);
  const Sha256Digest nonce = composite::GpuNonce(session);
  const std::string lines = WriteLines("out.jsonl", {{ReportFor(nonce), nv::ChainPem()}});
  const std::string got = dir_.File("nonce.txt");
  ASSERT_OK_AND_ASSIGN(GpuCollector cmd, MakeGpuCollector({.command = "/bin/sh -c 'printf %s \"$1\" > " + got +
                                                                      "; cat " + lines + "' sh --nonce={nonce}"}));
  GpuCompositeAttester a(Recording(), std::move(cmd));
  ASSERT_OK_AND_ASSIGN(Bytes evidence, a.Evidence(session));
  EXPECT_EQ(ToString(ReadFile(got).value()), "--nonce=" + HexEncode(nonce));
  ASSERT_OK_AND_ASSIGN(composite::GpuBundle bundle, composite::ParseGpuBundle(evidence));
  ASSERT_EQ(bundle.gpus.size(), 1u);
  EXPECT_EQ(bundle.gpus[0].collateral, nv::ChainPem());
}

// No test-only path: each report re-signed over this session's GPU nonce by its own test device.
TEST_F(GpuCompositeAttesterTest, BrokersCompositeVerifierAcceptsItsBundle) {
  const nv::TestPki pki = nv::MakePki(VectorFwid());
  std::vector<nv::TestLeaf> leaves;
  for (long i = 0; i < 2; ++i) leaves.push_back(nv::IssueLeaf(pki, VectorFwid(), 10 + i));
  GpuCompositeAttester a(Dev(), [&](const Sha256Digest& nonce) -> Result<std::vector<GpuEntry>> {
    std::vector<GpuEntry> out;
    for (const auto& leaf : leaves) {
      auto r = attestation::nvidia::ParseReport(nv::ReportBytes()).value();
      std::copy(nonce.begin(), nonce.end(), r.request_nonce.begin());
      out.push_back({nv::SignReport(r, *leaf.key), ToBytes(nv::Pem(*leaf.cert) + nv::Pem(*pki.root))});
    }
    return out;
  });
  composite::GpuCompositeVerifier v(DevVerifier(), GpuVerifier(ToBytes(nv::Pem(*pki.root))));
  const Bytes session = Session(3);
  ASSERT_OK_AND_ASSIGN(Bytes evidence, a.Evidence(session));
  ASSERT_OK_AND_ASSIGN(attestation::Claims c, v.Verify({evidence, {}, session, nv::VerifyTime()}));
  EXPECT_EQ(c.GetString("tee"), "dev");
  EXPECT_EQ(c.GetInt("gpu.count"), 2);
  EXPECT_EQ(c.GetString("gpu.1.nvidia.driver_version"), "550.90.07");
  // The same evidence for another session fails: the reports answer this session's nonce only.
  EXPECT_CODE(v.Verify({evidence, {}, Session(4), nv::VerifyTime()}), Code::kVerificationFailed);
}

// TEST-ONLY BINDING PATH (see the file header): the real captured report, unmodified.
TEST_F(GpuCompositeAttesterTest, RealCapturedReportThroughTheTestOnlyBindingPath) {
  const Bytes session = Session(5);
  ASSERT_OK_AND_ASSIGN(
      GpuCollector files,
      MakeGpuCollector({.report_files = {WriteLines("h100.jsonl", {{nv::ReportBytes(), nv::ChainPem()}})}}));
  GpuCompositeAttester a(Dev(), std::move(files), GpuNonceCheck::kSkippedForTest);
  auto real_gpu = GpuVerifier(nv::RootPem());
  auto gpu = std::make_shared<sigil::testing::composite::TestOnlyBindingMap>(*real_gpu, B(composite::GpuNonce(session)),
                                                                             nv::ExpectedNonce());
  composite::GpuCompositeVerifier v(DevVerifier(), std::move(gpu));
  ASSERT_OK_AND_ASSIGN(Bytes evidence, a.Evidence(session));
  ASSERT_OK_AND_ASSIGN(attestation::Claims c, v.Verify({evidence, {}, session, nv::VerifyTime()}));
  EXPECT_EQ(c.GetInt("gpu.count"), 1);
  EXPECT_EQ(c.GetString("gpu.0.nvidia.fwid"), nv::kFwidHex);
  // Another session's binding is not mapped: the real report's nonce fails as in production.
  ASSERT_OK_AND_ASSIGN(Bytes other, a.Evidence(Session(6)));
  EXPECT_CODE(v.Verify({other, {}, Session(6), nv::VerifyTime()}), Code::kVerificationFailed);
}

}  // namespace
}  // namespace sigil::loader::gpu
