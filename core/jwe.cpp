#include "core/jwe.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include <array>

#include "core/aead.h"
#include "core/digest.h"
#include "core/encoding.h"
#include "core/secret_bytes.h"

namespace sigil::jwe {
namespace {

using ParamBldPtr = CPtr<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>;
using ParamPtr = CPtr<OSSL_PARAM, OSSL_PARAM_free>;

constexpr std::string_view kRsaAlg = "RSA-OAEP-256";
constexpr std::string_view kEcAlg = "ECDH-ES+A256KW";

Error Bad(std::string_view where, const std::string& why) {
  return Error(Code::kInvalidArgument, std::string(where) + ": " + why);
}

Result<Bytes> Member(const Json& jwk, const char* name, std::string_view where) {
  if (!jwk.contains(name) || !jwk[name].is_string()) return Bad(where, std::string("missing string member '") + name + "'");
  auto b = Base64UrlDecode(jwk[name].get_ref<const std::string&>());
  if (!b) return Bad(where, std::string(name) + ": " + b.error().message());
  return b;
}

void PutU32(Bytes& out, std::size_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>((v >> s) & 0xff));
}

Result<EvpPkeyPtr> FromData(const char* type, OSSL_PARAM_BLD* bld) {
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld));
  if (!params) return OpenSslError(Code::kInternal, "OSSL_PARAM_BLD_to_param");
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return OpenSslError(Code::kInvalidArgument, "EVP_PKEY_fromdata");
  }
  return EvpPkeyPtr(raw);
}

Result<RecipientKey> ParseRsa(const Json& jwk, std::string_view where) {
  SIGIL_ASSIGN_OR_RETURN(Bytes n, Member(jwk, "n", where));
  SIGIL_ASSIGN_OR_RETURN(Bytes e, Member(jwk, "e", where));
  if (n.empty() || n[0] == 0) return Bad(where, "n: leading zero octet (RFC 7518 section 6.3.1.1)");
  if (n.size() < 256 || n.size() > 1024) return Bad(where, "n: RSA modulus must be 2048 to 8192 bits");
  if (e.empty() || e.size() > 4 || e[0] == 0 || (e.back() & 1) == 0 || (e.size() == 1 && e[0] < 3)) {
    return Bad(where, "e: expected an odd public exponent >= 3 of at most 32 bits");
  }
  BignumPtr bn_n(BN_bin2bn(n.data(), static_cast<int>(n.size()), nullptr));
  BignumPtr bn_e(BN_bin2bn(e.data(), static_cast<int>(e.size()), nullptr));
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bn_n || !bn_e || !bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    return OpenSslError(Code::kInternal, "RSA key parameters");
  }
  auto pkey = FromData("RSA", bld.get());
  if (!pkey) return Bad(where, "not a usable RSA public key");
  return RecipientKey{RecipientKey::Kind::kRsa, std::move(*pkey), 0};
}

Result<RecipientKey> ParseEc(const Json& jwk, std::string_view where) {
  if (!jwk.contains("crv") || !jwk["crv"].is_string()) return Bad(where, "missing string member 'crv'");
  const std::string& crv = jwk["crv"].get_ref<const std::string&>();
  std::size_t field = crv == "P-256" ? 32 : crv == "P-384" ? 48 : 0;
  if (field == 0) return Bad(where, "crv: expected P-256 or P-384");
  SIGIL_ASSIGN_OR_RETURN(Bytes x, Member(jwk, "x", where));
  SIGIL_ASSIGN_OR_RETURN(Bytes y, Member(jwk, "y", where));
  // RFC 7518 section 6.2.1.2: x and y are the full field size, leading zeros included.
  if (x.size() != field || y.size() != field) return Bad(where, "x, y: expected " + std::to_string(field) + " octets each");
  Bytes point{0x04};
  point.insert(point.end(), x.begin(), x.end());
  point.insert(point.end(), y.begin(), y.end());
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, crv.c_str(), 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1) {
    return OpenSslError(Code::kInternal, "EC key parameters");
  }
  auto pkey = FromData("EC", bld.get());
  if (!pkey) {
    ERR_clear_error();
    return Bad(where, "x, y: not a point on " + crv);
  }
  // Full public-key check (on the curve, not the identity, right order): an invalid-curve point
  // would leak bits of the ephemeral key, and a small subgroup would fix the shared secret.
  EvpPkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey->get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    ERR_clear_error();
    return Bad(where, "x, y: not a valid public point on " + crv);
  }
  return RecipientKey{RecipientKey::Kind::kEc, std::move(*pkey), field};
}

Result<Bytes> RsaOaep256(EVP_PKEY* pkey, ByteSpan cek) {
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  std::size_t len = 0;
  if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), EVP_sha256()) != 1 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), EVP_sha256()) != 1 ||
      EVP_PKEY_encrypt(ctx.get(), nullptr, &len, cek.data(), cek.size()) != 1) {
    return OpenSslError(Code::kInternal, "RSA-OAEP-256");
  }
  Bytes out(len);
  if (EVP_PKEY_encrypt(ctx.get(), out.data(), &len, cek.data(), cek.size()) != 1) {
    return OpenSslError(Code::kInternal, "RSA-OAEP-256");
  }
  out.resize(len);
  return out;
}

Result<Bytes> AesKeyWrap256(ByteSpan kek, ByteSpan cek) {
  EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return OpenSslError(Code::kInternal, "EVP_CIPHER_CTX_new");
  EVP_CIPHER_CTX_set_flags(ctx.get(), EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  Bytes out(cek.size() + 8);
  int len = 0, fin = 0;
  if (EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_wrap(), nullptr, kek.data(), nullptr) != 1 ||
      EVP_EncryptUpdate(ctx.get(), out.data(), &len, cek.data(), static_cast<int>(cek.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), out.data() + len, &fin) != 1) {
    return OpenSslError(Code::kInternal, "AES-256 key wrap");
  }
  out.resize(static_cast<std::size_t>(len + fin));
  return out;
}

Result<Bytes> Coordinate(EVP_PKEY* pkey, const char* name, std::size_t field) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &raw) != 1) return OpenSslError(Code::kInternal, "EC coordinate");
  BignumPtr bn(raw);
  Bytes out(field);
  if (BN_bn2binpad(bn.get(), out.data(), static_cast<int>(field)) != static_cast<int>(field)) {
    return OpenSslError(Code::kInternal, "BN_bn2binpad");
  }
  return out;
}

// ECDH-ES+A256KW: returns the wrapped CEK and fills the epk header member.
Result<Bytes> EcdhEsWrap(const RecipientKey& key, ByteSpan cek, Json& epk) {
  const char* group = key.field_bytes == 32 ? "P-256" : "P-384";
  EvpPkeyPtr eph(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", group));
  if (!eph) return OpenSslError(Code::kInternal, "ephemeral EC key");
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, eph.get(), nullptr));
  std::size_t z_len = 0;
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 || EVP_PKEY_derive_set_peer(ctx.get(), key.pkey.get()) != 1 ||
      EVP_PKEY_derive(ctx.get(), nullptr, &z_len) != 1) {
    return OpenSslError(Code::kInternal, "ECDH");
  }
  SIGIL_ASSIGN_OR_RETURN(SecretBytes z, SecretBytes::Allocate(z_len));
  auto zs = z.RevealMutable(SecretAccess::Get());
  if (EVP_PKEY_derive(ctx.get(), zs.data(), &z_len) != 1 || z_len != zs.size()) return OpenSslError(Code::kInternal, "ECDH");
  Bytes kek = ConcatKdf(zs, kEcAlg, {}, {}, 32);
  auto wrapped = AesKeyWrap256(kek, cek);
  OPENSSL_cleanse(kek.data(), kek.size());
  if (!wrapped) return wrapped;
  SIGIL_ASSIGN_OR_RETURN(Bytes x, Coordinate(eph.get(), OSSL_PKEY_PARAM_EC_PUB_X, key.field_bytes));
  SIGIL_ASSIGN_OR_RETURN(Bytes y, Coordinate(eph.get(), OSSL_PKEY_PARAM_EC_PUB_Y, key.field_bytes));
  epk = Json{{"kty", "EC"}, {"crv", group}, {"x", Base64UrlEncode(x)}, {"y", Base64UrlEncode(y)}};
  return wrapped;
}

}  // namespace

Result<RecipientKey> ParseRecipientJwk(const Json& jwk, std::string_view where) {
  if (!jwk.is_object()) return Bad(where, "expected a JWK object");
  for (const char* p : {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}) {
    if (jwk.contains(p)) return Bad(where, std::string("a public JWK must not carry '") + p + "'");
  }
  if (!jwk.contains("kty") || !jwk["kty"].is_string()) return Bad(where, "missing string member 'kty'");
  const std::string& kty = jwk["kty"].get_ref<const std::string&>();
  std::string_view alg;
  if (jwk.contains("alg")) {
    if (!jwk["alg"].is_string()) return Bad(where, "alg: expected a string");
    alg = jwk["alg"].get_ref<const std::string&>();
  }
  if (kty == "RSA") {
    if (!alg.empty() && alg != kRsaAlg) return Bad(where, "alg: RSA keys are served with RSA-OAEP-256 only");
    return ParseRsa(jwk, where);
  }
  if (kty == "EC") {
    if (!alg.empty() && alg != kEcAlg) return Bad(where, "alg: EC keys are served with ECDH-ES+A256KW only");
    return ParseEc(jwk, where);
  }
  return Bad(where, "kty: expected RSA or EC");
}

Bytes ConcatKdf(ByteSpan z, std::string_view alg_id, ByteSpan apu, ByteSpan apv, std::size_t key_bytes) {
  // Sized up front: besides saving reallocations, it keeps GCC 12 at -O3 from a false
  // -Wstringop-overflow on the first push_back into an empty vector.
  Bytes other;
  other.reserve(16 + alg_id.size() + apu.size() + apv.size());
  PutU32(other, alg_id.size());
  other.insert(other.end(), alg_id.begin(), alg_id.end());
  PutU32(other, apu.size());
  other.insert(other.end(), apu.begin(), apu.end());
  PutU32(other, apv.size());
  other.insert(other.end(), apv.begin(), apv.end());
  PutU32(other, key_bytes * 8);
  Bytes out;
  for (std::uint32_t counter = 1; out.size() < key_bytes; ++counter) {
    Bytes round;
    round.reserve(4 + z.size() + other.size());
    PutU32(round, counter);
    round.insert(round.end(), z.begin(), z.end());
    round.insert(round.end(), other.begin(), other.end());
    const Sha256Digest d = Sha256(round);
    OPENSSL_cleanse(round.data(), round.size());
    out.insert(out.end(), d.begin(), d.end());
  }
  out.resize(key_bytes);
  return out;
}

Result<Json> Encrypt(const RecipientKey& key, ByteSpan plaintext) {
  SIGIL_ASSIGN_OR_RETURN(SecretBytes cek, SecretBytes::Random(32));
  const ByteSpan cek_bytes = cek.Reveal(SecretAccess::Get());
  Json header{{"enc", "A256GCM"}};
  Bytes encrypted_key;
  if (key.kind == RecipientKey::Kind::kRsa) {
    header["alg"] = kRsaAlg;
    SIGIL_ASSIGN_OR_RETURN(encrypted_key, RsaOaep256(key.pkey.get(), cek_bytes));
  } else {
    header["alg"] = kEcAlg;
    Json epk;
    SIGIL_ASSIGN_OR_RETURN(encrypted_key, EcdhEsWrap(key, cek_bytes, epk));
    header["epk"] = epk;
  }
  const std::string protected_b64 = Base64UrlEncode(AsBytes(CanonicalJson(header)));
  Bytes iv(kAeadNonceSize);
  if (RAND_bytes(iv.data(), static_cast<int>(iv.size())) != 1) return OpenSslError(Code::kInternal, "RAND_bytes");
  SIGIL_ASSIGN_OR_RETURN(Bytes sealed, AeadSeal(AeadAlg::kAes256Gcm, cek_bytes, iv, AsBytes(protected_b64), plaintext));
  const ByteSpan all(sealed);
  return Json{{"protected", protected_b64},
              {"encrypted_key", Base64UrlEncode(encrypted_key)},
              {"iv", Base64UrlEncode(iv)},
              {"ciphertext", Base64UrlEncode(all.first(all.size() - kAeadTagSize))},
              {"tag", Base64UrlEncode(all.last(kAeadTagSize))}};
}

}  // namespace sigil::jwe
