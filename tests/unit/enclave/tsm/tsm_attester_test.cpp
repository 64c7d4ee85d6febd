// TsmAttester against a fake configfs-tsm tree (fake_tsm_kernel.h): the attester's real code
// path (mkdir, attributes, generation check, rmdir) with real vector evidence as the outblob.
#include "enclave/tsm/tsm_attester.h"

#include <gtest/gtest.h>

#include <thread>

#include "attestation/purpose_bound.h"
#include "attestation/tee_catalog.h"
#include "core/file_io.h"
#include "tests/support/matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/enclave/tsm/fake_tsm_kernel.h"

namespace sigil::enclave::tsm {
namespace {

using testing::FakeTsmKernel;

Bytes Vector(const std::string& rel) {
  auto b = ReadFile(std::string(SIGIL_SHARED_DIR) + "/vectors/" + rel);
  EXPECT_TRUE(b.has_value()) << rel;
  return b ? *b : Bytes{};
}

Bytes Binding(std::uint8_t seed) {
  Bytes b(64);
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(seed + i);
  return b;
}

AttesterPtr Make(const std::string& tee, const std::string& root, const std::string& dir) {
  TsmAttesterConfig c;
  c.tee = tee;
  c.configfs_root = root;
  c.sev_guest_device = dir + "/no-sev-guest";
  c.tdx_guest_device = dir + "/no-tdx-guest";
  auto a = TsmAttester::Create(std::move(c));
  EXPECT_TRUE(a.has_value());
  return std::move(a).value();
}

TEST(TsmAttester, SnpReportThroughConfigfs) {
  sigil::testing::TempDir dir;
  const std::string root = dir.File("report");
  const Bytes report = Vector("sev-snp/go-sev-guest/attestation.bin");
  FakeTsmKernel kernel(root, "sev_guest", report, ToBytes("certificate table"));
  auto attester = Make("sev-snp", root, dir.path());
  EXPECT_EQ(attester->tee(), "sev-snp");
  ASSERT_OK_AND_ASSIGN(Bytes evidence, attester->Evidence(Binding(1)));
  EXPECT_EQ(evidence, report);
  ASSERT_EQ(kernel.inblobs().size(), 1u);
  EXPECT_EQ(kernel.inblobs()[0], Binding(1));  // the binding is the report data request
}

TEST(TsmAttester, PurposeIsBoundIntoTheReportData) {
  sigil::testing::TempDir dir;
  const std::string root = dir.File("report");
  const Bytes report = Vector("sev-snp/go-sev-guest/attestation.bin");
  FakeTsmKernel kernel(root, "sev_guest", report, {});
  TsmAttesterConfig c;
  c.tee = "sev-snp";
  c.configfs_root = root;
  c.purpose = attestation::WorkloadPurpose{"sealed-memory", std::string(96, 'a'), std::string(64, 'b')};
  ASSERT_OK_AND_ASSIGN(AttesterPtr attester, TsmAttester::Create(c));
  ASSERT_OK_AND_ASSIGN(Bytes evidence, attester->Evidence(Binding(3)));
  EXPECT_EQ(evidence, attestation::WrapPurposeBound(report, *c.purpose));
  ASSERT_EQ(kernel.inblobs().size(), 1u);
  Sha512Digest bound = attestation::PurposeBinding(Binding(3), *c.purpose);
  EXPECT_EQ(kernel.inblobs()[0], Bytes(bound.begin(), bound.end()));
  c.purpose->mode = "copy";
  EXPECT_CODE(TsmAttester::Create(c), Code::kInvalidArgument);
}

TEST(TsmAttester, TdxQuoteThroughConfigfs) {
  sigil::testing::TempDir dir;
  const std::string root = dir.File("report");
  const Bytes quote = Vector("tdx/dcap-qvl/tdx_quote.bin");
  FakeTsmKernel kernel(root, "tdx_guest", quote, {});
  ASSERT_OK_AND_ASSIGN(Bytes evidence, Make("tdx", root, dir.path())->Evidence(Binding(7)));
  EXPECT_EQ(evidence, quote);
  ASSERT_EQ(kernel.inblobs().size(), 1u);
  EXPECT_EQ(kernel.inblobs()[0], Binding(7));
}

TEST(TsmAttester, ConcurrentRequestsUseTheirOwnEntries) {
  sigil::testing::TempDir dir;
  const std::string root = dir.File("report");
  const Bytes report = Vector("sev-snp/go-sev-guest/attestation.bin");
  FakeTsmKernel kernel(root, "sev_guest", report, {});
  auto attester = Make("sev-snp", root, dir.path());
  Result<Bytes> a = Bytes{}, b = Bytes{};
  std::thread t1([&] { a = attester->Evidence(Binding(1)); });
  std::thread t2([&] { b = attester->Evidence(Binding(2)); });
  t1.join();
  t2.join();
  EXPECT_OK(a);
  EXPECT_OK(b);
  EXPECT_EQ(kernel.inblobs().size(), 2u);
}

TEST(TsmAttester, GenerationRaceIsRefused) {
  sigil::testing::TempDir dir;
  const std::string root = dir.File("report");
  FakeTsmKernel kernel(root, "sev_guest", Vector("sev-snp/go-sev-guest/attestation.bin"), {},
                       /*generation_step=*/2);
  auto r = Make("sev-snp", root, dir.path())->Evidence(Binding(1));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kUnavailable);
  EXPECT_NE(r.error().message().find("generation went from 0 to 2"), std::string::npos)
      << r.error().message();
}

// A generation beyond 2^64 (or not a number) is an error value naming the file, not an
// exception out of the attester.
TEST(TsmAttester, UnreadableGenerationIsRefused) {
  for (const char* gen : {"99999999999999999999999", "-1", "1x"}) {
    SCOPED_TRACE(gen);
    sigil::testing::TempDir dir;
    const std::string root = dir.File("report");
    FakeTsmKernel kernel(root, "sev_guest", Vector("sev-snp/go-sev-guest/attestation.bin"), {},
                         /*generation_step=*/1, gen);
    auto r = Make("sev-snp", root, dir.path())->Evidence(Binding(1));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), Code::kUnavailable);
    EXPECT_NE(r.error().message().find("generation is not a 64-bit decimal number: '" + std::string(gen) + "'"),
              std::string::npos)
        << r.error().message();
  }
}

TEST(TsmAttester, WrongProviderIsRefused) {
  sigil::testing::TempDir dir;
  const std::string root = dir.File("report");
  FakeTsmKernel kernel(root, "tdx_guest", Vector("tdx/dcap-qvl/tdx_quote.bin"), {});
  auto r = Make("sev-snp", root, dir.path())->Evidence(Binding(1));
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("provider is 'tdx_guest', expected 'sev_guest'"),
            std::string::npos)
      << r.error().message();
  EXPECT_TRUE(kernel.inblobs().empty());  // nothing was requested from the wrong TSM
}

TEST(TsmAttester, MissingProviderNamesWhatIsMissing) {
  sigil::testing::TempDir dir;
  const std::string root = dir.File("no-configfs");
  auto snp = Make("sev-snp", root, dir.path())->Evidence(Binding(1));
  ASSERT_FALSE(snp.has_value());
  EXPECT_EQ(snp.error().code(), Code::kUnavailable);
  EXPECT_NE(snp.error().message().find(root), std::string::npos) << snp.error().message();
  EXPECT_NE(snp.error().message().find("no-sev-guest"), std::string::npos) << snp.error().message();
  auto tdx = Make("tdx", root, dir.path())->Evidence(Binding(1));
  ASSERT_FALSE(tdx.has_value());
  EXPECT_NE(tdx.error().message().find("needs configfs-tsm"), std::string::npos)
      << tdx.error().message();
}

// Arm CCA through configfs-tsm (provider arm_cca_guest): the binding is the realm challenge
// (inblob) and the evidence is the token collection exactly as the outblob gives it. The broker's
// own CCA verifier (the catalog's, as sigild builds it) checks the REAL token (CCA-1) up to the
// realm challenge, which was made for another challenge: refused for that alone. The positive path
// needs a real realm, whose RMM puts our inblob in the token.
std::unique_ptr<attestation::Verifier> BrokerCcaVerifier() {
  attestation::VerifierSetup setup;
  setup.trust_anchors = {Vector("cca-psa/ccatoken/tf-rmm_cca_platform.pub.pem")};
  auto kind = attestation::FindTeeKind("cca");
  EXPECT_TRUE(kind.has_value());
  auto v = attestation::BuildVerifier(**kind, std::move(setup));
  EXPECT_TRUE(v.has_value());
  return std::move(v).value();
}

void ExpectChallengeMismatch(const Bytes& evidence, const Bytes& binding) {
  auto r = BrokerCcaVerifier()->Verify(
      attestation::VerifyInput{evidence, {}, binding, std::chrono::system_clock::now(), {}});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kVerificationFailed);
  EXPECT_NE(r.error().message().find("realm challenge does not match the expected binding"),
            std::string::npos)
      << r.error().message();
}

TEST(TsmAttester, CcaTokenThroughConfigfs) {
  sigil::testing::TempDir dir;
  const std::string root = dir.File("report");
  const Bytes token = Vector("cca-psa/ccatoken/tf-rmm_cca_token.cbor");
  FakeTsmKernel kernel(root, "arm_cca_guest", token, {});
  auto attester = Make("cca", root, dir.path());
  EXPECT_EQ(attester->tee(), "cca");
  ASSERT_OK_AND_ASSIGN(Bytes evidence, attester->Evidence(Binding(4)));
  EXPECT_EQ(evidence, token);
  ASSERT_EQ(kernel.inblobs().size(), 1u);
  EXPECT_EQ(kernel.inblobs()[0], Binding(4));  // the 64-byte realm challenge
  ExpectChallengeMismatch(evidence, Binding(4));
  // The token's own challenge (ab x 64) passes the same verifier: only the challenge differs.
  EXPECT_OK(BrokerCcaVerifier()->Verify(
      attestation::VerifyInput{evidence, {}, Bytes(64, 0xab), std::chrono::system_clock::now(), {}}));
}

// With a purpose, as for SNP/TDX: the challenge is PurposeBinding(binding, purpose) and the
// token travels in the sigil-purpose-bound/v1 envelope, which the broker's cca verifier unwraps.
TEST(TsmAttester, CcaPurposeIsBoundIntoTheChallenge) {
  sigil::testing::TempDir dir;
  const std::string root = dir.File("report");
  const Bytes token = Vector("cca-psa/ccatoken/tf-rmm_cca_token.cbor");
  FakeTsmKernel kernel(root, "arm_cca_guest", token, {});
  TsmAttesterConfig c;
  c.tee = "cca";
  c.configfs_root = root;
  c.purpose = attestation::WorkloadPurpose{"sealed-memory", std::string(96, 'a'), std::string(64, 'b')};
  ASSERT_OK_AND_ASSIGN(AttesterPtr attester, TsmAttester::Create(c));
  ASSERT_OK_AND_ASSIGN(Bytes evidence, attester->Evidence(Binding(5)));
  EXPECT_EQ(evidence, attestation::WrapPurposeBound(token, *c.purpose));
  ASSERT_EQ(kernel.inblobs().size(), 1u);
  Sha512Digest bound = attestation::PurposeBinding(Binding(5), *c.purpose);
  EXPECT_EQ(kernel.inblobs()[0], Bytes(bound.begin(), bound.end()));
  ExpectChallengeMismatch(evidence, Binding(5));
}

TEST(TsmAttester, CcaNeedsTheArmCcaGuestProvider) {
  sigil::testing::TempDir dir;
  const std::string root = dir.File("report");
  {
    FakeTsmKernel kernel(root, "sev_guest", Vector("sev-snp/go-sev-guest/attestation.bin"), {});
    auto r = Make("cca", root, dir.path())->Evidence(Binding(1));
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message().find("expected 'arm_cca_guest'"), std::string::npos)
        << r.error().message();
  }
  // No configfs-tsm and no ioctl fallback for realms.
  auto r = Make("cca", dir.File("absent"), dir.path())->Evidence(Binding(1));
  EXPECT_CODE(r, Code::kUnavailable);
  if (!r) {
    EXPECT_NE(r.error().message().find("arm-cca-guest"), std::string::npos) << r.error().message();
  }
}

TEST(TsmAttester, RejectsBadInput) {
  sigil::testing::TempDir dir;
  EXPECT_CODE(Make("sev-snp", dir.path(), dir.path())->Evidence(Bytes(32)), Code::kInvalidArgument);
  TsmAttesterConfig c;
  c.tee = "dev";
  EXPECT_CODE(TsmAttester::Create(c), Code::kInvalidArgument);
}

TEST(GuestDevice, MissingDevicesAreUnavailable) {
  EXPECT_CODE(SnpReportFromDevice("/nonexistent/sev-guest", Bytes(64), 0), Code::kUnavailable);
  EXPECT_CODE(TdReportFromDevice("/nonexistent/tdx_guest", Bytes(64)), Code::kUnavailable);
  EXPECT_CODE(SnpReportFromDevice("/dev/null", Bytes(63), 0), Code::kInvalidArgument);
}

}  // namespace
}  // namespace sigil::enclave::tsm
