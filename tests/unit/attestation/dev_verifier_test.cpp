// DevVerifier: round trip with the real attester, then one negative test per refusal branch,
// built by mutating real evidence (style.md 4.10).
#include "attestation/dev/verifier.h"

#include <gtest/gtest.h>

#include "attestation/dev/evidence.h"
#include "attestation/dev/platform_key.h"
#include "enclave/dev_attester.h"
#include "tests/support/matchers.h"
#include "tests/unit/attestation/dev_test_util.h"

namespace sigil::attestation::dev {
namespace {

using sigil::testing::SignedEvidence;
using sigil::testing::TestBinding;
using sigil::testing::TestMeasurement;
using sigil::testing::TestNow;
using sigil::testing::TestPublicKey;
using sigil::testing::TestSeed;
using std::chrono::seconds;

// TestSeed / TestBinding / TestMeasurement / TestNow, debug=false (see README.md).
constexpr std::string_view kKnownAnswer =
    R"({"format":"sigil-dev-evidence/v1","payload":"eyJiaW5kaW5nIjoiNmM5MzJiZmY5ZTFjZWMyNTdlNjY4Z)"
    R"(mNiYTJhZDYwZjJkMzgzM2RkOGZmMjhmNGEwZTFjNGRiMWI0YThhMjE4ZWM0NjlhNTUxNTc2YTljMDQxNzc0Y2VhZTI)"
    R"(4NjM2ZWQxYWUwMzk2NTJkMDVkODg1NjdhYjA2OGRkNzFmM2Y0ZTIiLCJkZWJ1ZyI6ZmFsc2UsImluc2VjdXJlIjp0c)"
    R"(nVlLCJpc3N1ZWRfYXQiOjE3MDAwMDAwMDAsIm1lYXN1cmVtZW50IjoiOWMxODcxYmZiODlmNjI1ODIxNjZlZmM2YjA)"
    R"(1ZjlmZDE0MzQ1ZGRiNTVjY2UyNmIxOWU5ZDk1NzcxNWQzNDU1YThjMGNlOGRhNTlhYWY0MDE0NTRhNzM1ZmIxOGI3O)"
    R"(GJjIiwicGxhdGZvcm0iOiJzaWdpbC1kZXYifQ","signature":"3vCmgQq5Yd59yhznCSheKuM-tGfA2iYAUkf70Y)"
    R"(cuXEF9StilxSSv2ojkMsiD21pwEhF3bc6aNgqiZnx0cMJNAA"})";

class DevVerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto v = DevVerifier::Create(TestPublicKey());
    ASSERT_OK(v);
    verifier_ = std::move(v).value();
  }
  Bytes Make(bool debug = false, std::chrono::system_clock::time_point at = TestNow()) {
    return enclave::MakeDevEvidence(TestSeed(), TestBinding(), TestMeasurement(), debug, at).value();
  }
  Result<Claims> Verify(ByteSpan evidence, std::chrono::system_clock::time_point now = TestNow(),
                        ByteSpan binding = {}) {
    Bytes b = TestBinding();
    return verifier_->Verify({evidence, {}, binding.empty() ? ByteSpan(b) : binding, now});
  }
  std::unique_ptr<Verifier> verifier_;
};

TEST_F(DevVerifierTest, RoundTripGivesExactClaims) {
  ASSERT_OK_AND_ASSIGN(Claims claims, Verify(Make()));
  Claims want;
  want.Set("tee", std::string("dev"));
  want.Set("debug", false);
  want.Set("measurement", TestMeasurement());
  want.Set("dev.insecure", true);
  want.Set("platform.id", DevPlatformId(TestPublicKey()));
  want.Set("tcb.status", std::string("Insecure"));
  EXPECT_EQ(claims, want);
  EXPECT_EQ(verifier_->tee(), "dev");
  EXPECT_EQ(claims.GetString("platform.id")->size(), std::string("sigil-dev:").size() + 16);
}

TEST_F(DevVerifierTest, DebugEvidenceVerifiesAndSaysSo) {
  ASSERT_OK_AND_ASSIGN(Claims claims, Verify(Make(/*debug=*/true)));
  EXPECT_EQ(claims.GetBool("debug"), true);
}

// Pins the wire format: the same inputs must produce these exact bytes (Ed25519 is
// deterministic). README.md quotes this vector.
TEST_F(DevVerifierTest, KnownAnswerVector) {
  Bytes evidence = Make();
  EXPECT_EQ(ToString(evidence), std::string(kKnownAnswer));
  EXPECT_OK(Verify(AsBytes(kKnownAnswer)));
}

TEST_F(DevVerifierTest, WrongPlatformKeyIsRefused) {
  ASSERT_OK_AND_ASSIGN(Ed25519KeyPair other, GenerateDevPlatformKey());
  ASSERT_OK_AND_ASSIGN(auto v, DevVerifier::Create(other.public_key));
  Bytes b = TestBinding();
  Bytes e = Make();
  EXPECT_CODE(v->Verify({e, {}, b, TestNow()}), Code::kVerificationFailed);
}

TEST_F(DevVerifierTest, EveryFlippedPayloadByteIsRefused) {
  ASSERT_OK_AND_ASSIGN(DevEnvelope env, ParseEnvelope(Make()));
  for (std::size_t i = 0; i < env.payload.size(); ++i) {
    DevEnvelope bad = env;
    bad.payload[i] ^= 0x01;
    SCOPED_TRACE(i);
    EXPECT_CODE(Verify(SerializeEnvelope(bad)), Code::kVerificationFailed);
  }
}

TEST_F(DevVerifierTest, EveryFlippedSignatureByteIsRefused) {
  ASSERT_OK_AND_ASSIGN(DevEnvelope env, ParseEnvelope(Make()));
  for (std::size_t i = 0; i < env.signature.size(); ++i) {
    DevEnvelope bad = env;
    bad.signature[i] ^= 0x80;
    SCOPED_TRACE(i);
    EXPECT_CODE(Verify(SerializeEnvelope(bad)), Code::kVerificationFailed);
  }
}

// Any single-byte change to the evidence text must be refused (malformed or bad signature):
// there is exactly one encoding of each evidence.
TEST_F(DevVerifierTest, EveryFlippedEvidenceByteIsRefused) {
  Bytes good = Make();
  for (std::size_t i = 0; i < good.size(); ++i) {
    Bytes bad = good;
    bad[i] ^= 0x01;
    SCOPED_TRACE(i);
    auto r = Verify(bad);
    ASSERT_FALSE(r.has_value());
    EXPECT_TRUE(r.error().code() == Code::kMalformedEvidence || r.error().code() == Code::kVerificationFailed)
        << r.error().message();
  }
}

TEST_F(DevVerifierTest, WrongBindingIsRefused) {
  Bytes other = TestBinding();
  other[63] ^= 1;
  auto r = Verify(Make(), TestNow(), other);
  EXPECT_CODE(r, Code::kVerificationFailed);
  EXPECT_EQ(r.error().message(), "evidence is bound to a different nonce or TEE key");
}

TEST_F(DevVerifierTest, ExpectedBindingOfWrongSizeIsACallerError) {
  Bytes short_binding(32, 0);
  EXPECT_CODE(Verify(Make(), TestNow(), short_binding), Code::kInvalidArgument);
}

TEST_F(DevVerifierTest, FreshnessWindowBoundaries) {
  Bytes e = Make();
  EXPECT_OK(Verify(e, TestNow() + seconds(600)));   // exactly 10 minutes old: accepted
  EXPECT_CODE(Verify(e, TestNow() + seconds(601)), Code::kExpired);
  EXPECT_OK(Verify(e, TestNow() - seconds(300)));   // 5 minutes in the future: accepted
  EXPECT_CODE(Verify(e, TestNow() - seconds(301)), Code::kExpired);
  EXPECT_CODE(Verify(Make(false, TestNow() + std::chrono::hours(24))), Code::kExpired);
}

TEST_F(DevVerifierTest, OversizedEvidenceIsRefusedBeforeParsing) {
  Bytes big(kMaxEvidenceSize + 1, ' ');
  auto r = Verify(big);
  EXPECT_CODE(r, Code::kMalformedEvidence);
  EXPECT_NE(r.error().message().find("exceeds the limit of 65536"), std::string::npos);
}

TEST_F(DevVerifierTest, CollateralIsRefused) {
  Bytes e = Make(), b = TestBinding(), collateral = {1, 2, 3};
  EXPECT_CODE(verifier_->Verify({e, collateral, b, TestNow()}), Code::kMalformedEvidence);
}

TEST(DevVerifierCreate, RefusesAPublicKeyOfTheWrongSize) {
  EXPECT_CODE(DevVerifier::Create(Bytes(31, 1)), Code::kInvalidArgument);
}

struct MalformedCase {
  const char* name;
  std::string evidence;
  const char* message;  // substring the error must contain
};

std::string Env(const std::string& format, const std::string& payload, const std::string& sig) {
  return R"({"format":)" + format + R"(,"payload":)" + payload + R"(,"signature":)" + sig + "}";
}
const std::string kSig = "\"" + std::string(86, 'A') + "\"";  // 64 zero bytes

class MalformedEnvelopeTest : public DevVerifierTest, public ::testing::WithParamInterface<MalformedCase> {};

TEST_P(MalformedEnvelopeTest, IsRefusedNamingTheField) {
  auto r = Verify(AsBytes(GetParam().evidence));
  EXPECT_CODE(r, Code::kMalformedEvidence);
  EXPECT_NE(r.error().message().find(GetParam().message), std::string::npos) << r.error().message();
}

const std::string kFmt = "\"sigil-dev-evidence/v1\"";
INSTANTIATE_TEST_SUITE_P(
    Envelope, MalformedEnvelopeTest,
    ::testing::Values(
        MalformedCase{"Empty", "", "invalid JSON"},
        MalformedCase{"NotJson", "{format", "invalid JSON"},
        MalformedCase{"Array", "[]", "evidence: expected a JSON object"},
        MalformedCase{"MissingSignature", R"({"format":"sigil-dev-evidence/v1","payload":""})", "evidence.signature: missing"},
        MalformedCase{"UnknownField", R"({"extra":1,"format":"sigil-dev-evidence/v1","payload":"","signature":""})",
                      "evidence.extra: unknown field"},
        MalformedCase{"WrongFormat", Env("\"sigil-dev-evidence/v2\"", "\"\"", kSig), "evidence.format: expected"},
        MalformedCase{"FormatNotString", Env("1", "\"\"", kSig), "evidence.format: expected a string"},
        MalformedCase{"PayloadNotString", Env(kFmt, "{}", kSig), "evidence.payload: expected a string"},
        MalformedCase{"PayloadBadBase64", Env(kFmt, "\"ab+/\"", kSig), "evidence.payload: base64url"},
        MalformedCase{"PayloadPadded", Env(kFmt, "\"YQ==\"", kSig), "evidence.payload: base64url: '=' padding"},
        MalformedCase{"SignatureShort", Env(kFmt, "\"\"", "\"AAAA\""), "evidence.signature: expected 64 bytes"},
        MalformedCase{"SignatureNotString", Env(kFmt, "\"\"", "null"), "evidence.signature: expected a string"}),
    [](const auto& p) { return std::string(p.param.name); });

class MalformedPayloadTest : public DevVerifierTest, public ::testing::WithParamInterface<MalformedCase> {};

// Each payload is validly signed, so only the payload parser can refuse it.
TEST_P(MalformedPayloadTest, IsRefusedNamingTheField) {
  auto r = Verify(SignedEvidence(GetParam().evidence));
  EXPECT_CODE(r, Code::kMalformedEvidence);
  EXPECT_NE(r.error().message().find(GetParam().message), std::string::npos) << r.error().message();
}

std::string Payload(const std::string& binding, const std::string& debug, const std::string& insecure,
                    const std::string& issued_at, const std::string& measurement, const std::string& platform) {
  return R"({"binding":)" + binding + R"(,"debug":)" + debug + R"(,"insecure":)" + insecure +
         R"(,"issued_at":)" + issued_at + R"(,"measurement":)" + measurement + R"(,"platform":)" + platform + "}";
}
std::string Q(const std::string& s) { return "\"" + s + "\""; }
const std::string kB = Q(sigil::HexEncode(TestBinding()));
const std::string kM = Q(TestMeasurement());
const std::string kP = Q("sigil-dev");
std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

INSTANTIATE_TEST_SUITE_P(
    Payload, MalformedPayloadTest,
    ::testing::Values(
        MalformedCase{"NotJson", "{binding", "invalid JSON"},
        MalformedCase{"NotObject", "[1]", "payload: expected a JSON object"},
        MalformedCase{"MissingBinding", R"({"debug":false})", "payload.binding: missing"},
        MalformedCase{"UnknownField", R"({"binding":"","tcb":1})", "payload.tcb: unknown field"},
        MalformedCase{"BindingShort", Payload(Q("abcd"), "false", "true", "1700000000", kM, kP),
                      "payload.binding: expected 128 lowercase hex digits (64 bytes), got 4"},
        MalformedCase{"BindingUpperCase", Payload(Upper(kB), "false", "true", "1700000000", kM, kP),
                      "payload.binding: expected lowercase hex"},
        MalformedCase{"BindingNotHex", Payload(Q(std::string(128, 'g')), "false", "true", "1700000000", kM, kP),
                      "payload.binding: expected lowercase hex"},
        MalformedCase{"BindingNotString", Payload("7", "false", "true", "1700000000", kM, kP),
                      "payload.binding: expected a string"},
        MalformedCase{"MeasurementSha256", Payload(kB, "false", "true", "1700000000", Q(std::string(64, 'a')), kP),
                      "payload.measurement: expected 96 lowercase hex digits"},
        MalformedCase{"DebugString", Payload(kB, "\"false\"", "true", "1700000000", kM, kP),
                      "payload.debug: expected true or false"},
        MalformedCase{"InsecureFalse", Payload(kB, "false", "false", "1700000000", kM, kP),
                      "payload.insecure: must be true"},
        MalformedCase{"InsecureMissing",
                      R"({"binding":)" + kB + R"(,"debug":false,"issued_at":1,"measurement":)" + kM +
                          R"(,"platform":"sigil-dev"})",
                      "payload.insecure: missing"},
        MalformedCase{"WrongPlatform", Payload(kB, "false", "true", "1700000000", kM, Q("sev-snp")),
                      "payload.platform: expected 'sigil-dev'"},
        MalformedCase{"IssuedAtNegative", Payload(kB, "false", "true", "-1", kM, kP), "payload.issued_at"},
        MalformedCase{"IssuedAtFloat", Payload(kB, "false", "true", "1700000000.0", kM, kP), "payload.issued_at"},
        MalformedCase{"IssuedAtString", Payload(kB, "false", "true", "\"1700000000\"", kM, kP), "payload.issued_at"},
        MalformedCase{"IssuedAtHuge", Payload(kB, "false", "true", "18446744073709551615", kM, kP),
                      "payload.issued_at"},
        MalformedCase{"Whitespace", Payload(kB, "false", "true", "1700000000", kM, kP) + " ", "canonical"},
        MalformedCase{"UnsortedKeys",
                      R"({"debug":false,"binding":)" + kB + R"(,"insecure":true,"issued_at":1700000000,)" +
                          R"("measurement":)" + kM + R"(,"platform":"sigil-dev"})",
                      "canonical"},
        MalformedCase{"DuplicateKey",
                      R"({"binding":)" + kB + R"(,"debug":false,"debug":false,"insecure":true,)" +
                          R"("issued_at":1700000000,"measurement":)" + kM + R"(,"platform":"sigil-dev"})",
                      "duplicate key"}),
    [](const auto& p) { return std::string(p.param.name); });

TEST_F(DevVerifierTest, HugeIssuedAtIsExpiredNotOverflowed) {
  auto r = Verify(SignedEvidence(Payload(kB, "false", "true", "9223372036854775807", kM, kP)));
  EXPECT_CODE(r, Code::kExpired);
}

TEST_F(DevVerifierTest, HandWrittenCanonicalPayloadVerifies) {
  EXPECT_OK(Verify(SignedEvidence(Payload(kB, "true", "true", "1700000000", kM, kP))));
}

}  // namespace
}  // namespace sigil::attestation::dev
