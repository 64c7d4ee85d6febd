// Workload purpose in the dev TEE: the canonical event has exactly one spelling; dev evidence
// carries the purpose as signed fields that DevVerifier emits as workload.* claims (dev.insecure
// kept); a forged, malformed or contradicting purpose is refused; evidence without one (older
// loaders, the published test vector) still verifies, with no workload.* claim.
#include <gtest/gtest.h>

#include "attestation/dev/evidence.h"
#include "attestation/dev/verifier.h"
#include "attestation/purpose.h"
#include "enclave/dev_attester.h"
#include "tests/support/matchers.h"
#include "tests/unit/attestation/dev_test_util.h"

namespace sigil::attestation {
namespace {

using sigil::testing::SignedEvidence;
using sigil::testing::TestBinding;
using sigil::testing::TestMeasurement;
using sigil::testing::TestNow;
using sigil::testing::TestPublicKey;
using sigil::testing::TestSeed;

WorkloadPurpose Sealed() { return {"sealed-memory", TestMeasurement(), std::string(64, 'c')}; }

TEST(PurposeEvent, RoundTripsAndHasOneSpelling) {
  const std::string e = PurposeEvent(Sealed());
  EXPECT_EQ(e, "sigil-purpose/v1 mode=sealed-memory engine=" + TestMeasurement() + " sandbox=" + std::string(64, 'c'));
  ASSERT_OK_AND_ASSIGN(WorkloadPurpose p, ParsePurposeEvent(e));
  EXPECT_EQ(p, Sealed());
  // The rewrap mode travels the same event, so every attester (TPM log, SNP/TDX report data)
  // carries it with no change of its own.
  WorkloadPurpose rewrap{"rewrap", TestMeasurement(), std::string(64, 'c')};
  ASSERT_OK_AND_ASSIGN(WorkloadPurpose pr, ParsePurposeEvent(PurposeEvent(rewrap)));
  EXPECT_EQ(pr, rewrap);
  for (std::string bad : {e + " ", " " + e, e + "\n", "sigil-purpose/v2" + e.substr(16),
                          "sigil-purpose/v1 mode=sealed  engine=" + TestMeasurement() + " sandbox=" + std::string(64, 'c'),
                          "sigil-purpose/v1 mode=copy engine=" + TestMeasurement() + " sandbox=" + std::string(64, 'c'),
                          "sigil-purpose/v1 mode=rewrap2 engine=" + TestMeasurement() + " sandbox=" + std::string(64, 'c'),
                          "sigil-purpose/v1 engine=" + TestMeasurement() + " mode=stream sandbox=" + std::string(64, 'c'),
                          "sigil-purpose/v1 mode=stream engine=" + std::string(96, 'A') + " sandbox=" + std::string(64, 'c'),
                          "sigil-purpose/v1 mode=stream engine=" + TestMeasurement() + " sandbox=" + std::string(63, 'c'),
                          std::string()}) {
    SCOPED_TRACE(bad);
    EXPECT_CODE(ParsePurposeEvent(bad), Code::kMalformedEvidence);
  }
}

class DevPurposeTest : public ::testing::Test {
 protected:
  void SetUp() override { verifier_ = dev::DevVerifier::Create(TestPublicKey()).value(); }
  Result<Claims> Verify(ByteSpan evidence) {
    Bytes b = TestBinding();
    return verifier_->Verify({evidence, {}, b, TestNow()});
  }
  std::unique_ptr<Verifier> verifier_;
};

TEST_F(DevPurposeTest, SignedPurposeBecomesClaims) {
  for (std::string mode : {"sealed-memory", "stream", "rewrap"}) {
    WorkloadPurpose p{mode, TestMeasurement(), std::string(64, '0')};
    ASSERT_OK_AND_ASSIGN(Bytes ev, enclave::MakeDevEvidence(TestSeed(), TestBinding(), TestMeasurement(), false,
                                                            TestNow(), p));
    ASSERT_OK_AND_ASSIGN(Claims c, Verify(ev));
    EXPECT_EQ(c.GetString("workload.mode"), mode);
    EXPECT_EQ(c.GetString("workload.engine"), TestMeasurement());
    EXPECT_EQ(c.GetString("workload.sandbox"), std::string(64, '0'));
    EXPECT_EQ(c.GetBool("dev.insecure"), true) << "the dev TEE stays marked insecure";
    EXPECT_EQ(c.GetString("tcb.status"), "Insecure");
  }
}

TEST_F(DevPurposeTest, EvidenceWithoutPurposeHasNoWorkloadClaims) {
  ASSERT_OK_AND_ASSIGN(Bytes ev, enclave::MakeDevEvidence(TestSeed(), TestBinding(), TestMeasurement(), false, TestNow()));
  ASSERT_OK_AND_ASSIGN(Claims c, Verify(ev));
  EXPECT_EQ(c.Find("workload.mode"), nullptr);
  EXPECT_EQ(c.Find("workload.engine"), nullptr);
}

TEST_F(DevPurposeTest, ChangedModeBreaksTheSignature) {
  ASSERT_OK_AND_ASSIGN(Bytes ev, enclave::MakeDevEvidence(TestSeed(), TestBinding(), TestMeasurement(), false,
                                                          TestNow(), WorkloadPurpose{"stream", TestMeasurement(), std::string(64, '0')}));
  ASSERT_OK_AND_ASSIGN(dev::DevEnvelope env, dev::ParseEnvelope(ev));
  std::string payload(env.payload.begin(), env.payload.end());
  auto at = payload.find("\"stream\"");
  ASSERT_NE(at, std::string::npos) << payload;
  payload.replace(at, 8, "\"sealed-memory\"");
  env.payload = ToBytes(payload);
  EXPECT_CODE(Verify(dev::SerializeEnvelope(env)), Code::kVerificationFailed);
}

TEST_F(DevPurposeTest, MalformedOrContradictingPurposeIsRefused) {
  const std::string m = TestMeasurement();
  const std::string head = R"({"binding":")" + HexEncode(TestBinding()) +
                           R"(","debug":false,"insecure":true,"issued_at":1700000000,"measurement":")" + m +
                           R"(","platform":"sigil-dev","workload":)";
  const std::string sb(64, '0');
  for (std::string w : {R"({"engine":")" + m + R"(","mode":"copy","sandbox":")" + sb + R"("})",
                        R"({"engine":")" + m + R"(","mode":"stream"})",
                        R"({"engine":")" + m + R"(","extra":1,"mode":"stream","sandbox":")" + sb + R"("})",
                        R"({"engine":")" + std::string(96, 'd') + R"(","mode":"stream","sandbox":")" + sb + R"("})",
                        std::string(R"("sealed-memory")")}) {
    SCOPED_TRACE(w);
    EXPECT_CODE(Verify(SignedEvidence(head + w + "}")), Code::kMalformedEvidence);
  }
  // The well-formed version of the same payload verifies: the refusals are about the field.
  ASSERT_OK(Verify(SignedEvidence(head + R"({"engine":")" + m + R"(","mode":"stream","sandbox":")" + sb + R"("}})")));
  // The attester refuses to state an engine other than its measurement.
  EXPECT_CODE(enclave::DevAttester::Create(TestSeed(), m, false, {}, WorkloadPurpose{"stream", std::string(96, 'd'), sb}),
              Code::kInvalidArgument);
}

}  // namespace
}  // namespace sigil::attestation
