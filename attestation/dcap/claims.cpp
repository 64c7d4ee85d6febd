#include "attestation/dcap/claims.h"

#include "core/encoding.h"

namespace sigil::attestation::dcap {
namespace {

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) {
    if (!out.empty()) out += ",";
    out += s;
  }
  return out;
}

void TdxClaims(const TdReportBody& td, Claims& c) {
  c.Set("tee", std::string("tdx"));
  c.Set("measurement", HexEncode(td.mr_td));
  // TDX Module ABI, TDREPORT TD_ATTRIBUTES: bit 0 DEBUG (TUD.DEBUG).
  c.Set("debug", (td.td_attributes[0] & 0x01) != 0);
  c.Set("report_data", HexEncode(td.report_data));
  c.Set("tdx.mrtd", HexEncode(td.mr_td));
  for (std::size_t i = 0; i < 4; ++i) c.Set("tdx.rtmr" + std::to_string(i), HexEncode(td.rtmr[i]));
  c.Set("tdx.mrconfigid", HexEncode(td.mr_config_id));
  c.Set("tdx.mrowner", HexEncode(td.mr_owner));
  c.Set("tdx.mrownerconfig", HexEncode(td.mr_owner_config));
  c.Set("tdx.mrseam", HexEncode(td.mr_seam));
  c.Set("tdx.tee_tcb_svn", HexEncode(td.tee_tcb_svn));
  c.Set("tdx.td_attributes", HexEncode(td.td_attributes));
  c.Set("tdx.xfam", HexEncode(td.xfam));
  if (td.tee_tcb_svn2) c.Set("tdx.tee_tcb_svn2", HexEncode(*td.tee_tcb_svn2));
  if (td.mr_service_td) c.Set("tdx.mrservicetd", HexEncode(*td.mr_service_td));
}

void SgxClaims(const SgxReportBody& r, Claims& c) {
  c.Set("tee", std::string("sgx"));
  c.Set("measurement", HexEncode(r.mr_enclave));
  // SGX SDM, SECS.ATTRIBUTES.FLAGS: bit 1 DEBUG.
  c.Set("debug", (r.attributes[0] & 0x02) != 0);
  c.Set("report_data", HexEncode(r.report_data));
  c.Set("sgx.mrenclave", HexEncode(r.mr_enclave));
  c.Set("sgx.mrsigner", HexEncode(r.mr_signer));
  c.Set("sgx.isv_prod_id", static_cast<std::int64_t>(r.isv_prod_id));
  c.Set("sgx.isv_svn", static_cast<std::int64_t>(r.isv_svn));
  c.Set("sgx.attributes", HexEncode(r.attributes));
}

}  // namespace

Claims MakeDcapClaims(const Quote& quote, const PckExtensions& pck, const TcbResult* tcb) {
  Claims c;
  if (quote.td) {
    TdxClaims(*quote.td, c);
  } else {
    SgxClaims(*quote.sgx, c);
  }
  c.Set("platform.id", HexEncode(pck.fmspc));
  c.Set("tcb.status", tcb ? tcb->status : std::string("NotEvaluated"));
  c.Set("tcb.advisory_ids", tcb ? Join(tcb->advisory_ids) : std::string());
  return c;
}

}  // namespace sigil::attestation::dcap
