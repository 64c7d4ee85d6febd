// Purpose binding on a real TPM (swtpm): TpmAttester with a purpose extends the purpose event
// into PCR 13 and sends the log; the real TpmVerifier replays it against the quote and emits
// workload.* from the LAST event. A log that was tampered with (an event changed, dropped or
// added), a purpose PCR outside the quote's selection or outside 8-15, and a PCR extended behind
// the log's back are refused; `measurement` does not change from one load to the next.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "attestation/purpose.h"
#include "attestation/purpose_bound.h"
#include "attestation/tpm/purpose_log.h"
#include "attestation/tpm/evidence.h"
#include "attestation/tpm/verifier.h"
#include "core/digest.h"
#include "core/encoding.h"
#include "enclave/tpm/tpm_attester.h"
#include "tests/support/matchers.h"
#include "tests/support/swtpm.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/enclave/tpm/tpm_test_util.h"

namespace sigil::enclave::tpm {
namespace {

using sigil::testing::Swtpm;
using sigil::testing::TempDir;
namespace att = attestation::tpm;

constexpr const char* kPcrs = "sha256:0,1,2,7";

attestation::WorkloadPurpose Purpose(const std::string& mode, char engine) {
  return {mode, std::string(96, engine), HexEncode(Sha256(AsBytes("")))};
}

class TpmPurposeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto sw = Swtpm::Start(dir_.path());
    ASSERT_TRUE(sw.has_value()) << sw.error().message();
    swtpm_.emplace(std::move(*sw));
    TpmAttesterConfig c = Config(std::nullopt);
    ASSERT_OK_AND_ASSIGN(std::string pem, ExportAkPem(c));
    ak_pem_ = ToBytes(pem);
  }

  TpmAttesterConfig Config(std::optional<attestation::WorkloadPurpose> purpose, std::uint32_t pcr = 13) {
    TpmAttesterConfig c;
    c.tcti = swtpm_->Tcti();
    c.pcrs = kPcrs;
    if (purpose) c.purpose = TpmPurposeConfig{*purpose, pcr, dir_.File("purpose.json")};
    return c;
  }
  Result<Bytes> Evidence(std::optional<attestation::WorkloadPurpose> purpose, std::uint32_t pcr = 13) {
    SIGIL_ASSIGN_OR_RETURN(AttesterPtr a, TpmAttester::Create(Config(std::move(purpose), pcr)));
    return a->Evidence(Bytes(64, 0x42));
  }
  Result<attestation::Claims> Verify(ByteSpan evidence) {
    att::TpmConfig tc;
    tc.registered_aks = {ak_pem_};
    SIGIL_ASSIGN_OR_RETURN(auto verifier, att::TpmVerifier::Create(tc));
    attestation::VerifyInput in;
    in.evidence = evidence;
    Bytes binding(64, 0x42);
    in.expected_binding = binding;
    in.now = std::chrono::system_clock::now();
    return verifier->Verify(in);
  }
  // `evidence` with its purpose log changed by `edit` (the quote and signature untouched).
  template <class F>
  static Bytes WithLog(const Bytes& evidence, F edit) {
    auto e = att::ParseEvidence(evidence);
    EXPECT_TRUE(e.has_value() && e->purpose_log.has_value());
    edit(*e->purpose_log);
    return att::SerializeEvidence(*e);
  }

  TempDir dir_;
  std::optional<Swtpm> swtpm_;
  Bytes ak_pem_;
};

TEST_F(TpmPurposeTest, TheLastEventIsClaimedAndMeasurementStaysStable) {
  ASSERT_OK_AND_ASSIGN(Bytes plain, Evidence(std::nullopt));
  ASSERT_OK_AND_ASSIGN(attestation::Claims base, Verify(plain));
  EXPECT_FALSE(base.Find("workload.mode")) << "no purpose, no claim";

  ASSERT_OK_AND_ASSIGN(Bytes first, Evidence(Purpose("sealed-memory", 'a')));
  ASSERT_OK_AND_ASSIGN(attestation::Claims c1, Verify(first));
  EXPECT_EQ(c1.GetString("workload.mode"), "sealed-memory");
  EXPECT_EQ(c1.GetString("workload.engine"), std::string(96, 'a'));
  EXPECT_EQ(c1.GetInt("tpm.purpose.pcr"), 13);
  EXPECT_EQ(c1.GetInt("tpm.purpose.events"), 1);
  ASSERT_TRUE(c1.GetString("tpm.pcr.sha256.13").has_value());
  EXPECT_EQ(c1.GetString("measurement"), base.GetString("measurement")) << "purpose PCR left out of measurement";

  ASSERT_OK_AND_ASSIGN(Bytes second, Evidence(Purpose("stream", 'b')));
  ASSERT_OK_AND_ASSIGN(attestation::Claims c2, Verify(second));
  EXPECT_EQ(c2.GetString("workload.mode"), "stream") << "the last event counts, not the first";
  EXPECT_EQ(c2.GetString("workload.engine"), std::string(96, 'b'));
  EXPECT_EQ(c2.GetInt("tpm.purpose.events"), 2);
  EXPECT_EQ(c2.GetString("measurement"), base.GetString("measurement"));
  EXPECT_NE(c2.GetString("tpm.pcr.sha256.13"), c1.GetString("tpm.pcr.sha256.13"));
}

TEST_F(TpmPurposeTest, TamperedLogsAreRefused) {
  ASSERT_TRUE(Evidence(Purpose("sealed-memory", 'a')).has_value());
  ASSERT_OK_AND_ASSIGN(Bytes ev, Evidence(Purpose("stream", 'b')));
  ASSERT_OK(Verify(ev));
  const std::string sealed = attestation::PurposeEvent(Purpose("sealed-memory", 'b'));
  // The streaming load claims to be sealed: rewrite its event, or append a sealed one.
  EXPECT_CODE(Verify(WithLog(ev, [&](att::PurposeLog& l) { l.events.back() = sealed; })), Code::kVerificationFailed);
  EXPECT_CODE(Verify(WithLog(ev, [&](att::PurposeLog& l) { l.events.push_back(sealed); })), Code::kVerificationFailed);
  // Drop the last event, so that the earlier sealed one would be last.
  EXPECT_CODE(Verify(WithLog(ev, [](att::PurposeLog& l) { l.events.pop_back(); })), Code::kVerificationFailed);
  // Change an earlier event or the start value: replay no longer reproduces the quote.
  EXPECT_CODE(Verify(WithLog(ev, [&](att::PurposeLog& l) { l.events.front() = sealed; })), Code::kVerificationFailed);
  EXPECT_CODE(Verify(WithLog(ev, [](att::PurposeLog& l) { l.start[0] ^= 1; })), Code::kVerificationFailed);
  // An event that is not a canonical purpose event.
  EXPECT_CODE(Verify(WithLog(ev, [](att::PurposeLog& l) { l.events.back() += " "; })), Code::kMalformedEvidence);
  EXPECT_CODE(Verify(WithLog(ev, [](att::PurposeLog& l) { l.events.clear(); })), Code::kMalformedEvidence);
}

TEST_F(TpmPurposeTest, PurposePcrMustBeQuotedAndNotResettable) {
  ASSERT_OK_AND_ASSIGN(Bytes ev, Evidence(Purpose("sealed-memory", 'a')));
  // PCR 14 exists but the quote does not select it: nothing authenticates its value.
  auto not_selected = Verify(WithLog(ev, [](att::PurposeLog& l) { l.pcr = 14; }));
  EXPECT_CODE(not_selected, Code::kVerificationFailed);
  EXPECT_NE(not_selected.error().message().find("not in the quote's selection"), std::string::npos)
      << not_selected.error().message();
  // PCR 7 is selected but belongs to firmware; 16 and 23 are resettable from locality 0.
  for (std::uint32_t pcr : {7u, 16u, 23u}) {
    auto r = Verify(WithLog(ev, [pcr](att::PurposeLog& l) { l.pcr = pcr; }));
    EXPECT_CODE(r, Code::kVerificationFailed);
    EXPECT_NE(r.error().message().find("cannot hold the workload purpose"), std::string::npos) << r.error().message();
  }
  // The attester refuses such a PCR before touching the TPM.
  EXPECT_CODE(TpmAttester::Create(Config(Purpose("sealed-memory", 'a'), 16)), Code::kInvalidArgument);
}

TEST_F(TpmPurposeTest, ForeignExtendStartsANewSegmentThatStillVerifies) {
  ASSERT_TRUE(Evidence(Purpose("stream", 'a')).has_value());
  {
    ASSERT_OK_AND_ASSIGN(EsysContext ctx, OpenTpm(swtpm_->Tcti()));
    ASSERT_OK(ExtendSha256Pcr(ctx, 13, Bytes(32, 0xee)));  // another program, or a lost log
  }
  ASSERT_OK_AND_ASSIGN(Bytes ev, Evidence(Purpose("sealed-memory", 'c')));
  ASSERT_OK_AND_ASSIGN(attestation::Claims c, Verify(ev));
  EXPECT_EQ(c.GetString("workload.mode"), "sealed-memory");
  EXPECT_EQ(c.GetInt("tpm.purpose.events"), 1) << "a new segment from the PCR's present value";
  auto parsed = att::ParseEvidence(ev);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_NE(parsed->purpose_log->start, Bytes(32, 0));
}

TEST_F(TpmPurposeTest, ConcurrentLoadsSerialiseOnTheLogAndBothVerify) {
  Result<Bytes> a = Fail(Code::kInternal, "not run"), b = a;
  std::thread ta([&] { a = Evidence(Purpose("sealed-memory", 'a')); });
  std::thread tb([&] { b = Evidence(Purpose("stream", 'b')); });
  ta.join();
  tb.join();
  ASSERT_OK(a);
  ASSERT_OK(b);
  // The one that took the lock second quotes both events, its own last; neither log can be
  // attributed to the other load.
  ASSERT_OK_AND_ASSIGN(attestation::Claims ca, Verify(*a));
  ASSERT_OK_AND_ASSIGN(attestation::Claims cb, Verify(*b));
  EXPECT_EQ(ca.GetString("workload.mode"), "sealed-memory");
  EXPECT_EQ(cb.GetString("workload.mode"), "stream");
  std::set<std::int64_t> counts{*ca.GetInt("tpm.purpose.events"), *cb.GetInt("tpm.purpose.events")};
  EXPECT_EQ(counts, (std::set<std::int64_t>{1, 2}));
}

// Known answers computed independently (Python hashlib), as docs/protocol.md lists them.
TEST(PurposeKnownAnswers, EventDigestReplayAndReportDataBinding) {
  const attestation::WorkloadPurpose p{"sealed-memory", std::string(96, 'a'), HexEncode(Sha256(AsBytes("")))};
  EXPECT_EQ(HexEncode(attestation::PurposeEventDigest(p)),
            "b9cadd7e2fa4c80b485e0bfaff93037efc278c8d99ab2ee1641ed18ab2fa2dfb");
  att::PurposeLog log{13, Bytes(32, 0), {attestation::PurposeEvent(p)}};
  EXPECT_EQ(HexEncode(att::ReplayPurposeLog(log)), "8977d95c407b7e0819e5435156c87bbe6eed3b5c47d7f4873ed6c610424c894c");
  Sha512Digest binding = Sha512(AsBytes("sigil test binding"));
  EXPECT_EQ(HexEncode(attestation::PurposeBinding(binding, p)),
            "5680dccbecb0dfd14b2c5393dabcebc8eeb57a0e2abaa06be55c0d6bdf48f2e3"
            "57dcdefabc3948ba9c61977f166a9c03d403b1dbbc0fa0ecfab904a56761f0bf");
}

}  // namespace
}  // namespace sigil::enclave::tpm
