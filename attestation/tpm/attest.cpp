#include "attestation/tpm/attest.h"

#include <tss2/tss2_mu.h>

#include <string>

namespace sigil::attestation::tpm {
namespace {

constexpr std::uint32_t kGeneratedValue = 0xff544347;  // TPM_GENERATED_VALUE, Part 2 section 6.2
constexpr std::uint16_t kStAttestQuote = 0x8018;       // TPM_ST_ATTEST_QUOTE, Part 2 section 6.9

std::string Hex16(std::uint32_t v) {
  static const char* kDigits = "0123456789abcdef";
  std::string s = "0x0000";
  for (int i = 0; i < 4; ++i) {
    s[5 - i] = kDigits[(v >> (4 * i)) & 0xf];
  }
  return s;
}

Bytes Copy(const std::uint8_t* p, std::size_t n) { return Bytes(p, p + n); }

}  // namespace

std::size_t HashSize(std::uint16_t hash_alg) {
  switch (hash_alg) {
    case kAlgSha1:
      return 20;
    case kAlgSha256:
      return 32;
    case kAlgSha384:
      return 48;
    default:
      return 0;
  }
}

const char* HashName(std::uint16_t hash_alg) {
  switch (hash_alg) {
    case kAlgSha1:
      return "sha1";
    case kAlgSha256:
      return "sha256";
    case kAlgSha384:
      return "sha384";
    default:
      return "";
  }
}

Result<Quote> ParseQuote(ByteSpan attest) {
  // Part 2 section 10.12.12: TPMS_ATTEST is magic, type, qualifiedSigner, extraData, clockInfo,
  // firmwareVersion, attested (a union selected by type). tss2-mu bounds every TPM2B against
  // its structure's maximum size and rejects union selectors it does not know.
  TPMS_ATTEST a{};
  std::size_t offset = 0;
  if (Tss2_MU_TPMS_ATTEST_Unmarshal(attest.data(), attest.size(), &offset, &a) != TSS2_RC_SUCCESS) {
    return Fail(Code::kMalformedEvidence, "TPMS_ATTEST does not unmarshal (truncated or invalid)");
  }
  if (offset != attest.size()) {
    return Fail(Code::kMalformedEvidence,
                "TPMS_ATTEST has " + std::to_string(attest.size() - offset) +
                    " trailing bytes at offset " + std::to_string(offset));
  }
  if (a.magic != kGeneratedValue) {
    return Fail(Code::kMalformedEvidence, "TPMS_ATTEST.magic is not TPM_GENERATED_VALUE");
  }
  if (a.type != kStAttestQuote) {
    return Fail(Code::kMalformedEvidence,
                "TPMS_ATTEST.type " + Hex16(a.type) + " is not TPM_ST_ATTEST_QUOTE");
  }
  Quote q;
  q.qualified_signer = Copy(a.qualifiedSigner.name, a.qualifiedSigner.size);
  q.extra_data = Copy(a.extraData.buffer, a.extraData.size);
  q.clock = a.clockInfo.clock;
  q.reset_count = a.clockInfo.resetCount;
  q.restart_count = a.clockInfo.restartCount;
  // TPMI_YES_NO (section 9.2): only 0 and 1 are valid.
  if (a.clockInfo.safe > 1) {
    return Fail(Code::kMalformedEvidence, "TPMS_CLOCK_INFO.safe is not a TPMI_YES_NO");
  }
  q.safe = a.clockInfo.safe == 1;
  q.firmware_version = a.firmwareVersion;
  const TPMS_QUOTE_INFO& info = a.attested.quote;
  for (std::uint32_t i = 0; i < info.pcrSelect.count; ++i) {
    const TPMS_PCR_SELECTION& sel = info.pcrSelect.pcrSelections[i];
    PcrBankSelection bank;
    bank.hash_alg = sel.hash;
    // Section 10.6.1: bit n of octet k selects PCR 8k+n.
    for (std::uint32_t k = 0; k < sel.sizeofSelect; ++k) {
      for (std::uint32_t bit = 0; bit < 8; ++bit) {
        if ((sel.pcrSelect[k] >> bit) & 1U) {
          bank.pcrs.push_back(8 * k + bit);
        }
      }
    }
    q.pcr_select.push_back(std::move(bank));
  }
  q.pcr_digest = Copy(info.pcrDigest.buffer, info.pcrDigest.size);
  return q;
}

Result<Signature> ParseSignature(ByteSpan signature) {
  TPMT_SIGNATURE t{};
  std::size_t offset = 0;
  if (Tss2_MU_TPMT_SIGNATURE_Unmarshal(signature.data(), signature.size(), &offset, &t) !=
      TSS2_RC_SUCCESS) {
    return Fail(Code::kMalformedEvidence,
                "TPMT_SIGNATURE does not unmarshal (truncated or invalid)");
  }
  if (offset != signature.size()) {
    return Fail(Code::kMalformedEvidence,
                "TPMT_SIGNATURE has trailing bytes at offset " + std::to_string(offset));
  }
  Signature s;
  s.sig_alg = t.sigAlg;
  switch (t.sigAlg) {
    case kAlgRsassa:
    case kAlgRsapss:
      // Section 11.3.1 TPMS_SIGNATURE_RSA; rsassa and rsapss share the layout.
      s.hash_alg = t.signature.rsassa.hash;
      s.rsa_sig = Copy(t.signature.rsassa.sig.buffer, t.signature.rsassa.sig.size);
      break;
    case kAlgEcdsa:
      s.hash_alg = t.signature.ecdsa.hash;
      s.ecdsa_r = Copy(t.signature.ecdsa.signatureR.buffer, t.signature.ecdsa.signatureR.size);
      s.ecdsa_s = Copy(t.signature.ecdsa.signatureS.buffer, t.signature.ecdsa.signatureS.size);
      break;
    default:
      return Fail(Code::kMalformedEvidence,
                  "TPMT_SIGNATURE.sigAlg " + Hex16(t.sigAlg) + " is not RSASSA, RSAPSS or ECDSA");
  }
  return s;
}

}  // namespace sigil::attestation::tpm
