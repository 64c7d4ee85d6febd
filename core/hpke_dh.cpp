// The DH groups under DHKEM: X25519 (RFC 7748) on libsodium's crypto_scalarmult, and P-256
// (SEC 1) on OpenSSL 3.0 EVP. Contracts in core/hpke_internal.h.
// X25519 moved off EVP because importing a raw private key into an EVP_PKEY computes its public
// key, a second scalar multiplication per DH that HPKE never uses: about an eighth of the
// broker's CPU per release. libsodium clamps the scalar as RFC 7748 section 5 says, masks the
// top bit of u, and fails on the all-zero output (section 6.1), as RFC 9180 7.1.4 requires.
#include <openssl/core_names.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <sodium.h>

#include <array>
#include <string>

#include "core/hpke_internal.h"
#include "core/ossl.h"

namespace sigil::hpke::internal {
namespace {

using EcGroupPtr = CPtr<EC_GROUP, EC_GROUP_free>;
using EcPointPtr = CPtr<EC_POINT, EC_POINT_clear_free>;
using BnCtxPtr = CPtr<BN_CTX, BN_CTX_free>;
using SecretBignumPtr = CPtr<BIGNUM, BN_clear_free>;
using ParamBldPtr = CPtr<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>;
using ParamPtr = CPtr<OSSL_PARAM, OSSL_PARAM_free>;

constexpr char kP256GroupName[] = "prime256v1";
constexpr std::uint8_t kUncompressedPrefix = 0x04;  // SEC 1 v2, section 2.3.3

// RFC 9180 7.1.3: the order of the P-256 group.
constexpr std::array<std::uint8_t, 32> kP256Order = {
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};

std::string KemName(Kem kem) { return kem == Kem::kX25519HkdfSha256 ? "X25519" : "P-256"; }

Result<void> CheckSize(std::string_view what, ByteSpan b, std::size_t want) {
  if (b.size() != want) {
    return Fail(Code::kInvalidArgument, std::string(what) + ": expected " + std::to_string(want) +
                                            " bytes, got " + std::to_string(b.size()));
  }
  return Ok();
}

// Builds an EC EVP_PKEY for P-256 from `params` (group plus public and/or private parts).
Result<EvpPkeyPtr> EcFromParams(OSSL_PARAM_BLD* bld, int selection, Code code,
                                std::string_view what) {
  if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, kP256GroupName, 0) != 1) {
    return OpenSslError(Code::kInternal, "OSSL_PARAM_BLD_push_utf8_string(group)");
  }
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld));
  if (!params) return OpenSslError(Code::kInternal, "OSSL_PARAM_BLD_to_param");
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  if (!ctx) return OpenSslError(Code::kInternal, "EVP_PKEY_CTX_new_from_name(EC)");
  if (EVP_PKEY_fromdata_init(ctx.get()) != 1) {
    return OpenSslError(Code::kInternal, "EVP_PKEY_fromdata_init");
  }
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, selection, params.get()) != 1) {
    return OpenSslError(code, std::string(what) + ": not a valid P-256 key");
  }
  return EvpPkeyPtr(raw);
}

// P-256 public key from its uncompressed encoding, with SEC 1 partial validation
// (NIST SP 800-56A rev3 5.6.2.3.4, as RFC 9180 7.1.4 requires).
Result<EvpPkeyPtr> P256Public(ByteSpan pk, Code bad_key) {
  SIGIL_RETURN_IF_ERROR(CheckSize("P-256 public key", pk, 65));
  if (pk[0] != kUncompressedPrefix) {
    return Fail(bad_key, "P-256 public key: not an uncompressed point (RFC 9180 7.1.1)");
  }
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld) return OpenSslError(Code::kInternal, "OSSL_PARAM_BLD_new");
  if (OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, pk.data(), pk.size()) !=
      1) {
    return OpenSslError(Code::kInternal, "OSSL_PARAM_BLD_push_octet_string(pub)");
  }
  SIGIL_ASSIGN_OR_RETURN(EvpPkeyPtr key,
                         EcFromParams(bld.get(), EVP_PKEY_PUBLIC_KEY, bad_key, "P-256 public key"));
  EvpPkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check) return OpenSslError(Code::kInternal, "EVP_PKEY_CTX_new_from_pkey");
  // Range of the coordinates, on the curve, not infinity.
  if (EVP_PKEY_public_check(check.get()) != 1) {
    return OpenSslError(bad_key, "P-256 public key: fails public key validation");
  }
  return key;
}

Result<SecretBignumPtr> P256Scalar(ByteSpan sk) {
  SIGIL_RETURN_IF_ERROR(CheckSize("P-256 private key", sk, 32));
  if (!IsValidPrivateScalar(Kem::kP256HkdfSha256, sk)) {
    return Fail(Code::kInvalidArgument, "P-256 private key: not in [1, order-1] (RFC 9180 7.1.2)");
  }
  SecretBignumPtr d(BN_secure_new());
  if (!d) return OpenSslError(Code::kInternal, "BN_secure_new");
  if (BN_bin2bn(sk.data(), static_cast<int>(sk.size()), d.get()) == nullptr) {
    return OpenSslError(Code::kInternal, "BN_bin2bn");
  }
  BN_set_flags(d.get(), BN_FLG_CONSTTIME);
  return d;
}

Result<Bytes> P256PublicOf(const BIGNUM* d) {
  EcGroupPtr group(EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1));
  if (!group) return OpenSslError(Code::kInternal, "EC_GROUP_new_by_curve_name(P-256)");
  BnCtxPtr bn_ctx(BN_CTX_secure_new());
  if (!bn_ctx) return OpenSslError(Code::kInternal, "BN_CTX_secure_new");
  EcPointPtr point(EC_POINT_new(group.get()));
  if (!point) return OpenSslError(Code::kInternal, "EC_POINT_new");
  if (EC_POINT_mul(group.get(), point.get(), d, nullptr, nullptr, bn_ctx.get()) != 1) {
    return OpenSslError(Code::kInternal, "EC_POINT_mul");
  }
  Bytes out(65);
  if (EC_POINT_point2oct(group.get(), point.get(), POINT_CONVERSION_UNCOMPRESSED, out.data(),
                         out.size(), bn_ctx.get()) != out.size()) {
    return OpenSslError(Code::kInternal, "EC_POINT_point2oct");
  }
  return out;
}

Result<EvpPkeyPtr> P256Private(ByteSpan sk) {
  SIGIL_ASSIGN_OR_RETURN(SecretBignumPtr d, P256Scalar(sk));
  SIGIL_ASSIGN_OR_RETURN(Bytes pub, P256PublicOf(d.get()));
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld) return OpenSslError(Code::kInternal, "OSSL_PARAM_BLD_new");
  if (OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, d.get()) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, pub.data(),
                                       pub.size()) != 1) {
    return OpenSslError(Code::kInternal, "OSSL_PARAM_BLD_push(P-256 key pair)");
  }
  return EcFromParams(bld.get(), EVP_PKEY_KEYPAIR, Code::kInternal, "P-256 private key");
}

Result<EvpPkeyPtr> X25519Public(ByteSpan pk) {
  SIGIL_RETURN_IF_ERROR(CheckSize("X25519 public key", pk, 32));
  EvpPkeyPtr key(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, pk.data(), pk.size()));
  if (!key) return OpenSslError(Code::kInternal, "EVP_PKEY_new_raw_public_key(X25519)");
  return key;
}

Result<EvpPkeyPtr> LoadPublic(Kem kem, ByteSpan pk, Code bad_key) {
  return kem == Kem::kX25519HkdfSha256 ? X25519Public(pk) : P256Public(pk, bad_key);
}

}  // namespace

Result<KemParams> GetKemParams(Kem kem) {
  switch (kem) {
    case Kem::kX25519HkdfSha256:
      return KemParams{kem, HkdfHash::kSha256, 32, 32, 32, 32, 32};
    case Kem::kP256HkdfSha256:
      return KemParams{kem, HkdfHash::kSha256, 32, 65, 65, 32, 32};
  }
  return Fail(Code::kInvalidArgument,
              "HPKE: unsupported kem_id " + std::to_string(static_cast<unsigned>(kem)));
}

bool IsValidPrivateScalar(Kem kem, ByteSpan candidate) {
  if (kem != Kem::kP256HkdfSha256) return true;
  if (candidate.size() != kP256Order.size()) return false;
  // Big-endian candidate - order, from the least significant byte: a final borrow means
  // candidate < order. Branch-free, so the time does not depend on the secret.
  std::uint32_t borrow = 0;
  std::uint32_t any_bit = 0;
  for (std::size_t i = candidate.size(); i-- > 0;) {
    std::uint32_t diff = std::uint32_t{candidate[i]} - kP256Order[i] - borrow;
    borrow = (diff >> 31) & 1u;
    any_bit |= candidate[i];
  }
  std::uint32_t nonzero = ((any_bit | (0u - any_bit)) >> 31) & 1u;
  return (borrow & nonzero) == 1u;
}

Result<Bytes> PublicKeyOf(Kem kem, ByteSpan sk) {
  SIGIL_ASSIGN_OR_RETURN(KemParams p, GetKemParams(kem));
  if (kem == Kem::kP256HkdfSha256) {
    SIGIL_ASSIGN_OR_RETURN(SecretBignumPtr d, P256Scalar(sk));
    return P256PublicOf(d.get());
  }
  SIGIL_RETURN_IF_ERROR(CheckSize("X25519 private key", sk, 32));
  EnsureSodium();
  Bytes out(p.n_pk);
  if (crypto_scalarmult_base(out.data(), sk.data()) != 0) {
    return Fail(Code::kInternal, "X25519: public key derivation failed");
  }
  return out;
}

Result<void> CheckPublicKey(Kem kem, ByteSpan pk, Code bad_key) {
  SIGIL_RETURN_IF_ERROR(GetKemParams(kem));
  SIGIL_RETURN_IF_ERROR(LoadPublic(kem, pk, bad_key));
  return Ok();
}

Result<SecretBytes> Dh(Kem kem, ByteSpan sk, ByteSpan pk, Code bad_key) {
  SIGIL_ASSIGN_OR_RETURN(KemParams p, GetKemParams(kem));
  if (kem == Kem::kX25519HkdfSha256) {
    SIGIL_RETURN_IF_ERROR(CheckSize("X25519 public key", pk, 32));
    SIGIL_RETURN_IF_ERROR(CheckSize("X25519 private key", sk, 32));
    EnsureSodium();
    SIGIL_ASSIGN_OR_RETURN(SecretBytes out, SecretBytes::Allocate(p.n_dh));
    if (crypto_scalarmult(out.RevealMutable(SecretAccess::Get()).data(), sk.data(), pk.data()) != 0) {
      return Fail(bad_key, "X25519 DH failed (small-order or invalid peer key)");
    }
    return out;
  }
  SIGIL_ASSIGN_OR_RETURN(EvpPkeyPtr peer, LoadPublic(kem, pk, bad_key));
  SIGIL_ASSIGN_OR_RETURN(EvpPkeyPtr own, P256Private(sk));  // X25519 returned above
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, own.get(), nullptr));
  if (!ctx) return OpenSslError(Code::kInternal, "EVP_PKEY_CTX_new_from_pkey");
  if (EVP_PKEY_derive_init(ctx.get()) != 1) {
    return OpenSslError(Code::kInternal, "EVP_PKEY_derive_init");
  }
  // The peer was validated by LoadPublic.
  if (EVP_PKEY_derive_set_peer_ex(ctx.get(), peer.get(), 0) != 1) {
    return OpenSslError(bad_key, KemName(kem) + " DH: peer key rejected");
  }
  SIGIL_ASSIGN_OR_RETURN(SecretBytes out, SecretBytes::Allocate(p.n_dh));
  std::size_t len = out.size();
  if (EVP_PKEY_derive(ctx.get(), out.RevealMutable(SecretAccess::Get()).data(), &len) != 1) {
    // For X25519 this is the all-zero output of RFC 7748 section 6.1: the peer key has small
    // order, and RFC 9180 7.1.4 requires aborting.
    return OpenSslError(bad_key, KemName(kem) + " DH failed (small-order or invalid peer key)");
  }
  if (len != p.n_dh) return Fail(Code::kInternal, KemName(kem) + " DH: unexpected output length");
  return out;
}

}  // namespace sigil::hpke::internal
