#include "attestation/snp/chain.h"

#include <openssl/err.h>

#include <string>

#include "attestation/snp/certs.h"

namespace sigil::attestation::snp {
namespace {

using Asn1TimePtr = CPtr<ASN1_TIME, ASN1_TIME_free>;

// RSASSA-PSS with SHA-384 (pub. 57230: "the ARK and ASK sign with RSASSA-PSS, SHA-384").
Result<void> VerifySignedBy(const X509& cert, const X509& issuer, std::string_view what) {
  if (X509_NAME_cmp(X509_get_issuer_name(&cert), X509_get_subject_name(&issuer)) != 0) {
    return Fail(Code::kVerificationFailed, std::string(what) + ": issuer name does not match");
  }
  int md_nid = NID_undef;
  int pk_nid = NID_undef;
  if (X509_get_signature_info(const_cast<X509*>(&cert), &md_nid, &pk_nid, nullptr, nullptr) != 1 ||
      X509_get_signature_nid(&cert) != NID_rsassaPss || md_nid != NID_sha384) {
    ERR_clear_error();
    return Fail(Code::kVerificationFailed,
                std::string(what) + ": signature algorithm must be RSASSA-PSS with SHA-384");
  }
  EVP_PKEY* key = X509_get0_pubkey(&issuer);
  if (key == nullptr || X509_verify(const_cast<X509*>(&cert), key) != 1) {
    return OpenSslError(Code::kVerificationFailed,
                        std::string(what) + ": signature does not verify");
  }
  return Ok();
}

Result<void> CheckValidity(const X509& cert, std::string_view what,
                           std::chrono::system_clock::time_point now) {
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  Asn1TimePtr at(ASN1_TIME_set(nullptr, t));
  if (!at) {
    return OpenSslError(Code::kInternal, "ASN1_TIME_set");
  }
  int days = 0;
  int secs = 0;
  // ASN1_TIME_diff(from, to): positive when `to` is later than `from`.
  if (ASN1_TIME_diff(&days, &secs, at.get(), X509_get0_notBefore(&cert)) != 1) {
    return OpenSslError(Code::kVerificationFailed, std::string(what) + ": bad notBefore");
  }
  if (days > 0 || secs > 0) {
    return Fail(Code::kExpired, std::string(what) + " is not yet valid at the verification time");
  }
  if (ASN1_TIME_diff(&days, &secs, at.get(), X509_get0_notAfter(&cert)) != 1) {
    return OpenSslError(Code::kVerificationFailed, std::string(what) + ": bad notAfter");
  }
  if (days < 0 || secs < 0) {
    return Fail(Code::kExpired, std::string(what) + " expired before the verification time");
  }
  return Ok();
}

}  // namespace

Result<void> VerifyChain(const ChainInput& in, const std::vector<X509Ptr>& trusted_arks) {
  if (in.leaf == nullptr || in.ask == nullptr || in.ark == nullptr) {
    return Fail(Code::kVerificationFailed, "SEV-SNP certificate chain is incomplete");
  }
  const Bytes ark_der = CertDer(*in.ark);
  bool trusted = false;
  for (const X509Ptr& anchor : trusted_arks) {
    trusted = trusted || (!ark_der.empty() && CertDer(*anchor) == ark_der);
  }
  if (!trusted) {
    return Fail(Code::kVerificationFailed, "ARK '" + SubjectCommonName(*in.ark) +
                                               "' is not a configured SEV-SNP trust anchor");
  }
  const std::string product(ProductName(in.product));
  if (SubjectCommonName(*in.ark) != "ARK-" + product) {
    return Fail(Code::kVerificationFailed, std::string(in.vlek ? "VLEK" : "VCEK") + " product " +
                                               product + " does not match ARK '" +
                                               SubjectCommonName(*in.ark) + "'");
  }
  const std::string ask_cn = SubjectCommonName(*in.ask);
  if (ask_cn != (in.vlek ? "SEV-VLEK-" : "SEV-") + product) {
    return Fail(Code::kVerificationFailed,
                "signing key (" + std::string(in.vlek ? "VLEK" : "VCEK") + ", " + product +
                    ") does not match ASK '" + ask_cn + "'");
  }
  // Name each certificate as pub. 57230 does, so that an error points at the right one: a
  // VLEK chain is VLEK -> ASVK -> ARK.
  const char* leaf_name = in.vlek ? "VLEK" : "VCEK";
  const char* ask_name = in.vlek ? "ASVK" : "ASK";
  SIGIL_RETURN_IF_ERROR(VerifySignedBy(*in.ark, *in.ark, "ARK (self-signed)"));
  SIGIL_RETURN_IF_ERROR(VerifySignedBy(*in.ask, *in.ark, ask_name));
  SIGIL_RETURN_IF_ERROR(VerifySignedBy(*in.leaf, *in.ask, leaf_name));
  SIGIL_RETURN_IF_ERROR(CheckValidity(*in.ark, "ARK", in.now));
  SIGIL_RETURN_IF_ERROR(CheckValidity(*in.ask, ask_name, in.now));
  return CheckValidity(*in.leaf, leaf_name, in.now);
}

}  // namespace sigil::attestation::snp
