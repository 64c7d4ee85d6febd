// The PCK certificate's Intel SGX extensions (Intel "SGX PCK Certificate and Certificate
// Revocation List Profile Specification", section 3.5 "Intel SGX Extensions", OID
// 1.2.840.113741.1.13.1), and the PCK chain check (leaf -> Platform/Processor CA -> root).
// Thread-safety: all functions are thread-safe.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "attestation/dcap/x509.h"
#include "core/bytes.h"
#include "core/result.h"

namespace sigil::attestation::dcap {

struct PckExtensions {
  std::array<std::uint8_t, 16> tcb_comp_svn{};  // SGX TCB comp 01..16 SVN (.2.1 .. .2.16)
  std::uint16_t pce_svn = 0;                   // .2.17
  std::array<std::uint8_t, 16> cpu_svn{};      // .2.18
  std::array<std::uint8_t, 2> pce_id{};        // .3
  std::array<std::uint8_t, 6> fmspc{};         // .4
};

// Decodes the SGX extensions of a PCK leaf. kMalformedEvidence naming the missing or malformed
// element (PCK profile spec 3.5, table "SGX Extensions").
Result<PckExtensions> ParsePckExtensions(X509* pck_leaf);

// A parsed PCK chain from the quote's certification data: leaf first.
struct PckChain {
  std::vector<X509Ptr> certs;
  X509* leaf() const { return certs.front().get(); }
};

// Parses the PEM chain (certification data type 5) and requires at least leaf + intermediate.
// kMalformedEvidence on a bad chain.
Result<PckChain> ParsePckChain(ByteSpan pem);

// Verifies the PCK chain to `roots` at `now` (and with `crls`, revocation of leaf and
// intermediate). The quote's chain must be exactly leaf, intermediate, root, and its root must
// equal a configured root (as Intel's QVL requires); the anchor is always the configured
// certificate. kVerificationFailed otherwise; other codes as VerifyChain.
Result<void> VerifyPckChain(const PckChain& chain, const std::vector<X509Ptr>& roots,
                            const std::vector<X509_CRL*>& crls,
                            std::chrono::system_clock::time_point now);

}  // namespace sigil::attestation::dcap
