// Revocation of the NVIDIA device chain from offline collateral: X.509 CRLs (RFC 5280 section
// 6.3) and OCSP responses (RFC 6960), each checked at the verification time, not the wall clock.
// Thread-safety: pure functions over caller-owned objects.
#pragma once

#include <openssl/ocsp.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/ossl.h"
#include "core/result.h"

namespace sigil::attestation::nvidia {

using X509CrlPtr = CPtr<X509_CRL, X509_CRL_free>;

// How much of a certificate chain (device chain, RIM signing chain) revocation data covered.
enum class Revocation {
  kNotChecked,  // no CRL or OCSP response covered any certificate of the chain
  kPartial,     // some certificates covered, none revoked
  kGood,        // every certificate below the root covered (current CRL/OCSP), none revoked
};
std::string_view RevocationName(Revocation r);  // "not-checked", "partial", "good"
using OcspResponsePtr = CPtr<OCSP_RESPONSE, OCSP_RESPONSE_free>;

struct RevocationData {
  const std::vector<X509CrlPtr>* crls = nullptr;
  const std::vector<OcspResponsePtr>* ocsp = nullptr;
  // Trust for OCSP responder certificates: the pinned roots (with the verification time set)
  // and the chain certificates as untrusted helpers.
  X509_STORE* store = nullptr;
  STACK_OF(X509)* untrusted = nullptr;
  std::int64_t now = 0;  // seconds since the epoch
};

// Checks `cert` (issued by `issuer`, already path-validated) against every CRL from `issuer` and
// every OCSP response that answers for it. Returns true if at least one covered it.
// CRL: must be signed by `issuer` (key usage allowing cRLSign if stated) and current at `now`.
// OCSP: response status successful, signature by `issuer` or a responder it delegated to
// (id-kp-OCSPSigning) chaining to a pinned root at `now`, thisUpdate <= now < nextUpdate.
// kVerificationFailed if revoked (CRL entry or OCSP "revoked"), OCSP "unknown", or a CRL/OCSP
// signature that does not verify; kExpired if the CRL/OCSP data is outside its validity.
Result<bool> CheckRevocation(X509* cert, X509* issuer, const RevocationData& data);

// CheckRevocation for every certificate of a path-validated chain `built` (leaf first, the
// trusted root last, as X509_STORE_CTX_get1_chain gives it) except the root, each against its
// issuer, the next one. Returns, for each certificate below the root (index i: built[i]),
// whether some CRL or OCSP response covered it; the first error (revoked, expired data, bad
// signature) otherwise. One loop for the device chain and RIM signing chains, so both apply
// revocation data the same way.
Result<std::vector<bool>> CheckChainRevocation(STACK_OF(X509) * built, const RevocationData& data);

// kGood if every entry is true, kNotChecked if none is (or there are none), else kPartial.
Revocation SummarizeRevocation(const std::vector<bool>& covered);

}  // namespace sigil::attestation::nvidia
