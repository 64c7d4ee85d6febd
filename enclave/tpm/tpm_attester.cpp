#include "enclave/tpm/tpm_attester.h"

#include "core/protocol.h"

namespace sigil::enclave::tpm {
namespace {

Result<LoadedAk> LoadAk(const EsysContext& ctx, const TpmAttesterConfig& c) {
  if (c.ak_handle) return LoadPersistentAk(ctx, *c.ak_handle);
  return CreatePrimaryAk(ctx, c.ak_kind);
}

}  // namespace

Result<AttesterPtr> TpmAttester::Create(TpmAttesterConfig config) {
  SIGIL_ASSIGN_OR_RETURN(TPML_PCR_SELECTION sel, QuoteSelection(config.pcrs, config.purpose));
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
  SIGIL_ASSIGN_OR_RETURN(attestation::tpm::Evidence e,
                         TakeBoundQuote(ctx, *ak, sel_, binding, config_.purpose, "tpm attester"));
  return attestation::tpm::SerializeEvidence(e);
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
