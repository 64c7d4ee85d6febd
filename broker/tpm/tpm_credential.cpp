#include "broker/tpm/tpm_credential.h"

#include <openssl/core_names.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>

#include <string>

#include "core/ossl.h"

namespace sigil::broker {
namespace {

constexpr std::size_t kDigestSize = 32;  // SHA-256, the EK template's nameAlg

void AppendU16(Bytes& out, std::size_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v & 0xff));
}

// RSA-OAEP with SHA-256 for hash and MGF1 and label "IDENTITY\0" (Part 1 s.24.4 secret
// protection for an RSA storage key; Annex B.10.3: the label includes its terminating 0).
Result<Bytes> OaepEncrypt(EVP_PKEY* ek, ByteSpan seed) {
  static constexpr char kLabel[] = "IDENTITY";  // sizeof includes the 0 octet
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, ek, nullptr));
  std::string digest = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_PAD_MODE,
                                       const_cast<char*>(OSSL_PKEY_RSA_PAD_MODE_OAEP), 0),
      OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST, digest.data(), 0),
      OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST, digest.data(), 0),
      OSSL_PARAM_construct_octet_string(OSSL_ASYM_CIPHER_PARAM_OAEP_LABEL,
                                        const_cast<char*>(kLabel), sizeof kLabel),
      OSSL_PARAM_construct_end()};
  std::size_t len = 0;
  if (!ctx || EVP_PKEY_encrypt_init_ex(ctx.get(), params) != 1 ||
      EVP_PKEY_encrypt(ctx.get(), nullptr, &len, seed.data(), seed.size()) != 1) {
    return OpenSslError(Code::kInternal, "MakeCredential: RSA-OAEP setup for the EK");
  }
  Bytes out(len);
  if (EVP_PKEY_encrypt(ctx.get(), out.data(), &len, seed.data(), seed.size()) != 1) {
    return OpenSslError(Code::kInternal, "MakeCredential: RSA-OAEP encryption of the seed");
  }
  out.resize(len);
  return out;
}

Result<Bytes> Coordinate(EVP_PKEY* key, const char* which) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, which, &raw) != 1) return OpenSslError(Code::kInternal, "EC point coordinate");
  BignumPtr bn(raw);
  Bytes out(32);
  if (BN_bn2binpad(bn.get(), out.data(), static_cast<int>(out.size())) != 32) {
    return Fail(Code::kInternal, "EC point coordinate longer than P-256");
  }
  return out;
}

// Part 1 s.24.4 / Annex C.6.4 for an ECC EK: an ephemeral P-256 key QeU; Z = x of the ECDH
// point with the EK QsV; seed = KDFe(nameAlg, Z, "IDENTITY", QeU.x, QsV.x, digest bits)
// (s.11.4.10.3, SP 800-56A concatenation KDF: H([1]32 || Z || "IDENTITY\0" || QeU.x || QsV.x),
// which OpenSSL's SSKDF computes with info = label || partyU || partyV). The "encrypted
// secret" is the marshalled TPMS_ECC_POINT QeU.
Result<SecretBytes> EccSeed(EVP_PKEY* ek, Bytes& encrypted) {
  EvpPkeyPtr eph(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  EvpPkeyCtxPtr dctx(eph ? EVP_PKEY_CTX_new_from_pkey(nullptr, eph.get(), nullptr) : nullptr);
  std::size_t zlen = 0;
  if (!dctx || EVP_PKEY_derive_init(dctx.get()) != 1 || EVP_PKEY_derive_set_peer(dctx.get(), ek) != 1 ||
      EVP_PKEY_derive(dctx.get(), nullptr, &zlen) != 1 || zlen != 32) {
    return OpenSslError(Code::kInternal, "MakeCredential: ECDH with the EK");
  }
  SIGIL_ASSIGN_OR_RETURN(SecretBytes z, SecretBytes::Allocate(zlen));
  auto zb = z.RevealMutable(SecretAccess::Get());
  if (EVP_PKEY_derive(dctx.get(), zb.data(), &zlen) != 1) return OpenSslError(Code::kInternal, "MakeCredential: ECDH");
  SIGIL_ASSIGN_OR_RETURN(Bytes ux, Coordinate(eph.get(), OSSL_PKEY_PARAM_EC_PUB_X));
  SIGIL_ASSIGN_OR_RETURN(Bytes uy, Coordinate(eph.get(), OSSL_PKEY_PARAM_EC_PUB_Y));
  SIGIL_ASSIGN_OR_RETURN(Bytes vx, Coordinate(ek, OSSL_PKEY_PARAM_EC_PUB_X));
  static constexpr char kLabel[] = "IDENTITY";
  Bytes info(kLabel, kLabel + sizeof kLabel);  // with its 0 octet
  info.insert(info.end(), ux.begin(), ux.end());
  info.insert(info.end(), vx.begin(), vx.end());
  EvpKdfPtr kdf(EVP_KDF_fetch(nullptr, "SSKDF", nullptr));
  EvpKdfCtxPtr kctx(kdf ? EVP_KDF_CTX_new(kdf.get()) : nullptr);
  std::string digest = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest.data(), 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, zb.data(), zb.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info.data(), info.size()),
      OSSL_PARAM_construct_end()};
  SIGIL_ASSIGN_OR_RETURN(SecretBytes seed, SecretBytes::Allocate(kDigestSize));
  auto sb = seed.RevealMutable(SecretAccess::Get());
  if (!kctx || EVP_KDF_derive(kctx.get(), sb.data(), sb.size(), params) != 1) {
    return OpenSslError(Code::kInternal, "MakeCredential: KDFe");
  }
  // TPMS_ECC_POINT: TPM2B x || TPM2B y.
  encrypted.clear();
  AppendU16(encrypted, ux.size());
  encrypted.insert(encrypted.end(), ux.begin(), ux.end());
  AppendU16(encrypted, uy.size());
  encrypted.insert(encrypted.end(), uy.begin(), uy.end());
  return seed;
}

}  // namespace

Result<SecretBytes> KdfaSha256(ByteSpan key, std::string_view label, ByteSpan context_u,
                               ByteSpan context_v, std::size_t bits) {
  if (bits == 0 || bits % 8 != 0) return Fail(Code::kInvalidArgument, "KDFa: bits must be a positive multiple of 8");
  // OpenSSL's KBKDF in counter mode with its defaults (r = 32, use-separator, use-l) computes
  // exactly [i]32 || salt || 0x00 || info || [L]32 per block, which is KDFa with salt = label
  // and info = contextU || contextV.
  Bytes context(context_u.begin(), context_u.end());
  context.insert(context.end(), context_v.begin(), context_v.end());
  EvpKdfPtr kdf(EVP_KDF_fetch(nullptr, "KBKDF", nullptr));
  EvpKdfCtxPtr kctx(kdf ? EVP_KDF_CTX_new(kdf.get()) : nullptr);
  if (!kctx) return OpenSslError(Code::kInternal, "KDFa: KBKDF unavailable");
  std::string mode = "COUNTER", mac = "HMAC", digest = "SHA256";
  std::string lbl(label);
  OSSL_PARAM params[6];
  int n = 0;
  params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MODE, mode.data(), 0);
  params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MAC, mac.data(), 0);
  params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest.data(), 0);
  params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<std::uint8_t*>(key.data()), key.size());
  params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, lbl.data(), lbl.size());
  params[n] = OSSL_PARAM_construct_end();
  if (!context.empty()) {
    OSSL_PARAM info[] = {
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, context.data(), context.size()),
        OSSL_PARAM_construct_end()};
    if (EVP_KDF_CTX_set_params(kctx.get(), info) != 1) return OpenSslError(Code::kInternal, "KDFa: context");
  }
  SIGIL_ASSIGN_OR_RETURN(SecretBytes out, SecretBytes::Allocate(bits / 8));
  auto dst = out.RevealMutable(SecretAccess::Get());
  if (EVP_KDF_derive(kctx.get(), dst.data(), dst.size(), params) != 1) {
    return OpenSslError(Code::kInternal, "KDFa: derive \"" + lbl + "\"");
  }
  return out;
}

Result<MadeCredential> MakeCredential(EVP_PKEY* ek, ByteSpan ak_name, const SecretBytes& credential) {
  char group[64] = {};
  std::size_t group_len = 0;
  const bool ecc = EVP_PKEY_is_a(ek, "EC") &&
                   EVP_PKEY_get_utf8_string_param(ek, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &group_len) == 1 &&
                   std::string_view(group) == "prime256v1";
  if (!ecc && (!EVP_PKEY_is_a(ek, "RSA") || EVP_PKEY_get_bits(ek) != 2048)) {
    return Fail(Code::kInvalidArgument, std::string("MakeCredential: the endorsement key must be RSA-2048 or NIST P-256 "
                                                    "(TCG EK profile templates L-1, L-2), got ") +
                                            EVP_PKEY_get0_type_name(ek) + "-" + std::to_string(EVP_PKEY_get_bits(ek)));
  }
  if (credential.empty() || credential.size() > kDigestSize) {
    return Fail(Code::kInvalidArgument, "MakeCredential: credential must be 1..32 bytes");
  }
  if (ak_name.size() < 2 + kDigestSize) return Fail(Code::kInvalidArgument, "MakeCredential: AK Name too short");
  const SecretAccess access = SecretAccess::Get();

  // Part 1 s.24.4: a fresh seed of the EK nameAlg digest size, sent RSA-OAEP encrypted.
  SecretBytes seed;
  Bytes encrypted;
  if (ecc) {
    SIGIL_ASSIGN_OR_RETURN(seed, EccSeed(ek, encrypted));
  } else {
    SIGIL_ASSIGN_OR_RETURN(seed, SecretBytes::Random(kDigestSize));
    SIGIL_ASSIGN_OR_RETURN(encrypted, OaepEncrypt(ek, seed.Reveal(access)));
  }

  // Part 1 s.24.4 / s.22.4 (symmetric protection): symKey = KDFa(nameAlg, seed, "STORAGE",
  // Name, "", 128 bits) for the EK's AES-128; the IV is 0 (Part 1 s.22.4: the key is single-use).
  SIGIL_ASSIGN_OR_RETURN(SecretBytes sym_key, KdfaSha256(seed.Reveal(access), "STORAGE", ak_name, {}, 128));
  SIGIL_ASSIGN_OR_RETURN(SecretBytes plain, SecretBytes::Allocate(2 + credential.size()));
  {
    auto p = plain.RevealMutable(access);
    p[0] = static_cast<std::uint8_t>(credential.size() >> 8);  // marshalled TPM2B_DIGEST
    p[1] = static_cast<std::uint8_t>(credential.size() & 0xff);
    auto c = credential.Reveal(access);
    std::copy(c.begin(), c.end(), p.begin() + 2);
  }
  Bytes enc_identity(plain.size());
  {
    EvpCipherCtxPtr cctx(EVP_CIPHER_CTX_new());
    const std::uint8_t iv[16] = {};
    int out_len = 0, fin_len = 0;
    if (!cctx || EVP_EncryptInit_ex(cctx.get(), EVP_aes_128_cfb128(), nullptr, sym_key.Reveal(access).data(), iv) != 1 ||
        EVP_EncryptUpdate(cctx.get(), enc_identity.data(), &out_len, plain.Reveal(access).data(),
                          static_cast<int>(plain.size())) != 1 ||
        EVP_EncryptFinal_ex(cctx.get(), enc_identity.data() + out_len, &fin_len) != 1 ||
        static_cast<std::size_t>(out_len + fin_len) != plain.size()) {
      return OpenSslError(Code::kInternal, "MakeCredential: AES-128-CFB");
    }
  }

  // Part 1 s.24.5 (integrity): HMACkey = KDFa(nameAlg, seed, "INTEGRITY", "", "", digest bits),
  // outerHMAC = HMAC(HMACkey, encIdentity || Name).
  SIGIL_ASSIGN_OR_RETURN(SecretBytes hmac_key, KdfaSha256(seed.Reveal(access), "INTEGRITY", {}, {}, kDigestSize * 8));
  Bytes mac_input = enc_identity;
  mac_input.insert(mac_input.end(), ak_name.begin(), ak_name.end());
  std::uint8_t mac[EVP_MAX_MD_SIZE];
  unsigned mac_len = 0;
  auto hk = hmac_key.Reveal(access);
  if (!HMAC(EVP_sha256(), hk.data(), static_cast<int>(hk.size()), mac_input.data(), mac_input.size(), mac, &mac_len) ||
      mac_len != kDigestSize) {
    return OpenSslError(Code::kInternal, "MakeCredential: outer HMAC");
  }

  // TPM2B_ID_OBJECT: size || TPM2B_DIGEST(outerHMAC) || encIdentity (Part 2 s.12.5).
  MadeCredential out;
  std::size_t inner = 2 + mac_len + enc_identity.size();
  AppendU16(out.credential_blob, inner);
  AppendU16(out.credential_blob, mac_len);
  out.credential_blob.insert(out.credential_blob.end(), mac, mac + mac_len);
  out.credential_blob.insert(out.credential_blob.end(), enc_identity.begin(), enc_identity.end());
  AppendU16(out.encrypted_secret, encrypted.size());
  out.encrypted_secret.insert(out.encrypted_secret.end(), encrypted.begin(), encrypted.end());
  return out;
}

}  // namespace sigil::broker
