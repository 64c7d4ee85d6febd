// PurposeBoundVerifier (SEV-SNP / TDX purpose in the report data): the inner verifier sees the
// report with PurposeBinding(binding, event) as the expected binding, so a report bound to one
// event cannot be sent with another; raw reports pass through without workload.* claims; the
// envelope is strict. The inner verifier here is a stand-in whose "report" is its report data.
#include "attestation/purpose_bound.h"

#include <gtest/gtest.h>

#include "core/encoding.h"
#include "tests/support/matchers.h"

namespace sigil::attestation {
namespace {

// Accepts evidence that equals the expected binding (a "report" made of its report data only).
class ReportDataVerifier final : public Verifier {
 public:
  std::string_view tee() const override { return "sev-snp"; }
  Result<Claims> Verify(const VerifyInput& in) const override {
    if (!ConstantTimeEqual(in.evidence, in.expected_binding)) {
      return Fail(Code::kVerificationFailed, "report data does not match the expected binding");
    }
    Claims c;
    c.Set("tee", std::string("sev-snp"));
    return c;
  }
};

Bytes TestBinding() { return Bytes(64, 0x5a); }
WorkloadPurpose P(const std::string& mode) { return {mode, std::string(96, 'e'), std::string(64, 'f')}; }

Result<Claims> Verify(ByteSpan evidence) {
  PurposeBoundVerifier v(std::make_unique<ReportDataVerifier>());
  Bytes b = TestBinding();
  return v.Verify({evidence, {}, b, std::chrono::system_clock::now()});
}

Bytes ReportFor(const WorkloadPurpose& p) {
  Sha512Digest d = PurposeBinding(TestBinding(), p);
  return Bytes(d.begin(), d.end());
}

TEST(PurposeBound, BoundEventBecomesClaims) {
  ASSERT_OK_AND_ASSIGN(Claims c, Verify(WrapPurposeBound(ReportFor(P("sealed-memory")), P("sealed-memory"))));
  EXPECT_EQ(c.GetString("workload.mode"), "sealed-memory");
  EXPECT_EQ(c.GetString("workload.engine"), std::string(96, 'e'));
  EXPECT_EQ(c.GetString("purpose.bound"), "report-data");
  EXPECT_EQ(c.GetString("tee"), "sev-snp");
}

TEST(PurposeBound, AReportBoundToOneEventCannotCarryAnother) {
  // A streaming load's report, sent with a sealed-memory event: the hardware-signed report data
  // does not match.
  EXPECT_CODE(Verify(WrapPurposeBound(ReportFor(P("stream")), P("sealed-memory"))), Code::kVerificationFailed);
  // A report over the plain binding (no purpose) wrapped with an event, likewise.
  EXPECT_CODE(Verify(WrapPurposeBound(TestBinding(), P("sealed-memory"))), Code::kVerificationFailed);
}

TEST(PurposeBound, RawReportPassesThroughWithoutPurpose) {
  ASSERT_OK_AND_ASSIGN(Claims c, Verify(TestBinding()));
  EXPECT_EQ(c.Find("workload.mode"), nullptr);
  // A purpose-bound report without its envelope is just a report with the wrong data.
  EXPECT_CODE(Verify(ReportFor(P("sealed-memory"))), Code::kVerificationFailed);
}

TEST(PurposeBound, EnvelopeIsStrict) {
  const std::string report = Base64UrlEncode(ReportFor(P("stream")));
  const std::string event = PurposeEvent(P("stream"));
  for (std::string bad : {std::string("{"),
                          R"({"event":")" + event + R"(","format":"sigil-purpose-bound/v2","report":")" + report + R"("})",
                          R"({"event":")" + event + R"(","format":"sigil-purpose-bound/v1"})",
                          R"({"event":")" + event + R"(","extra":"x","format":"sigil-purpose-bound/v1","report":")" + report + R"("})",
                          R"({"format":"sigil-purpose-bound/v1","event":")" + event + R"(","report":")" + report + R"("})",
                          R"({"event":"sigil-purpose/v1 mode=stream","format":"sigil-purpose-bound/v1","report":")" + report + R"("})",
                          R"({"event":")" + event + R"(","format":"sigil-purpose-bound/v1","report":"***"})"}) {
    SCOPED_TRACE(bad);
    EXPECT_CODE(Verify(ToBytes(bad)), Code::kMalformedEvidence);
  }
  ASSERT_OK(Verify(ToBytes(R"({"event":")" + event + R"(","format":"sigil-purpose-bound/v1","report":")" + report + R"("})")));
}

}  // namespace
}  // namespace sigil::attestation
