// NVIDIA reference integrity manifests (RIMs): the signed golden measurements NVIDIA publishes
// for each GPU driver and VBIOS build (nvtrust `guest_tools/rims`, NVIDIA's RIM service).
// A RIM is an ISO/IEC 19770-2:2015 SWID tag (`SoftwareIdentity`) with TCG RIM attributes on
// `Meta` (colloquialVersion = the driver or VBIOS version) and a `Payload` of
// `Resource type="Measurement"` elements (index, active, alternatives, Hash0..HashN-1 in the
// http://www.w3.org/2001/04/xmlenc#sha384 namespace, hex SHA-384), signed with an enveloped
// XML-DSig signature (ECDSA P-384 / SHA-384, C14N 1.1) whose KeyInfo/X509Data carries the
// signing certificate first, then its issuers, up to NVIDIA's RIM root CA.
//
// Format, checks and refusals: attestation/nvidia/README.md "Reference integrity manifests".
// Thread-safety: pure functions; libxml2 and xmlsec are initialised once (std::call_once).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "attestation/nvidia/revocation.h"
#include "core/bytes.h"
#include "core/ossl.h"
#include "core/result.h"

namespace sigil::attestation::nvidia {

// A RIM is a few tens of KiB (64 measurements and a 4-certificate chain); anything far larger
// is not one, and is refused before libxml2 sees it.
inline constexpr std::size_t kMaxRimBytes = 1024 * 1024;
// SWID tag nesting is 5 deep (SoftwareIdentity/Signature/KeyInfo/X509Data/X509Certificate).
inline constexpr int kMaxRimDepth = 8;
inline constexpr std::size_t kMaxRimElements = 4096;
inline constexpr std::size_t kMaxRimAlternatives = 16;  // per index (real RIMs: at most 4)
inline constexpr std::size_t kRimHashHexSize = 96;      // SHA-384

enum class RimKind : std::uint8_t { kDriver, kVbios };
std::string_view RimKindName(RimKind kind);  // "driver", "vbios"

// One active measurement: the report block it applies to and the values NVIDIA approves.
struct RimMeasurement {
  // The SPDM measurement block index in the GPU's report, i.e. the claim
  // `nvidia.measurement.<block>`: the RIM's 0-based `index` + 1 (nvtrust's verifier compares RIM
  // index i with the report's measurement list entry i, which holds block i + 1).
  std::uint32_t block = 0;
  std::uint32_t rim_index = 0;            // the RIM's own `index` attribute
  std::vector<std::string> alternatives;  // lowercase hex SHA-384, 96 characters each, distinct

  bool operator==(const RimMeasurement&) const = default;
};

struct Rim {
  std::string tag_id;   // SoftwareIdentity/@tagId
  std::string product;  // Meta/@product, e.g. "GH100" ("" if absent)
  RimKind kind = RimKind::kDriver;
  // Meta/@colloquialVersion, lowercased as nvtrust does: "550.54.15" (driver) or
  // "96.00.5e.00.04" (VBIOS, the form of the claim nvidia.vbios_version).
  std::string version;
  std::vector<RimMeasurement> measurements;  // active ones only, ascending block
  std::size_t inactive = 0;                  // Resources with active="False" (not compared)
  std::string signer;                        // subject of the signing certificate (one line)
  // Revocation of the signing chain (signer and intermediates; the configured root is trusted as
  // is) by the CRLs and OCSP responses given to VerifyRim: "good" only if every one of them was
  // covered. A revoked certificate is a refusal, never a status.
  Revocation revocation = Revocation::kNotChecked;
  // Subjects (one line each, signer first) of the chain certificates below the root that no CRL
  // or OCSP response covered: empty exactly when `revocation` is kGood.
  std::vector<std::string> unchecked;

  bool operator==(const Rim&) const = default;
};

// Parses a RIM's structure WITHOUT checking its signature (for the fuzzer and for tests; never
// trust its result). Refuses (kMalformedEvidence): empty or over kMaxRimBytes, any DOCTYPE or
// entity declaration, XML that libxml2 rejects, nesting over kMaxRimDepth or more than
// kMaxRimElements elements, a root other than SWID SoftwareIdentity, not exactly one Meta,
// Payload and ds:Signature child, an unknown child element, a missing or empty tagId or
// colloquialVersion, a version that is neither a driver nor a VBIOS version, a Payload child that
// is not a Resource of type Measurement, a missing index/active/alternatives/HashN attribute, an
// index repeated or out of 0..254, active other than True/False, alternatives out of
// 1..kMaxRimAlternatives, a hash that is not 96 hex digits, a RIM without any active measurement.
Result<Rim> ParseRimUnverified(ByteSpan xml);

// Parses `xml` as above, then verifies it: the enveloped XML-DSig signature (exactly one
// ds:Signature, a direct child of the root, one Reference with URI="" and only the enveloped
// and C14N transforms, ECDSA-SHA384 over SHA-384 digests) with the key of the first certificate
// of KeyInfo/X509Data (an EC P-384 key), and that certificate's chain, through the other
// X509Data certificates, to one of `roots` (the only trust anchors) at `now` with OpenSSL.
// KeyInfo never selects the key by itself. kVerificationFailed (bad or missing signature,
// altered content, chain to another root), kExpired (a certificate outside its validity at
// `now`), kMalformedEvidence (structure), kInvalidArgument (no roots). No revocation data:
// Rim::revocation is kNotChecked.
Result<Rim> VerifyRim(ByteSpan xml, const std::vector<X509Ptr>& roots,
                      std::chrono::system_clock::time_point now);

// As above, then revocation of every certificate of the validated chain below the root, with
// the device chain's code (revocation.h CheckChainRevocation): each CRL applies to the
// certificates its issuer issued (signed by that issuer, current at `now`), each OCSP response
// to the certificate it answers for (signed by the issuer or its delegated responder chaining
// to `roots`, current at `now`). kVerificationFailed naming the certificate if one is revoked
// (or OCSP says "unknown", or a CRL/OCSP signature does not verify), kExpired if revocation
// data that applies is outside its validity. Coverage is reported in Rim::revocation and
// Rim::unchecked; whether partial coverage is acceptable is the caller's decision.
Result<Rim> VerifyRim(ByteSpan xml, const std::vector<X509Ptr>& roots,
                      const std::vector<X509CrlPtr>& crls, const std::vector<OcspResponsePtr>& ocsp,
                      std::chrono::system_clock::time_point now);

// Reference-set values for a verified RIM (policies/README.md `indices_in_reference`):
// "<block>:<hex>" for every alternative of every active measurement, then
// "rim:<kind>:<version>" naming the RIM.
std::vector<std::string> RimReferenceValues(const Rim& rim);

}  // namespace sigil::attestation::nvidia
