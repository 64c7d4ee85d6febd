#include "attestation/snp/collateral.h"

#include <openssl/err.h>

#include "attestation/snp/certs.h"
#include "core/encoding.h"
#include "core/json.h"

namespace sigil::attestation::snp {

Result<SortedCerts> SortCertificates(std::vector<X509Ptr> certs, Code code) {
  SortedCerts out;
  for (X509Ptr& c : certs) {
    EVP_PKEY* key = X509_get0_pubkey(c.get());
    const int type = key == nullptr ? EVP_PKEY_NONE : EVP_PKEY_get_base_id(key);
    if (type == EVP_PKEY_EC) {
      if (out.vek) {
        return Fail(code, "SEV-SNP collateral holds more than one VCEK/VLEK (EC) certificate");
      }
      out.vek = std::move(c);
    } else if (type == EVP_PKEY_RSA || type == EVP_PKEY_RSA_PSS) {
      const bool self_issued =
          X509_NAME_cmp(X509_get_subject_name(c.get()), X509_get_issuer_name(c.get())) == 0;
      (self_issued ? out.arks : out.asks).push_back(std::move(c));
    } else {
      ERR_clear_error();
      return Fail(code, "SEV-SNP certificate '" + SubjectCommonName(*c) +
                            "' has neither an EC nor an RSA key");
    }
  }
  return out;
}

Result<SortedCerts> ParseCollateral(ByteSpan collateral) {
  constexpr Code kCode = Code::kMalformedEvidence;
  if (collateral.empty()) {
    return SortedCerts{};
  }
  if (collateral.front() != '{') {
    SIGIL_ASSIGN_OR_RETURN(std::vector<X509Ptr> certs, LoadCertificates(collateral, kCode));
    return SortCertificates(std::move(certs), kCode);
  }
  auto parsed = ParseJson(std::string_view(reinterpret_cast<const char*>(collateral.data()), collateral.size()),
                          "SEV-SNP collateral");
  if (!parsed) return Fail(kCode, parsed.error().message());
  const Json& j = *parsed;
  if (!j.is_object()) {
    return Fail(kCode, "SEV-SNP collateral: not a JSON object");
  }
  std::vector<X509Ptr> certs;
  for (const auto& [key, value] : j.items()) {
    if (!value.is_string()) {
      return Fail(kCode, "SEV-SNP collateral." + key + " must be a string");
    }
    const std::string& text = value.get_ref<const std::string&>();
    Bytes bytes;
    if (key == "vcek") {
      auto der = Base64Decode(text);
      if (!der) {
        return Fail(kCode, "SEV-SNP collateral.vcek: " + der.error().message());
      }
      bytes = std::move(der).value();
    } else if (key == "chain") {
      bytes = ToBytes(text);
    } else {
      return Fail(kCode, "SEV-SNP collateral: unknown member '" + key + "'");
    }
    SIGIL_ASSIGN_OR_RETURN(std::vector<X509Ptr> more, LoadCertificates(bytes, kCode));
    for (X509Ptr& c : more) {
      certs.push_back(std::move(c));
    }
  }
  return SortCertificates(std::move(certs), kCode);
}

}  // namespace sigil::attestation::snp
