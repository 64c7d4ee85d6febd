// The NVIDIA device certificate chain: leaf (the GSP FMC "LF" key that signs the report) up to
// a pinned NVIDIA Device Identity CA, validity at a given time, optional CRL revocation, and
// the FWID the leaf certifies (TCG "DICE Attestation Architecture" 1.0, section 6.1.1
// "DiceTcbInfo", OID tcg-dice-TcbInfo 2.23.133.5.4.1, field fwids).
// Thread-safety: pure functions over caller-owned objects.
#pragma once

#include <array>
#include <chrono>
#include <string_view>
#include <vector>

#include "attestation/nvidia/collateral.h"
#include "attestation/nvidia/report.h"
#include "attestation/nvidia/revocation.h"
#include "core/ossl.h"
#include "core/result.h"

namespace sigil::attestation::nvidia {

// Revocation and RevocationName: revocation.h.

// Validates `chain` (leaf first, at least 2 certificates) to one of `roots` (the only trust
// anchors) at `now` with OpenSSL's path validation (RFC 5280 section 6: signatures, names,
// basicConstraints/keyUsage of issuers, validity), then applies `crls` and `ocsp` to every
// certificate below the root (revocation.h).
// kVerificationFailed naming the depth and OpenSSL's reason, or the revoked certificate;
// kExpired when a certificate, CRL or OCSP response is outside its validity at `now`.
Result<Revocation> VerifyDeviceChain(const std::vector<X509Ptr>& chain,
                                     const std::vector<X509Ptr>& roots,
                                     const std::vector<X509CrlPtr>& crls,
                                     const std::vector<OcspResponsePtr>& ocsp,
                                     std::chrono::system_clock::time_point now);

// The FWID in the leaf's tcg-dice-TcbInfo extension: the last 48 bytes of the extension value,
// which must be the contents of a DER OCTET STRING of 48 bytes (04 30 ...), as NVIDIA's
// verifier reads it. kVerificationFailed if the extension is absent or shaped otherwise.
Result<std::array<std::uint8_t, kFwidSize>> LeafFwid(const X509& leaf);

// Compares the report's opaque FWID (type 20) with the leaf's in constant time.
// kVerificationFailed if the report has no FWID or they differ.
Result<void> CheckFwid(const X509& leaf, const Report& report);

}  // namespace sigil::attestation::nvidia
