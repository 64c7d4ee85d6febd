// Fuzz target for the PSA token: COSE_Sign1, claims and the whole verifier (PSA-1's IAK, unbound
// nonce, so corpus tokens reach the signature check). Never crashes; parsed claims re-render as
// claims whose measurement is the digest over the parsed components.
// Corpus: tests/fuzz/corpus/psa_token/ (the TF-M token, truncations, flips, trailing bytes).
#include <cstddef>
#include <cstdint>

#include "attestation/cca/platform_claims.h"
#include "attestation/cca/psa_claims.h"
#include "attestation/cca/psa_verifier.h"
#include "core/cose_sign1.h"

namespace {
// PSA-1's IAK (psatoken/public.pem).
constexpr char kIak[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEeeupDov0UKZ1FXatRZmwet+TjaO7\n"
    "C9F9ADbtSaLQ/D+/zfqJVrVov9uGc+ZI2LWNkplVsUomwwgPNBF9lx1oZA==\n"
    "-----END PUBLIC KEY-----\n";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sigil;
  using namespace sigil::attestation::cca;
  const ByteSpan input(data, size);
  static const auto verifier = PsaVerifier::Create(PsaConfig{.iaks = {{.key = ToBytes(kIak)}}, .allow_unbound = true});
  SIGIL_CHECK(verifier.has_value());
  (void)(*verifier)->Verify({.evidence = input});
  auto s = cose::ParseSign1(input, {}, "psa");
  if (!s) return 0;
  auto claims = ParsePlatformClaims(s->payload, TokenKind::kPsa);
  if (claims) {
    const auto rendered = PsaClaims(*claims);
    SIGIL_CHECK(rendered.GetString("measurement") == MeasurementDigest(claims->sw));
    SIGIL_CHECK(rendered.GetInt("psa.sw.count") == static_cast<std::int64_t>(claims->sw.size()));
  }
  return 0;
}
