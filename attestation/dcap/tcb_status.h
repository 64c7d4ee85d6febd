// TCB status evaluation: matches the PCK certificate's SGX TCB (and, for TDX, the quote's
// TEE_TCB_SVN) against verified TCB Info, and the QE report against the QE Identity, then
// converges the statuses as Intel's Quote Verification Library does (Intel "SGX/TDX DCAP Quote
// Verification Library", QVL `TcbLevelCheck`/`convergeTcbStatus`; rule in README.md).
// Thread-safety: thread-safe.
#pragma once

#include <string>
#include <vector>

#include "attestation/dcap/collateral.h"
#include "attestation/dcap/pck.h"
#include "attestation/dcap/quote.h"
#include "core/result.h"

namespace sigil::attestation::dcap {

struct TcbResult {
  std::string status;                     // converged status (README.md)
  std::vector<std::string> advisory_ids;  // union of the matched levels' advisories, in order
  std::string platform_status;            // matched TCB Info level
  std::string tdx_module_status;          // TDX only ("" for SGX)
  std::string qe_status;                  // matched QE Identity level
};

// Evaluates the TCB. kVerificationFailed if the collateral does not describe this quote (TCB
// info id/FMSPC/PCEID, QE identity id/MRSIGNER/ISVPRODID/MISCSELECT/ATTRIBUTES, TDX module
// MRSIGNER/attributes), if no TCB level matches (QVL: TCB_NOT_SUPPORTED), or on an unknown
// status string. A Revoked status is returned, not refused; the verifier refuses it.
Result<TcbResult> EvaluateTcb(const TcbInfo& tcb, const QeIdentity& qe, const PckExtensions& pck,
                              const Quote& quote);

}  // namespace sigil::attestation::dcap
