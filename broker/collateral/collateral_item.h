// One piece of TEE collateral as the operator imports it (`sigil collateral import`) and the
// broker's collateral store keeps it: AMD ARK/ASK/VCEK/VLEK certificates, the Intel SGX Root CA,
// Intel intermediate CAs (PCK Platform/Processor CA, TCB Signing), PCK certificates, CRLs, TCB
// Info and QE Identity (Intel PCS API v4 responses). ClassifyCollateral decides what a file is
// from its content alone (never from its name) and parses it; it checks no signature (that is
// collateral_store.h's job, against the configured roots).
// Thread-safety: pure functions; items are move-only values.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "attestation/dcap/x509.h"
#include "core/bytes.h"
#include "core/ossl.h"
#include "core/result.h"

namespace sigil::broker {

using TimePoint = std::chrono::system_clock::time_point;

enum class CollateralKind {
  kAmdArk,          // AMD root key (self-signed RSA, "ARK-<product>"): a trust anchor
  kAmdAsk,          // AMD SEV signing key / VLEK signing key ("SEV-<product>", "SEV-VLEK-...")
  kAmdVcek,         // chip endorsement key (EC P-384, pub. 57230 extensions)
  kAmdVlek,         // loaded endorsement key
  kIntelRoot,       // "Intel SGX Root CA": a trust anchor
  kIntelCa,         // "Intel SGX PCK Platform CA" / "... Processor CA" / "Intel SGX TCB Signing"
  kIntelPck,        // "Intel SGX PCK Certificate"
  kCrl,             // a CRL (Intel PCK CA / root CA CRL, AMD KDS CRL)
  kIntelTcbInfo,    // PCS {"tcbInfo":{...},"signature":"..."}
  kIntelQeIdentity  // PCS {"enclaveIdentity":{...},"signature":"..."}
};

// "amd-ark", "intel-tcb-info", ... (file names and `sigil collateral list`).
std::string_view KindName(CollateralKind kind);
bool IsTrustAnchor(CollateralKind kind);
bool IsAmd(CollateralKind kind);

struct CollateralItem {
  CollateralKind kind = CollateralKind::kCrl;
  std::string summary;        // subject CN, CRL issuer, "TDX TCB info FMSPC 00806f050000"
  TimePoint not_before{};     // certificate notBefore, CRL thisUpdate, JSON issueDate
  TimePoint not_after{};      // certificate notAfter, CRL nextUpdate, JSON nextUpdate
  Bytes stored;               // canonical file content: PEM certificate, DER CRL, PCS JSON
  X509Ptr cert;               // certificates
  attestation::dcap::X509CrlPtr crl;  // CRLs
  std::string signed_body;    // TCB info / QE identity: the exact signed object text
  Bytes signature;            // TCB info / QE identity: r||s
  std::string id;             // TCB info "TDX"/"SGX"; QE identity "TD_QE"/"QE"; CRL issuer CN
  std::array<std::uint8_t, 6> fmspc{};  // TCB info
};

// Parses one file. Accepted: PEM bundles of certificates or CRLs, one DER certificate or CRL,
// Intel PCS TCB info / QE identity responses, and DCAP collateral bundles
// (attestation/dcap/README.md "Collateral format"), which are split into their parts.
// kInvalidArgument with a message saying what the content is not.
Result<std::vector<CollateralItem>> ClassifyCollateral(ByteSpan bytes);

}  // namespace sigil::broker
