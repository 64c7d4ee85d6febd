// Helpers for the CCA/PSA tests: the vectors of /work/shared/vectors/cca-psa (MANIFEST.md),
// re-framing of a platform + realm pair, and test-only COSE_Sign1 signing and claim replacement
// (to build a realm token that verifies under its own RAK but is not vouched for by the platform).
#pragma once

#include <cstdint>
#include <string>

#include "core/bytes.h"
#include "core/cbor.h"
#include "core/ossl.h"

namespace sigil::testing::cca {

Bytes ReadVector(const std::string& rel);

Bytes Cca1Token();   // ccatoken/tf-rmm_cca_token.cbor (tag 399)
Bytes Cca1Cpak();    // ccatoken/tf-rmm_cca_platform.pub.pem (P-384)
Bytes Cca2Token();   // ccatoken/derived_testGoodCCAToken.cbor (tag 907)
Bytes Cca2Cpak();    // ccatoken/derived_testIAK_pub.pem (P-256)
Bytes Psa1Token();   // psatoken/psa-2_0_0_sign1.cbor
Bytes Psa1Iak();     // psatoken/public.pem

// tag 399 { 44234: platform, 44241: realm } and tag 907 { k: [263, bytes] }.
Bytes Frame399(ByteSpan platform, ByteSpan realm);
Bytes Frame907(ByteSpan platform, ByteSpan realm);

// A fresh EC key ("P-256" or "P-384") and its public key as PEM SubjectPublicKeyInfo.
EvpPkeyPtr NewKey(const char* curve);
Bytes PublicPem(const EVP_PKEY* key);

// 18([h'a1 01 alg', {}, payload, r||s]) signed with `key` (ES256 for P-256, ES384 for P-384).
Bytes SignSign1(ByteSpan payload, EVP_PKEY* key);

// `payload` (a CBOR map) with the value of integer key `key` replaced by `value` (moved in),
// re-serialized by libcbor.
Bytes ReplaceClaim(ByteSpan payload, std::int64_t key, cbor::ItemPtr value);

// The offset of `needle` inside `haystack` (SIZE_MAX if absent).
std::size_t Find(ByteSpan haystack, ByteSpan needle);

}  // namespace sigil::testing::cca
