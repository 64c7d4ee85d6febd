// Internal to sigil::hpke: the building blocks of core/hpke.h, exposed only to core/hpke*.cpp
// and their tests (which check each step against RFC 9180 Appendix A). Not for use outside
// core/. Thread-safety: all functions are thread-safe.
#pragma once

#include <cstddef>
#include <string_view>

#include "core/bytes.h"
#include "core/hkdf.h"
#include "core/hpke.h"
#include "core/result.h"
#include "core/secret_bytes.h"

namespace sigil::hpke::internal {

// ---- DH groups (core/hpke_dh.cpp): X25519 (RFC 7748) and P-256 (SEC 1) on OpenSSL EVP ----

// RFC 9180 section 7.1, table 2, plus Ndh from section 4.1.
struct KemParams {
  Kem kem;
  HkdfHash kdf;  // the DHKEM's own KDF (HKDF-SHA256 for both KEMs here)
  std::size_t n_secret;
  std::size_t n_enc;
  std::size_t n_pk;
  std::size_t n_sk;
  std::size_t n_dh;
};

// Fails with kInvalidArgument for a KEM id this build does not implement.
Result<KemParams> GetKemParams(Kem kem);

// True iff the big-endian scalar `candidate` (Nsk bytes) is a usable private key: for P-256
// 0 < candidate < order (RFC 9180 7.1.3), for X25519 always (clamping makes every string valid,
// 7.1.2). Runs in time independent of the value.
bool IsValidPrivateScalar(Kem kem, ByteSpan candidate);

// pk(sk) as SerializePublicKey (RFC 9180 7.1.1): X25519 32 bytes, P-256 65-byte uncompressed
// point. Fails with kInvalidArgument if `sk` has the wrong size or is not a valid scalar.
Result<Bytes> PublicKeyOf(Kem kem, ByteSpan sk);

// DeserializePublicKey plus the validation of RFC 9180 7.1.4 (P-256: uncompressed, on the curve,
// not infinity). A wrong length fails with kInvalidArgument; any other defect with `bad_key`, so
// a tampered `enc` reads as kVerificationFailed while a bad configured key reads as
// kInvalidArgument.
Result<void> CheckPublicKey(Kem kem, ByteSpan pk, Code bad_key);

// DH(sk, pk) (RFC 9180 4.1): the X25519 output, or the x-coordinate of the P-256 ECDH point.
// The peer key is validated as CheckPublicKey does; an all-zero X25519 output (a small-order
// peer, RFC 7748 section 6.1) also fails with `bad_key`.
Result<SecretBytes> Dh(Kem kem, ByteSpan sk, ByteSpan pk, Code bad_key);

// ---- Labeled KDF and DHKEM (core/hpke_kem.cpp) ----

// RFC 9180 section 4: LabeledExtract(salt, label, ikm) =
// Extract(salt, "HPKE-v1" || suite_id || label || ikm). The labeled input is built in locked
// memory because `ikm` is often a secret (a DH output, a PSK).
Result<SecretBytes> LabeledExtract(HkdfHash kdf, ByteSpan suite_id, ByteSpan salt,
                                   std::string_view label, ByteSpan ikm);

// RFC 9180 section 4: LabeledExpand(prk, label, info, L) =
// Expand(prk, I2OSP(L, 2) || "HPKE-v1" || suite_id || label || info, L).
// Fails with kInvalidArgument if L > 255 * Nh.
Result<SecretBytes> LabeledExpand(HkdfHash kdf, ByteSpan suite_id, ByteSpan prk,
                                  std::string_view label, ByteSpan info, std::size_t length);

// suite_id = "KEM" || I2OSP(kem_id, 2) (RFC 9180 section 4.1).
Bytes KemSuiteId(Kem kem);

struct Encapsulation {
  SecretBytes shared_secret;
  Bytes enc;
};

// Encap(pkR) / AuthEncap(pkR, skS) (RFC 9180 4.1). With `fixed_ephemeral` (test vectors only) the
// ephemeral key is that pair's private key instead of a fresh one. A bad pkR or skS, or a pkR
// that makes a DH output invalid, fails with kInvalidArgument.
Result<Encapsulation> Encap(Kem kem, ByteSpan pk_r, const KeyPair* fixed_ephemeral);
Result<Encapsulation> AuthEncap(Kem kem, ByteSpan pk_r, const SecretBytes& sk_s,
                                const KeyPair* fixed_ephemeral);

// Decap(enc, skR) / AuthDecap(enc, skR, pkS) (RFC 9180 4.1). An `enc` of the wrong length fails
// with kInvalidArgument; an `enc` that is not a valid public key, or that gives an invalid DH
// output, fails with kVerificationFailed. A bad skR or pkS fails with kInvalidArgument.
Result<SecretBytes> Decap(Kem kem, ByteSpan enc, const SecretBytes& sk_r);
Result<SecretBytes> AuthDecap(Kem kem, ByteSpan enc, const SecretBytes& sk_r, ByteSpan pk_s);

// ---- Key schedule pieces (core/hpke.cpp), RFC 9180 section 5.1 ----

// suite_id = "HPKE" || I2OSP(kem_id, 2) || I2OSP(kdf_id, 2) || I2OSP(aead_id, 2).
Bytes HpkeSuiteId(Suite suite);

// key_schedule_context = mode || LabeledExtract("", "psk_id_hash", psk_id)
//                             || LabeledExtract("", "info_hash", info).
// Fails with kInvalidArgument for an unsupported suite.
Result<Bytes> KeyScheduleContext(Suite suite, Mode mode, ByteSpan psk_id, ByteSpan info);

// secret = LabeledExtract(shared_secret, "secret", psk).
Result<SecretBytes> KeyScheduleSecret(Suite suite, const SecretBytes& shared_secret, ByteSpan psk);

}  // namespace sigil::hpke::internal
