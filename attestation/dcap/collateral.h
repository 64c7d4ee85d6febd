// DCAP collateral: the container format Sigil accepts (attestation/dcap/README.md), the TCB
// Info and QE Identity JSON it carries (Intel PCS API v4: "TCB Info V3", "Enclave Identity V2"),
// and their verification (signature by the TCB Signing chain to the configured root, validity
// window at `now`). Thread-safety: all functions are thread-safe.
#pragma once

#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "attestation/dcap/x509.h"
#include "attestation/verified_cache.h"
#include "core/bytes.h"
#include "core/digest.h"
#include "core/result.h"

namespace sigil::attestation::dcap {

using TimePoint = std::chrono::system_clock::time_point;

// The collateral container (dcap-qvl's QuoteCollateralV3 JSON shape), decoded.
struct Collateral {
  std::string tcb_info;          // exact signed bytes of the "tcbInfo" object
  Bytes tcb_info_signature;      // r||s, 64 bytes
  std::vector<X509Ptr> tcb_info_issuer_chain;
  std::string qe_identity;       // exact signed bytes of the "enclaveIdentity" object
  Bytes qe_identity_signature;
  std::vector<X509Ptr> qe_identity_issuer_chain;
  X509CrlPtr pck_crl;            // issued by the PCK Platform/Processor CA
  X509CrlPtr root_ca_crl;        // issued by the Intel SGX Root CA
};

// Parses the container. kMalformedEvidence naming the field.
Result<Collateral> ParseCollateral(ByteSpan json);

// The exact bytes of the JSON object value of top-level member `key` in a PCS response such as
// {"tcbInfo":{...},"signature":"..."}: what Intel signed. kMalformedEvidence if absent.
Result<std::string> ExtractSignedObject(std::string_view response, std::string_view key);

// Builds the container from the files Intel PCS serves (as go-tdx-guest stores them): the TCB
// info and QE identity responses, their issuer chain (PEM), PCK CRL and root CA CRL (DER).
Result<std::string> CollateralFromPcsResponses(std::string_view tcb_info_response,
                                               std::string_view qe_identity_response,
                                               std::string_view issuer_chain_pem,
                                               ByteSpan pck_crl_der, ByteSpan root_crl_der);

struct TcbComponentLevel {
  std::array<std::uint8_t, 16> sgx_svn{};
  std::uint16_t pce_svn = 0;
  std::optional<std::array<std::uint8_t, 16>> tdx_svn;  // TDX TCB info only
  std::string status;
  std::vector<std::string> advisory_ids;
};

// One isvsvn-keyed level (QE identity levels and TDX module identity levels).
struct IsvSvnLevel {
  std::uint16_t isv_svn = 0;
  std::string status;
  std::vector<std::string> advisory_ids;
};

struct TdxModuleIdentity {
  std::string id;  // "TDX_01", ...
  Bytes mr_signer;
  Bytes attributes;
  Bytes attributes_mask;
  std::vector<IsvSvnLevel> levels;
};

// TCB Info (PCS API v4, "TCB Info V3" / V2 for SGX).
struct TcbInfo {
  std::string id;  // "SGX" or "TDX" ("SGX" when absent, version 2)
  int version = 0;
  TimePoint issue_date;
  TimePoint next_update;
  std::array<std::uint8_t, 6> fmspc{};
  std::array<std::uint8_t, 2> pce_id{};
  std::vector<TcbComponentLevel> levels;  // in the order Intel lists them (highest first)
  std::optional<TdxModuleIdentity> tdx_module;        // "tdxModule" (module major version 0)
  std::vector<TdxModuleIdentity> tdx_module_identities;
};

// Enclave Identity (PCS API v4, "Enclave Identity V2").
struct QeIdentity {
  std::string id;  // "QE" (SGX) or "TD_QE" (TDX)
  TimePoint issue_date;
  TimePoint next_update;
  std::uint32_t misc_select = 0;
  std::uint32_t misc_select_mask = 0;
  std::array<std::uint8_t, 16> attributes{};
  std::array<std::uint8_t, 16> attributes_mask{};
  std::array<std::uint8_t, 32> mr_signer{};
  std::uint16_t isv_prod_id = 0;
  std::vector<IsvSvnLevel> levels;
};

Result<TcbInfo> ParseTcbInfo(std::string_view body);
Result<QeIdentity> ParseQeIdentity(std::string_view body);

// Collateral whose signatures were checked; CRLs kept for the PCK chain check.
struct VerifiedCollateral {
  TcbInfo tcb_info;
  QeIdentity qe_identity;
  Collateral raw;
  // Where the verification holds: the intersection of both documents' [issueDate, nextUpdate),
  // their signing chains' validity and the root CA CRL's currency (VerifiedCache).
  ValidityWindow window;
  // SHA-256(DER PCK CRL || DER root CA CRL): part of the PCK-chain cache key.
  Sha256Digest crl_digest{};
};

// Verifies both JSON signatures (ECDSA P-256/SHA-256 over the exact body bytes) with the leaf of
// their issuer chain, that chain to `roots` at `now` with the root CA CRL, the root CRL's own
// validity, and issueDate <= now < nextUpdate for both documents (stale TCB data could hide a
// newly found vulnerability). kVerificationFailed, kExpired, kMalformedEvidence.
Result<VerifiedCollateral> VerifyCollateral(Collateral&& c, const std::vector<X509Ptr>& roots,
                                            TimePoint now);

}  // namespace sigil::attestation::dcap
