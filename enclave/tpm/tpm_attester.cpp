#include "enclave/tpm/tpm_attester.h"

#include "core/protocol.h"
#include "enclave/tpm/pcr_selection.h"
#include "enclave/tpm/quote.h"
#include "attestation/tpm/purpose_log.h"

namespace sigil::enclave::tpm {
namespace {

Result<LoadedAk> LoadAk(const EsysContext& ctx, const TpmAttesterConfig& c) {
  if (c.ak_handle) return LoadPersistentAk(ctx, *c.ak_handle);
  return CreatePrimaryAk(ctx, c.ak_kind);
}

}  // namespace

Result<AttesterPtr> TpmAttester::Create(TpmAttesterConfig config) {
  SIGIL_ASSIGN_OR_RETURN(TPML_PCR_SELECTION sel, ParsePcrSelection(config.pcrs));
  if (config.purpose) {
    SIGIL_RETURN_IF_ERROR(ValidatePurposeConfig(*config.purpose));
    SelectPurposePcr(sel, config.purpose->pcr);  // the verifier requires it in the quote
  }
  return AttesterPtr(new TpmAttester(std::move(config), sel));
}

Result<Bytes> TpmAttester::Evidence(ByteSpan binding) const {
  if (binding.size() != protocol::kBindingSize) {
    return Fail(Code::kInvalidArgument,
                "tpm attester: binding must be 64 bytes, got " + std::to_string(binding.size()));
  }
  SIGIL_ASSIGN_OR_RETURN(EsysContext ctx, OpenTpm(config_.tcti));
  auto ak = LoadAk(ctx, config_);
  if (!ak) return std::move(ak).error().Wrap("tpm attester: AK");
  // Held from before the extend until the quote is taken: other loaders on this TPM wait, so the
  // last event in the quoted PCR is ours.
  std::optional<PurposeLogFile> log_file;
  std::optional<attestation::tpm::PurposeLog> log;
  if (config_.purpose) {
    auto f = PurposeLogFile::OpenLocked(config_.purpose->log_path);
    if (!f) return std::move(f).error().Wrap("tpm attester");
    log_file.emplace(std::move(*f));
    auto extended = ExtendPurpose(ctx, *config_.purpose, *log_file);
    if (!extended) return std::move(extended).error().Wrap("tpm attester: purpose PCR");
    log = std::move(*extended);
  }
  auto e = TakeQuote(ctx, *ak, sel_, binding.first(kQualifyingDataSize));
  if (!e) return std::move(e).error().Wrap("tpm attester: quote");
  if (log) {
    // Checked here too, so that a program extending the PCR behind our back fails with a cause
    // on this side instead of a bare refusal from the broker.
    const Bytes& quoted = e->pcrs[TPM2_ALG_SHA256][log->pcr];
    if (attestation::tpm::ReplayPurposeLog(*log) != quoted) {
      return Fail(Code::kUnavailable, "tpm attester: purpose PCR " + std::to_string(log->pcr) +
                                          " was extended by another program while quoting; retry, and reserve "
                                          "that PCR for sigil-load (--tpm-purpose-pcr)");
    }
    e->purpose_log = std::move(*log);
  }
  return attestation::tpm::SerializeEvidence(*e);
}

Result<std::string> ExportAkPem(const TpmAttesterConfig& config,
                                std::optional<TPM2_HANDLE> persist_at) {
  SIGIL_ASSIGN_OR_RETURN(EsysContext ctx, OpenTpm(config.tcti));
  Result<LoadedAk> ak =
      persist_at ? PersistAk(ctx, config.ak_kind, *persist_at) : LoadAk(ctx, config);
  if (!ak) return std::move(ak).error().Wrap("tpm AK");
  return PublicAreaToSpkiPem(ak->pub);
}

}  // namespace sigil::enclave::tpm
