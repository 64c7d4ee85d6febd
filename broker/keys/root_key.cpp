#include "broker/keys/root_key.h"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "broker/tpm/tpm_seal_root_key.h"
#include "core/aead.h"
#include "core/encoding.h"
#include "core/file_io.h"
#include "core/json.h"
#include "core/unique_fd.h"

namespace sigil::broker {
namespace {
constexpr std::string_view kAad = "sigil/v1/root-key";
constexpr const char* kPassphraseEnv = "SIGIL_ROOT_PASSPHRASE";
constexpr std::size_t kMaxSecretFile = 4096;

// Refuses parameters below libsodium's INTERACTIVE limits (2 passes, 64 MiB), whether asked for
// by a caller or read from a root key file: a corrupted or hostile data directory must not be
// able to make the passphrase cheap to guess.
Result<void> CheckArgon2Params(Argon2Params p, const std::string& where) {
  const Argon2Params min = MinimumArgon2Params();
  if (p.opslimit < min.opslimit || p.memlimit < min.memlimit) {
    return Fail(Code::kInvalidArgument,
                where + ": Argon2id parameters opslimit " + std::to_string(p.opslimit) + ", memlimit " +
                    std::to_string(p.memlimit) + " are weaker than the minimum (opslimit " +
                    std::to_string(min.opslimit) + ", memlimit " + std::to_string(min.memlimit) +
                    "); refusing to derive the root key's wrapping key with them");
  }
  if (p.opslimit > crypto_pwhash_OPSLIMIT_MAX || p.memlimit > crypto_pwhash_MEMLIMIT_MAX) {
    return Fail(Code::kInvalidArgument, where + ": Argon2id parameters out of range");
  }
  return Ok();
}

// The first line of `path` read straight into guarded memory: the secret never sits in a
// std::string or an unzeroed heap buffer. A FIFO works too (read until EOF).
Result<SecretBytes> ReadFirstLine(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Fail(Code::kNotFound, "cannot open " + path + ": " + std::strerror(errno));
  SIGIL_ASSIGN_OR_RETURN(SecretBytes buf, SecretBytes::Allocate(kMaxSecretFile));
  auto span = buf.RevealMutable(SecretAccess::Get());
  std::size_t len = 0;
  for (;;) {
    if (len == span.size()) {
      std::uint8_t extra;
      if (::read(fd.get(), &extra, 1) > 0) {
        sodium_memzero(&extra, 1);
        return Fail(Code::kInvalidArgument, path + ": larger than " + std::to_string(kMaxSecretFile) + " bytes");
      }
      break;
    }
    ssize_t n = ::read(fd.get(), span.data() + len, span.size() - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Fail(Code::kUnavailable, "cannot read " + path + ": " + std::strerror(errno));
    if (n == 0) break;
    len += static_cast<std::size_t>(n);
  }
  auto first = span.first(len);
  auto nl = std::find(first.begin(), first.end(), std::uint8_t{'\n'});
  return SecretBytes::CopyFrom(first.first(static_cast<std::size_t>(nl - first.begin())));
}

// Overwrites the value of SIGIL_ROOT_PASSPHRASE in place (the bytes /proc/PID/environ shows)
// and removes the variable, so neither this process's memory nor its children see it.
void ScrubPassphraseEnv() {
  if (char* env = std::getenv(kPassphraseEnv)) sodium_memzero(env, std::strlen(env));
  ::unsetenv(kPassphraseEnv);
}

Result<SecretBytes> DeriveKek(const SecretBytes& pass, ByteSpan salt, Argon2Params p) {
  EnsureSodium();
  SIGIL_ASSIGN_OR_RETURN(SecretBytes kek, SecretBytes::Allocate(32));
  auto pw = pass.Reveal(SecretAccess::Get());
  if (crypto_pwhash(kek.RevealMutable(SecretAccess::Get()).data(), 32, reinterpret_cast<const char*>(pw.data()),
                    pw.size(), salt.data(), p.opslimit, p.memlimit, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Fail(Code::kUnavailable, "Argon2id: out of memory");
  }
  return kek;
}
Result<Json> PassphraseJson(const SecretBytes& root, const SecretBytes& passphrase, Argon2Params params) {
  if (passphrase.empty()) return Fail(Code::kInvalidArgument, "a passphrase is required");
  SIGIL_RETURN_IF_ERROR(CheckArgon2Params(params, "root key"));
  EnsureSodium();  // randombytes_buf cannot fail, but only once sodium_init has succeeded
  Bytes salt(crypto_pwhash_SALTBYTES), nonce(kAeadNonceSize);
  randombytes_buf(salt.data(), salt.size());
  randombytes_buf(nonce.data(), nonce.size());
  SIGIL_ASSIGN_OR_RETURN(SecretBytes kek, DeriveKek(passphrase, salt, params));
  SIGIL_ASSIGN_OR_RETURN(Bytes ct, AeadSeal(AeadAlg::kAes256Gcm, kek.Reveal(SecretAccess::Get()), nonce,
                                            AsBytes(kAad), root.Reveal(SecretAccess::Get())));
  Json j;
  j["type"] = "sigil-root-key";
  j["mode"] = "passphrase";
  j["kdf"] = "argon2id";
  j["opslimit"] = params.opslimit;
  j["memlimit"] = params.memlimit;
  j["salt"] = Base64UrlEncode(salt);
  j["nonce"] = Base64UrlEncode(nonce);
  j["wrapped"] = Base64UrlEncode(ct);
  return j;
}

Json DevPlaintextJson(const SecretBytes& root) {
  Json j;
  j["type"] = "sigil-root-key";
  j["mode"] = "dev-plaintext";
  j["warning"] = "INSECURE: development mode, the root key is stored in plain text";
  j["key"] = Base64UrlEncode(root.Reveal(SecretAccess::Get()));
  return j;
}

Result<void> WriteJson(const std::string& path, const Json& j) {
  std::string text = j.dump(2) + "\n";
  auto w = WriteFileAtomic(path, AsBytes(text), 0600);
  sodium_memzero(text.data(), text.size());
  return w;
}

}  // namespace

Argon2Params DefaultArgon2Params() {
  return {crypto_pwhash_OPSLIMIT_MODERATE, crypto_pwhash_MEMLIMIT_MODERATE};
}

Argon2Params MinimumArgon2Params() {
  return {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE};
}

Result<SecretBytes> CreateRootKey(const std::string& path, RootKeyMode mode, const SecretBytes* passphrase,
                                  Argon2Params params) {
  EnsureSodium();
  if (mode == RootKeyMode::kTpm) return Fail(Code::kInvalidArgument, "TPM mode: create the key, then WriteTpmRootKey");
  SIGIL_ASSIGN_OR_RETURN(SecretBytes root, SecretBytes::Random(32));
  Json j;
  if (mode == RootKeyMode::kDevPlaintext) {
    j = DevPlaintextJson(root);
  } else {
    if (passphrase == nullptr || passphrase->empty()) return Fail(Code::kInvalidArgument, "a passphrase is required");
    SIGIL_ASSIGN_OR_RETURN(j, PassphraseJson(root, *passphrase, params));
  }
  SIGIL_RETURN_IF_ERROR(WriteJson(path, j));
  return root;
}

Result<void> WritePassphraseRootKey(const std::string& path, const SecretBytes& root, const SecretBytes& passphrase,
                                    Argon2Params params) {
  SIGIL_ASSIGN_OR_RETURN(Json j, PassphraseJson(root, passphrase, params));
  return WriteJson(path, j);
}

Result<Bytes> EncodePassphraseRootKey(const SecretBytes& root, const SecretBytes& passphrase, Argon2Params params) {
  SIGIL_ASSIGN_OR_RETURN(Json j, PassphraseJson(root, passphrase, params));
  const std::string text = j.dump(2) + "\n";
  return Bytes(text.begin(), text.end());  // the root key is AEAD-sealed inside; nothing secret
}

Result<void> WriteRootKey(const std::string& path, const SecretBytes& root, RootKeyMode mode,
                          const SecretBytes* passphrase) {
  if (mode == RootKeyMode::kTpm) return Fail(Code::kInvalidArgument, "TPM mode: use WriteTpmRootKey");
  if (mode == RootKeyMode::kPassphrase) {
    if (passphrase == nullptr || passphrase->empty()) return Fail(Code::kInvalidArgument, "a passphrase is required");
    return WritePassphraseRootKey(path, root, *passphrase);
  }
  return WriteJson(path, DevPlaintextJson(root));
}

Result<void> WriteTpmRootKey(const std::string& path, const SecretBytes& root, const TpmSealSpec& spec) {
  SIGIL_ASSIGN_OR_RETURN(Json j, SealRootKey(root, spec));
  return WriteJson(path, j);
}

Result<SecretBytes> LoadRootKey(const std::string& path, const SecretBytes* passphrase, bool* is_dev_mode) {
  RootKeyUnlock unlock;
  unlock.passphrase = passphrase;
  RootKeyMode mode = RootKeyMode::kPassphrase;
  auto key = LoadRootKey(path, unlock, &mode);
  if (is_dev_mode) *is_dev_mode = mode == RootKeyMode::kDevPlaintext;
  return key;
}

Result<SecretBytes> LoadRootKey(const std::string& path, const RootKeyUnlock& unlock, RootKeyMode* out_mode) {
  SIGIL_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path, 1 << 16));
  auto key = DecodeRootKey(text, path, unlock, out_mode);
  sodium_memzero(text.data(), text.size());
  return key;
}

Result<SecretBytes> DecodeRootKey(std::string_view text, const std::string& path, const RootKeyUnlock& unlock,
                                  RootKeyMode* out_mode) {
  const SecretBytes* passphrase = unlock.passphrase;
  auto parsed = ParseJson(text, path);
  if (!parsed) return std::move(parsed).error();
  const Json& j = *parsed;
  SIGIL_ASSIGN_OR_RETURN(std::string mode, GetString(j, "mode", path));
  if (mode == "dev-plaintext") {
    if (out_mode) *out_mode = RootKeyMode::kDevPlaintext;
    SIGIL_ASSIGN_OR_RETURN(std::string k, GetString(j, "key", path));
    auto decoded = Base64UrlDecode(k);
    sodium_memzero(k.data(), k.size());
    SIGIL_ASSIGN_OR_RETURN(Bytes raw, std::move(decoded));
    auto key = SecretBytes::CopyFrom(raw);
    sodium_memzero(raw.data(), raw.size());
    if (key && key->size() != 32) return Fail(Code::kInvalidArgument, path + ": root key must be 32 bytes");
    return key;
  }
  if (mode == "tpm") {
    if (out_mode) *out_mode = RootKeyMode::kTpm;
    return UnsealRootKey(j, path, unlock);
  }
  if (mode != "passphrase") return Fail(Code::kInvalidArgument, path + ": unknown root key mode '" + mode + "'");
  if (out_mode) *out_mode = RootKeyMode::kPassphrase;
  if (passphrase == nullptr) return Fail(Code::kInvalidArgument, "the root key is passphrase-protected: set SIGIL_ROOT_PASSPHRASE or --passphrase-file");
  SIGIL_ASSIGN_OR_RETURN(std::int64_t ops, GetInt(j, "opslimit", path));
  SIGIL_ASSIGN_OR_RETURN(std::int64_t mem, GetInt(j, "memlimit", path));
  SIGIL_ASSIGN_OR_RETURN(std::string salt_s, GetString(j, "salt", path));
  SIGIL_ASSIGN_OR_RETURN(std::string nonce_s, GetString(j, "nonce", path));
  SIGIL_ASSIGN_OR_RETURN(std::string ct_s, GetString(j, "wrapped", path));
  SIGIL_ASSIGN_OR_RETURN(Bytes salt, Base64UrlDecode(salt_s));
  SIGIL_ASSIGN_OR_RETURN(Bytes nonce, Base64UrlDecode(nonce_s));
  SIGIL_ASSIGN_OR_RETURN(Bytes ct, Base64UrlDecode(ct_s));
  if (auto kdf = GetString(j, "kdf", path); !kdf || *kdf != "argon2id") {
    return Fail(Code::kInvalidArgument, path + ": the KDF must be \"argon2id\"");
  }
  if (salt.size() != crypto_pwhash_SALTBYTES || ops <= 0 || mem <= 0) return Fail(Code::kInvalidArgument, path + ": bad KDF parameters");
  const Argon2Params params{static_cast<unsigned long long>(ops), static_cast<std::size_t>(mem)};
  SIGIL_RETURN_IF_ERROR(CheckArgon2Params(params, path));
  SIGIL_ASSIGN_OR_RETURN(SecretBytes kek, DeriveKek(*passphrase, salt, params));
  auto root = AeadOpenSecret(AeadAlg::kAes256Gcm, kek.Reveal(SecretAccess::Get()), nonce, AsBytes(kAad), ct);
  if (!root) return Fail(Code::kUnauthenticated, "wrong passphrase for the root key in " + path);
  return root;
}

Result<SecretBytes> ReadSecretLine(const std::string& file) {
  SIGIL_ASSIGN_OR_RETURN(SecretBytes r, ReadFirstLine(file));
  if (r.empty()) return Fail(Code::kInvalidArgument, file + ": the first line is empty");
  return r;
}

Result<SecretBytes> ReadPassphrase(const std::string& passphrase_file) {
  if (!passphrase_file.empty()) {
    ScrubPassphraseEnv();  // not used, but not left behind either
    return ReadFirstLine(passphrase_file);
  }
  const char* env = std::getenv(kPassphraseEnv);
  if (env == nullptr || *env == '\0') {
    ScrubPassphraseEnv();
    return Fail(Code::kInvalidArgument, "no passphrase: set SIGIL_ROOT_PASSPHRASE or pass --passphrase-file");
  }
  auto r = SecretBytes::CopyFrom({reinterpret_cast<const std::uint8_t*>(env), std::strlen(env)});
  ScrubPassphraseEnv();
  return r;
}

}  // namespace sigil::broker
