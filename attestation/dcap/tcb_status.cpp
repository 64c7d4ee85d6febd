#include "attestation/dcap/tcb_status.h"

#include <algorithm>
#include <cstdio>

#include "core/encoding.h"

namespace sigil::attestation::dcap {
namespace {

constexpr const char* kStatuses[] = {
    "UpToDate",  "SWHardeningNeeded", "ConfigurationNeeded", "ConfigurationAndSWHardeningNeeded",
    "OutOfDate", "OutOfDateConfigurationNeeded", "Revoked"};

Error Mismatch(const std::string& what) {
  return Error(Code::kVerificationFailed, "DCAP collateral does not match the quote: " + what);
}

Result<void> KnownStatus(const std::string& s) {
  for (const char* k : kStatuses) {
    if (s == k) return Ok();
  }
  return Mismatch("unknown TCB status \"" + s + "\"");
}

void AddAdvisories(std::vector<std::string>& out, const std::vector<std::string>& add) {
  for (const auto& a : add) {
    if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
  }
}

// QVL's convergence of the platform status with a component (TDX module, QE) status: an
// out-of-date component makes an otherwise current platform OutOfDate (keeping the
// configuration hint); a revoked component revokes; otherwise the platform status stands.
std::string Converge(const std::string& platform, const std::string& component) {
  if (component == "Revoked") return "Revoked";
  if (component == "OutOfDate") {
    if (platform == "UpToDate" || platform == "SWHardeningNeeded") return "OutOfDate";
    if (platform == "ConfigurationNeeded" || platform == "ConfigurationAndSWHardeningNeeded") {
      return "OutOfDateConfigurationNeeded";
    }
  }
  return platform;
}

bool MaskedEqual(ByteSpan value, ByteSpan expected, ByteSpan mask) {
  if (value.size() != expected.size() || value.size() != mask.size()) return false;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if ((value[i] & mask[i]) != (expected[i] & mask[i])) return false;
  }
  return true;
}

// The first level (highest first, as Intel orders them) whose SVN the value meets.
const IsvSvnLevel* MatchIsv(const std::vector<IsvSvnLevel>& levels, std::uint16_t svn) {
  for (const auto& l : levels) {
    if (svn >= l.isv_svn) return &l;
  }
  return nullptr;
}

// QE Identity (PCS API v4 "Enclave Identity V2"; QVL `EnclaveReportVerifier`).
Result<const IsvSvnLevel*> CheckQe(const QeIdentity& qe, const SgxReportBody& r, bool tdx) {
  const char* want = tdx ? "TD_QE" : "QE";
  if (qe.id != want) return Mismatch("QE identity id \"" + qe.id + "\", expected " + want);
  if (!std::equal(qe.mr_signer.begin(), qe.mr_signer.end(), r.mr_signer.begin())) {
    return Mismatch("QE MRSIGNER " + HexEncode(r.mr_signer) + " is not Intel's");
  }
  if (qe.isv_prod_id != r.isv_prod_id) return Mismatch("QE ISVPRODID");
  if ((r.misc_select & qe.misc_select_mask) != (qe.misc_select & qe.misc_select_mask)) {
    return Mismatch("QE MISCSELECT under mask");
  }
  if (!MaskedEqual(r.attributes, qe.attributes, qe.attributes_mask)) {
    return Mismatch("QE ATTRIBUTES under mask");
  }
  const IsvSvnLevel* level = MatchIsv(qe.levels, r.isv_svn);
  if (level == nullptr) return Mismatch("QE ISVSVN " + std::to_string(r.isv_svn) + " below every level");
  SIGIL_RETURN_IF_ERROR(KnownStatus(level->status));
  return level;
}

// Platform level: every SGX comp SVN and PCESVN (PCK extensions) >= the level's, and for TDX
// every TDX comp SVN >= the level's (from index 2 when the module major version, TEE_TCB_SVN[1],
// is non-zero: bytes 0-1 are then the module's SVN and version, judged by the module identity).
const TcbComponentLevel* MatchPlatform(const TcbInfo& tcb, const PckExtensions& pck,
                                       const TdReportBody* td) {
  for (const auto& l : tcb.levels) {
    bool ok = pck.pce_svn >= l.pce_svn;
    for (std::size_t i = 0; ok && i < 16; ++i) ok = pck.tcb_comp_svn[i] >= l.sgx_svn[i];
    if (ok && td != nullptr && l.tdx_svn) {
      const std::size_t start = td->tee_tcb_svn[1] > 0 ? 2 : 0;
      for (std::size_t i = start; ok && i < 16; ++i) ok = td->tee_tcb_svn[i] >= (*l.tdx_svn)[i];
    }
    if (ok) return &l;
  }
  return nullptr;
}

// TDX module identity (TCB Info V3 "tdxModule"/"tdxModuleIdentities"). Returns the status, or
// "" when the module has no versioned identity (major version 0).
Result<const IsvSvnLevel*> CheckTdxModule(const TcbInfo& tcb, const TdReportBody& td) {
  const std::uint8_t major = td.tee_tcb_svn[1];
  const TdxModuleIdentity* id = nullptr;
  if (major > 0) {
    char name[8];
    std::snprintf(name, sizeof(name), "TDX_%02X", major);
    for (const auto& m : tcb.tdx_module_identities) {
      if (m.id == name) id = &m;
    }
    if (id == nullptr) return Mismatch(std::string("no TDX module identity ") + name);
  } else if (tcb.tdx_module) {
    id = &*tcb.tdx_module;
  }
  if (id == nullptr) return static_cast<const IsvSvnLevel*>(nullptr);
  if (!std::equal(id->mr_signer.begin(), id->mr_signer.end(), td.mr_signer_seam.begin())) {
    return Mismatch("MRSIGNERSEAM does not match the TDX module identity");
  }
  if (!MaskedEqual(td.seam_attributes, id->attributes, id->attributes_mask)) {
    return Mismatch("SEAMATTRIBUTES do not match the TDX module identity under mask");
  }
  if (major == 0) return static_cast<const IsvSvnLevel*>(nullptr);
  const IsvSvnLevel* level = MatchIsv(id->levels, td.tee_tcb_svn[0]);
  if (level == nullptr) return Mismatch("TDX module SVN below every level of " + id->id);
  SIGIL_RETURN_IF_ERROR(KnownStatus(level->status));
  return level;
}

}  // namespace

Result<TcbResult> EvaluateTcb(const TcbInfo& tcb, const QeIdentity& qe, const PckExtensions& pck,
                              const Quote& quote) {
  const TdReportBody* td = quote.td ? &*quote.td : nullptr;
  const char* want = td ? "TDX" : "SGX";
  if (tcb.id != want) return Mismatch("TCB info id \"" + tcb.id + "\", expected " + want);
  if (tcb.fmspc != pck.fmspc) {
    return Mismatch("FMSPC " + HexEncode(pck.fmspc) + " of the PCK certificate, TCB info is for " +
                    HexEncode(tcb.fmspc));
  }
  if (tcb.pce_id != pck.pce_id) return Mismatch("PCEID of the PCK certificate");
  SIGIL_ASSIGN_OR_RETURN(const IsvSvnLevel* qe_level, CheckQe(qe, quote.qe_report_body, td));
  const TcbComponentLevel* level = MatchPlatform(tcb, pck, td);
  if (level == nullptr) {
    return Mismatch("no TCB level in the TCB info matches the platform (TCB not supported)");
  }
  SIGIL_RETURN_IF_ERROR(KnownStatus(level->status));
  TcbResult out;
  out.platform_status = level->status;
  out.status = level->status;
  AddAdvisories(out.advisory_ids, level->advisory_ids);
  if (td != nullptr) {
    SIGIL_ASSIGN_OR_RETURN(const IsvSvnLevel* module, CheckTdxModule(tcb, *td));
    out.tdx_module_status = module ? module->status : "UpToDate";
    if (module != nullptr) {
      out.status = Converge(out.status, module->status);
      AddAdvisories(out.advisory_ids, module->advisory_ids);
    }
  }
  out.qe_status = qe_level->status;
  out.status = Converge(out.status, qe_level->status);
  AddAdvisories(out.advisory_ids, qe_level->advisory_ids);
  return out;
}

}  // namespace sigil::attestation::dcap
