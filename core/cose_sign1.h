// COSE_Sign1 (RFC 9052 section 4.2) with ECDSA ES256/ES384 (RFC 9053 section 2.1): a pure parser
// over untrusted bytes and a verifier that rebuilds the Sig_structure and checks the raw r||s
// signature with an OpenSSL key. Attached payloads only. Shared by attestation tokens (Arm CCA,
// PSA) and, later, transparency-log receipts.
// Thread-safety: every function here is thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/bytes.h"
#include "core/cbor.h"
#include "core/ec_key.h"
#include "core/ossl.h"
#include "core/result.h"

namespace sigil::cose {

constexpr std::uint64_t kSign1Tag = 18;  // RFC 9052 section 2, table 1

// COSE algorithm identifiers (RFC 9053 section 2.1, table 1). Nothing else is accepted.
enum class Algorithm : std::int64_t { kEs256 = -7, kEs384 = -35 };

// Whether the COSE_Sign1 must, may or must not carry CBOR tag 18 (RFC 9052 section 2: the
// application decides whether the tag is used).
enum class TagRule { kOptional, kRequired, kForbidden };

struct Sign1 {
  Bytes protected_header;  // the serialized protected header map, exactly as received
  Algorithm alg = Algorithm::kEs256;
  Bytes payload;           // the payload byte string's content
  Bytes signature;         // raw r || s (RFC 9053 section 2.1)
};

struct ParseOptions {
  TagRule tag = TagRule::kOptional;
  std::size_t max_size = 64 * 1024;
};

// Parses a COSE_Sign1. Fails with kMalformedEvidence naming `what` and the field when: the CBOR
// is not strict (core/cbor.h: duplicates, indefinite lengths, trailing bytes, depth > 16, any tag
// but 18 in the outer structure); tag 18 is missing (kRequired) or present (kForbidden); the item
// is not an array of 4; protected is not a bstr holding a map; alg (1) is missing from the
// protected map, not -7/-35, or also in the unprotected map; any label appears in both maps; a
// crit (2) header is present (no extension is understood); the payload is nil (detached) or not a
// bstr; the signature length is not 64 (ES256) or 96 (ES384).
Result<Sign1> ParseSign1(ByteSpan bytes, const ParseOptions& options, std::string_view what);

// Sig_structure = ["Signature1", body_protected, external_aad, payload] (RFC 9052 section 4.4),
// encoded deterministically (RFC 9052 section 9, RFC 8949 section 4.2.1).
Bytes SigStructure(const Sign1& sign1, ByteSpan external_aad = {});

// Verifies the signature with `key`, which must be P-256 for ES256 or P-384 for ES384 (one curve
// per algorithm, RFC 9053 section 2.1's recommendation made a rule: a key of another curve is
// kVerificationFailed, not tried). kVerificationFailed naming `what` on any mismatch.
Result<void> VerifySign1(const Sign1& sign1, const EVP_PKEY* key, std::string_view what,
                         ByteSpan external_aad = {});

// Signature size for an algorithm: 64 or 96 bytes.
std::size_t SignatureSize(Algorithm alg);

}  // namespace sigil::cose
