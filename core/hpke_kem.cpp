// RFC 9180 section 4 (labeled KDF), 4.1 (DHKEM) and 7.1.3 (DeriveKeyPair). Contracts in
// core/hpke_internal.h and core/hpke.h.
#include <algorithm>
#include <array>
#include <string>

#include "core/hpke.h"
#include "core/hpke_internal.h"

namespace sigil::hpke {
namespace internal {
namespace {

constexpr std::string_view kVersionLabel = "HPKE-v1";  // RFC 9180 section 4

// RFC 9180 4.1: ExtractAndExpand(dh, kem_context).
Result<SecretBytes> ExtractAndExpand(const KemParams& p, const SecretBytes& dh,
                                     ByteSpan kem_context) {
  Bytes suite_id = KemSuiteId(p.kem);
  SIGIL_ASSIGN_OR_RETURN(SecretBytes eae_prk, LabeledExtract(p.kdf, suite_id, {}, "eae_prk",
                                                             dh.Reveal(SecretAccess::Get())));
  return LabeledExpand(p.kdf, suite_id, eae_prk.Reveal(SecretAccess::Get()), "shared_secret",
                       kem_context, p.n_secret);
}

Result<SecretBytes> ConcatSecrets(const SecretBytes& a, const SecretBytes& b) {
  SIGIL_ASSIGN_OR_RETURN(SecretBytes out, SecretBytes::Allocate(a.size() + b.size()));
  auto dst = out.RevealMutable(SecretAccess::Get());
  auto a_bytes = a.Reveal(SecretAccess::Get());
  auto b_bytes = b.Reveal(SecretAccess::Get());
  std::copy(a_bytes.begin(), a_bytes.end(), dst.begin());
  std::copy(b_bytes.begin(), b_bytes.end(), dst.begin() + static_cast<std::ptrdiff_t>(a.size()));
  return out;
}

// Encap and AuthEncap (sk_s != nullptr) of RFC 9180 4.1.
Result<Encapsulation> EncapImpl(Kem kem, ByteSpan pk_r, const SecretBytes* sk_s,
                                const KeyPair* fixed) {
  SIGIL_ASSIGN_OR_RETURN(KemParams p, GetKemParams(kem));
  SIGIL_RETURN_IF_ERROR(CheckPublicKey(kem, pk_r, Code::kInvalidArgument));
  KeyPair fresh;
  if (fixed == nullptr) {
    SIGIL_ASSIGN_OR_RETURN(fresh, GenerateKeyPair(kem));
  }
  const SecretBytes& sk_e = fixed != nullptr ? fixed->private_key : fresh.private_key;
  SIGIL_ASSIGN_OR_RETURN(Bytes enc, PublicKeyOf(kem, sk_e.Reveal(SecretAccess::Get())));
  if (fixed != nullptr && enc != fixed->public_key) {
    return Fail(Code::kInvalidArgument, "HPKE Encap: fixed ephemeral key pair does not match");
  }
  SIGIL_ASSIGN_OR_RETURN(SecretBytes dh,
                         Dh(kem, sk_e.Reveal(SecretAccess::Get()), pk_r, Code::kInvalidArgument));
  Bytes kem_context = Concat({enc, pk_r});
  if (sk_s != nullptr) {
    SIGIL_ASSIGN_OR_RETURN(
        SecretBytes dh_s, Dh(kem, sk_s->Reveal(SecretAccess::Get()), pk_r, Code::kInvalidArgument));
    SIGIL_ASSIGN_OR_RETURN(dh, ConcatSecrets(dh, dh_s));
    SIGIL_ASSIGN_OR_RETURN(Bytes pk_s, PublicKeyOf(kem, sk_s->Reveal(SecretAccess::Get())));
    kem_context.insert(kem_context.end(), pk_s.begin(), pk_s.end());
  }
  SIGIL_ASSIGN_OR_RETURN(SecretBytes shared_secret, ExtractAndExpand(p, dh, kem_context));
  return Encapsulation{std::move(shared_secret), std::move(enc)};
}

// Decap and AuthDecap (pk_s != nullptr) of RFC 9180 4.1.
Result<SecretBytes> DecapImpl(Kem kem, ByteSpan enc, const SecretBytes& sk_r,
                              const ByteSpan* pk_s) {
  SIGIL_ASSIGN_OR_RETURN(KemParams p, GetKemParams(kem));
  if (enc.size() != p.n_enc) {
    return Fail(Code::kInvalidArgument, "HPKE enc: expected " + std::to_string(p.n_enc) +
                                            " bytes, got " + std::to_string(enc.size()));
  }
  ByteSpan sk = sk_r.Reveal(SecretAccess::Get());
  // The recipient MUST validate pkE (RFC 9180 7.1.4); a bad one means the message was altered.
  SIGIL_ASSIGN_OR_RETURN(SecretBytes dh, Dh(kem, sk, enc, Code::kVerificationFailed));
  SIGIL_ASSIGN_OR_RETURN(Bytes pk_rm, PublicKeyOf(kem, sk));
  Bytes kem_context = Concat({enc, pk_rm});
  if (pk_s != nullptr) {
    SIGIL_ASSIGN_OR_RETURN(SecretBytes dh_s, Dh(kem, sk, *pk_s, Code::kInvalidArgument));
    SIGIL_ASSIGN_OR_RETURN(dh, ConcatSecrets(dh, dh_s));
    kem_context.insert(kem_context.end(), pk_s->begin(), pk_s->end());
  }
  return ExtractAndExpand(p, dh, kem_context);
}

// X25519 u-coordinates are little-endian; canonical means u < p = 2^255 - 19 (RFC 7748 5).
bool IsCanonicalX25519(ByteSpan u) {
  if ((u[31] & 0x80) != 0) return false;
  if (u[31] != 0x7f || u[0] < 0xed) return true;
  return !std::all_of(u.begin() + 1, u.begin() + 31, [](std::uint8_t b) { return b == 0xff; });
}

// A clamped X25519 scalar, 2^254 + 8 (little-endian). Every clamped scalar is a multiple of 8,
// so X25519 with it maps each small-order point to the all-zero output; it is a multiple of
// neither large prime order (curve or twist), so no other point does.
constexpr std::array<std::uint8_t, 32> kSmallOrderProbe = {0x08, 0, 0, 0, 0, 0, 0, 0, 0, 0,   0,
                                                           0,    0, 0, 0, 0, 0, 0, 0, 0, 0,   0,
                                                           0,    0, 0, 0, 0, 0, 0, 0, 0, 0x40};

}  // namespace

Bytes KemSuiteId(Kem kem) {
  Bytes out = ToBytes("KEM");
  AppendU16(out, static_cast<std::uint16_t>(kem));
  return out;
}

Result<SecretBytes> LabeledExtract(HkdfHash kdf, ByteSpan suite_id, ByteSpan salt,
                                   std::string_view label, ByteSpan ikm) {
  SIGIL_ASSIGN_OR_RETURN(
      SecretBytes labeled_ikm,
      SecretBytes::Allocate(kVersionLabel.size() + suite_id.size() + label.size() + ikm.size()));
  auto dst = labeled_ikm.RevealMutable(SecretAccess::Get()).begin();
  for (ByteSpan part : {AsBytes(kVersionLabel), suite_id, AsBytes(label), ikm}) {
    dst = std::copy(part.begin(), part.end(), dst);
  }
  return HkdfExtract(kdf, salt, labeled_ikm.Reveal(SecretAccess::Get()));
}

Result<SecretBytes> LabeledExpand(HkdfHash kdf, ByteSpan suite_id, ByteSpan prk,
                                  std::string_view label, ByteSpan info, std::size_t length) {
  if (length > 255 * HkdfHashSize(kdf)) {
    return Fail(Code::kInvalidArgument, "HPKE: requested length " + std::to_string(length) +
                                            " exceeds 255 * Nh (RFC 9180 5.3)");
  }
  Bytes labeled_info;
  AppendU16(labeled_info, static_cast<std::uint16_t>(length));  // < 2^16 by the check above
  labeled_info.reserve(2 + kVersionLabel.size() + suite_id.size() + label.size() + info.size());
  for (ByteSpan part : {AsBytes(kVersionLabel), suite_id, AsBytes(label), info}) {
    labeled_info.insert(labeled_info.end(), part.begin(), part.end());
  }
  return HkdfExpand(kdf, prk, labeled_info, length);
}

Result<Encapsulation> Encap(Kem kem, ByteSpan pk_r, const KeyPair* fixed_ephemeral) {
  return EncapImpl(kem, pk_r, nullptr, fixed_ephemeral);
}

Result<Encapsulation> AuthEncap(Kem kem, ByteSpan pk_r, const SecretBytes& sk_s,
                                const KeyPair* fixed_ephemeral) {
  return EncapImpl(kem, pk_r, &sk_s, fixed_ephemeral);
}

Result<SecretBytes> Decap(Kem kem, ByteSpan enc, const SecretBytes& sk_r) {
  return DecapImpl(kem, enc, sk_r, nullptr);
}

Result<SecretBytes> AuthDecap(Kem kem, ByteSpan enc, const SecretBytes& sk_r, ByteSpan pk_s) {
  return DecapImpl(kem, enc, sk_r, &pk_s);
}

}  // namespace internal

Result<KeyPair> DeriveKeyPair(Kem kem, ByteSpan ikm) {
  SIGIL_ASSIGN_OR_RETURN(internal::KemParams p, internal::GetKemParams(kem));
  if (ikm.size() < p.n_sk) {
    return Fail(Code::kInvalidArgument, "HPKE DeriveKeyPair: ikm shorter than Nsk = " +
                                            std::to_string(p.n_sk) + " bytes (RFC 9180 7.1.3)");
  }
  Bytes suite_id = internal::KemSuiteId(kem);
  SIGIL_ASSIGN_OR_RETURN(SecretBytes dkp_prk,
                         internal::LabeledExtract(p.kdf, suite_id, {}, "dkp_prk", ikm));
  ByteSpan prk = dkp_prk.Reveal(SecretAccess::Get());
  SecretBytes sk;
  if (kem == Kem::kX25519HkdfSha256) {
    SIGIL_ASSIGN_OR_RETURN(sk, internal::LabeledExpand(p.kdf, suite_id, prk, "sk", {}, p.n_sk));
  } else {
    // Rejection sampling; bitmask 0xFF for P-256, so bytes[0] is used as is.
    for (unsigned counter = 0; counter <= 255 && sk.empty(); ++counter) {
      const std::uint8_t counter_byte[1] = {static_cast<std::uint8_t>(counter)};
      SIGIL_ASSIGN_OR_RETURN(
          SecretBytes candidate,
          internal::LabeledExpand(p.kdf, suite_id, prk, "candidate", counter_byte, p.n_sk));
      if (internal::IsValidPrivateScalar(kem, candidate.Reveal(SecretAccess::Get()))) {
        sk = std::move(candidate);
      }
    }
    if (sk.empty()) {
      return Fail(Code::kInternal, "HPKE DeriveKeyPair: no valid candidate (DeriveKeyPairError)");
    }
  }
  SIGIL_ASSIGN_OR_RETURN(Bytes pk, internal::PublicKeyOf(kem, sk.Reveal(SecretAccess::Get())));
  return KeyPair{std::move(sk), std::move(pk)};
}

Result<KeyPair> GenerateKeyPair(Kem kem) {
  SIGIL_ASSIGN_OR_RETURN(internal::KemParams p, internal::GetKemParams(kem));
  SIGIL_ASSIGN_OR_RETURN(SecretBytes ikm, SecretBytes::Random(p.n_sk));
  return DeriveKeyPair(kem, ikm.Reveal(SecretAccess::Get()));
}

Result<Bytes> PublicKeyFromPrivate(Kem kem, const SecretBytes& private_key) {
  return internal::PublicKeyOf(kem, private_key.Reveal(SecretAccess::Get()));
}

Result<void> ValidatePublicKey(Kem kem, ByteSpan public_key) {
  SIGIL_RETURN_IF_ERROR(internal::CheckPublicKey(kem, public_key, Code::kInvalidArgument));
  if (kem != Kem::kX25519HkdfSha256) return Ok();
  if (!internal::IsCanonicalX25519(public_key)) {
    return Fail(Code::kInvalidArgument, "X25519 public key: not canonical (u >= 2^255 - 19)");
  }
  if (!internal::Dh(kem, internal::kSmallOrderProbe, public_key, Code::kInvalidArgument)) {
    return Fail(Code::kInvalidArgument,
                "X25519 public key: small-order point (RFC 7748 section 6.1)");
  }
  return Ok();
}

}  // namespace sigil::hpke
