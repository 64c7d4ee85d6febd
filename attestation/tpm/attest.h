// Pure parsers for TPM 2.0 quote structures (TCG TPM 2.0 Library Part 2, rev 1.59), built on
// tss2-mu: no hand-rolled offsets, no OpenSSL, no I/O. Every parser requires the whole buffer to
// be consumed (offset == size); trailing bytes are kMalformedEvidence.
#pragma once

#include <cstdint>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"

namespace sigil::attestation::tpm {

// TPM_ALG_ID values (Part 2 section 6.3) that this verifier understands.
inline constexpr std::uint16_t kAlgSha1 = 0x0004;
inline constexpr std::uint16_t kAlgSha256 = 0x000B;
inline constexpr std::uint16_t kAlgSha384 = 0x000C;
inline constexpr std::uint16_t kAlgRsassa = 0x0014;
inline constexpr std::uint16_t kAlgRsapss = 0x0016;
inline constexpr std::uint16_t kAlgEcdsa = 0x0018;

// One TPMS_PCR_SELECTION (Part 2 section 10.6.2): a bank and its selected PCRs, ascending.
struct PcrBankSelection {
  std::uint16_t hash_alg = 0;
  std::vector<std::uint32_t> pcrs;
  bool operator==(const PcrBankSelection&) const = default;
};

// The fields of a TPMS_ATTEST (Part 2 section 10.12.12) of type TPM_ST_ATTEST_QUOTE, with the
// TPMS_QUOTE_INFO (section 10.12.4) flattened in.
struct Quote {
  Bytes qualified_signer;   // TPM2B_NAME contents (section 10.5.3)
  Bytes extra_data;         // TPM2B_DATA contents: the caller's qualifyingData
  std::uint64_t clock = 0;  // TPMS_CLOCK_INFO (section 10.11.1)
  std::uint32_t reset_count = 0;
  std::uint32_t restart_count = 0;
  bool safe = false;
  std::uint64_t firmware_version = 0;
  std::vector<PcrBankSelection> pcr_select;  // TPML_PCR_SELECTION order (section 10.9.7)
  Bytes pcr_digest;                          // TPM2B_DIGEST contents
  bool operator==(const Quote&) const = default;
};

// Parses a marshalled TPMS_ATTEST (the `--message` file of tpm2_quote). Requires magic ==
// TPM_GENERATED_VALUE 0xff544347 (Part 2 section 6.2) and type == TPM_ST_ATTEST_QUOTE 0x8018
// (section 6.9); anything else, or trailing bytes, is kMalformedEvidence.
Result<Quote> ParseQuote(ByteSpan attest);

// A TPMT_SIGNATURE (Part 2 section 11.3.4) of one of the supported schemes.
struct Signature {
  std::uint16_t sig_alg = 0;   // kAlgRsassa, kAlgRsapss or kAlgEcdsa
  std::uint16_t hash_alg = 0;  // kAlgSha1/256/384 (checked by the verifier, not here)
  Bytes rsa_sig;               // RSASSA / RSAPSS: TPM2B_PUBLIC_KEY_RSA contents
  Bytes ecdsa_r;               // ECDSA: TPMS_SIGNATURE_ECC (section 11.3.2) r and s
  Bytes ecdsa_s;
};

// Parses a marshalled TPMT_SIGNATURE; other schemes (HMAC, SM2, ECSCHNORR, ...) are
// kMalformedEvidence naming the algorithm ID.
Result<Signature> ParseSignature(ByteSpan signature);

// Digest size of a supported TPM hash algorithm, 0 if unsupported.
std::size_t HashSize(std::uint16_t hash_alg);
// "sha1", "sha256", "sha384", or "" if unsupported.
const char* HashName(std::uint16_t hash_alg);

}  // namespace sigil::attestation::tpm
