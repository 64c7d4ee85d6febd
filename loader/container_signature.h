// Model-owner signatures on .sgl containers (FORMAT.md, "Signature trailer"): the trailer codec,
// the content digest over the header and every chunk tag, and verifying a container's trailer.
// Answers "who made this model": the recipient key is public, so without a signature anyone
// (the host included) can encrypt weights to a tenant's key. Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <string>

#include "core/bytes.h"
#include "core/digest.h"
#include "core/ed25519.h"
#include "core/ossl.h"
#include "core/result.h"
#include "loader/container_format.h"

namespace sigil::loader {

class Container;

inline constexpr std::array<std::uint8_t, 4> kSignatureMagic{'S', 'G', 'S', 0};
inline constexpr std::uint16_t kSignatureAlgEd25519 = 0x0001;

// The parsed trailer of a version 2 container.
struct SignatureTrailer {
  std::uint16_t alg = kSignatureAlgEd25519;
  Bytes public_key;  // 32-byte Ed25519 public key of the signer
  Bytes signature;   // 64-byte Ed25519 signature over protocol::ArtifactSignatureMessage

  friend bool operator==(const SignatureTrailer&, const SignatureTrailer&) = default;
};

// Strict: exactly kSignatureTrailerSize bytes, the magic, algorithm 1. kInvalidArgument naming
// the field. SerializeSignatureTrailer(ParseSignatureTrailer(b)) == b for every accepted b.
Result<SignatureTrailer> ParseSignatureTrailer(ByteSpan bytes);
Bytes SerializeSignatureTrailer(const SignatureTrailer& t);

// SHA-256(header bytes || tag[0] || ... || tag[n-1]), fed in file order.
class ContentDigest {
 public:
  static Result<ContentDigest> Begin(ByteSpan header_bytes);
  Result<void> AddTag(ByteSpan tag);
  Result<Sha256Digest> Finish();

 private:
  explicit ContentDigest(EvpMdCtxPtr md) : md_(std::move(md)) {}
  EvpMdCtxPtr md_;
};

// What a verified signature says; what sigil-load sends to the broker with the release request.
struct ArtifactSignature {
  std::string artifact_id;  // protocol::ArtifactId(enc, sealed_dek)
  Sha256Digest content_digest{};
  Bytes public_key;  // signer's raw Ed25519 key
  Bytes signature;
  std::string signer_id() const;  // protocol::OwnerKeyId(public_key)
};

// The trailer for a container whose header serialized to `header` with `content_digest`.
SignatureTrailer SignContainer(const Ed25519Signer& signer, const ContainerHeader& header,
                               const Sha256Digest& content_digest);

// Reads every chunk tag of `c` (a signed, version 2 container), recomputes the content digest
// and checks the trailer's signature over it. Cost: one 16-byte read per chunk and one Ed25519
// verification; no key is needed. kVerificationFailed if `c` is unsigned (version 1), or if the header, any tag or the trailer was changed; kUnavailable (I/O).
Result<ArtifactSignature> VerifyContainerSignature(const Container& c);

}  // namespace sigil::loader
