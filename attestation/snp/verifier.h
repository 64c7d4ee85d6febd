// SnpVerifier: verifies an AMD SEV-SNP ATTESTATION_REPORT (pub. 56860) with its VCEK/VLEK and the
// AMD certificate chain (pub. 57230) against configured ARK trust anchors, and produces Claims.
// Thread-safety: Create() is a factory; Verify() is const and safe to call concurrently.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "attestation/snp/chain.h"
#include "attestation/snp/collateral.h"
#include "attestation/snp/report.h"
#include "attestation/verified_cache.h"
#include "attestation/verifier.h"
#include "core/bytes.h"
#include "core/ossl.h"
#include "core/result.h"

namespace sigil::attestation::snp {

// Trusted AMD root keys: each entry is one ARK certificate (PEM or DER), e.g. ARK-Milan.
// Bundles of several PEM certificates are accepted; non-self-signed ones go to intermediates.
struct SnpTrustAnchors {
  std::vector<Bytes> roots;
};

struct SnpConfig {
  SnpTrustAnchors anchors;
  // ASK/ASVK certificates (PEM or DER, bundles allowed; e.g. the KDS cert_chain file). Used when
  // the collateral carries no ASK. Trusted only through the ARK chain like any other input.
  std::vector<Bytes> intermediates;
  // VCEK/VLEK certificates (PEM or DER) used when the collateral carries none. The first one
  // whose hwID/TCB match the report (and whose kind matches the report's signing_key) is used.
  std::vector<Bytes> vcek_cache;
  // Optional, thread-safe: VCEK/VLEK and ASK/ASVK certificates imported by the operator (the
  // broker's collateral store, broker/collateral/collateral_store.h), read on each Verify whose collateral
  // lacks a VCEK/VLEK or an ASK/ASVK, after vcek_cache (the collateral's own VCEK comes first).
  // Trusted only through the chain to a configured ARK.
  std::function<std::vector<X509Ptr>()> cert_source;
};

class SnpVerifier final : public Verifier {
 public:
  // kInvalidArgument if there is no root, a certificate does not parse, or a "root" is not a
  // self-signed RSA certificate.
  static Result<std::unique_ptr<Verifier>> Create(SnpConfig config);

  std::string_view tee() const override { return "sev-snp"; }

  // Checks, in order:
  //  1. strict report parse (kMalformedEvidence); collateral parse (kMalformedEvidence);
  //  2. signing_key is VCEK (0) or VLEK (1) (kVerificationFailed);
  //  3. endorsement key selection: collateral VCEK/VLEK, else the cache (kVerificationFailed if
  //     none); its productName picks the product and TCB layout;
  //  4. chain VCEK->ASK->ARK, ARK == configured anchor, product match, validity at input.now
  //     (chain.h; kVerificationFailed / kExpired); a successful chain check is memoised by the
  //     three certificates' DER digest for their common validity window (verified_cache.h);
  //  5. ECDSA P-384 report signature (kVerificationFailed);
  //  6. v3+: CPUID_FAM_ID matches the product (19h Milan/Genoa, 1Ah Turin), then
  //     reported_tcb == VCEK TCB extensions (tcb.h; kVerificationFailed);
  //  7. VCEK hwID == chip_id unless MASK_CHIP_KEY or VLEK (kVerificationFailed);
  //  8. report_data == input.expected_binding in constant time (kVerificationFailed). An EMPTY
  //     expected_binding skips this check (for offline inspection tools only; the broker always
  //     passes the 64-byte binding). Any other length than 0 or 64 is kInvalidArgument.
  // debug=true (policy bit 19) is reported, not refused: that is the policy's decision.
  Result<Claims> Verify(const VerifyInput& input) const override;

  // Test hook: Verify without step 5 (the report signature), so that the TCB and chip-id checks
  // can be exercised with a mutated real report. Never use outside tests.
  Result<Claims> VerifyWithoutReportSignatureForTest(const VerifyInput& input) const;

 private:
  SnpVerifier(std::vector<X509Ptr> arks, std::vector<X509Ptr> asks, std::vector<X509Ptr> veks,
              std::function<std::vector<X509Ptr>()> source)
      : arks_(std::move(arks)),
        asks_(std::move(asks)),
        veks_(std::move(veks)),
        source_(std::move(source)) {}
  Result<Claims> VerifyImpl(const VerifyInput& input, bool check_signature) const;
  Result<void> CheckChain(const ChainInput& chain) const;

  std::vector<X509Ptr> arks_;
  std::vector<X509Ptr> asks_;
  std::vector<X509Ptr> veks_;
  std::function<std::vector<X509Ptr>()> source_;
  mutable VerifiedCache<bool> chain_cache_{256};
};

}  // namespace sigil::attestation::snp
