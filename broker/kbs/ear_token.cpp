#include "broker/kbs/ear_token.h"

#include "broker/keys/token.h"
#include "core/ed25519.h"
#include "core/encoding.h"

namespace sigil::broker {
namespace {

std::string Header(ByteSpan public_key) {
  return R"({"alg":"EdDSA","kid":")" + TokenKeyId(public_key) + R"(","typ":"JWT"})";
}

}  // namespace

// AR4SI (draft-ietf-rats-ar4si) tiers: 0 no claim, 2..31 affirming, 32..95 warning,
// 96..127 contraindicated.
Json TrustworthinessVector(const attestation::Claims& claims) {
  const auto tcb = claims.GetString("tcb.status").value_or("");
  const bool debug = claims.GetBool("debug").value_or(true);
  const bool insecure = claims.GetBool("dev.insecure").value_or(false) || tcb == "Insecure";
  int hardware = 2;                // genuine: the evidence chains to the TEE vendor's root
  if (insecure) hardware = 96;     // the dev TEE: software, proves nothing about hardware
  else if (!tcb.empty() && tcb != "UpToDate") hardware = 32;  // genuine, but TCB out of date
  return Json{{"instance-identity", insecure ? 96 : 2},  // evidence signed by a trusted key
              {"configuration", debug ? 32 : 0},         // debug: unsafe configuration
              {"executables", 0},
              {"file-system", 0},
              {"hardware", hardware},
              {"runtime-opaque", 0},
              {"storage-opaque", 0},
              {"sourced-data", 0}};
}

std::string EarStatus(const Json& vector) {
  int worst = 0;
  for (const auto& [_, v] : vector.items()) {
    if (v.is_number_integer()) worst = std::max(worst, v.get<int>());
  }
  return worst >= 96 ? "contraindicated" : worst >= 32 ? "warning" : worst >= 1 ? "affirming" : "none";
}

Result<std::string> SignEar(const EarBody& b, const Ed25519Signer& signer) {
  Json vector = TrustworthinessVector(b.claims);
  Json p{{"eat_profile", kEarProfile},
         {"iat", b.iat},
         {"exp", b.exp},
         {"jti", b.jti},
         {"ear.verifier-id", {{"developer", "sigil"}, {"build", "sigild"}}},
         {"submods",
          {{"cpu0",
            {{"ear.status", EarStatus(vector)},
             {"ear.trustworthiness-vector", vector},
             {"ear.veraison.annotated-evidence", b.claims.ToJson()}}}}},
         {"cnf", {{"jwk", b.tee_pubkey}}},
         {"ear.sigil.evidence-digest", b.evidence_digest}};
  const std::string input =
      Base64UrlEncode(AsBytes(Header(signer.public_key()))) + "." + Base64UrlEncode(AsBytes(CanonicalJson(p)));
  return input + "." + Base64UrlEncode(signer.Sign(AsBytes(input)));
}

Result<EarBody> VerifyEar(const std::string& token, ByteSpan pub, std::int64_t now) {
  auto bad = [](const std::string& why) { return Fail(Code::kUnauthenticated, "attestation token " + why); };
  const auto d1 = token.find('.');
  const auto d2 = d1 == std::string::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string::npos || token.find('.', d2 + 1) != std::string::npos) return bad("is not a compact JWS");
  const std::string_view t(token);
  auto header = Base64UrlDecode(t.substr(0, d1));
  if (!header || ToString(*header) != Header(pub)) {
    return bad("has an unexpected header (only EdDSA under this broker's token key id is accepted)");
  }
  auto sig = Base64UrlDecode(t.substr(d2 + 1));
  if (!sig || !Ed25519Verify(pub, AsBytes(t.substr(0, d2)), *sig)) {
    return bad("signature does not verify (not issued by this broker, or altered)");
  }
  // Signed by this broker from here on; still parsed strictly.
  auto payload = Base64UrlDecode(t.substr(d1 + 1, d2 - d1 - 1));
  if (!payload) return bad("payload is not base64url");
  SIGIL_ASSIGN_OR_RETURN(Json p, ParseJson(ToString(*payload), "token"));
  if (!p.is_object() || p.value("eat_profile", "") != kEarProfile) return bad("is not an EAR token of this broker");
  EarBody b;
  SIGIL_ASSIGN_OR_RETURN(b.jti, GetString(p, "jti", "token"));
  SIGIL_ASSIGN_OR_RETURN(b.iat, GetInt(p, "iat", "token"));
  SIGIL_ASSIGN_OR_RETURN(b.exp, GetInt(p, "exp", "token"));
  SIGIL_ASSIGN_OR_RETURN(b.evidence_digest, GetString(p, "ear.sigil.evidence-digest", "token"));
  if (!p.contains("cnf") || !p["cnf"].is_object() || !p["cnf"].contains("jwk")) return bad("has no cnf.jwk");
  b.tee_pubkey = p["cnf"]["jwk"];
  const Json* cpu0 = nullptr;
  if (p.contains("submods") && p["submods"].is_object() && p["submods"].contains("cpu0")) cpu0 = &p["submods"]["cpu0"];
  if (cpu0 == nullptr || !cpu0->is_object() || !cpu0->contains("ear.veraison.annotated-evidence")) {
    return bad("has no submods.cpu0 annotated evidence");
  }
  SIGIL_ASSIGN_OR_RETURN(b.claims, attestation::Claims::FromJson((*cpu0)["ear.veraison.annotated-evidence"],
                                                                 "token.submods.cpu0"));
  if (now >= b.exp) return Fail(Code::kExpired, "attestation token has expired; attest again");
  return b;
}

}  // namespace sigil::broker
