// DcapVerifier: Intel DCAP ECDSA quote verification for TDX (quote v4/v5, tee() "tdx") and SGX
// (quote v3, tee() "sgx"), against configured Intel SGX Root CA certificate(s) and DCAP
// collateral (format: attestation/dcap/README.md). Thread-safety: Verify() is const and safe to
// call concurrently.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "attestation/dcap/collateral.h"
#include "attestation/verified_cache.h"
#include "attestation/verifier.h"
#include "core/bytes.h"
#include "core/result.h"

namespace sigil::attestation::dcap {

enum class DcapTee { kTdx, kSgx };

// Supplies collateral (README.md container) for a quote that comes without any: the broker's
// collateral store (broker/collateral/collateral_store.h) assembles it from the operator's imported files
// for the TEE, the PCK certificate's FMSPC and the PCK issuing CA's common name. nullopt if it
// has none. Must be thread-safe. What it returns is verified like request collateral.
using DcapCollateralSource = std::function<std::optional<Bytes>(
    DcapTee tee, const std::array<std::uint8_t, 6>& fmspc, std::string_view pck_ca_cn)>;

struct DcapConfig {
  // Trust anchors (DER or PEM), normally the Intel SGX Root CA. Never taken from evidence.
  std::vector<Bytes> trusted_root_certs;
  // Collateral used when VerifyInput::collateral is empty (README.md container format).
  std::optional<Bytes> default_collateral;
  // Consulted after default_collateral (optional).
  DcapCollateralSource collateral_source;
  // Explicit opt-in for offline tools (sigil attest verify --no-collateral), never the broker:
  // Verify checks only the quote signature, the QE report signature and binding of the
  // attestation key, and the PCK chain to the roots (without CRLs); no TCB status (tcb.status
  // "NotEvaluated"), no revocation, no QE identity. Collateral must not be given then
  // (kInvalidArgument), so that a caller cannot believe it was checked.
  bool signature_and_chain_only = false;
};

class DcapVerifier final : public Verifier {
 public:
  // kInvalidArgument if there is no root or a root does not parse. The default collateral is
  // only parsed (and checked) at Verify time, since its validity depends on `now`.
  static Result<std::unique_ptr<Verifier>> Create(DcapTee tee, const DcapConfig& config);

  std::string_view tee() const override { return tee_ == DcapTee::kTdx ? "tdx" : "sgx"; }

  // With signature_and_chain_only: VerifyDcapQuote without collateral (see DcapConfig).
  // Otherwise checks, in order: quote parse and TEE/version match (kMalformedEvidence); collateral
  // present (input.collateral, else the default, else the collateral source; kInvalidArgument
  // if none) and verified (VerifyCollateral, memoised by the collateral bytes' SHA-256 while
  // `now` stays in its validity window); then VerifyDcapQuote. Claims: see VerifyDcapQuote.
  Result<Claims> Verify(const VerifyInput& input) const override;

  // Number of verified collateral sets held (tests).
  std::size_t CachedCollateralCountForTest() const { return collateral_cache_.size(); }

 private:
  DcapVerifier(DcapTee tee, std::vector<X509Ptr> roots, std::optional<Bytes> collateral,
               DcapCollateralSource source, bool chain_only)
      : tee_(tee),
        roots_(std::move(roots)),
        default_collateral_(std::move(collateral)),
        source_(std::move(source)),
        chain_only_(chain_only) {}
  Result<Bytes> CollateralFromSource(ByteSpan quote) const;
  Result<std::shared_ptr<const VerifiedCollateral>> Verified(ByteSpan bytes, TimePoint now) const;

  DcapTee tee_;
  std::vector<X509Ptr> roots_;
  std::optional<Bytes> default_collateral_;
  DcapCollateralSource source_;
  bool chain_only_ = false;
  mutable VerifiedCache<VerifiedCollateral> collateral_cache_{64};
};

// The quote checks given already-verified collateral (callers may reuse one VerifiedCollateral
// for many quotes while `now` stays in its window): parse; quote/QE/PCK signatures
// (quote_checks.h); PCK chain to `roots` at `now`, with the collateral's PCK and root CRLs
// (a successful chain check is memoised process-wide, keyed by the SHA-256 of the chain PEM,
// the CRLs and the roots, for the chain's validity window: repeated quotes from one platform
// then cost two P-256 verifications);
// TCB evaluation (tcb_status.h), refusing a converged status of Revoked; then report data ==
// `expected_binding` in constant time (skipped only when `expected_binding` is empty; otherwise
// it must be 64 bytes, kInvalidArgument). With `collateral` == nullptr only the signatures and
// the chain (without CRLs) are checked and tcb.status is "NotEvaluated": for tools and tests,
// never for key release. Claims: tee, debug, measurement, report_data, platform.id (FMSPC),
// tcb.status, tcb.advisory_ids, and tdx.* or sgx.* fields (README.md).
Result<Claims> VerifyDcapQuote(DcapTee tee, ByteSpan quote, const std::vector<X509Ptr>& roots,
                               const VerifiedCollateral* collateral, ByteSpan expected_binding,
                               TimePoint now);

}  // namespace sigil::attestation::dcap
