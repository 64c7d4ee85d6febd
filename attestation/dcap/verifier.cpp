#include "attestation/dcap/verifier.h"

#include "attestation/dcap/claims.h"
#include "attestation/dcap/pck.h"
#include "attestation/dcap/quote_checks.h"
#include "attestation/dcap/tcb_status.h"
#include "core/digest.h"
#include "core/protocol.h"

namespace sigil::attestation::dcap {
namespace {

Result<void> CheckTee(DcapTee tee, const Quote& q) {
  if (tee == DcapTee::kTdx && !q.td) {
    return Fail(Code::kMalformedEvidence, "TDX verifier given an SGX quote (version " +
                                              std::to_string(q.header.version) + ")");
  }
  if (tee == DcapTee::kSgx && !q.sgx) {
    return Fail(Code::kMalformedEvidence, "SGX verifier given a TDX quote (version " +
                                              std::to_string(q.header.version) + ")");
  }
  return Ok();
}

ByteSpan ReportData(const Quote& q) {
  if (q.td) return q.td->report_data;
  return q.sgx->report_data;
}

}  // namespace

Result<std::unique_ptr<Verifier>> DcapVerifier::Create(DcapTee tee, const DcapConfig& config) {
  if (config.trusted_root_certs.empty()) {
    return Fail(Code::kInvalidArgument, "DCAP verifier needs at least one trusted root");
  }
  std::vector<X509Ptr> roots;
  for (const auto& der : config.trusted_root_certs) {
    SIGIL_ASSIGN_OR_RETURN(X509Ptr root, ParseCert(der));
    roots.push_back(std::move(root));
  }
  return std::unique_ptr<Verifier>(
      new DcapVerifier(tee, std::move(roots), config.default_collateral));
}

Result<Claims> DcapVerifier::Verify(const VerifyInput& input) const {
  SIGIL_ASSIGN_OR_RETURN(Quote quote, ParseQuote(input.evidence));
  SIGIL_RETURN_IF_ERROR(CheckTee(tee_, quote));
  ByteSpan collateral_bytes = input.collateral;
  if (collateral_bytes.empty() && default_collateral_) collateral_bytes = *default_collateral_;
  if (collateral_bytes.empty()) {
    return Fail(Code::kInvalidArgument,
                "DCAP verification needs collateral (TCB info, QE identity, CRLs); none given "
                "and no default configured");
  }
  SIGIL_ASSIGN_OR_RETURN(Collateral raw, ParseCollateral(collateral_bytes));
  SIGIL_ASSIGN_OR_RETURN(VerifiedCollateral collateral,
                         VerifyCollateral(std::move(raw), roots_, input.now));
  return VerifyDcapQuote(tee_, input.evidence, roots_, &collateral, input.expected_binding,
                         input.now);
}

Result<Claims> VerifyDcapQuote(DcapTee tee, ByteSpan quote_bytes,
                               const std::vector<X509Ptr>& roots,
                               const VerifiedCollateral* collateral, ByteSpan expected_binding,
                               TimePoint now) {
  SIGIL_ASSIGN_OR_RETURN(Quote quote, ParseQuote(quote_bytes));
  SIGIL_RETURN_IF_ERROR(CheckTee(tee, quote));
  SIGIL_ASSIGN_OR_RETURN(PckChain chain, ParsePckChain(quote.pck_chain_pem));
  SIGIL_RETURN_IF_ERROR(VerifyQuoteSignatures(quote, chain));
  std::vector<X509_CRL*> crls;
  if (collateral != nullptr) {
    crls = {collateral->raw.pck_crl.get(), collateral->raw.root_ca_crl.get()};
  }
  // PCK CRL profile spec: the leaf must chain to the Intel root and neither the leaf nor the
  // intermediate may be revoked; CRLs must be current at `now`.
  SIGIL_RETURN_IF_ERROR(VerifyPckChain(chain, roots, crls, now));
  SIGIL_ASSIGN_OR_RETURN(PckExtensions pck, ParsePckExtensions(chain.leaf()));

  std::optional<TcbResult> tcb;
  if (collateral != nullptr) {
    SIGIL_ASSIGN_OR_RETURN(tcb, EvaluateTcb(collateral->tcb_info, collateral->qe_identity, pck,
                                            quote));
    // Revoked means Intel withdrew trust in this platform's keys: never a policy choice.
    if (tcb->status == "Revoked") {
      return Fail(Code::kVerificationFailed, "platform TCB status is Revoked");
    }
  }
  if (!expected_binding.empty()) {
    if (expected_binding.size() != protocol::kBindingSize) {
      return Fail(Code::kInvalidArgument, "DCAP verifier: expected binding must be 64 bytes");
    }
    // The binding ties the quote to this session's nonce and TEE key (core/protocol.h).
    if (!ConstantTimeEqual(ReportData(quote), expected_binding)) {
      return Fail(Code::kVerificationFailed, "quote report data is bound to a different nonce or "
                                             "TEE key");
    }
  }
  return MakeDcapClaims(quote, pck, tcb ? &*tcb : nullptr);
}

}  // namespace sigil::attestation::dcap
