#include "tests/unit/attestation/nvidia/nvidia_test_util.h"

#include <openssl/ecdsa.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <fstream>
#include <iterator>

#include "core/encoding.h"
#include "core/result.h"

namespace sigil::testing::nvidia {
namespace {

using Asn1TimePtr = CPtr<ASN1_TIME, ASN1_TIME_free>;
using Asn1ObjectPtr = CPtr<ASN1_OBJECT, ASN1_OBJECT_free>;
using OctetPtr = CPtr<ASN1_OCTET_STRING, ASN1_OCTET_STRING_free>;
using EcdsaSigPtr = CPtr<ECDSA_SIG, ECDSA_SIG_free>;
using RevokedPtr = CPtr<X509_REVOKED, X509_REVOKED_free>;

constexpr std::int64_t k20240101 = 1704067200;
constexpr std::int64_t k20300101 = 1893456000;

void AddExt(X509& cert, X509& issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, &issuer, &cert, nullptr, nullptr, 0);
  X509ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  SIGIL_CHECK(ext && X509_add_ext(&cert, ext.get(), -1) == 1);
}

// DiceTcbInfo ::= SEQUENCE { fwids [6] IMPLICIT SEQUENCE OF FWID }, FWID ::= SEQUENCE {
// hashAlg OID sha384, digest OCTET STRING } (TCG DICE Attestation Architecture 6.1.1).
Bytes TcbInfo(const std::array<std::uint8_t, 48>& fwid) {
  const Bytes head = {0x30, 0x41, 0xA6, 0x3F, 0x30, 0x3D, 0x06, 0x09, 0x60, 0x86,
                      0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x04, 0x30};
  return Concat({head, fwid});
}

X509Ptr MakeCert(const char* cn, EVP_PKEY& key, X509* issuer, EVP_PKEY& issuer_key, long serial,
                 const Bytes* tcb_info) {
  X509Ptr cert(X509_new());
  SIGIL_CHECK(cert && X509_set_version(cert.get(), 2) == 1);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
  ASN1_TIME_set(X509_getm_notBefore(cert.get()), k20240101);
  ASN1_TIME_set(X509_getm_notAfter(cert.get()), k20300101);
  SIGIL_CHECK(X509_set_pubkey(cert.get(), &key) == 1);
  X509* iss = issuer ? issuer : cert.get();
  if (tcb_info == nullptr) {
    AddExt(*cert, *iss, NID_basic_constraints, "critical,CA:TRUE");
    AddExt(*cert, *iss, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    AddExt(*cert, *iss, NID_key_usage, "critical,digitalSignature");
    Asn1ObjectPtr oid(OBJ_txt2obj("2.23.133.5.4.1", 1));
    OctetPtr data(ASN1_OCTET_STRING_new());
    SIGIL_CHECK(oid && data &&
                ASN1_OCTET_STRING_set(data.get(), tcb_info->data(),
                                      static_cast<int>(tcb_info->size())) == 1);
    X509ExtPtr ext(X509_EXTENSION_create_by_OBJ(nullptr, oid.get(), 0, data.get()));
    SIGIL_CHECK(ext && X509_add_ext(cert.get(), ext.get(), -1) == 1);
  }
  SIGIL_CHECK(X509_sign(cert.get(), &issuer_key, EVP_sha384()) > 0);
  return cert;
}

std::string BioText(BIO& bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(&bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

}  // namespace

std::string VectorPath(const std::string& rel) {
  return std::string(SIGIL_SHARED_DIR) + "/vectors/nvidia-gpu/" + rel;
}

Bytes ReadVector(const std::string& rel) {
  std::ifstream in(VectorPath(rel), std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

Bytes ReportHexText() { return ReadVector("nvtrust/hopperAttestationReport.txt"); }
Bytes ReportBytes() {
  std::string text = ToString(ReportHexText());
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return HexDecode(text).value();
}
Bytes ChainPem() { return ReadVector("nvtrust/hopperCertChain.pem"); }
Bytes RootPem() { return ReadVector("nvtrust/verifier_device_root.pem"); }
Bytes ExpectedNonce() {
  return HexDecode("931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb").value();
}

std::chrono::system_clock::time_point At(std::int64_t unix_seconds) {
  return std::chrono::system_clock::time_point(std::chrono::seconds(unix_seconds));
}
std::chrono::system_clock::time_point VerifyTime() { return At(1735689600); }  // 2025-01-01

TestPki MakePki(const std::array<std::uint8_t, 48>& fwid) {
  TestPki pki;
  pki.root_key.reset(EVP_EC_gen("P-384"));
  pki.leaf_key.reset(EVP_EC_gen("P-384"));
  SIGIL_CHECK(pki.root_key && pki.leaf_key);
  pki.root = MakeCert("Sigil Test Device Root", *pki.root_key, nullptr, *pki.root_key, 1, nullptr);
  const Bytes tcb = TcbInfo(fwid);
  pki.leaf = MakeCert("Sigil Test GSP FMC LF", *pki.leaf_key, pki.root.get(), *pki.root_key, 7,
                      &tcb);
  return pki;
}

TestLeaf IssueLeaf(const TestPki& pki, const std::array<std::uint8_t, 48>& fwid, long serial) {
  TestLeaf leaf;
  leaf.key.reset(EVP_EC_gen("P-384"));
  SIGIL_CHECK(leaf.key);
  const Bytes tcb = TcbInfo(fwid);
  leaf.cert = MakeCert("Sigil Test GSP FMC LF", *leaf.key, pki.root.get(), *pki.root_key, serial, &tcb);
  return leaf;
}

TestPki3 MakePki3(const std::array<std::uint8_t, 48>& fwid) {
  TestPki3 pki;
  pki.base.root_key.reset(EVP_EC_gen("P-384"));
  pki.base.leaf_key.reset(EVP_EC_gen("P-384"));
  pki.ica_key.reset(EVP_EC_gen("P-384"));
  SIGIL_CHECK(pki.base.root_key && pki.base.leaf_key && pki.ica_key);
  pki.base.root = MakeCert("Sigil Test Device Root", *pki.base.root_key, nullptr,
                           *pki.base.root_key, 1, nullptr);
  pki.ica = MakeCert("Sigil Test ICA", *pki.ica_key, pki.base.root.get(), *pki.base.root_key, 3,
                     nullptr);
  const Bytes tcb = TcbInfo(fwid);
  pki.base.leaf = MakeCert("Sigil Test GSP FMC LF", *pki.base.leaf_key, pki.ica.get(),
                           *pki.ica_key, 7, &tcb);
  return pki;
}

std::string Pem(const X509& cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  SIGIL_CHECK(bio && PEM_write_bio_X509(bio.get(), const_cast<X509*>(&cert)) == 1);
  return BioText(*bio);
}

std::string CrlPem(const X509& issuer, EVP_PKEY& key, std::int64_t this_update,
                   std::int64_t next_update, const X509* revoked) {
  attestation::nvidia::X509CrlPtr crl(X509_CRL_new());
  Asn1TimePtr t1(ASN1_TIME_set(nullptr, this_update));
  Asn1TimePtr t2(ASN1_TIME_set(nullptr, next_update));
  SIGIL_CHECK(crl && t1 && t2 && X509_CRL_set_version(crl.get(), 1) == 1 &&
              X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(&issuer)) == 1 &&
              X509_CRL_set1_lastUpdate(crl.get(), t1.get()) == 1 &&
              X509_CRL_set1_nextUpdate(crl.get(), t2.get()) == 1);
  if (revoked != nullptr) {
    RevokedPtr entry(X509_REVOKED_new());
    SIGIL_CHECK(entry &&
                X509_REVOKED_set_serialNumber(entry.get(), const_cast<ASN1_INTEGER*>(
                                                               X509_get0_serialNumber(revoked))) == 1 &&
                X509_REVOKED_set_revocationDate(entry.get(), t1.get()) == 1 &&
                X509_CRL_add0_revoked(crl.get(), entry.get()) == 1);
    (void)entry.release();  // owned by the CRL
  }
  SIGIL_CHECK(X509_CRL_sort(crl.get()) == 1 && X509_CRL_sign(crl.get(), &key, EVP_sha384()) > 0);
  BioPtr bio(BIO_new(BIO_s_mem()));
  SIGIL_CHECK(bio && PEM_write_bio_X509_CRL(bio.get(), crl.get()) == 1);
  return BioText(*bio);
}

std::string OcspPem(const X509& cert, const X509& issuer, const X509& signer, EVP_PKEY& signer_key,
                    int status, std::int64_t this_update, std::int64_t next_update) {
  using BasicPtr = CPtr<OCSP_BASICRESP, OCSP_BASICRESP_free>;
  using CertIdPtr = CPtr<OCSP_CERTID, OCSP_CERTID_free>;
  using RespPtr = CPtr<OCSP_RESPONSE, OCSP_RESPONSE_free>;
  BasicPtr basic(OCSP_BASICRESP_new());
  CertIdPtr id(OCSP_cert_to_id(EVP_sha1(), &cert, &issuer));
  Asn1TimePtr t1(ASN1_TIME_set(nullptr, this_update));
  Asn1TimePtr t2(ASN1_TIME_set(nullptr, next_update));
  SIGIL_CHECK(basic && id && t1 && t2);
  SIGIL_CHECK(OCSP_basic_add1_status(basic.get(), id.get(), status, 0, t1.get(), t1.get(),
                                     t2.get()) != nullptr);
  SIGIL_CHECK(OCSP_basic_sign(basic.get(), const_cast<X509*>(&signer), &signer_key, EVP_sha384(),
                              nullptr, 0) == 1);
  RespPtr resp(OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, basic.get()));
  SIGIL_CHECK(resp != nullptr);
  unsigned char* der = nullptr;
  const int len = i2d_OCSP_RESPONSE(resp.get(), &der);
  SIGIL_CHECK(len > 0);
  BioPtr bio(BIO_new(BIO_s_mem()));
  const int ok = PEM_write_bio(bio.get(), "OCSP RESPONSE", "", der, len);
  OPENSSL_free(der);
  SIGIL_CHECK(bio && ok > 0);
  return BioText(*bio);
}

Bytes SignReport(attestation::nvidia::Report report, EVP_PKEY& key) {
  Bytes bytes = attestation::nvidia::SerializeReport(report);
  const std::size_t signed_size = bytes.size() - attestation::nvidia::kSignatureSize;
  EvpMdCtxPtr md(EVP_MD_CTX_new());
  std::size_t der_len = 0;
  SIGIL_CHECK(md && EVP_DigestSignInit(md.get(), nullptr, EVP_sha384(), nullptr, &key) == 1 &&
              EVP_DigestSign(md.get(), nullptr, &der_len, bytes.data(), signed_size) == 1);
  Bytes der(der_len);
  SIGIL_CHECK(EVP_DigestSign(md.get(), der.data(), &der_len, bytes.data(), signed_size) == 1);
  const unsigned char* p = der.data();
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len)));
  SIGIL_CHECK(sig != nullptr);
  std::uint8_t* out = bytes.data() + signed_size;
  SIGIL_CHECK(BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), out, 48) == 48 &&
              BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), out + 48, 48) == 48);
  return bytes;
}

}  // namespace sigil::testing::nvidia
