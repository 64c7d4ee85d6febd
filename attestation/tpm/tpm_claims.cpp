#include "attestation/tpm/tpm_claims.h"

#include <cstdio>
#include <limits>
#include <string>

#include "core/digest.h"
#include "core/encoding.h"

namespace sigil::attestation::tpm {

Result<Claims> BuildClaims(const Quote& quote, const PcrValues& pcrs, ByteSpan selected,
                           const VerifiedPurpose* purpose) {
  if (quote.clock > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return Fail(Code::kMalformedEvidence, "TPMS_CLOCK_INFO.clock does not fit a claim");
  }
  Claims c;
  c.Set("tee", std::string("tpm"));
  // A TPM has no debug mode that weakens the attested state: always false.
  c.Set("debug", false);
  if (purpose == nullptr) {
    c.Set("measurement", HexEncode(Sha384(selected)));
  } else {
    Bytes platform;  // the selection's values in order, without the purpose PCR
    for (const PcrBankSelection& sel : quote.pcr_select) {
      for (std::uint32_t n : sel.pcrs) {
        if (sel.hash_alg == kAlgSha256 && n == purpose->pcr) continue;
        const Bytes& v = pcrs.at(sel.hash_alg).at(n);
        platform.insert(platform.end(), v.begin(), v.end());
      }
    }
    c.Set("measurement", HexEncode(Sha384(platform)));
    SetPurposeClaims(c, purpose->purpose);
    c.Set("tpm.purpose.pcr", static_cast<std::int64_t>(purpose->pcr));
    c.Set("tpm.purpose.events", static_cast<std::int64_t>(purpose->events));
  }
  for (const PcrBankSelection& sel : quote.pcr_select) {
    const auto& bank = pcrs.at(sel.hash_alg);
    for (std::uint32_t n : sel.pcrs) {
      c.Set(std::string("tpm.pcr.") + HashName(sel.hash_alg) + "." + std::to_string(n),
            HexEncode(bank.at(n)));
    }
  }
  const std::string ak = HexEncode(quote.qualified_signer);
  c.Set("tpm.ak", ak);
  c.Set("platform.id", ak);
  char fw[17];
  std::snprintf(fw, sizeof(fw), "%016llx", static_cast<unsigned long long>(quote.firmware_version));
  c.Set("tpm.firmware", std::string(fw));
  c.Set("tpm.reset_count", static_cast<std::int64_t>(quote.reset_count));
  c.Set("tpm.restart_count", static_cast<std::int64_t>(quote.restart_count));
  c.Set("tpm.clock", static_cast<std::int64_t>(quote.clock));
  c.Set("tpm.clock_safe", quote.safe);
  // A TPM quote carries no TCB status a verifier could judge (no endorsement collateral).
  c.Set("tcb.status", std::string("NotApplicable"));
  return c;
}

}  // namespace sigil::attestation::tpm
