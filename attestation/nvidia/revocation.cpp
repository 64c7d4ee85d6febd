#include "attestation/nvidia/revocation.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <string>

namespace sigil::attestation::nvidia {
namespace {

using OcspBasicPtr = CPtr<OCSP_BASICRESP, OCSP_BASICRESP_free>;
using OcspCertIdPtr = CPtr<OCSP_CERTID, OCSP_CERTID_free>;

std::string CommonName(const X509* cert) {
  char buf[256] = {0};
  const int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buf,
                                          sizeof(buf));
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string("?");
}

// Seconds since the epoch of an ASN1_TIME / ASN1_GENERALIZEDTIME.
Result<std::int64_t> ToUnix(const ASN1_TIME* t, const std::string& what) {
  if (t == nullptr) return Fail(Code::kVerificationFailed, what + ": time missing");
  CPtr<ASN1_TIME, ASN1_TIME_free> epoch(ASN1_TIME_set(nullptr, 0));
  int days = 0;
  int secs = 0;
  if (!epoch || ASN1_TIME_diff(&days, &secs, epoch.get(), t) != 1) {
    return OpenSslError(Code::kVerificationFailed, what + ": time does not parse");
  }
  return static_cast<std::int64_t>(days) * 86400 + secs;
}

// thisUpdate <= now < nextUpdate (nextUpdate optional), else kExpired naming `what`.
Result<void> CheckWindow(const ASN1_TIME* this_update, const ASN1_TIME* next_update,
                         std::int64_t now, const std::string& what) {
  SIGIL_ASSIGN_OR_RETURN(std::int64_t from, ToUnix(this_update, what));
  if (from > now) return Fail(Code::kExpired, what + " is not yet valid");
  if (next_update != nullptr) {
    SIGIL_ASSIGN_OR_RETURN(std::int64_t to, ToUnix(next_update, what));
    if (to <= now) return Fail(Code::kExpired, what + " is past its nextUpdate");
  }
  return Ok();
}

Result<bool> CheckCrls(X509* cert, X509* issuer, const RevocationData& data) {
  bool covered = false;
  for (const X509CrlPtr& crl : *data.crls) {
    if (X509_NAME_cmp(X509_CRL_get_issuer(crl.get()), X509_get_subject_name(issuer)) != 0) {
      continue;
    }
    const std::string who = "CRL of '" + CommonName(issuer) + "'";
    // RFC 5280 6.3.3 (f): the CRL issuer's key usage, if stated, must allow cRLSign.
    if ((X509_get_key_usage(issuer) & KU_CRL_SIGN) == 0) {
      return Fail(Code::kVerificationFailed, who + ": issuer key usage does not allow cRLSign");
    }
    // A CRL that names this issuer but is not signed by it is forged or misdirected.
    if (X509_CRL_verify(crl.get(), X509_get0_pubkey(issuer)) != 1) {
      return OpenSslError(Code::kVerificationFailed, who + " signature does not verify");
    }
    SIGIL_RETURN_IF_ERROR(CheckWindow(X509_CRL_get0_lastUpdate(crl.get()),
                                      X509_CRL_get0_nextUpdate(crl.get()), data.now, who));
    X509_REVOKED* revoked = nullptr;
    if (X509_CRL_get0_by_cert(crl.get(), &revoked, cert) == 1) {
      return Fail(Code::kVerificationFailed,
                  "certificate '" + CommonName(cert) + "' is revoked by the " + who);
    }
    covered = true;
  }
  return covered;
}

Result<bool> CheckOcsp(X509* cert, X509* issuer, const RevocationData& data) {
  bool covered = false;
  const std::string who = "OCSP response for '" + CommonName(cert) + "'";
  for (const OcspResponsePtr& resp : *data.ocsp) {
    OcspBasicPtr basic(OCSP_response_get1_basic(resp.get()));
    if (OCSP_response_status(resp.get()) != OCSP_RESPONSE_STATUS_SUCCESSFUL || !basic) {
      ERR_clear_error();
      return Fail(Code::kVerificationFailed, "an OCSP response in the collateral is not a "
                                             "successful basic response");
    }
    // Responders identify certificates by SHA-1 (RFC 5019) or stronger hashes.
    int status = -1;
    int reason = 0;
    ASN1_GENERALIZEDTIME* this_update = nullptr;
    ASN1_GENERALIZEDTIME* next_update = nullptr;
    for (const EVP_MD* md : {EVP_sha1(), EVP_sha256(), EVP_sha384()}) {
      OcspCertIdPtr id(OCSP_cert_to_id(md, cert, issuer));
      if (!id) return OpenSslError(Code::kInternal, "OCSP_cert_to_id");
      if (OCSP_resp_find_status(basic.get(), id.get(), &status, &reason, nullptr, &this_update,
                                &next_update) == 1) {
        break;
      }
      status = -1;
    }
    if (status < 0) continue;  // answers for other certificates
    // OCSP_basic_verify: signer is the issuer or its delegated OCSP responder, and chains to a
    // pinned root at the verification time (set on data.store).
    if (OCSP_basic_verify(basic.get(), data.untrusted, data.store, 0) != 1) {
      return OpenSslError(Code::kVerificationFailed, who + ": signature or signer does not verify");
    }
    SIGIL_RETURN_IF_ERROR(CheckWindow(this_update, next_update, data.now, who));
    if (status == V_OCSP_CERTSTATUS_REVOKED) {
      return Fail(Code::kVerificationFailed, "certificate '" + CommonName(cert) +
                                                 "' is revoked (OCSP, reason " +
                                                 std::to_string(reason) + ")");
    }
    if (status != V_OCSP_CERTSTATUS_GOOD) {
      return Fail(Code::kVerificationFailed, who + " says the status is unknown");
    }
    covered = true;
  }
  return covered;
}

}  // namespace

std::string_view RevocationName(Revocation r) {
  switch (r) {
    case Revocation::kGood:
      return "good";
    case Revocation::kPartial:
      return "partial";
    case Revocation::kNotChecked:
      break;
  }
  return "not-checked";
}

Result<bool> CheckRevocation(X509* cert, X509* issuer, const RevocationData& data) {
  bool covered = false;
  if (data.crls != nullptr) {
    SIGIL_ASSIGN_OR_RETURN(covered, CheckCrls(cert, issuer, data));
  }
  if (data.ocsp != nullptr) {
    SIGIL_ASSIGN_OR_RETURN(bool by_ocsp, CheckOcsp(cert, issuer, data));
    covered = covered || by_ocsp;
  }
  return covered;
}

Result<std::vector<bool>> CheckChainRevocation(STACK_OF(X509) * built, const RevocationData& data) {
  const int n = built == nullptr ? 0 : sk_X509_num(built);
  std::vector<bool> covered;
  for (int i = 0; i + 1 < n; ++i) {
    SIGIL_ASSIGN_OR_RETURN(bool c, CheckRevocation(sk_X509_value(built, i), sk_X509_value(built, i + 1), data));
    covered.push_back(c);
  }
  return covered;
}

Revocation SummarizeRevocation(const std::vector<bool>& covered) {
  const auto n = std::count(covered.begin(), covered.end(), true);
  if (n == 0) return Revocation::kNotChecked;
  return static_cast<std::size_t>(n) == covered.size() ? Revocation::kGood : Revocation::kPartial;
}

}  // namespace sigil::attestation::nvidia
