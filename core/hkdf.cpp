#include "core/hkdf.h"

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "core/ossl.h"

namespace sigil {
namespace {

const char* DigestName(HkdfHash h) {
  switch (h) {
    case HkdfHash::kSha256: return "SHA256";
    case HkdfHash::kSha384: return "SHA384";
    case HkdfHash::kSha512: return "SHA512";
  }
  return "SHA256";
}

Result<SecretBytes> RunHkdf(HkdfHash h, int mode, ByteSpan salt, ByteSpan key, ByteSpan info,
                            std::size_t out_len) {
  EvpKdfPtr kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
  if (!kdf) return OpenSslError(Code::kInternal, "EVP_KDF_fetch(HKDF)");
  EvpKdfCtxPtr ctx(EVP_KDF_CTX_new(kdf.get()));
  if (!ctx) return OpenSslError(Code::kInternal, "EVP_KDF_CTX_new");
  // OpenSSL wants non-const pointers in OSSL_PARAM even for inputs; it does not write them.
  static std::uint8_t empty = 0;
  auto ptr = [](ByteSpan s) { return s.empty() ? &empty : const_cast<std::uint8_t*>(s.data()); };
  OSSL_PARAM params[6];
  std::size_t n = 0;
  params[n++] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
  params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>(DigestName(h)), 0);
  params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, ptr(key), key.size());
  if (mode == EVP_KDF_HKDF_MODE_EXTRACT_ONLY) {
    params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, ptr(salt), salt.size());
  } else {
    params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, ptr(info), info.size());
  }
  params[n++] = OSSL_PARAM_construct_end();
  SIGIL_ASSIGN_OR_RETURN(SecretBytes out, SecretBytes::Allocate(out_len));
  if (out_len == 0) return out;
  if (EVP_KDF_derive(ctx.get(), out.RevealMutable(SecretAccess::Get()).data(), out_len, params) != 1) {
    return OpenSslError(Code::kInternal, "HKDF derive");
  }
  return out;
}

}  // namespace

std::size_t HkdfHashSize(HkdfHash h) {
  switch (h) {
    case HkdfHash::kSha256: return 32;
    case HkdfHash::kSha384: return 48;
    case HkdfHash::kSha512: return 64;
  }
  return 32;
}

Result<SecretBytes> HkdfExtract(HkdfHash h, ByteSpan salt, ByteSpan ikm) {
  // RFC 5869 2.2: an empty salt means HashLen zero bytes.
  Bytes zeros;
  if (salt.empty()) {
    zeros.assign(HkdfHashSize(h), 0);
    salt = zeros;
  }
  return RunHkdf(h, EVP_KDF_HKDF_MODE_EXTRACT_ONLY, salt, ikm, {}, HkdfHashSize(h));
}

Result<SecretBytes> HkdfExpand(HkdfHash h, ByteSpan prk, ByteSpan info, std::size_t length) {
  if (length > 255 * HkdfHashSize(h)) {
    return Fail(Code::kInvalidArgument, "HKDF-Expand: length " + std::to_string(length) + " too large");
  }
  return RunHkdf(h, EVP_KDF_HKDF_MODE_EXPAND_ONLY, {}, prk, info, length);
}

}  // namespace sigil
