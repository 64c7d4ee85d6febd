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

namespace {

// Every certificate of one collateral input in any of the encodings of collateral.h.
Result<std::vector<X509Ptr>> LoadCollateralCerts(ByteSpan collateral, Code code) {
  if (collateral.front() != '{') {
    return LoadCertificates(collateral, code);
  }
  auto parsed = ParseJson(std::string_view(reinterpret_cast<const char*>(collateral.data()), collateral.size()),
                          "SEV-SNP collateral");
  if (!parsed) return Fail(code, parsed.error().message());
  const Json& j = *parsed;
  if (!j.is_object()) {
    return Fail(code, "SEV-SNP collateral: not a JSON object");
  }
  std::vector<X509Ptr> certs;
  for (const auto& [key, value] : j.items()) {
    if (!value.is_string()) {
      return Fail(code, "SEV-SNP collateral." + key + " must be a string");
    }
    const std::string& text = value.get_ref<const std::string&>();
    Bytes bytes;
    if (key == "vcek") {
      auto der = Base64Decode(text);
      if (!der) {
        return Fail(code, "SEV-SNP collateral.vcek: " + der.error().message());
      }
      bytes = std::move(der).value();
    } else if (key == "chain") {
      bytes = ToBytes(text);
    } else {
      return Fail(code, "SEV-SNP collateral: unknown member '" + key + "'");
    }
    SIGIL_ASSIGN_OR_RETURN(std::vector<X509Ptr> more, LoadCertificates(bytes, code));
    for (X509Ptr& c : more) {
      certs.push_back(std::move(c));
    }
  }
  return certs;
}

}  // namespace

Result<SortedCerts> ParseCollateral(ByteSpan collateral) {
  constexpr Code kCode = Code::kMalformedEvidence;
  if (collateral.empty()) {
    return SortedCerts{};
  }
  SIGIL_ASSIGN_OR_RETURN(std::vector<X509Ptr> certs, LoadCollateralCerts(collateral, kCode));
  return SortCertificates(std::move(certs), kCode);
}

Result<Bytes> CombineCollateral(const std::vector<Bytes>& parts) {
  std::vector<X509Ptr> all;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].empty()) {
      return Fail(Code::kInvalidArgument, "SEV-SNP collateral #" + std::to_string(i + 1) + " is empty");
    }
    auto certs = LoadCollateralCerts(parts[i], Code::kInvalidArgument);
    if (!certs) {
      return std::move(certs).error().Wrap("SEV-SNP collateral #" + std::to_string(i + 1));
    }
    for (X509Ptr& c : *certs) all.push_back(std::move(c));
  }
  // Refuse here what ParseCollateral would refuse (e.g. two VCEKs), naming the inputs.
  SIGIL_ASSIGN_OR_RETURN(SortedCerts unused, SortCertificates(std::move(all), Code::kInvalidArgument));
  std::string pem;
  auto append = [&pem](const X509Ptr& c) {
    const std::string b64 = Base64Encode(CertDer(*c));
    pem += "-----BEGIN CERTIFICATE-----\n";
    for (std::size_t off = 0; off < b64.size(); off += 64) pem += b64.substr(off, 64) + "\n";
    pem += "-----END CERTIFICATE-----\n";
  };
  if (unused.vek) append(unused.vek);
  for (const X509Ptr& c : unused.asks) append(c);
  for (const X509Ptr& c : unused.arks) append(c);
  return ToBytes(pem);
}

}  // namespace sigil::attestation::snp
