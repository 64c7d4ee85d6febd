#include "attestation/azure/azure_claims.h"

#include <string>

#include "core/digest.h"
#include "core/encoding.h"

namespace sigil::attestation::azure {

void AddRuntimeClaims(const HclReport& hcl, const RuntimeData& rt, ByteSpan ak_der,
                      ByteSpan ek_der, Claims& c) {
  // Only the report type is a claim from the envelope: it decided how the hardware report was
  // parsed and verified. The header and request data are covered by no signature, so header
  // version and request type are not claims.
  c.Set("azure.hcl.report_type", std::string(ReportTypeName(hcl.report_type)));
  c.Set("azure.ak", HexEncode(Sha256(ak_der)));
  if (!ek_der.empty()) {
    c.Set("azure.ek", HexEncode(Sha256(ek_der)));
  }
  const VmConfiguration& vm = rt.vm;
  if (vm.secure_boot) c.Set("azure.secure_boot", *vm.secure_boot);
  if (vm.tpm_enabled) c.Set("azure.tpm_enabled", *vm.tpm_enabled);
  if (vm.tpm_persisted) c.Set("azure.tpm_persisted", *vm.tpm_persisted);
  if (vm.console_enabled) c.Set("azure.console_enabled", *vm.console_enabled);
  if (vm.current_time) c.Set("azure.current_time", *vm.current_time);
  if (vm.vm_unique_id) c.Set("azure.vm_unique_id", *vm.vm_unique_id);
  if (vm.root_cert_thumbprint) c.Set("azure.root_cert_thumbprint", *vm.root_cert_thumbprint);
  if (rt.user_data) c.Set("azure.user_data", HexEncode(*rt.user_data));
}

void AddTdReportClaims(const TdReport& td, Claims& c) {
  c.Set("measurement", HexEncode(td.mr_td));
  c.Set("debug", td.debug());
  c.Set("tdx.report_data", HexEncode(td.report_data));
  c.Set("tdx.mrtd", HexEncode(td.mr_td));
  for (std::size_t i = 0; i < 4; ++i) {
    c.Set("tdx.rtmr" + std::to_string(i), HexEncode(td.rtmr[i]));
  }
  c.Set("tdx.mrconfigid", HexEncode(td.mr_config_id));
  c.Set("tdx.mrowner", HexEncode(td.mr_owner));
  c.Set("tdx.mrownerconfig", HexEncode(td.mr_owner_config));
  c.Set("tdx.mrseam", HexEncode(td.mr_seam));
  c.Set("tdx.tee_tcb_svn", HexEncode(td.tee_tcb_svn));
  c.Set("tdx.tee_tcb_svn2", HexEncode(td.tee_tcb_svn2));
  c.Set("tdx.td_attributes", HexEncode(td.td_attributes));
  c.Set("tdx.xfam", HexEncode(td.xfam));
  c.Set("tdx.mrservicetd", HexEncode(td.servtd_hash));
  c.Set("tdx.cpusvn", HexEncode(td.cpu_svn));
}

}  // namespace sigil::attestation::azure
