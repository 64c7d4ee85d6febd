#include "broker/keys/certs.h"

#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <ctime>

#include "core/digest.h"
#include "core/encoding.h"
#include "core/file_io.h"
#include "core/ossl.h"

namespace sigil::broker {
namespace {

Result<EvpPkeyPtr> NewEcKey() {
  EvpPkeyPtr k(EVP_EC_gen("P-256"));
  if (!k) return OpenSslError(Code::kInternal, "EC key generation");
  return k;
}

Result<void> AddExt(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, issuer, cert, nullptr, nullptr, 0);
  X509ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &v3, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) return OpenSslError(Code::kInternal, "X509 extension " + value);
  return Ok();
}

Result<X509Ptr> MakeCert(EVP_PKEY* subject_key, const std::string& cn, X509* issuer, EVP_PKEY* issuer_key, bool is_ca,
                         const std::vector<std::pair<int, std::string>>& exts, long validity_seconds = 0) {
  X509Ptr cert(X509_new());
  if (!cert) return OpenSslError(Code::kInternal, "X509_new");
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return OpenSslError(Code::kInternal, "RAND_bytes(certificate serial)");
  serial[0] &= 0x7f;
  BignumPtr bn(BN_bin2bn(serial, sizeof serial, nullptr));
  BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get()));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  if (validity_seconds == 0) validity_seconds = is_ca ? 10L * 365 * 86400 : 2L * 365 * 86400;
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), validity_seconds);
  X509_set_pubkey(cert.get(), subject_key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("Sigil"), -1, -1, 0);
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0) != 1) {
    return OpenSslError(Code::kInternal, "certificate common name '" + cn + "'");
  }
  X509* iss = issuer ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(iss));
  SIGIL_RETURN_IF_ERROR(AddExt(cert.get(), iss, NID_basic_constraints, is_ca ? "critical,CA:TRUE,pathlen:0" : "critical,CA:FALSE"));
  SIGIL_RETURN_IF_ERROR(AddExt(cert.get(), iss, NID_subject_key_identifier, "hash"));
  if (issuer) SIGIL_RETURN_IF_ERROR(AddExt(cert.get(), iss, NID_authority_key_identifier, "keyid:always"));
  for (const auto& [nid, value] : exts) SIGIL_RETURN_IF_ERROR(AddExt(cert.get(), iss, nid, value));
  if (X509_sign(cert.get(), issuer_key, EVP_sha256()) == 0) return OpenSslError(Code::kInternal, "X509_sign");
  return cert;
}

Result<void> WritePem(const std::string& path, X509* cert, EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  int ok = cert ? PEM_write_bio_X509(bio.get(), cert) : PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  if (ok != 1) return OpenSslError(Code::kInternal, "PEM write " + path);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  auto r = WriteFileAtomic(path, ByteSpan(reinterpret_cast<const std::uint8_t*>(data), static_cast<std::size_t>(n)),
                           cert ? 0644 : 0600);
  if (!cert) OPENSSL_cleanse(data, static_cast<std::size_t>(n));
  return r;
}

Result<X509Ptr> MakeServerCert(EVP_PKEY* srv_key, X509* ca, EVP_PKEY* ca_key, const std::vector<std::string>& extra_names) {
  std::string san = "DNS:localhost,IP:127.0.0.1,IP:::1";
  for (const auto& n : extra_names) san += (n.find_first_not_of("0123456789.:") == std::string::npos ? ",IP:" : ",DNS:") + n;
  return MakeCert(srv_key, "sigild", ca, ca_key, false,
                  {{NID_subject_alt_name, san}, {NID_ext_key_usage, "serverAuth"}, {NID_key_usage, "critical,digitalSignature"}});
}

// The extensions of an admin client certificate naming `principal_uri`.
std::vector<std::pair<int, std::string>> AdminCertExtensions(const std::string& principal_uri) {
  return {{NID_subject_alt_name, "URI:" + principal_uri}, {NID_ext_key_usage, "clientAuth"},
          {NID_key_usage, "critical,digitalSignature"}};
}

IssuedAdminCert Describe(X509* cert, std::string pem) {
  IssuedAdminCert out;
  out.pem = std::move(pem);
  out.serial = CertSerialHex(cert);
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(X509_get0_pubkey(cert), &der);
  if (len > 0) out.key_sha256 = HexEncode(Sha256(ByteSpan(der, static_cast<std::size_t>(len))));
  OPENSSL_free(der);
  std::tm tm{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) == 1) out.not_after = timegm(&tm);
  return out;
}

Result<std::string> CertPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return OpenSslError(Code::kInternal, "PEM write certificate");
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

Result<SecretBytes> KeyPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return OpenSslError(Code::kInternal, "PEM write key");
  }
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  auto out = SecretBytes::CopyFrom(ByteSpan(reinterpret_cast<const std::uint8_t*>(data), static_cast<std::size_t>(n)));
  OPENSSL_cleanse(data, static_cast<std::size_t>(n));
  return out;
}

struct LoadedCa {
  X509Ptr cert;
  EvpPkeyPtr key;
};
Result<LoadedCa> LoadCa(ByteSpan ca_cert_pem, const SecretBytes& ca_key_pem) {
  BioPtr cert_bio(BIO_new_mem_buf(ca_cert_pem.data(), static_cast<int>(ca_cert_pem.size())));
  X509Ptr ca(cert_bio ? PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!ca) return OpenSslError(Code::kInvalidArgument, "the broker CA certificate does not parse");
  auto key_pem = ca_key_pem.Reveal(SecretAccess::Get());
  BioPtr key_bio(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
  EvpPkeyPtr ca_key(key_bio ? PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!ca_key) return OpenSslError(Code::kInvalidArgument, "the broker CA key does not parse");
  if (X509_check_private_key(ca.get(), ca_key.get()) != 1) {
    return OpenSslError(Code::kVerificationFailed, "the broker CA key does not match its certificate");
  }
  return LoadedCa{std::move(ca), std::move(ca_key)};
}

}  // namespace

Result<GeneratedTls> GenerateTlsMaterial(const TlsFiles& out, const std::vector<std::string>& extra_names,
                                         const std::string& operator_uri, long operator_validity_seconds) {
  SIGIL_ASSIGN_OR_RETURN(EvpPkeyPtr ca_key, NewEcKey());
  SIGIL_ASSIGN_OR_RETURN(X509Ptr ca, MakeCert(ca_key.get(), "Sigil broker CA", nullptr, ca_key.get(), true,
                                              {{NID_key_usage, "critical,keyCertSign,cRLSign"}}));
  SIGIL_ASSIGN_OR_RETURN(EvpPkeyPtr srv_key, NewEcKey());
  SIGIL_ASSIGN_OR_RETURN(X509Ptr srv, MakeServerCert(srv_key.get(), ca.get(), ca_key.get(), extra_names));
  SIGIL_ASSIGN_OR_RETURN(EvpPkeyPtr adm_key, NewEcKey());
  SIGIL_ASSIGN_OR_RETURN(X509Ptr adm, MakeCert(adm_key.get(), "operator", ca.get(), ca_key.get(), false,
                                               AdminCertExtensions(operator_uri), operator_validity_seconds));
  SIGIL_RETURN_IF_ERROR(WritePem(out.ca_cert, ca.get(), nullptr));
  SIGIL_RETURN_IF_ERROR(WritePem(out.server_cert, srv.get(), nullptr));
  SIGIL_RETURN_IF_ERROR(WritePem(out.server_key, nullptr, srv_key.get()));
  SIGIL_RETURN_IF_ERROR(WritePem(out.admin_cert, adm.get(), nullptr));
  SIGIL_RETURN_IF_ERROR(WritePem(out.admin_key, nullptr, adm_key.get()));
  // The CA key never reaches the disk in clear: the caller wraps it with the root key.
  SIGIL_ASSIGN_OR_RETURN(SecretBytes ca_key_pem, KeyPem(ca_key.get()));
  SIGIL_ASSIGN_OR_RETURN(std::string adm_pem, CertPem(adm.get()));
  return GeneratedTls{std::move(ca_key_pem), Describe(adm.get(), std::move(adm_pem))};
}

Result<IssuedAdminCert> IssueAdminCertificate(ByteSpan ca_cert_pem, const SecretBytes& ca_key_pem, std::string_view csr_pem,
                                              const std::string& principal_uri, const std::string& common_name,
                                              long validity_seconds) {
  SIGIL_ASSIGN_OR_RETURN(LoadedCa ca, LoadCa(ca_cert_pem, ca_key_pem));
  BioPtr bio(BIO_new_mem_buf(csr_pem.data(), static_cast<int>(csr_pem.size())));
  CPtr<X509_REQ, X509_REQ_free> req(bio ? PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!req) return OpenSslError(Code::kInvalidArgument, "csr: not a PEM certificate signing request (PKCS #10)");
  EVP_PKEY* subject_key = X509_REQ_get0_pubkey(req.get());
  if (subject_key == nullptr) return OpenSslError(Code::kInvalidArgument, "csr: no public key");
  // Proof that the requester holds the private key: the request's own signature.
  if (X509_REQ_verify(req.get(), subject_key) != 1) {
    return OpenSslError(Code::kInvalidArgument, "csr: its signature does not verify with its own public key");
  }
  const int bits = EVP_PKEY_get_bits(subject_key);
  if (!EVP_PKEY_is_a(subject_key, "EC") || (bits != 256 && bits != 384)) {
    return Fail(Code::kInvalidArgument, "csr: the key must be ECDSA P-256 or P-384");
  }
  // The subject and extensions the request asks for are ignored: the broker names the principal.
  SIGIL_ASSIGN_OR_RETURN(X509Ptr cert, MakeCert(subject_key, common_name, ca.cert.get(), ca.key.get(), false,
                                                AdminCertExtensions(principal_uri), validity_seconds));
  SIGIL_ASSIGN_OR_RETURN(std::string pem, CertPem(cert.get()));
  return Describe(cert.get(), std::move(pem));
}

Result<void> IssueServerCertificate(ByteSpan ca_cert_pem, const SecretBytes& ca_key_pem, const std::string& server_cert,
                                    const std::string& server_key, const std::vector<std::string>& extra_names) {
  SIGIL_ASSIGN_OR_RETURN(LoadedCa ca, LoadCa(ca_cert_pem, ca_key_pem));
  SIGIL_ASSIGN_OR_RETURN(EvpPkeyPtr srv_key, NewEcKey());
  SIGIL_ASSIGN_OR_RETURN(X509Ptr srv, MakeServerCert(srv_key.get(), ca.cert.get(), ca.key.get(), extra_names));
  SIGIL_RETURN_IF_ERROR(WritePem(server_cert, srv.get(), nullptr));
  return WritePem(server_key, nullptr, srv_key.get());
}

}  // namespace sigil::broker
