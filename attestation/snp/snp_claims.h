// Claims produced from a verified SEV-SNP report (names documented in verifier.h / README.md).
#pragma once

#include "attestation/claims.h"
#include "attestation/snp/report.h"
#include "attestation/snp/tcb.h"

namespace sigil::attestation::snp {

// Builds: tee="sev-snp", debug, measurement (hex), platform.id (hex chip_id),
// tcb.status="Endorsed" (the reported TCB equals the TCB the AMD-signed VCEK/VLEK endorses; it
// says nothing about whether that TCB is the latest AMD has released), snp.version,
// snp.guest_svn, snp.vmpl, snp.policy.{debug,migrate_ma,smt,abi_major,abi_minor},
// snp.host_data, snp.report_data (hex), snp.reported_tcb.{bootloader,tee,snp,microcode[,fmc]},
// snp.cpuid.{family,model,stepping} (report version >= 3 only), snp.signing_key ("vcek"|"vlek"),
// snp.product ("Milan"|"Genoa"|"Turin").
Claims MakeClaims(const Report& report, const TcbVersion& reported_tcb, Product product);

}  // namespace sigil::attestation::snp
