#include "cli/csr.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <span>

#include "core/bytes.h"
#include "core/file_io.h"
#include "core/ossl.h"

namespace sigil::cli {
namespace {

using X509ReqPtr = CPtr<X509_REQ, X509_REQ_free>;

// RFC 5280's upper bound for a commonName (ub-common-name); OpenSSL refuses longer ones.
constexpr std::size_t kMaxCommonName = 64;

Result<X509ReqPtr> ParseCsr(const std::string& pem, const std::string& what) {
  BioPtr in(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!in) return OpenSslError(Code::kInternal, "BIO_new_mem_buf");
  X509ReqPtr req(PEM_read_bio_X509_REQ(in.get(), nullptr, nullptr, nullptr));
  if (!req) return OpenSslError(Code::kInvalidArgument, what + ": not a PEM certificate request (PKCS#10)");
  EVP_PKEY* pub = X509_REQ_get0_pubkey(req.get());
  if (pub == nullptr || X509_REQ_verify(req.get(), pub) != 1) {
    return OpenSslError(Code::kInvalidArgument, what + ": the request's signature does not verify with its own key");
  }
  return req;
}

Result<std::string> CsrPem(X509_REQ* req) {
  BioPtr out(BIO_new(BIO_s_mem()));
  if (!out || PEM_write_bio_X509_REQ(out.get(), req) != 1) {
    return OpenSslError(Code::kInternal, "cannot encode the certificate request");
  }
  char* data = nullptr;
  long n = BIO_get_mem_data(out.get(), &data);
  if (n <= 0 || data == nullptr) return OpenSslError(Code::kInternal, "cannot encode the certificate request");
  return std::string(data, static_cast<std::size_t>(n));
}

Error ErrnoError(const std::string& what, const std::string& path) {
  return Error(Code::kUnavailable, what + " " + path + ": " + std::strerror(errno));
}

bool EntryExists(const std::string& path) {  // lstat: a dangling symlink counts
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

}  // namespace

Result<KeyAndCsr> GenerateKeyAndCsr(const std::string& common_name) {
  EvpPkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return OpenSslError(Code::kInternal, "cannot generate a P-256 key");
  X509ReqPtr req(X509_REQ_new());
  if (!req) return OpenSslError(Code::kInternal, "X509_REQ_new");
  const std::string cn = common_name.substr(0, kMaxCommonName);
  X509_NAME* subject = X509_REQ_get_subject_name(req.get());
  if (X509_REQ_set_version(req.get(), 0) != 1 ||  // 0 is PKCS#10 version 1, the only one
      X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.data()),
                                 static_cast<int>(cn.size()), -1, 0) != 1 ||
      X509_REQ_set_pubkey(req.get(), key.get()) != 1 || X509_REQ_sign(req.get(), key.get(), EVP_sha256()) <= 0) {
    return OpenSslError(Code::kInternal, "cannot build the certificate request");
  }
  SIGIL_ASSIGN_OR_RETURN(std::string csr, CsrPem(req.get()));
  // A secure-heap memory BIO: its buffer is cleansed when freed.
  BioPtr out(BIO_new(BIO_s_secmem()));
  if (!out || PEM_write_bio_PrivateKey(out.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return OpenSslError(Code::kInternal, "cannot encode the private key");
  }
  char* data = nullptr;
  long n = BIO_get_mem_data(out.get(), &data);
  if (n <= 0 || data == nullptr) return OpenSslError(Code::kInternal, "cannot encode the private key");
  SIGIL_ASSIGN_OR_RETURN(SecretBytes key_pem,
                         SecretBytes::CopyFrom(std::span(reinterpret_cast<const std::uint8_t*>(data), static_cast<std::size_t>(n))));
  return KeyAndCsr{std::move(key_pem), std::move(csr)};
}

Result<std::string> ReadCsrFile(const std::string& path) {
  SIGIL_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path, 1 << 16));
  SIGIL_ASSIGN_OR_RETURN(X509ReqPtr req, ParseCsr(text, path));
  return CsrPem(req.get());
}

Result<void> CheckCertificateMatchesCsr(const std::string& cert_pem, const std::string& csr_pem) {
  BioPtr in(BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())));
  if (!in) return OpenSslError(Code::kInternal, "BIO_new_mem_buf");
  X509Ptr cert(PEM_read_bio_X509(in.get(), nullptr, nullptr, nullptr));
  if (!cert) return OpenSslError(Code::kInternal, "the broker's answer holds no PEM certificate");
  SIGIL_ASSIGN_OR_RETURN(X509ReqPtr req, ParseCsr(csr_pem, "certificate request"));
  EVP_PKEY* cert_key = X509_get0_pubkey(cert.get());
  if (cert_key == nullptr || EVP_PKEY_eq(cert_key, X509_REQ_get0_pubkey(req.get())) != 1) {
    ERR_clear_error();
    return Fail(Code::kInternal, "the broker's certificate is not for the key of the request sent; nothing was written");
  }
  return Ok();
}

Result<void> MakePrivateDirs(const std::string& dir) {
  if (dir.empty()) return Fail(Code::kInvalidArgument, "empty directory name");
  for (std::size_t pos = 1;; ++pos) {
    pos = dir.find('/', pos);
    const std::string part = dir.substr(0, pos);
    if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) return ErrnoError("cannot create", part);
    if (pos == std::string::npos) break;
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return ErrnoError("cannot stat", dir);
  if (!S_ISDIR(st.st_mode)) return Fail(Code::kInvalidArgument, dir + " exists and is not a directory");
  return Ok();
}

Result<void> RefuseExistingCredentials(const std::string& dir) {
  for (const char* f : {"/admin.key", "/admin.pem"}) {
    if (EntryExists(dir + f)) {
      return Fail(Code::kAlreadyExists, dir + f + " already exists: credentials are never overwritten; "
                                             "choose another directory or move the old credential away first");
    }
  }
  return Ok();
}

Result<void> WriteCredentials(const std::string& dir, const std::string& cert_pem, const SecretBytes* key_pem) {
  const std::string key_new = dir + "/admin.key.new", cert_new = dir + "/admin.pem.new";
  if (key_pem != nullptr) SIGIL_RETURN_IF_ERROR(WriteFileAtomic(key_new, key_pem->Reveal(SecretAccess::Get()), 0600));
  if (auto r = WriteFileAtomic(cert_new, AsBytes(cert_pem), 0644); !r) {
    ::unlink(key_new.c_str());
    return std::move(r).error();
  }
  if (key_pem != nullptr && ::rename(key_new.c_str(), (dir + "/admin.key").c_str()) != 0) {
    Error e = ErrnoError("cannot rename onto", dir + "/admin.key");
    ::unlink(key_new.c_str());
    ::unlink(cert_new.c_str());
    return e;
  }
  if (::rename(cert_new.c_str(), (dir + "/admin.pem").c_str()) != 0) {
    Error e = ErrnoError("cannot rename onto", dir + "/admin.pem");
    ::unlink(cert_new.c_str());
    return e;
  }
  return Ok();
}

}  // namespace sigil::cli
