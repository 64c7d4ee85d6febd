#include "attestation/snp/certs.h"

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

#include <algorithm>
#include <climits>
#include <string_view>

namespace sigil::attestation::snp {
namespace {

using Asn1ObjectPtr = CPtr<ASN1_OBJECT, ASN1_OBJECT_free>;
using Asn1TypePtr = CPtr<ASN1_TYPE, ASN1_TYPE_free>;

constexpr std::string_view kPemMarker = "-----BEGIN CERTIFICATE-----";
constexpr const char* kOidProductName = "1.3.6.1.4.1.3704.1.2";
constexpr const char* kOidHwId = "1.3.6.1.4.1.3704.1.4";

// Returns the raw extnValue contents of the extension `oid`, or nullopt if absent.
std::optional<ByteSpan> ExtensionValue(const X509& cert, const char* oid) {
  Asn1ObjectPtr obj(OBJ_txt2obj(oid, /*no_name=*/1));
  if (!obj) {
    return std::nullopt;
  }
  const int idx = X509_get_ext_by_OBJ(&cert, obj.get(), -1);
  if (idx < 0) {
    return std::nullopt;
  }
  X509_EXTENSION* ext = X509_get_ext(&cert, idx);
  const ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(ext);
  return ByteSpan(ASN1_STRING_get0_data(data), static_cast<std::size_t>(ASN1_STRING_length(data)));
}

Result<Asn1TypePtr> ParseAny(ByteSpan der, std::string_view what) {
  const unsigned char* p = der.data();
  Asn1TypePtr t(d2i_ASN1_TYPE(nullptr, &p, static_cast<long>(der.size())));
  if (!t || p != der.data() + der.size()) {
    return OpenSslError(Code::kVerificationFailed, "VCEK extension " + std::string(what) +
                                                       " is not a single DER value");
  }
  return t;
}

Result<std::uint8_t> ReadSpl(const X509& cert, const char* oid, std::string_view name) {
  auto value = ExtensionValue(cert, oid);
  if (!value) {
    return Fail(Code::kVerificationFailed, "VCEK lacks the " + std::string(name) + " extension");
  }
  SIGIL_ASSIGN_OR_RETURN(Asn1TypePtr t, ParseAny(*value, name));
  std::int64_t v = -1;
  if (ASN1_TYPE_get(t.get()) != V_ASN1_INTEGER ||
      ASN1_INTEGER_get_int64(&v, t->value.integer) != 1 || v < 0 || v > 255) {
    ERR_clear_error();
    return Fail(Code::kVerificationFailed,
                "VCEK extension " + std::string(name) + " must be an INTEGER in 0..255");
  }
  return static_cast<std::uint8_t>(v);
}

}  // namespace

Result<std::vector<X509Ptr>> LoadCertificates(ByteSpan bytes, Code code) {
  std::vector<X509Ptr> out;
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (text.find(kPemMarker) != std::string_view::npos) {
    if (bytes.size() > static_cast<std::size_t>(INT_MAX)) {
      return Fail(code, "certificate bundle too large");
    }
    BioPtr bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
    if (!bio) {
      return OpenSslError(Code::kInternal, "BIO_new_mem_buf");
    }
    while (X509* c = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
      out.emplace_back(c);
    }
    ERR_clear_error();  // the loop ends with a "no start line" error
    if (out.empty()) {
      return Fail(code, "no PEM certificate parses");
    }
    return out;
  }
  const unsigned char* p = bytes.data();
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(bytes.size())));
  if (!cert) {
    return OpenSslError(code, "certificate is neither PEM nor DER");
  }
  if (p != bytes.data() + bytes.size()) {
    return Fail(code, "trailing bytes after DER certificate");
  }
  out.push_back(std::move(cert));
  return out;
}

Bytes CertDer(const X509& cert) {
  unsigned char* der = nullptr;
  const int len = i2d_X509(&cert, &der);
  if (len <= 0) {
    return {};
  }
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

std::string SubjectCommonName(const X509& cert) {
  const X509_NAME* name = X509_get_subject_name(&cert);
  const int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (idx < 0) {
    return "";
  }
  const ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<std::size_t>(ASN1_STRING_length(s)));
}

Result<VcekExtensions> ReadVcekExtensions(const X509& cert) {
  VcekExtensions ext;
  auto name = ExtensionValue(cert, kOidProductName);
  if (!name) {
    return Fail(Code::kVerificationFailed, "VCEK lacks the productName extension");
  }
  SIGIL_ASSIGN_OR_RETURN(Asn1TypePtr t, ParseAny(*name, "productName"));
  const int type = ASN1_TYPE_get(t.get());
  if (type != V_ASN1_IA5STRING && type != V_ASN1_UTF8STRING && type != V_ASN1_PRINTABLESTRING) {
    return Fail(Code::kVerificationFailed, "VCEK productName must be a string");
  }
  const ASN1_STRING* s = t->value.asn1_string;
  ext.product_name.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                          static_cast<std::size_t>(ASN1_STRING_length(s)));
  const auto product = ProductFromName(ext.product_name);
  if (!product) {
    return Fail(Code::kVerificationFailed, "VCEK productName '" + ext.product_name +
                                               "' is not Milan, Genoa or Turin");
  }
  SIGIL_ASSIGN_OR_RETURN(ext.tcb.bootloader, ReadSpl(cert, "1.3.6.1.4.1.3704.1.3.1", "blSPL"));
  SIGIL_ASSIGN_OR_RETURN(ext.tcb.tee, ReadSpl(cert, "1.3.6.1.4.1.3704.1.3.2", "teeSPL"));
  SIGIL_ASSIGN_OR_RETURN(ext.tcb.snp, ReadSpl(cert, "1.3.6.1.4.1.3704.1.3.3", "snpSPL"));
  SIGIL_ASSIGN_OR_RETURN(ext.tcb.microcode, ReadSpl(cert, "1.3.6.1.4.1.3704.1.3.8", "ucodeSPL"));
  if (*product == Product::kTurin) {
    SIGIL_ASSIGN_OR_RETURN(ext.tcb.fmc, ReadSpl(cert, "1.3.6.1.4.1.3704.1.3.9", "fmcSPL"));
  }
  // hwID is stored as the raw chip id bytes (no inner DER wrapping), pub. 57230.
  if (auto hw = ExtensionValue(cert, kOidHwId)) {
    ext.hw_id = Bytes(hw->begin(), hw->end());
  }
  return ext;
}

}  // namespace sigil::attestation::snp
