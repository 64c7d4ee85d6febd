// Fuzz target for the CCA token: collection framing, both COSE_Sign1, both claim sets and the
// whole verifier (with the CCA-1 CPAK and an unbound challenge, so signatures are checked on real
// tokens). Never crashes; a parsed collection re-framed in both forms parses back to the same two
// tokens. Corpus: tests/fuzz/corpus/cca_token/ (both vectors, re-framings, truncations, flips).
#include <cstddef>
#include <cstdint>

#include "attestation/cca/cca_verifier.h"
#include "attestation/cca/collection.h"
#include "attestation/cca/platform_claims.h"
#include "attestation/cca/realm_claims.h"
#include "core/cbor.h"
#include "core/cose_sign1.h"

namespace {
// CCA-1's CPAK (ccatoken/tf-rmm_cca_platform.pub.pem), so that corpus tokens reach every check.
constexpr char kCpak[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEIShnxS4rlQiwpCCpBWDzlNLfqiG911FP\n"
    "8akBr+fh94uxHU5m+Kijivp2r2oxxN6MhM4tr8mWQli1P61xh3T0ViDREbF26DGO\n"
    "EYfbAjWjGNN7pZf+6A4OTHYqEryz6m7U\n"
    "-----END PUBLIC KEY-----\n";

sigil::Bytes Frame(std::uint8_t tag_hi, std::uint8_t tag_lo, sigil::ByteSpan a, sigil::ByteSpan b) {
  sigil::Bytes out{0xd9, tag_hi, tag_lo, 0xa2, 0x19, 0xac, 0xca};
  const bool cmw = tag_lo == 0x8b;
  if (cmw) out.insert(out.end(), {0x82, 0x19, 0x01, 0x07});
  sigil::cbor::AppendBytes(out, a);
  out.insert(out.end(), {0x19, 0xac, 0xd1});
  if (cmw) out.insert(out.end(), {0x82, 0x19, 0x01, 0x07});
  sigil::cbor::AppendBytes(out, b);
  return out;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sigil;
  using namespace sigil::attestation::cca;
  const ByteSpan input(data, size);
  static const auto verifier = CcaVerifier::Create(CcaConfig{.cpaks = {{.key = ToBytes(kCpak)}}, .allow_unbound = true});
  SIGIL_CHECK(verifier.has_value());
  (void)(*verifier)->Verify({.evidence = input});
  auto col = ParseCollection(input);
  if (!col) return 0;
  for (const Bytes& framed : {Frame(0x01, 0x8f, col->platform, col->realm), Frame(0x03, 0x8b, col->platform, col->realm)}) {
    auto back = ParseCollection(framed);
    SIGIL_CHECK(back && back->platform == col->platform && back->realm == col->realm);
  }
  if (auto p = cose::ParseSign1(col->platform, {}, "platform")) (void)ParsePlatformClaims(p->payload, TokenKind::kCcaPlatform);
  if (auto r = cose::ParseSign1(col->realm, {}, "realm")) (void)ParseRealmClaims(r->payload);
  return 0;
}
