// Claims of the Azure layers (names in README.md "Claims").
#pragma once

#include "attestation/azure/hcl_report.h"
#include "attestation/azure/runtime_data.h"
#include "attestation/azure/tdreport.h"
#include "attestation/claims.h"
#include "core/bytes.h"

namespace sigil::attestation::azure {

// azure.hcl.report_type, azure.ak / azure.ek (hex SHA-256 of the DER SPKI, as tpm::AkFingerprint) and the
// vm-configuration / user-data members that are present, added to `claims`.
void AddRuntimeClaims(const HclReport& hcl, const RuntimeData& runtime, ByteSpan ak_der,
                      ByteSpan ek_der, Claims& claims);

// The TDREPORT's fields under the names the DCAP verifier gives a TD quote body (tdx.*), plus
// debug, measurement (MRTD) and tdx.report_data. None of them is authenticated.
void AddTdReportClaims(const TdReport& td, Claims& claims);

}  // namespace sigil::attestation::azure
