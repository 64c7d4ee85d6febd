// TpmAttester: the workload-side TPM 2.0 attester (tee "tpm"). Evidence(binding) opens the TPM
// through the configured TCTI, loads or creates the AK, quotes the configured PCRs with
// qualifyingData = binding[0..32) (exactly what attestation/tpm's TpmVerifier compares), reads
// the PCR values, flushes every transient object and returns sigil-tpm-quote/v1 evidence with
// the AK's SPKI. With a purpose configured, the purpose event is extended first and its log
// (locked until the quote is taken) goes into the evidence. The TPM is opened per call, so a TPM
// used by other processes between calls is fine, and Evidence() is thread-safe.
#pragma once

#include <tss2/tss2_tpm2_types.h>

#include <optional>
#include <string>

#include "enclave/attester.h"
#include "enclave/tpm/ak.h"
#include "enclave/tpm/bound_quote.h"
#include "enclave/tpm/purpose_pcr.h"

namespace sigil::enclave::tpm {

struct TpmAttesterConfig {
  std::string tcti;                             // "" = tpm2-tss default (tabrmd, /dev/tpmrm0, ...)
  std::string pcrs = "sha256:0,1,2,3,4,5,6,7";  // ParsePcrSelection syntax
  std::optional<TPM2_HANDLE> ak_handle;         // persistent AK; else a primary AK of ak_kind
  AkKind ak_kind = AkKind::kEccP256Sha256;
  // With a purpose: before each quote, the purpose event is extended into purpose->pcr (added to
  // the quoted selection) and the evidence carries the event log (purpose_pcr.h). Without one the
  // evidence proves no purpose, and the broker releases no model-weights key for it.
  std::optional<TpmPurposeConfig> purpose;
};

class TpmAttester final : public Attester {
 public:
  // Validates the configuration (PCR selection syntax, purpose); does not touch the TPM.
  static Result<AttesterPtr> Create(TpmAttesterConfig config);

  std::string_view tee() const override { return "tpm"; }
  // kInvalidArgument for a binding that is not 64 bytes; kUnavailable if the TPM cannot be
  // opened; kNotFound if the persistent AK handle is empty.
  Result<Bytes> Evidence(ByteSpan binding) const override;

 private:
  TpmAttester(TpmAttesterConfig config, TPML_PCR_SELECTION sel)
      : config_(std::move(config)), sel_(sel) {}
  TpmAttesterConfig config_;
  TPML_PCR_SELECTION sel_;
};

// Loads the AK `config` names (persistent handle, or the primary of ak_kind) and returns its PEM
// SubjectPublicKeyInfo: what an operator registers with the broker (DATA/trust/tpm-aks/*.pem).
// With `persist_at`, the primary AK is first made persistent there (PersistAk).
Result<std::string> ExportAkPem(const TpmAttesterConfig& config,
                                std::optional<TPM2_HANDLE> persist_at = std::nullopt);

}  // namespace sigil::enclave::tpm
