#include "loader/attester_factory.h"

#include "attestation/dev/platform_key.h"
#include "enclave/azure/azure_attester.h"
#include "enclave/dev_attester.h"
#include "enclave/tpm/tpm_attester.h"
#include "enclave/tsm/tsm_attester.h"
#include "loader/gpu/composite_attester.h"

namespace sigil::loader {
namespace {

// The dev TEE signs with the broker's insecure dev platform key (attestation/dev/README.md); its
// measurement is the engine's.
Result<enclave::AttesterPtr> MakeDevAttester(const LoadOptions& o) {
  if (o.dev_platform_key.empty()) return Fail(Code::kInvalidArgument, "--tee dev needs --dev-platform-key");
  SIGIL_ASSIGN_OR_RETURN(attestation::WorkloadPurpose purpose, LoadPurpose(o));
  SIGIL_ASSIGN_OR_RETURN(Ed25519KeyPair kp, attestation::dev::LoadDevPlatformKey(o.dev_platform_key));
  std::string measurement = purpose.engine;
  return enclave::DevAttester::Create(std::move(kp.seed), std::move(measurement), o.debug, {}, std::move(purpose));
}

// The purpose PCR and its log, for every attester that quotes with a TPM.
Result<enclave::tpm::TpmPurposeConfig> TpmPurpose(const LoadOptions& o) {
  enclave::tpm::TpmPurposeConfig purpose;
  SIGIL_ASSIGN_OR_RETURN(purpose.event, LoadPurpose(o));
  purpose.pcr = o.tpm_purpose_pcr;
  purpose.log_path = o.tpm_purpose_log.empty() ? enclave::tpm::TpmPurposeLogPath(o.tpm_purpose_pcr) : o.tpm_purpose_log;
  return purpose;
}

// The TPM attester reports PCRs: the platform's boot chain (and whatever the operator extends
// into PCRs) is what the tenant policy judges, plus the purpose event it extends itself.
Result<enclave::AttesterPtr> MakeTpmAttester(const LoadOptions& o) {
  enclave::tpm::TpmAttesterConfig c;
  c.tcti = o.tpm_tcti;
  c.pcrs = o.tpm_pcrs;
  SIGIL_ASSIGN_OR_RETURN(c.purpose, TpmPurpose(o));
  SIGIL_ASSIGN_OR_RETURN(c.ak_kind, enclave::tpm::ParseAkKind(o.tpm_ak_kind));
  if (!o.tpm_ak_handle.empty()) {
    SIGIL_ASSIGN_OR_RETURN(c.ak_handle, enclave::tpm::ParsePersistentHandle(o.tpm_ak_handle));
  }
  return enclave::tpm::TpmAttester::Create(std::move(c));
}

// An Azure CVM's vTPM: the --tpm-* options mean what they mean for tee "tpm" (TCTI, PCRs, the
// purpose PCR and its log), except that the AK is always the persistent one the paravisor named
// in the HCL report (--tpm-ak-handle, default Azure's 0x81000003): a primary AK made here would
// be refused by the broker, which trusts only HCLAkPub. azure-tdx-vtpm also asks Azure IMDS
// (--azure-imds-url) for the TD quote over the report's TDREPORT.
Result<enclave::AttesterPtr> MakeAzureAttester(const LoadOptions& o) {
  enclave::azure::AzureAttesterConfig c;
  c.tee = o.tee;
  c.tcti = o.tpm_tcti;
  c.pcrs = o.tpm_pcrs;
  if (!o.tpm_ak_handle.empty()) {
    SIGIL_ASSIGN_OR_RETURN(c.ak_handle, enclave::tpm::ParsePersistentHandle(o.tpm_ak_handle));
  }
  SIGIL_ASSIGN_OR_RETURN(c.purpose, TpmPurpose(o));
  c.imds.url = o.azure_imds_url;  // used by azure-tdx-vtpm only (the TD quote)
  return enclave::azure::AzureVtpmAttester::Create(std::move(c));
}

// Hardware evidence through the kernel's configfs-tsm interface measures the whole guest (SNP
// MEASUREMENT, TDX MRTD/RTMRs, CCA RIM/REMs), not the engine; the purpose is bound into the
// report data (attestation/purpose_bound.h).
Result<enclave::AttesterPtr> MakeTsmAttester(const LoadOptions& o) {
  enclave::tsm::TsmAttesterConfig c;
  c.tee = o.tee;
  c.configfs_root = o.tsm_root;
  SIGIL_ASSIGN_OR_RETURN(c.purpose, LoadPurpose(o));
  return enclave::tsm::TsmAttester::Create(std::move(c));
}

struct AttesterKind {
  std::string_view tee;
  Result<enclave::AttesterPtr> (*make)(const LoadOptions&);
};

// One line per TEE.
constexpr AttesterKind kAttesters[] = {
    {"dev", &MakeDevAttester},
    {"tpm", &MakeTpmAttester},
    {"sev-snp", &MakeTsmAttester},
    {"tdx", &MakeTsmAttester},
    {"azure-snp-vtpm", &MakeAzureAttester},
    {"azure-tdx-vtpm", &MakeAzureAttester},
    {"cca", &MakeTsmAttester},
};

}  // namespace

std::vector<std::string> AttesterTypes() {
  std::vector<std::string> out;
  for (const auto& k : kAttesters) out.emplace_back(k.tee);
  return out;
}

Result<enclave::AttesterPtr> MakeAttester(const LoadOptions& o) {
  std::string names;
  for (const auto& k : kAttesters) {
    if (k.tee != o.tee) continue;
    SIGIL_ASSIGN_OR_RETURN(enclave::AttesterPtr cpu, k.make(o));
    if (o.gpu.empty()) return cpu;
    // GPUs go with any CPU TEE: the bundle carries the CPU evidence as that TEE's verifier takes it.
    SIGIL_ASSIGN_OR_RETURN(gpu::GpuCollector gpus, gpu::MakeGpuCollector(o.gpu));
    return enclave::AttesterPtr(std::make_unique<gpu::GpuCompositeAttester>(std::move(cpu), std::move(gpus)));
  }
  for (const auto& k : kAttesters) {
    names += (names.empty() ? "" : ", ") + std::string(k.tee);
  }
  return Fail(Code::kInvalidArgument, "tee '" + o.tee + "' has no attester in sigil-load (supported: " + names + ")");
}

}  // namespace sigil::loader
