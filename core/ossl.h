// RAII aliases for OpenSSL handles (one alias per type, pointer-sized, access via .get()) and
// the one place that turns OpenSSL's error queue into a Sigil Error.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"

namespace sigil {

template <auto Fn>
struct FnDeleter {
  template <class T>
  void operator()(T* p) const noexcept { Fn(p); }
};
template <class T, auto Fn>
using CPtr = std::unique_ptr<T, FnDeleter<Fn>>;

using EvpPkeyPtr = CPtr<EVP_PKEY, EVP_PKEY_free>;
using EvpPkeyCtxPtr = CPtr<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using EvpCipherCtxPtr = CPtr<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>;
using EvpMdCtxPtr = CPtr<EVP_MD_CTX, EVP_MD_CTX_free>;
using EvpKdfPtr = CPtr<EVP_KDF, EVP_KDF_free>;
using EvpKdfCtxPtr = CPtr<EVP_KDF_CTX, EVP_KDF_CTX_free>;
using EvpCipherPtr = CPtr<EVP_CIPHER, EVP_CIPHER_free>;
using BioPtr = CPtr<BIO, BIO_free_all>;
using BignumPtr = CPtr<BIGNUM, BN_free>;
using X509Ptr = CPtr<X509, X509_free>;
using X509StorePtr = CPtr<X509_STORE, X509_STORE_free>;
using X509NamePtr = CPtr<X509_NAME, X509_NAME_free>;
using X509ExtPtr = CPtr<X509_EXTENSION, X509_EXTENSION_free>;
using SslCtxPtr = CPtr<SSL_CTX, SSL_CTX_free>;

// Builds an Error from `what` plus every queued OpenSSL error, and leaves the queue empty.
Error OpenSslError(Code code, std::string_view what);

// A certificate's serial number as lower-case hex without leading zeros ("" if unreadable): the
// one spelling the admin API's revocation list and the TLS layer share.
std::string CertSerialHex(const X509* cert);

}  // namespace sigil
