// policies/examples/h100-host.json judged on composite evidence that went through the real
// verifiers: the real virtee SEV-SNP Milan report (purpose-bound, through the test-only binding
// map of composite_test_util.h, since its report data is fixed) plus eight GPUs. The public
// vectors hold one H100 report, so the eight GPUs are that report re-signed by eight generated
// device keys under one test root (tests/unit/attestation/nvidia's test PKI) over the REAL
// derived GPU nonce, each with a current CRL: their measurements, driver and FWID are the real H100's, and each is
// verified in full (chain, CRL, signature, FWID, nonce) with no test-only path. The approved GPU
// measurements come from two RIMs (a VBIOS one for blocks 1-16, a driver one for blocks 17-41,
// blocks 42-64 inactive in both, as in NVIDIA's) written from the real report's blocks, signed by
// `xmlsec1 --sign` under a test RIM root and verified by VerifyRim (rim_test_util.h).
#include <gtest/gtest.h>

#include "attestation/composite/binding.h"
#include "attestation/composite/bundle.h"
#include "attestation/composite/verifier.h"
#include "attestation/nvidia/collateral.h"
#include "attestation/nvidia/report.h"
#include "attestation/nvidia/rim.h"
#include "attestation/nvidia/verifier.h"
#include "attestation/purpose_bound.h"
#include "attestation/snp/report.h"
#include "attestation/snp/verifier.h"
#include "core/encoding.h"
#include "core/file_io.h"
#include "core/protocol.h"
#include "policies/evaluate.h"
#include "policies/parse.h"
#include "tests/support/matchers.h"
#include "tests/unit/attestation/composite/composite_test_util.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/attestation/nvidia/nvidia_test_util.h"
#include "tests/unit/attestation/nvidia/rim_test_util.h"
#include "tests/unit/attestation/snp/snp_test_util.h"

namespace sigil::attestation::composite {
namespace {

namespace nv = sigil::testing::nvidia;
using sigil::testing::composite::Borrowed;
using sigil::testing::composite::TestOnlyBindingMap;

constexpr std::int64_t k20241201 = 1733011200;
constexpr std::int64_t k20250201 = 1738368000;
constexpr char kSnpMeasurement[] =  // virtee report_milan (tests/integration/hw_policy_test.cpp)
    "7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d3e1a0dc39b2c60bd95b9c480cd81841f";

template <std::size_t N>
Bytes B(const std::array<std::uint8_t, N>& a) { return Bytes(a.begin(), a.end()); }

std::array<std::uint8_t, 48> VectorFwid() {
  std::array<std::uint8_t, 48> f{};
  const Bytes b = HexDecode(nv::kFwidHex).value();
  std::copy(b.begin(), b.end(), f.begin());
  return f;
}

WorkloadPurpose Purpose() { return {"sealed-memory", std::string(96, 'e'), std::string(64, '5')}; }

class H100HostPolicyTest : public ::testing::Test {
 protected:
  H100HostPolicyTest() {
    session_ = B(protocol::Binding(Bytes(32, 0x42), Bytes(32, 0x24)));
    nvidia::NvidiaConfig gpu_cfg;
    gpu_cfg.roots.push_back(ToBytes(nv::Pem(*pki_.root)));
    gpu_ = std::move(nvidia::NvidiaVerifier::Create(std::move(gpu_cfg))).value();
    auto report = nvidia::ParseReport(nv::ReportBytes()).value();
    const Sha256Digest nonce = GpuNonce(session_);
    std::copy(nonce.begin(), nonce.end(), report.request_nonce.begin());
    const std::string crl = nv::CrlPem(*pki_.root, *pki_.root_key, k20241201, k20250201, nullptr);
    for (int i = 0; i < 9; ++i) {  // one spare, for the "another GPU" case
      nv::TestLeaf leaf = nv::IssueLeaf(pki_, VectorFwid(), 100 + i);
      report.responder_nonce[0] = static_cast<std::uint8_t>(i);
      gpus_.push_back({nv::SignReport(report, *leaf.key), ToBytes(nv::Pem(*leaf.cert) + nv::Pem(*pki_.root) + crl)});
      leaves_.push_back(std::move(leaf));
    }

    snp::SnpConfig snp_cfg;
    snp_cfg.anchors.roots.push_back(sigil::testing::snp::ReadVector("go-sev-guest/ask_ark_milan.pem"));
    snp_cfg.vcek_cache = {sigil::testing::snp::ReadVector("virtee-sev/vcek_milan.der")};
    snp_ = std::move(snp::SnpVerifier::Create(std::move(snp_cfg))).value();
    snp_report_ = sigil::testing::snp::Snp2Report();

    auto text = ReadTextFile(std::string(SIGIL_SOURCE_DIR) + "/policies/examples/h100-host.json");
    policy_text_ = text.value();
    refs_.Add("approved-snp-guests", kSnpMeasurement);
    refs_.Add("approved-engines", Purpose().engine);
  }

  // Verifies SNP + `gpus` as one composite (the SNP report's fixed data standing in for the
  // purpose-bound composite binding over exactly these GPU reports), then judges the policy.
  Result<Claims> Verify(const std::vector<GpuEntry>& gpus) {
    std::vector<Bytes> reports;
    for (const auto& g : gpus) reports.push_back(g.report);
    const auto parsed = snp::ParseReport(snp_report_).value();
    const Sha512Digest cpu_binding = CompositeCpuBinding(session_, GpuEvidenceDigest(reports));
    auto mapped = std::make_unique<TestOnlyBindingMap>(*snp_, B(PurposeBinding(cpu_binding, Purpose())),
                                                       Bytes(parsed.report_data.begin(), parsed.report_data.end()));
    GpuCompositeVerifier v(std::make_unique<PurposeBoundVerifier>(std::move(mapped)), gpu_);
    const Bytes evidence = SerializeGpuBundle({WrapPurposeBound(snp_report_, Purpose()), gpus});
    return v.Verify({evidence, {}, session_, nv::VerifyTime()});
  }

  // What `sigil refs import-nvidia-rim` does with NVIDIA's driver and VBIOS RIMs for this GPU,
  // here with RIMs made from GPU 0's real blocks (block 20 replaced by `block20` if given).
  void ApproveRims(const Claims& c, const std::string& block20 = "") {
    sigil::testing::TempDir dir;
    const nv::RimPki pki = nv::MakeRimPki(dir.path());
    const auto root = nvidia::ParseAnchors({ReadFile(pki.root_pem).value()}).value();
    const auto make = [&](const std::string& name, const std::string& version, int from, int to) {
      nv::RimSpec spec;
      spec.version = version;
      spec.tag_id = name;
      for (int i = 0; i < 64; ++i) {
        const bool active = i >= from && i < to;
        std::string value = c.GetString("gpu.0.nvidia.measurement." + std::to_string(i + 1)).value_or("");
        if (i + 1 == 20 && !block20.empty()) value = block20;
        spec.resources.push_back({i, active, {active ? value : std::string(96, '0')}});
      }
      const std::string file = nv::SignRim(pki, dir.path(), name, nv::RimTemplate(spec));
      auto rim = nvidia::VerifyRim(ReadFile(file).value(), root, std::chrono::system_clock::now());
      ASSERT_TRUE(rim.has_value()) << rim.error().message();
      for (const std::string& v : nvidia::RimReferenceValues(*rim)) refs_.Add("h100-cc-on-rims", v);
    };
    make("1010_0200_882_96009F0001", "96.00.9F.00.01", 0, 16);
    make("NV_GPU_DRIVER_GH100_550.90.07", "550.90.07", 16, 41);
  }

  policy::Decision Judge(const Claims& claims, const std::string& text) {
    auto p = policy::ParsePolicy(text, "h100-host.json");
    EXPECT_TRUE(p.has_value()) << (p ? "" : p.error().message());
    return p ? policy::Evaluate(*p, claims, "llama3", refs_) : policy::Decision{};
  }
  policy::Decision Judge(const Claims& claims) { return Judge(claims, policy_text_); }

  std::vector<GpuEntry> Eight() const { return {gpus_.begin(), gpus_.begin() + 8}; }

  Bytes session_;
  nv::TestPki pki_ = nv::MakePki(VectorFwid());
  std::vector<nv::TestLeaf> leaves_;
  std::vector<GpuEntry> gpus_;
  std::shared_ptr<const Verifier> gpu_;
  std::unique_ptr<Verifier> snp_;
  Bytes snp_report_;
  std::string policy_text_;
  policy::MapReferenceSets refs_;
};

TEST_F(H100HostPolicyTest, EightApprovedGpusGetTheKey) {
  ASSERT_OK_AND_ASSIGN(Claims c, Verify(Eight()));
  EXPECT_EQ(c.GetString("tee"), "sev-snp");
  EXPECT_EQ(c.GetString("workload.mode"), "sealed-memory");
  EXPECT_EQ(c.GetInt("gpu.count"), 8);
  EXPECT_EQ(c.GetString("gpu.7.nvidia.revocation"), "good");
  const std::string h100 = c.GetString("gpu.0.measurement").value();
  EXPECT_EQ(c.GetString("gpu.7.measurement"), h100);  // the real report's blocks, re-signed
  EXPECT_NE(c.GetString("gpu.0.nvidia.device_key"), c.GetString("gpu.1.nvidia.device_key"));

  // Without the GPU build approved, every GPU fails; with it, the host gets the key.
  policy::Decision d = Judge(c);
  EXPECT_FALSE(d.allow);
  EXPECT_NE(d.reason.find("gpu 0: reference set 'h100-cc-on-rims'"), std::string::npos) << d.reason;
  // RIMs that approve another value for block 20: every GPU fails there.
  ApproveRims(c, std::string(96, 'a'));
  d = Judge(c);
  EXPECT_FALSE(d.allow);
  EXPECT_NE(d.reason.find("gpu 0: claim 'nvidia.measurement.20' is not an approved value for index 20"),
            std::string::npos) << d.reason;
  refs_ = policy::MapReferenceSets();
  refs_.Add("approved-snp-guests", kSnpMeasurement);
  refs_.Add("approved-engines", Purpose().engine);
  ApproveRims(c);
  d = Judge(c);
  EXPECT_TRUE(d.allow) << d.reason << "\n" << policy::Explain(d);

  // A driver older than the policy's minimum is refused (the real one is 550.90.07).
  std::string newer = policy_text_;
  const std::string bound = R"("version_gte": "550.54.15")";
  ASSERT_NE(newer.find(bound), std::string::npos);
  newer.replace(newer.find(bound), bound.size(), R"("version_gte": "555.42.02")");
  d = Judge(c, newer);
  EXPECT_FALSE(d.allow);
  EXPECT_NE(d.reason.find("gpu 0: claim 'nvidia.driver_version' is '550.90.07', expected at least 555.42.02"),
            std::string::npos)
      << d.reason;

  // A VBIOS older than the policy's minimum is refused (the real one is 96.00.9f.00.01, exactly
  // the example's floor): one step up in the last group is already too new.
  std::string newer_vbios = policy_text_;
  const std::string vbios_bound = R"("hex_version_gte": "96.00.9f.00.01")";
  ASSERT_NE(newer_vbios.find(vbios_bound), std::string::npos);
  newer_vbios.replace(newer_vbios.find(vbios_bound), vbios_bound.size(), R"("hex_version_gte": "96.00.9F.00.02")");
  d = Judge(c, newer_vbios);
  EXPECT_FALSE(d.allow);
  EXPECT_NE(d.reason.find("gpu 0: claim 'nvidia.vbios_version' is '96.00.9f.00.01', expected at least "
                          "96.00.9F.00.02"),
            std::string::npos)
      << d.reason;
}

TEST_F(H100HostPolicyTest, AMissingGpuNeverPasses) {
  ASSERT_OK_AND_ASSIGN(Claims eight, Verify(Eight()));
  ApproveRims(eight);
  ASSERT_TRUE(Judge(eight).allow);
  // Seven GPUs, all genuine and bound: refused for the count.
  ASSERT_OK_AND_ASSIGN(Claims seven, Verify({gpus_.begin(), gpus_.begin() + 7}));
  policy::Decision d = Judge(seven);
  EXPECT_FALSE(d.allow);
  EXPECT_NE(d.reason.find("claim 'gpu.count' is 7, expected 8"), std::string::npos) << d.reason;
  // One: refused.
  ASSERT_OK_AND_ASSIGN(Claims one, Verify({gpus_.front()}));
  EXPECT_FALSE(Judge(one).allow);
  // The same SNP evidence alone (plain CPU evidence, no GPU claims): refused, gpu.count absent.
  const auto parsed = snp::ParseReport(snp_report_).value();
  TestOnlyBindingMap plain_map(*snp_, B(PurposeBinding(session_, Purpose())),
                               Bytes(parsed.report_data.begin(), parsed.report_data.end()));
  GpuCompositeVerifier plain(std::make_unique<PurposeBoundVerifier>(std::make_unique<Borrowed>(plain_map)), gpu_);
  ASSERT_OK_AND_ASSIGN(Claims cpu_only,
                       plain.Verify({WrapPurposeBound(snp_report_, Purpose()), {}, session_, nv::VerifyTime()}));
  d = Judge(cpu_only);
  EXPECT_FALSE(d.allow);
  EXPECT_NE(d.reason.find("'gpu.count' is absent"), std::string::npos) << d.reason;
}

TEST_F(H100HostPolicyTest, AGpuWithoutRevocationDataIsRefused) {
  std::vector<GpuEntry> gpus = Eight();
  const std::string text = ToString(gpus[3].collateral);
  gpus[3].collateral = ToBytes(text.substr(0, text.find("-----BEGIN X509 CRL")));  // chain only
  ASSERT_OK_AND_ASSIGN(Claims c, Verify(gpus));
  EXPECT_EQ(c.GetString("gpu.3.nvidia.revocation"), "not-checked");
  ApproveRims(c);
  const policy::Decision d = Judge(c);
  EXPECT_FALSE(d.allow);
  EXPECT_NE(d.reason.find("gpu 3: claim 'nvidia.revocation'"), std::string::npos) << d.reason;
}

TEST_F(H100HostPolicyTest, NineGpusWithOneSwappedInAreRefusedByTheBindingNotThePolicy) {
  // The CPU evidence covers GPUs 0..7; replacing GPU 5 by the spare fails verification.
  std::vector<Bytes> reports;
  for (const auto& g : Eight()) reports.push_back(g.report);
  std::vector<GpuEntry> swapped = Eight();
  swapped[5] = gpus_[8];
  const auto parsed = snp::ParseReport(snp_report_).value();
  TestOnlyBindingMap map(*snp_, B(PurposeBinding(CompositeCpuBinding(session_, GpuEvidenceDigest(reports)), Purpose())),
                         Bytes(parsed.report_data.begin(), parsed.report_data.end()));
  GpuCompositeVerifier v(std::make_unique<PurposeBoundVerifier>(std::make_unique<Borrowed>(map)), gpu_);
  EXPECT_OK(v.Verify({SerializeGpuBundle({WrapPurposeBound(snp_report_, Purpose()), Eight()}), {}, session_,
                      nv::VerifyTime()}));
  auto r = v.Verify({SerializeGpuBundle({WrapPurposeBound(snp_report_, Purpose()), swapped}), {}, session_,
                     nv::VerifyTime()});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kVerificationFailed);
  EXPECT_NE(r.error().message().find("composite evidence: cpu"), std::string::npos) << r.error().message();
}

}  // namespace
}  // namespace sigil::attestation::composite
