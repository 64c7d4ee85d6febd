#include "broker/collateral/collateral_item.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include "attestation/dcap/collateral.h"
#include "attestation/snp/certs.h"
#include "attestation/verified_cache.h"
#include "core/encoding.h"
#include "core/json.h"

namespace sigil::broker {
namespace {

namespace dcap = attestation::dcap;

bool Contains(ByteSpan bytes, std::string_view needle) {
  return ToString(bytes).find(needle) != std::string::npos;
}

Bytes CertPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return {};
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return Bytes(data, data + n);
}

Bytes CrlDer(X509_CRL* crl) {
  const int n = i2d_X509_CRL(crl, nullptr);
  if (n <= 0) return {};
  Bytes out(static_cast<std::size_t>(n));
  unsigned char* p = out.data();
  i2d_X509_CRL(crl, &p);
  return out;
}

bool SelfIssued(X509* c) {
  return X509_NAME_cmp(X509_get_subject_name(c), X509_get_issuer_name(c)) == 0;
}

Result<CollateralKind> CertKind(X509* c) {
  const std::string cn = dcap::SubjectCommonName(c);
  EVP_PKEY* key = X509_get0_pubkey(c);
  const int type = key == nullptr ? EVP_PKEY_NONE : EVP_PKEY_get_base_id(key);
  ERR_clear_error();
  if (type == EVP_PKEY_RSA || type == EVP_PKEY_RSA_PSS) {
    if (SelfIssued(c) && cn.rfind("ARK-", 0) == 0) return CollateralKind::kAmdArk;
    if (cn.rfind("SEV-", 0) == 0) return CollateralKind::kAmdAsk;
  } else if (type == EVP_PKEY_EC) {
    if (cn == "SEV-VCEK" || cn == "SEV-VLEK") {
      // The pub. 57230 extensions must be readable; the store relies on them to pick a VCEK.
      auto ext = attestation::snp::ReadVcekExtensions(*c);
      if (!ext) return Error(Code::kInvalidArgument, ext.error().message());
      return cn == "SEV-VLEK" ? CollateralKind::kAmdVlek : CollateralKind::kAmdVcek;
    }
    if (cn == "Intel SGX Root CA" && SelfIssued(c)) return CollateralKind::kIntelRoot;
    if (cn == "Intel SGX PCK Platform CA" || cn == "Intel SGX PCK Processor CA" ||
        cn == "Intel SGX TCB Signing") {
      return CollateralKind::kIntelCa;
    }
    if (cn == "Intel SGX PCK Certificate") return CollateralKind::kIntelPck;
  }
  return Fail(Code::kInvalidArgument, "certificate '" + cn +
                                          "' is neither an AMD SEV-SNP nor an Intel SGX/TDX "
                                          "collateral certificate");
}

Result<CollateralItem> CertItem(X509Ptr cert) {
  SIGIL_ASSIGN_OR_RETURN(CollateralKind kind, CertKind(cert.get()));
  CollateralItem item;
  item.kind = kind;
  item.summary = dcap::SubjectCommonName(cert.get());
  item.not_before = attestation::Asn1ToTime(X509_get0_notBefore(cert.get()), true);
  item.not_after = attestation::Asn1ToTime(X509_get0_notAfter(cert.get()), false);
  item.stored = CertPem(cert.get());
  item.cert = std::move(cert);
  return item;
}

CollateralItem CrlItem(dcap::X509CrlPtr crl) {
  CollateralItem item;
  item.kind = CollateralKind::kCrl;
  char buf[256] = {0};
  X509_NAME_get_text_by_NID(X509_CRL_get_issuer(crl.get()), NID_commonName, buf, sizeof buf);
  ERR_clear_error();
  item.id = buf;
  item.summary = std::string("CRL of ") + buf;
  item.not_before = attestation::Asn1ToTime(X509_CRL_get0_lastUpdate(crl.get()), true);
  const ASN1_TIME* next = X509_CRL_get0_nextUpdate(crl.get());
  item.not_after = next == nullptr ? TimePoint::max() : attestation::Asn1ToTime(next, false);
  item.stored = CrlDer(crl.get());
  item.crl = std::move(crl);
  return item;
}

// A signed PCS document: `member` is "tcbInfo" or "enclaveIdentity".
Result<CollateralItem> SignedJsonItem(std::string_view body, std::string_view signature_hex,
                                      bool tcb_info) {
  CollateralItem item;
  SIGIL_ASSIGN_OR_RETURN(item.signature, HexDecode(signature_hex));
  item.signed_body = std::string(body);
  if (tcb_info) {
    SIGIL_ASSIGN_OR_RETURN(dcap::TcbInfo info, dcap::ParseTcbInfo(body));
    item.kind = CollateralKind::kIntelTcbInfo;
    item.id = info.id;
    item.fmspc = info.fmspc;
    item.not_before = info.issue_date;
    item.not_after = info.next_update;
    item.summary = info.id + " TCB info FMSPC " + HexEncode(info.fmspc);
  } else {
    SIGIL_ASSIGN_OR_RETURN(dcap::QeIdentity qe, dcap::ParseQeIdentity(body));
    item.kind = CollateralKind::kIntelQeIdentity;
    item.id = qe.id;
    item.not_before = qe.issue_date;
    item.not_after = qe.next_update;
    item.summary = qe.id + " identity";
  }
  // One canonical file shape, whatever the source: the PCS response, which the signature covers
  // member by member, so re-wrapping the exact body bytes keeps it verifiable.
  const std::string member = tcb_info ? "tcbInfo" : "enclaveIdentity";
  item.stored = ToBytes("{\"" + member + "\":" + item.signed_body + ",\"signature\":\"" +
                        HexEncode(item.signature) + "\"}\n");
  return item;
}

Result<std::vector<CollateralItem>> FromBundle(ByteSpan bytes) {
  SIGIL_ASSIGN_OR_RETURN(dcap::Collateral c, dcap::ParseCollateral(bytes));
  std::vector<CollateralItem> out;
  SIGIL_ASSIGN_OR_RETURN(CollateralItem tcb,
                         SignedJsonItem(c.tcb_info, HexEncode(c.tcb_info_signature), true));
  SIGIL_ASSIGN_OR_RETURN(CollateralItem qe,
                         SignedJsonItem(c.qe_identity, HexEncode(c.qe_identity_signature), false));
  out.push_back(std::move(tcb));
  out.push_back(std::move(qe));
  for (auto* chain : {&c.tcb_info_issuer_chain, &c.qe_identity_issuer_chain}) {
    for (X509Ptr& cert : *chain) {
      SIGIL_ASSIGN_OR_RETURN(CollateralItem item, CertItem(std::move(cert)));
      // The bundle's root is only a copy: anchors come from the trust directory, never from
      // collateral.
      if (item.kind != CollateralKind::kIntelRoot) out.push_back(std::move(item));
    }
  }
  // The PCK CA that issued pck_crl (dcap-qvl's optional "pck_crl_issuer_chain"): needed to
  // check the CRL's signature at import; the verifier takes the CA from the quote instead.
  auto j = ParseJson(ToString(bytes), "DCAP collateral");
  if (j && j->contains("pck_crl_issuer_chain") && (*j)["pck_crl_issuer_chain"].is_string()) {
    const std::string pem = (*j)["pck_crl_issuer_chain"].get<std::string>();
    SIGIL_ASSIGN_OR_RETURN(std::vector<X509Ptr> certs,
                           dcap::ParsePemCerts(AsBytes(pem), "pck_crl_issuer_chain"));
    for (X509Ptr& cert : certs) {
      SIGIL_ASSIGN_OR_RETURN(CollateralItem item, CertItem(std::move(cert)));
      if (item.kind != CollateralKind::kIntelRoot) out.push_back(std::move(item));
    }
  }
  out.push_back(CrlItem(std::move(c.pck_crl)));
  out.push_back(CrlItem(std::move(c.root_ca_crl)));
  return out;
}

Result<std::vector<CollateralItem>> FromJson(ByteSpan bytes) {
  const std::string text = ToString(bytes);
  SIGIL_ASSIGN_OR_RETURN(Json j, ParseJson(text, "collateral file"));
  if (!j.is_object()) return Fail(Code::kInvalidArgument, "JSON collateral must be an object");
  if (j.contains("tcb_info") && j.contains("qe_identity")) return FromBundle(bytes);
  const bool tcb = j.contains("tcbInfo");
  if (!tcb && !j.contains("enclaveIdentity")) {
    return Fail(Code::kInvalidArgument,
                "JSON is neither an Intel PCS TCB info / QE identity response nor a DCAP "
                "collateral bundle");
  }
  SIGIL_ASSIGN_OR_RETURN(std::string sig, GetString(j, "signature", "collateral file"));
  SIGIL_ASSIGN_OR_RETURN(std::string body,
                         dcap::ExtractSignedObject(text, tcb ? "tcbInfo" : "enclaveIdentity"));
  SIGIL_ASSIGN_OR_RETURN(CollateralItem item, SignedJsonItem(body, sig, tcb));
  std::vector<CollateralItem> out;
  out.push_back(std::move(item));
  return out;
}

Result<std::vector<CollateralItem>> FromPemCrls(ByteSpan bytes) {
  BioPtr bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
  std::vector<CollateralItem> out;
  while (bio) {
    X509_CRL* crl = PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr);
    if (crl == nullptr) break;
    out.push_back(CrlItem(dcap::X509CrlPtr(crl)));
  }
  ERR_clear_error();
  if (out.empty()) return Fail(Code::kInvalidArgument, "corrupt PEM CRL");
  return out;
}

}  // namespace

std::string_view KindName(CollateralKind kind) {
  switch (kind) {
    case CollateralKind::kAmdArk: return "amd-ark";
    case CollateralKind::kAmdAsk: return "amd-ask";
    case CollateralKind::kAmdVcek: return "amd-vcek";
    case CollateralKind::kAmdVlek: return "amd-vlek";
    case CollateralKind::kIntelRoot: return "intel-root";
    case CollateralKind::kIntelCa: return "intel-ca";
    case CollateralKind::kIntelPck: return "intel-pck";
    case CollateralKind::kCrl: return "crl";
    case CollateralKind::kIntelTcbInfo: return "intel-tcb-info";
    case CollateralKind::kIntelQeIdentity: return "intel-qe-identity";
  }
  return "unknown";
}

bool IsTrustAnchor(CollateralKind kind) {
  return kind == CollateralKind::kAmdArk || kind == CollateralKind::kIntelRoot;
}

bool IsAmd(CollateralKind kind) {
  return kind == CollateralKind::kAmdArk || kind == CollateralKind::kAmdAsk ||
         kind == CollateralKind::kAmdVcek || kind == CollateralKind::kAmdVlek;
}

Result<std::vector<CollateralItem>> ClassifyCollateral(ByteSpan bytes) {
  std::size_t first = 0;
  while (first < bytes.size() && std::isspace(bytes[first])) ++first;
  if (first < bytes.size() && bytes[first] == '{') return FromJson(bytes);
  if (Contains(bytes, "-----BEGIN X509 CRL-----")) return FromPemCrls(bytes);
  std::vector<X509Ptr> certs;
  if (Contains(bytes, "-----BEGIN CERTIFICATE-----")) {
    auto parsed = attestation::snp::LoadCertificates(bytes, Code::kInvalidArgument);
    if (!parsed) return parsed.error();
    certs = std::move(parsed).value();
  } else {
    const unsigned char* p = bytes.data();
    X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(bytes.size())));
    if (cert && p == bytes.data() + bytes.size()) {
      certs.push_back(std::move(cert));
    } else {
      ERR_clear_error();
      auto crl = dcap::ParseCrl(bytes, "file");
      if (!crl) {
        return Fail(Code::kInvalidArgument,
                    "not a certificate, CRL, TCB info, QE identity or DCAP collateral bundle");
      }
      std::vector<CollateralItem> out;
      out.push_back(CrlItem(std::move(crl).value()));
      return out;
    }
  }
  std::vector<CollateralItem> out;
  for (X509Ptr& c : certs) {
    SIGIL_ASSIGN_OR_RETURN(CollateralItem item, CertItem(std::move(c)));
    out.push_back(std::move(item));
  }
  return out;
}

}  // namespace sigil::broker
