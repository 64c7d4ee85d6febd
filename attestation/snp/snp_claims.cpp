#include "attestation/snp/snp_claims.h"

#include <string>

#include "core/encoding.h"

namespace sigil::attestation::snp {

Claims MakeClaims(const Report& r, const TcbVersion& tcb, Product product) {
  Claims c;
  c.Set("tee", std::string("sev-snp"));
  c.Set("debug", r.policy.debug());
  c.Set("measurement", HexEncode(r.measurement));
  c.Set("platform.id", HexEncode(r.chip_id));
  c.Set("tcb.status", std::string("Endorsed"));
  c.Set("snp.version", static_cast<std::int64_t>(r.version));
  c.Set("snp.guest_svn", static_cast<std::int64_t>(r.guest_svn));
  c.Set("snp.vmpl", static_cast<std::int64_t>(r.vmpl));
  c.Set("snp.policy.debug", r.policy.debug());
  c.Set("snp.policy.migrate_ma", r.policy.migrate_ma());
  c.Set("snp.policy.smt", r.policy.smt());
  c.Set("snp.policy.abi_major", static_cast<std::int64_t>(r.policy.abi_major()));
  c.Set("snp.policy.abi_minor", static_cast<std::int64_t>(r.policy.abi_minor()));
  c.Set("snp.host_data", HexEncode(r.host_data));
  c.Set("snp.report_data", HexEncode(r.report_data));
  c.Set("snp.reported_tcb.bootloader", static_cast<std::int64_t>(tcb.bootloader));
  c.Set("snp.reported_tcb.tee", static_cast<std::int64_t>(tcb.tee));
  c.Set("snp.reported_tcb.snp", static_cast<std::int64_t>(tcb.snp));
  c.Set("snp.reported_tcb.microcode", static_cast<std::int64_t>(tcb.microcode));
  if (tcb.fmc) {
    c.Set("snp.reported_tcb.fmc", static_cast<std::int64_t>(*tcb.fmc));
  }
  if (r.version >= 3) {
    c.Set("snp.cpuid.family", static_cast<std::int64_t>(r.cpuid_fam_id));
    c.Set("snp.cpuid.model", static_cast<std::int64_t>(r.cpuid_mod_id));
    c.Set("snp.cpuid.stepping", static_cast<std::int64_t>(r.cpuid_step));
  }
  c.Set("snp.signing_key", std::string(r.signing_key == 1 ? "vlek" : "vcek"));
  c.Set("snp.product", std::string(ProductName(product)));
  return c;
}

}  // namespace sigil::attestation::snp
