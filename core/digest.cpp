#include "core/digest.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/result.h"

namespace sigil {
namespace {
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

Sha256Digest Sha256(ByteSpan data) { return Digest<32>(EVP_sha256(), data); }
Sha384Digest Sha384(ByteSpan data) { return Digest<48>(EVP_sha384(), data); }
Sha512Digest Sha512(ByteSpan data) { return Digest<64>(EVP_sha512(), data); }

bool ConstantTimeEqual(ByteSpan a, ByteSpan b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace sigil
