#include "attestation/tpm/purpose_log.h"

#include <algorithm>
#include <string>

#include "core/digest.h"

namespace sigil::attestation::tpm {

Bytes ReplayPurposeLog(const PurposeLog& log) {
  Bytes v = log.start;
  for (const std::string& event : log.events) {
    Sha256Digest d = Sha256(AsBytes(event));
    Sha256Digest next = Sha256(Concat({v, d}));
    v.assign(next.begin(), next.end());
  }
  return v;
}

Result<VerifiedPurpose> VerifyPurposeLog(const PurposeLog& log, const Quote& quote, const PcrValues& pcrs) {
  const std::string pcr_name = "sha256:" + std::to_string(log.pcr);
  if (log.pcr < kMinPurposePcr || log.pcr > kMaxPurposePcr) {
    return Fail(Code::kVerificationFailed,
                "purpose log: PCR " + std::to_string(log.pcr) + " cannot hold the workload purpose (only PCRs " +
                    std::to_string(kMinPurposePcr) + "-" + std::to_string(kMaxPurposePcr) +
                    ": extendable from locality 0, never resettable before the next TPM reset)");
  }
  bool selected = false;
  for (const PcrBankSelection& sel : quote.pcr_select) {
    if (sel.hash_alg == kAlgSha256) {
      selected = std::find(sel.pcrs.begin(), sel.pcrs.end(), log.pcr) != sel.pcrs.end();
    }
  }
  if (!selected) {
    return Fail(Code::kVerificationFailed, "purpose log: PCR " + pcr_name + " is not in the quote's selection");
  }
  if (log.events.empty()) return Fail(Code::kMalformedEvidence, "purpose log: no event");
  VerifiedPurpose out;
  for (std::size_t i = 0; i < log.events.size(); ++i) {
    auto p = ParsePurposeEvent(log.events[i]);
    if (!p) return std::move(p).error().Wrap("purpose log event " + std::to_string(i));
    if (i + 1 == log.events.size()) out.purpose = std::move(*p);
  }
  // Present: CheckPcrs() requires a value for every selected PCR.
  const Bytes& quoted = pcrs.at(kAlgSha256).at(log.pcr);
  if (!ConstantTimeEqual(ReplayPurposeLog(log), quoted)) {
    return Fail(Code::kVerificationFailed, "purpose log: replaying its " + std::to_string(log.events.size()) +
                                               " events does not reproduce the quoted PCR " + pcr_name);
  }
  out.pcr = log.pcr;
  out.events = log.events.size();
  return out;
}

}  // namespace sigil::attestation::tpm
