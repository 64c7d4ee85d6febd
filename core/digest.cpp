#include "core/digest.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/ossl.h"
#include "core/result.h"

namespace sigil {
namespace {
// Explicitly fetched once: EVP_sha256() and friends make EVP_Digest fetch the implementation
// from the provider store on every call, under a global read-write lock (perf of the Merkle
// tests: ~21% of the time in pthread_rwlock_* with two lock operations per hash). Kept for the
// life of the process, like the default provider they come from.
const EVP_MD* Fetched(const char* name) {
  EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);
  SIGIL_CHECK(md != nullptr);
  return md;
}

template <std::size_t N>
std::array<std::uint8_t, N> Digest(const EVP_MD* md, ByteSpan data) {
  std::array<std::uint8_t, N> out{};
  unsigned int len = 0;
  // EVP_Digest only fails on allocation failure, which we treat as fatal like any OOM.
  SIGIL_CHECK(EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr) == 1);
  SIGIL_CHECK(len == N);
  return out;
}
}  // namespace

Sha256Digest Sha256(ByteSpan data) {
  static const EVP_MD* const md = Fetched("SHA2-256");
  return Digest<32>(md, data);
}
Sha384Digest Sha384(ByteSpan data) {
  static const EVP_MD* const md = Fetched("SHA2-384");
  return Digest<48>(md, data);
}
Sha512Digest Sha512(ByteSpan data) {
  static const EVP_MD* const md = Fetched("SHA2-512");
  return Digest<64>(md, data);
}

bool ConstantTimeEqual(ByteSpan a, ByteSpan b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Result<Bytes> HmacSha256(ByteSpan key, ByteSpan message) {
  Bytes out(32);
  std::size_t n = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(), message.data(), message.size(),
                out.data(), out.size(), &n) == nullptr ||
      n != out.size()) {
    return OpenSslError(Code::kInternal, "HMAC-SHA256");
  }
  return out;
}

}  // namespace sigil
