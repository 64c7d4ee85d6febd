#include "attestation/snp/verifier.h"

#include <algorithm>

#include "attestation/snp/certs.h"
#include "attestation/snp/chain.h"
#include "attestation/snp/signature.h"
#include "attestation/snp/snp_claims.h"
#include "attestation/snp/tcb.h"
#include "core/digest.h"

namespace sigil::attestation::snp {
namespace {

constexpr std::size_t kBindingSize = 64;

Result<std::vector<X509Ptr>> LoadAll(const std::vector<Bytes>& items) {
  std::vector<X509Ptr> out;
  for (const Bytes& item : items) {
    SIGIL_ASSIGN_OR_RETURN(std::vector<X509Ptr> certs,
                           LoadCertificates(item, Code::kInvalidArgument));
    for (X509Ptr& c : certs) {
      out.push_back(std::move(c));
    }
  }
  return out;
}

// The VCEK's subject CN is "SEV-VCEK", the VLEK's "SEV-VLEK" (pub. 57230 / 58369).
bool KindMatches(const X509& cert, std::uint8_t signing_key) {
  return SubjectCommonName(cert) == (signing_key == 1 ? "SEV-VLEK" : "SEV-VCEK");
}

// pub. 57230 "hwID": 64-byte CHIP_ID on Milan/Genoa. Turin VCEKs carry an 8-byte hwID, which we
// compare with the first 8 bytes of CHIP_ID and require the rest to be zero.
bool HwIdMatches(const Bytes& hw_id, const Report& report) {
  const ByteSpan chip(report.chip_id);
  if (hw_id.size() == chip.size()) {
    return ConstantTimeEqual(hw_id, chip);
  }
  if (hw_id.size() == 8) {
    return ConstantTimeEqual(hw_id, chip.first(8)) &&
           std::all_of(chip.begin() + 8, chip.end(), [](std::uint8_t b) { return b == 0; });
  }
  return false;
}

// True if `cert` could be the endorsement key for `report` (used to pick from the cache).
bool CacheEntryFits(const X509& cert, const Report& report) {
  if (!KindMatches(cert, report.signing_key)) {
    return false;
  }
  auto ext = ReadVcekExtensions(cert);
  if (!ext) {
    return false;
  }
  auto tcb = DecodeTcb(report.reported_tcb, *ProductFromName(ext->product_name));
  if (!tcb || !CheckTcbMatchesVcek(*tcb, ext->tcb)) {
    return false;
  }
  return report.signing_key == 1 || report.mask_chip_key ||
         (ext->hw_id && HwIdMatches(*ext->hw_id, report));
}

const X509* FindBySubjectOf(const X509& child,
                            std::initializer_list<const std::vector<X509Ptr>*> lists) {
  for (const auto* list : lists) {
    for (const X509Ptr& c : *list) {
      if (X509_NAME_cmp(X509_get_subject_name(c.get()), X509_get_issuer_name(&child)) == 0) {
        return c.get();
      }
    }
  }
  return nullptr;
}

// The collateral's VCEK/VLEK if it has one, else the first fitting cache entry.
Result<const X509*> SelectVek(const SortedCerts& collateral, const std::vector<X509Ptr>& cache,
                              const Report& report) {
  const X509* vek = collateral.vek.get();
  for (std::size_t i = 0; vek == nullptr && i < cache.size(); ++i) {
    if (CacheEntryFits(*cache[i], report)) {
      vek = cache[i].get();
    }
  }
  if (vek == nullptr) {
    return Fail(Code::kVerificationFailed, "no VCEK/VLEK certificate for this report");
  }
  if (!KindMatches(*vek, report.signing_key)) {
    return Fail(Code::kVerificationFailed, "report SIGNING_KEY says " +
                                               std::string(report.signing_key ? "VLEK" : "VCEK") +
                                               " but the certificate is '" +
                                               SubjectCommonName(*vek) + "'");
  }
  return vek;
}

// Collateral ARKs are only used if they equal a configured anchor (VerifyChain checks it);
// otherwise the configured ARK for the VCEK's product is used.
Result<const X509*> SelectArk(const SortedCerts& collateral, const std::vector<X509Ptr>& arks,
                              Product product, bool vlek) {
  const std::string ark_cn = "ARK-" + std::string(ProductName(product));
  const X509* ark = nullptr;
  const std::vector<X509Ptr>* ark_lists[] = {&collateral.arks, &arks};
  for (const std::vector<X509Ptr>* list : ark_lists) {
    for (std::size_t i = 0; ark == nullptr && i < list->size(); ++i) {
      if (SubjectCommonName(*(*list)[i]) == ark_cn) {
        ark = (*list)[i].get();
      }
    }
  }
  if (ark == nullptr && !collateral.arks.empty()) {
    ark = collateral.arks.front().get();  // refused by VerifyChain with a precise message
  }
  if (ark == nullptr) {
    return Fail(Code::kVerificationFailed, "no configured trust anchor " + ark_cn + " for this " +
                                               std::string(ProductName(product)) +
                                               (vlek ? " VLEK" : " VCEK"));
  }
  return ark;
}

}  // namespace

Result<std::unique_ptr<Verifier>> SnpVerifier::Create(SnpConfig config) {
  SIGIL_ASSIGN_OR_RETURN(std::vector<X509Ptr> roots, LoadAll(config.anchors.roots));
  SIGIL_ASSIGN_OR_RETURN(SortedCerts sorted_roots,
                         SortCertificates(std::move(roots), Code::kInvalidArgument));
  if (sorted_roots.arks.empty() || sorted_roots.vek) {
    return Fail(Code::kInvalidArgument,
                "SEV-SNP trust anchors must be self-signed ARK certificates (none found)");
  }
  SIGIL_ASSIGN_OR_RETURN(std::vector<X509Ptr> inter, LoadAll(config.intermediates));
  SIGIL_ASSIGN_OR_RETURN(std::vector<X509Ptr> veks, LoadAll(config.vcek_cache));
  std::vector<X509Ptr> asks = std::move(sorted_roots.asks);
  for (X509Ptr& c : inter) {
    asks.push_back(std::move(c));
  }
  return std::unique_ptr<Verifier>(new SnpVerifier(std::move(sorted_roots.arks), std::move(asks),
                                                   std::move(veks), std::move(config.cert_source)));
}

Result<void> SnpVerifier::CheckChain(const ChainInput& chain) const {
  if (chain.leaf == nullptr || chain.ask == nullptr || chain.ark == nullptr) {
    return VerifyChain(chain, arks_);  // refuses with the precise reason
  }
  // Everything VerifyChain reads besides `now`: the three certificates, product and kind (the
  // anchors are fixed for this verifier).
  Bytes key;
  for (const X509* c : {chain.leaf, chain.ask, chain.ark}) {
    const Bytes der = CertDer(*c);
    key.insert(key.end(), der.begin(), der.end());
  }
  key.push_back(static_cast<std::uint8_t>(chain.product));
  key.push_back(chain.vlek ? 1 : 0);
  const Sha256Digest digest = Sha256(key);
  if (chain_cache_.Find(digest, chain.now)) return Ok();
  SIGIL_RETURN_IF_ERROR(VerifyChain(chain, arks_));
  ValidityWindow window;
  for (const X509* c : {chain.leaf, chain.ask, chain.ark}) NarrowToCert(window, c);
  chain_cache_.Insert(digest, std::make_shared<const bool>(true), window);
  return Ok();
}

Result<Claims> SnpVerifier::Verify(const VerifyInput& input) const {
  return VerifyImpl(input, /*check_signature=*/true);
}

Result<Claims> SnpVerifier::VerifyWithoutReportSignatureForTest(const VerifyInput& input) const {
  return VerifyImpl(input, /*check_signature=*/false);
}

Result<Claims> SnpVerifier::VerifyImpl(const VerifyInput& input, bool check_signature) const {
  if (!input.expected_binding.empty() && input.expected_binding.size() != kBindingSize) {
    return Fail(Code::kInvalidArgument, "sev-snp verifier: expected binding must be 64 bytes");
  }
  SIGIL_ASSIGN_OR_RETURN(const Report report, ParseReport(input.evidence));
  SIGIL_ASSIGN_OR_RETURN(SortedCerts collateral, ParseCollateral(input.collateral));
  // pub. 56860 ATTESTATION_REPORT SIGNING_KEY: 0 = VCEK, 1 = VLEK, 7 = none; others reserved.
  if (report.signing_key > 1) {
    return Fail(Code::kVerificationFailed, "SEV-SNP report SIGNING_KEY " +
                                               std::to_string(report.signing_key) +
                                               " is neither VCEK (0) nor VLEK (1)");
  }
  // Imported certificates (the broker's store) when the evidence brings no VCEK/VLEK or no
  // ASK/ASVK; owned here for the rest of the call. Roots among them are ignored: only arks_ anchor a chain.
  std::vector<X509Ptr> imported_veks;
  std::vector<X509Ptr> imported_asks;
  if ((!collateral.vek || collateral.asks.empty()) && source_) {
    for (X509Ptr& c : source_()) {
      EVP_PKEY* key = X509_get0_pubkey(c.get());
      const int type = key == nullptr ? EVP_PKEY_NONE : EVP_PKEY_get_base_id(key);
      const bool self_issued =
          X509_NAME_cmp(X509_get_subject_name(c.get()), X509_get_issuer_name(c.get())) == 0;
      if (type == EVP_PKEY_EC) {
        imported_veks.push_back(std::move(c));
      } else if (!self_issued) {
        imported_asks.push_back(std::move(c));
      }
    }
  }
  const X509* vek = nullptr;
  if (auto cached = SelectVek(collateral, veks_, report); cached || imported_veks.empty()) {
    SIGIL_ASSIGN_OR_RETURN(vek, std::move(cached));
  } else {
    SIGIL_ASSIGN_OR_RETURN(vek, SelectVek(collateral, imported_veks, report));
  }
  SIGIL_ASSIGN_OR_RETURN(const VcekExtensions ext, ReadVcekExtensions(*vek));
  const Product product = *ProductFromName(ext.product_name);

  SIGIL_ASSIGN_OR_RETURN(const X509* ark, SelectArk(collateral, arks_, product, report.signing_key == 1));
  const X509* ask = FindBySubjectOf(*vek, {&collateral.asks, &asks_, &imported_asks});
  ChainInput chain{vek, ask, ark, product, report.signing_key == 1, input.now};
  SIGIL_RETURN_IF_ERROR(CheckChain(chain));

  const EVP_PKEY* vek_key = X509_get0_pubkey(vek);
  if (vek_key == nullptr) {
    return OpenSslError(Code::kVerificationFailed, "VCEK/VLEK public key does not parse");
  }
  if (check_signature) {
    SIGIL_RETURN_IF_ERROR(VerifyReportSignature(input.evidence, report, *vek_key));
  }
  // v3+ reports carry CPUID_FAM_ID (0x188): Milan and Genoa are family 19h, Turin 1Ah (AMD
  // "Processor Programming Reference" per family). A mismatch means the VCEK is for another CPU.
  const std::uint8_t want_family = product == Product::kTurin ? 0x1A : 0x19;
  if (report.version >= 3 && report.cpuid_fam_id != want_family) {
    return Fail(Code::kVerificationFailed, "report CPUID_FAM_ID (0x188) " +
                                               std::to_string(report.cpuid_fam_id) +
                                               " does not match the VCEK product " +
                                               std::string(ProductName(product)));
  }
  SIGIL_ASSIGN_OR_RETURN(const TcbVersion reported, DecodeTcb(report.reported_tcb, product));
  SIGIL_RETURN_IF_ERROR(CheckTcbMatchesVcek(reported, ext.tcb));

  // The VCEK is chip-specific (pub. 57230 hwID); a VLEK is not. With MASK_CHIP_KEY (flags bit 1)
  // the firmware does not sign with the VCEK at all (pub. 56860: the signature is zero), so such a
  // report already fails step 5; the hwID comparison is skipped for it as documented. A VCEK
  // report whose CHIP_ID was masked to zero (SNP_CONFIG MASK_CHIP_ID) is refused here.
  if (report.signing_key == 0 && !report.mask_chip_key &&
      !(ext.hw_id && HwIdMatches(*ext.hw_id, report))) {
    return Fail(Code::kVerificationFailed, "VCEK hwID does not match the report CHIP_ID (0x1A0)");
  }
  // REPORT_DATA (0x050) carries the broker's binding; without it a captured report could be
  // replayed. Empty expected_binding = caller explicitly skips (documented in verifier.h).
  if (!input.expected_binding.empty() &&
      !ConstantTimeEqual(report.report_data, input.expected_binding)) {
    return Fail(Code::kVerificationFailed,
                "SEV-SNP REPORT_DATA (0x050) is bound to a different nonce or TEE key");
  }
  return MakeClaims(report, reported, product);
}

}  // namespace sigil::attestation::snp
