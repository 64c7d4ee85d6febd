// The TDX hardware layer for an HCL report: a TDREPORT cannot be authenticated offline (it is
// MAC'd with a CPU key), but the TD quote the quoting enclave makes from it can (DCAP). The quote
// speaks for the TDREPORT only if its TD quote body repeats the TDREPORT's fields (Intel TDX
// DCAP Quoting Library API, "TD Quote Body": each field is copied from TDREPORT_STRUCT's
// TEE_TCB_INFO and TDINFO_STRUCT, plus REPORTDATA).
// Thread-safety: pure function.
#pragma once

#include "attestation/azure/tdreport.h"
#include "attestation/dcap/quote.h"
#include "core/result.h"

namespace sigil::attestation::azure {

// Compares TEE_TCB_SVN, MRSEAM, MRSIGNERSEAM, SEAM ATTRIBUTES, TD ATTRIBUTES, XFAM, MRTD,
// MRCONFIGID, MROWNER, MROWNERCONFIG, RTMR0..3 and REPORTDATA; for a TD 1.5 body also
// TEE_TCB_SVN2 and MRSERVICETD (SERVTD_HASH). kVerificationFailed naming the first field that
// differs.
Result<void> CheckTdQuoteMatchesTdReport(const dcap::TdReportBody& body, const TdReport& td);

}  // namespace sigil::attestation::azure
