#include "enclave/tpm/bound_quote.h"

#include <string>

#include "attestation/tpm/purpose_log.h"
#include "core/protocol.h"
#include "enclave/tpm/pcr_selection.h"
#include "enclave/tpm/quote.h"

namespace sigil::enclave::tpm {

Result<TPML_PCR_SELECTION> QuoteSelection(std::string_view pcrs,
                                          const std::optional<TpmPurposeConfig>& purpose) {
  SIGIL_ASSIGN_OR_RETURN(TPML_PCR_SELECTION sel, ParsePcrSelection(pcrs));
  if (purpose) {
    SIGIL_RETURN_IF_ERROR(ValidatePurposeConfig(*purpose));
    SelectPurposePcr(sel, purpose->pcr);  // the verifier requires it in the quote
  }
  return sel;
}

Result<attestation::tpm::Evidence> TakeBoundQuote(const EsysContext& ctx, const LoadedAk& ak,
                                                  const TPML_PCR_SELECTION& sel, ByteSpan binding,
                                                  const std::optional<TpmPurposeConfig>& purpose,
                                                  std::string_view who) {
  const std::string prefix(who);
  if (binding.size() != protocol::kBindingSize) {
    return Fail(Code::kInvalidArgument,
                prefix + ": binding must be 64 bytes, got " + std::to_string(binding.size()));
  }
  // Held from before the extend until the quote is taken: other loaders on this TPM wait, so the
  // last event in the quoted PCR is ours.
  std::optional<PurposeLogFile> log_file;
  std::optional<attestation::tpm::PurposeLog> log;
  if (purpose) {
    auto f = PurposeLogFile::OpenLocked(purpose->log_path);
    if (!f) return std::move(f).error().Wrap(prefix);
    log_file.emplace(std::move(*f));
    auto extended = ExtendPurpose(ctx, *purpose, *log_file);
    if (!extended) return std::move(extended).error().Wrap(prefix + ": purpose PCR");
    log = std::move(*extended);
  }
  auto e = TakeQuote(ctx, ak, sel, binding.first(kQualifyingDataSize));
  if (!e) return std::move(e).error().Wrap(prefix + ": quote");
  if (log) {
    // Checked here too, so that a program extending the PCR behind our back fails with a cause
    // on this side instead of a bare refusal from the broker.
    const Bytes& quoted = e->pcrs[TPM2_ALG_SHA256][log->pcr];
    if (attestation::tpm::ReplayPurposeLog(*log) != quoted) {
      return Fail(Code::kUnavailable,
                  prefix + ": purpose PCR " + std::to_string(log->pcr) +
                      " was extended by another program while quoting; retry, and reserve "
                      "that PCR for sigil-load (--tpm-purpose-pcr)");
    }
    e->purpose_log = std::move(*log);
  }
  return std::move(e).value();
}

}  // namespace sigil::enclave::tpm
