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

// A PCK chain that passed VerifyPckChain, with its decoded SGX extensions.
struct VerifiedPck {
  PckChain chain;
  PckExtensions ext;
};

// Process-wide: the key covers every input of VerifyPckChain except `now`, which the window
// covers (verified_cache.h). 1024 platforms is far more than one broker serves.
VerifiedCache<VerifiedPck>& PckCache() {
  static VerifiedCache<VerifiedPck> cache(1024);
  return cache;
}

Sha256Digest PckKey(ByteSpan chain_pem, const std::vector<X509Ptr>& roots,
                    const VerifiedCollateral* collateral) {
  Bytes key(chain_pem.begin(), chain_pem.end());
  key.push_back(collateral != nullptr ? 1 : 0);
  if (collateral != nullptr) {
    key.insert(key.end(), collateral->crl_digest.begin(), collateral->crl_digest.end());
  }
  for (const X509Ptr& root : roots) {
    const int n = i2d_X509(root.get(), nullptr);
    if (n <= 0) continue;
    const std::size_t at = key.size();
    key.resize(at + static_cast<std::size_t>(n));
    unsigned char* out = key.data() + at;
    i2d_X509(root.get(), &out);
  }
  return Sha256(key);
}

Result<std::shared_ptr<const VerifiedPck>> CheckPck(const Quote& quote,
                                                    const std::vector<X509Ptr>& roots,
                                                    const VerifiedCollateral* collateral,
                                                    TimePoint now) {
  const Sha256Digest key = PckKey(quote.pck_chain_pem, roots, collateral);
  if (auto hit = PckCache().Find(key, now)) return hit;
  SIGIL_ASSIGN_OR_RETURN(PckChain chain, ParsePckChain(quote.pck_chain_pem));
  std::vector<X509_CRL*> crls;
  ValidityWindow window;
  if (collateral != nullptr) {
    crls = {collateral->raw.pck_crl.get(), collateral->raw.root_ca_crl.get()};
    for (X509_CRL* crl : crls) NarrowToCrl(window, crl);
  }
  // PCK CRL profile spec: the leaf must chain to the Intel root and neither the leaf nor the
  // intermediate may be revoked; CRLs must be current at `now`.
  SIGIL_RETURN_IF_ERROR(VerifyPckChain(chain, roots, crls, now));
  SIGIL_ASSIGN_OR_RETURN(PckExtensions ext, ParsePckExtensions(chain.leaf()));
  for (const X509Ptr& cert : chain.certs) NarrowToCert(window, cert.get());
  auto verified = std::make_shared<const VerifiedPck>(VerifiedPck{std::move(chain), ext});
  PckCache().Insert(key, verified, window);
  return verified;
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
  if (config.signature_and_chain_only && (config.default_collateral || config.collateral_source)) {
    return Fail(Code::kInvalidArgument, "a signature-and-chain-only DCAP verifier takes no collateral");
  }
  return std::unique_ptr<Verifier>(new DcapVerifier(tee, std::move(roots), config.default_collateral,
                                                    config.collateral_source,
                                                    config.signature_and_chain_only));
}

Result<Bytes> DcapVerifier::CollateralFromSource(ByteSpan quote_bytes) const {
  constexpr const char* kNone =
      "DCAP verification needs collateral (TCB info, QE identity, CRLs); none given and none "
      "imported for this platform (sigil collateral import)";
  if (!source_) return Fail(Code::kInvalidArgument, kNone);
  SIGIL_ASSIGN_OR_RETURN(Quote quote, ParseQuote(quote_bytes));
  SIGIL_ASSIGN_OR_RETURN(PckChain chain, ParsePckChain(quote.pck_chain_pem));
  SIGIL_ASSIGN_OR_RETURN(PckExtensions pck, ParsePckExtensions(chain.leaf()));
  std::optional<Bytes> found = source_(tee_, pck.fmspc, SubjectCommonName(chain.certs[1].get()));
  if (!found) return Fail(Code::kInvalidArgument, kNone);
  return std::move(*found);
}

Result<std::shared_ptr<const VerifiedCollateral>> DcapVerifier::Verified(ByteSpan bytes,
                                                                         TimePoint now) const {
  // roots_ are fixed for this verifier, so the collateral bytes alone decide the outcome.
  const Sha256Digest key = Sha256(bytes);
  if (auto hit = collateral_cache_.Find(key, now)) return hit;
  SIGIL_ASSIGN_OR_RETURN(Collateral raw, ParseCollateral(bytes));
  SIGIL_ASSIGN_OR_RETURN(VerifiedCollateral v, VerifyCollateral(std::move(raw), roots_, now));
  const ValidityWindow window = v.window;
  auto shared = std::make_shared<const VerifiedCollateral>(std::move(v));
  collateral_cache_.Insert(key, shared, window);
  return shared;
}

Result<Claims> DcapVerifier::Verify(const VerifyInput& input) const {
  SIGIL_ASSIGN_OR_RETURN(Quote quote, ParseQuote(input.evidence));
  SIGIL_RETURN_IF_ERROR(CheckTee(tee_, quote));
  if (chain_only_) {
    if (!input.collateral.empty()) {
      return Fail(Code::kInvalidArgument,
                  "collateral given to a signature-and-chain-only DCAP verification");
    }
    return VerifyDcapQuote(tee_, input.evidence, roots_, nullptr, input.expected_binding, input.now);
  }
  ByteSpan collateral_bytes = input.collateral;
  if (collateral_bytes.empty() && default_collateral_) collateral_bytes = *default_collateral_;
  Bytes from_source;
  if (collateral_bytes.empty()) {
    SIGIL_ASSIGN_OR_RETURN(from_source, CollateralFromSource(input.evidence));
    collateral_bytes = from_source;
  }
  SIGIL_ASSIGN_OR_RETURN(std::shared_ptr<const VerifiedCollateral> collateral,
                         Verified(collateral_bytes, input.now));
  return VerifyDcapQuote(tee_, input.evidence, roots_, collateral.get(), input.expected_binding,
                         input.now);
}

Result<Claims> VerifyDcapQuote(DcapTee tee, ByteSpan quote_bytes,
                               const std::vector<X509Ptr>& roots,
                               const VerifiedCollateral* collateral, ByteSpan expected_binding,
                               TimePoint now) {
  SIGIL_ASSIGN_OR_RETURN(Quote quote, ParseQuote(quote_bytes));
  SIGIL_RETURN_IF_ERROR(CheckTee(tee, quote));
  SIGIL_ASSIGN_OR_RETURN(std::shared_ptr<const VerifiedPck> verified_pck,
                         CheckPck(quote, roots, collateral, now));
  SIGIL_RETURN_IF_ERROR(VerifyQuoteSignatures(quote, verified_pck->chain));
  const PckExtensions& pck = verified_pck->ext;

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
