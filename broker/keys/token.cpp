#include "broker/keys/token.h"

#include "core/digest.h"
#include "core/ed25519.h"
#include "core/encoding.h"
#include "core/json.h"
#include "core/jwk.h"

namespace sigil::broker {
namespace {

std::string Header(ByteSpan public_key) {
  return R"({"alg":"EdDSA","kid":")" + TokenKeyId(public_key) + R"(","typ":"JWT"})";
}

}  // namespace

std::string TokenKeyId(ByteSpan public_key) {
  const std::string members = R"({"crv":"Ed25519","kty":"OKP","x":")" + Base64UrlEncode(public_key) + R"("})";
  const Sha256Digest d = Sha256(AsBytes(members));
  return Base64UrlEncode(ByteSpan(d.data(), d.size()));
}

Json TokenKeySet(ByteSpan public_key) {
  Json key{{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", Base64UrlEncode(public_key)},
           {"kid", TokenKeyId(public_key)}, {"use", "sig"}, {"alg", "EdDSA"}};
  return Json{{"keys", Json::array({key})}};
}

Result<std::string> SignToken(const TokenBody& b, const Ed25519Signer& signer) {
  Json p;
  p["iss"] = "sigild";
  p["sub"] = b.tenant;
  p["tee"] = b.tee;
  p["jti"] = b.jti;
  p["iat"] = b.iat;
  p["exp"] = b.exp;
  p["cnf"] = {{"jwk", X25519PublicKeyToJwk(b.tee_public_key)}};
  p["evidence_digest"] = b.evidence_digest;
  p["claims"] = b.claims.ToJson();
  std::string signing_input =
      Base64UrlEncode(AsBytes(Header(signer.public_key()))) + "." + Base64UrlEncode(AsBytes(CanonicalJson(p)));
  return signing_input + "." + Base64UrlEncode(signer.Sign(AsBytes(signing_input)));
}

namespace {

std::string TokenDigest(const std::string& token) {
  const Sha256Digest d = Sha256(AsBytes(token));
  return std::string(d.begin(), d.end());
}

}  // namespace

void IssuedTokens::Remember(const std::string& token, std::int64_t exp, std::int64_t now) {
  std::string digest = TokenDigest(token);
  std::lock_guard lock(mu_);
  while (!order_.empty() && (order_.size() >= capacity_ || order_.front().second <= now)) {
    exp_by_digest_.erase(order_.front().first);
    order_.pop_front();
  }
  if (capacity_ == 0) return;
  if (exp_by_digest_.emplace(digest, exp).second) order_.emplace_back(std::move(digest), exp);
}

bool IssuedTokens::Contains(const std::string& token) const {
  const std::string digest = TokenDigest(token);
  std::lock_guard lock(mu_);
  return exp_by_digest_.count(digest) != 0;
}

Result<TokenBody> VerifyToken(const std::string& token, ByteSpan pub, std::int64_t now, const IssuedTokens* issued) {
  auto bad = [](const std::string& why) { return Fail(Code::kUnauthenticated, "attestation token " + why); };
  auto d1 = token.find('.');
  auto d2 = d1 == std::string::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string::npos || token.find('.', d2 + 1) != std::string::npos) return bad("is not a compact JWS");
  auto header = Base64UrlDecode(std::string_view(token).substr(0, d1));
  if (!header || ToString(*header) != Header(pub)) {
    return bad("has an unexpected header (only EdDSA under this broker's token key id is accepted)");
  }
  if (issued == nullptr || !issued->Contains(token)) {
    auto sig = Base64UrlDecode(std::string_view(token).substr(d2 + 1));
    if (!sig || !Ed25519Verify(pub, AsBytes(std::string_view(token).substr(0, d2)), *sig)) {
      return bad("signature does not verify (not issued by this broker, or altered)");
    }
  }
  auto payload = Base64UrlDecode(std::string_view(token).substr(d1 + 1, d2 - d1 - 1));
  if (!payload) return bad("payload is not base64url");
  SIGIL_ASSIGN_OR_RETURN(Json p, ParseJson(ToString(*payload), "token"));
  TokenBody b;
  SIGIL_ASSIGN_OR_RETURN(b.tenant, GetString(p, "sub", "token"));
  SIGIL_ASSIGN_OR_RETURN(b.tee, GetString(p, "tee", "token"));
  SIGIL_ASSIGN_OR_RETURN(b.jti, GetString(p, "jti", "token"));
  SIGIL_ASSIGN_OR_RETURN(b.iat, GetInt(p, "iat", "token"));
  SIGIL_ASSIGN_OR_RETURN(b.exp, GetInt(p, "exp", "token"));
  SIGIL_ASSIGN_OR_RETURN(b.evidence_digest, GetString(p, "evidence_digest", "token"));
  if (!p.contains("cnf") || !p["cnf"].is_object() || !p["cnf"].contains("jwk")) return bad("has no cnf.jwk");
  SIGIL_ASSIGN_OR_RETURN(b.tee_public_key, X25519PublicKeyFromJwk(p["cnf"]["jwk"], "token.cnf.jwk"));
  if (!p.contains("claims")) return bad("has no claims");
  SIGIL_ASSIGN_OR_RETURN(b.claims, attestation::Claims::FromJson(p["claims"], "token.claims"));
  if (now >= b.exp) return Fail(Code::kExpired, "attestation token has expired; attest again");
  return b;
}

}  // namespace sigil::broker
