#include "loader/owner_key.h"

#include <fcntl.h>
#include <openssl/pem.h>
#include <sys/stat.h>

#include "core/file_io.h"
#include "core/ossl.h"
#include "core/secret_bytes.h"
#include "loader/fd_util.h"

namespace sigil::loader {
namespace {

constexpr std::size_t kMaxKeyFileSize = 16 * 1024;

// The PEM text of a private key is as secret as the key: read it straight into locked memory.
Result<SecretBytes> ReadSecretFile(const std::string& path) {
  internal::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return internal::ErrnoError("open " + path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return internal::ErrnoError("stat " + path);
  if (!S_ISREG(st.st_mode) || st.st_size <= 0 || static_cast<std::size_t>(st.st_size) > kMaxKeyFileSize) {
    return Fail(Code::kInvalidArgument, path + ": not a key file (a regular file of 1..16384 bytes)");
  }
  SIGIL_ASSIGN_OR_RETURN(SecretBytes text, SecretBytes::Allocate(static_cast<std::size_t>(st.st_size)));
  auto buf = text.RevealMutable(SecretAccess::Get());
  SIGIL_RETURN_IF_ERROR(internal::PreadFull(fd.get(), buf.data(), buf.size(), 0, path));
  return text;
}

}  // namespace

Result<Ed25519Signer> ReadOwnerPrivateKeyFile(const std::string& path) {
  SIGIL_ASSIGN_OR_RETURN(SecretBytes pem, ReadSecretFile(path));
  auto text = pem.Reveal(SecretAccess::Get());
  BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  if (!bio) return OpenSslError(Code::kInternal, "BIO_new_mem_buf");
  // An empty passphrase callback result makes an encrypted key fail instead of prompting.
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, [](char*, int, int, void*) { return 0; }, nullptr));
  if (!key) return OpenSslError(Code::kInvalidArgument, path + ": not an unencrypted PEM private key");
  if (EVP_PKEY_get_id(key.get()) != EVP_PKEY_ED25519) {
    return Fail(Code::kInvalidArgument, path + ": not an Ed25519 key (make one with `openssl genpkey -algorithm ed25519`)");
  }
  SIGIL_ASSIGN_OR_RETURN(SecretBytes seed, SecretBytes::Allocate(kEd25519SeedSize));
  std::size_t len = seed.size();
  if (EVP_PKEY_get_raw_private_key(key.get(), seed.RevealMutable(SecretAccess::Get()).data(), &len) != 1 ||
      len != kEd25519SeedSize) {
    return OpenSslError(Code::kInvalidArgument, path + ": cannot read the Ed25519 private key");
  }
  return Ed25519Signer::FromSeed(seed.Reveal(SecretAccess::Get()));
}

Result<Bytes> ParseOwnerPublicKeyPem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return OpenSslError(Code::kInternal, "BIO_new_mem_buf");
  EvpPkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return OpenSslError(Code::kInvalidArgument, "not a PEM public key");
  if (EVP_PKEY_get_id(key.get()) != EVP_PKEY_ED25519) {
    return Fail(Code::kInvalidArgument, "not an Ed25519 public key");
  }
  Bytes raw(kEd25519PublicKeySize);
  std::size_t len = raw.size();
  if (EVP_PKEY_get_raw_public_key(key.get(), raw.data(), &len) != 1 || len != raw.size()) {
    return OpenSslError(Code::kInvalidArgument, "cannot read the Ed25519 public key");
  }
  return raw;
}

Result<Bytes> ReadOwnerPublicKeyFile(const std::string& path) {
  SIGIL_ASSIGN_OR_RETURN(std::string pem, ReadTextFile(path, kMaxKeyFileSize));
  auto raw = ParseOwnerPublicKeyPem(pem);
  if (!raw) return raw.error().Wrap(path);
  return raw;
}

}  // namespace sigil::loader
