// The KBS front end's pieces without HTTP: sessions (single use, expiry, the cap), the EAR token
// (round trip, expiry, another key, the AR4SI vector), the cookie header, the problem bodies.
#include <gtest/gtest.h>

#include "broker/kbs/ear_token.h"
#include "broker/kbs/kbs_api.h"
#include "broker/kbs/kbs_errors.h"
#include "broker/kbs/kbs_sessions.h"
#include "core/ed25519.h"
#include "tests/support/matchers.h"

namespace sigil::broker {
namespace {

// The broker signs tokens with its token key expanded once (Ed25519Signer).
Ed25519Signer SignerOf(const Ed25519KeyPair& kp) {
  auto signer = Ed25519Signer::FromSeed(kp.seed.Reveal(SecretAccess::Get()));
  EXPECT_TRUE(signer.has_value());
  return std::move(*signer);
}


using Clock = KbsSessions::Clock;

TEST(KbsSessions, NonceIsTakenOnceAndSessionsExpire) {
  KbsSessions s(4);
  const auto t0 = Clock::now();
  ASSERT_OK_AND_ASSIGN(auto a, s.Create("dev", t0, t0 + std::chrono::seconds(60)));
  EXPECT_EQ(a.id.size(), 64u);
  EXPECT_EQ(a.nonce.size(), 32u);
  EXPECT_CODE(s.Attested(a.id, t0), Code::kUnauthenticated);  // not attested yet
  ASSERT_OK_AND_ASSIGN(auto c, s.TakeNonce(a.id, t0));
  EXPECT_EQ(c.nonce, a.nonce);
  EXPECT_CODE(s.TakeNonce(a.id, t0), Code::kReplay);
  s.MarkAttested(a.id, KbsAttested{"tok", "jti", "dev", "", Json::object(), {}}, t0 + std::chrono::seconds(300));
  ASSERT_OK_AND_ASSIGN(auto at, s.Attested(a.id, t0 + std::chrono::seconds(299)));
  EXPECT_EQ(at.token, "tok");
  EXPECT_CODE(s.Attested(a.id, t0 + std::chrono::seconds(300)), Code::kUnauthenticated);
  EXPECT_CODE(s.TakeNonce(a.id, t0), Code::kReplay);  // attested sessions never give a nonce again
  ASSERT_OK_AND_ASSIGN(auto b, s.Create("dev", t0, t0 + std::chrono::seconds(1)));
  EXPECT_CODE(s.TakeNonce(b.id, t0 + std::chrono::seconds(1)), Code::kUnauthenticated);  // expired
  EXPECT_CODE(s.TakeNonce("nosuch", t0), Code::kUnauthenticated);
}

TEST(KbsSessions, CapRefusesThenSweepsExpired) {
  KbsSessions s(2);
  const auto t0 = Clock::now();
  ASSERT_OK(s.Create("dev", t0, t0 + std::chrono::seconds(5)));
  ASSERT_OK(s.Create("dev", t0, t0 + std::chrono::seconds(50)));
  EXPECT_CODE(s.Create("dev", t0, t0 + std::chrono::seconds(5)), Code::kUnavailable);
  EXPECT_OK(s.Create("dev", t0 + std::chrono::seconds(6), t0 + std::chrono::seconds(60)));  // one swept
  EXPECT_EQ(s.SizeForTest(), 2u);
}

TEST(EarToken, RoundTripExpiryAndOtherKeys) {
  ASSERT_OK_AND_ASSIGN(Ed25519KeyPair k, Ed25519Generate());
  ASSERT_OK_AND_ASSIGN(Ed25519KeyPair other, Ed25519Generate());
  EarBody b;
  b.jti = "00ff";
  b.iat = 1000;
  b.exp = 1300;
  b.evidence_digest = "ab";
  b.tee_pubkey = Json{{"kty", "EC"}, {"crv", "P-256"}, {"x", "X"}, {"y", "Y"}};
  b.claims.Set("tee", std::string("sev-snp"));
  b.claims.Set("debug", false);
  b.claims.Set("tcb.status", std::string("UpToDate"));
  ASSERT_OK_AND_ASSIGN(std::string t, SignEar(b, SignerOf(k)));
  ASSERT_OK_AND_ASSIGN(EarBody back, VerifyEar(t, k.public_key, 1299));
  EXPECT_EQ(back.jti, "00ff");
  EXPECT_EQ(back.tee_pubkey, b.tee_pubkey);
  EXPECT_EQ(back.claims.GetString("tee"), "sev-snp");
  EXPECT_CODE(VerifyEar(t, k.public_key, 1300), Code::kExpired);
  EXPECT_CODE(VerifyEar(t, other.public_key, 1000), Code::kUnauthenticated);
  ASSERT_OK_AND_ASSIGN(std::string t2, SignEar(b, SignerOf(other)));
  EXPECT_CODE(VerifyEar(t2, k.public_key, 1000), Code::kUnauthenticated);
  // A genuine, up-to-date, non-debug TEE is affirming; debug or the dev TEE are not.
  EXPECT_EQ(EarStatus(TrustworthinessVector(b.claims)), "affirming");
  b.claims.Set("debug", true);
  EXPECT_EQ(EarStatus(TrustworthinessVector(b.claims)), "warning");
  b.claims.Set("dev.insecure", true);
  EXPECT_EQ(TrustworthinessVector(b.claims)["hardware"], 96);
  EXPECT_EQ(EarStatus(TrustworthinessVector(b.claims)), "contraindicated");
}

TEST(KbsHttpPieces, CookieHeaderTeeNamesAndProblems) {
  EXPECT_EQ(KbsSessionFromCookieHeader("a=b; kbs-session-id=abc; c=d"), "abc");
  EXPECT_EQ(KbsSessionFromCookieHeader("kbs-session-idx=abc"), "");
  EXPECT_EQ(KbsSessionFromCookieHeader(""), "");
  EXPECT_EQ(SigilTeeForKbs("snp"), "sev-snp");
  EXPECT_EQ(SigilTeeForKbs("dev"), "dev");
  EXPECT_EQ(SigilTeeForKbs("sample"), "");
  auto r = KbsErrorResponse(KbsError(KbsKind::kPolicyDeny, Error(Code::kPolicyDenied, "no rule")), "rid");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.content_type, "application/problem+json");
  EXPECT_EQ(r.body, R"({"detail":"no rule","request_id":"rid","type":"https://github.com/confidential-containers/kbs/errors/PolicyDeny"})");
  EXPECT_EQ(KbsErrorResponse(Error(Code::kNotFound, "x"), "r").status, 404);
  EXPECT_EQ(KbsErrorResponse(Error(Code::kInvalidArgument, "x"), "r").status, 400);
  EXPECT_EQ(KbsErrorResponse(KbsError(KbsKind::kTokenVerifierError, Error(Code::kExpired, "x")), "r").status, 401);
  // KBS clients know only the KBS problem kinds: a disabled or destroyed key is a PolicyDeny
  // (403) there, also when raised outside a KBS handler, not Sigil's 410 for destroyed.
  for (Code c : {Code::kKeyDisabled, Code::kKeyDestroyed}) {
    auto deny = KbsErrorResponse(Error(c, "key_destroyed: x"), "r");
    EXPECT_EQ(deny.status, 403);
    EXPECT_NE(deny.body.find("errors/PolicyDeny"), std::string::npos) << deny.body;
  }
}

// The artifact a KBS release's receipt names: the resolved resource path, never "latest", and
// never mistakable for a /v1 artifact id (64 hex digits).
TEST(KbsHttpPieces, ArtifactIdIsTheResolvedResourcePath) {
  EXPECT_EQ(KbsArtifactId("acme", "disk-key", 3), "kbs:acme/disk-key/3");
  EXPECT_EQ(KbsArtifactId("acme", "model", 4294967295u), "kbs:acme/model/4294967295");
}

}  // namespace
}  // namespace sigil::broker
