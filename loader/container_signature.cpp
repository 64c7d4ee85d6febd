#include "loader/container_signature.h"

#include <algorithm>

#include "core/encoding.h"
#include "core/protocol.h"
#include "loader/container_reader.h"
#include "loader/fd_util.h"

namespace sigil::loader {

Result<SignatureTrailer> ParseSignatureTrailer(ByteSpan bytes) {
  if (bytes.size() != kSignatureTrailerSize) {
    return Fail(Code::kInvalidArgument, "sgl signature trailer: " + std::to_string(bytes.size()) +
                                            " bytes, expected " + std::to_string(kSignatureTrailerSize));
  }
  if (!std::equal(kSignatureMagic.begin(), kSignatureMagic.end(), bytes.begin())) {
    return Fail(Code::kInvalidArgument, "sgl signature trailer: bad magic (expected \"SGS\\0\")");
  }
  SignatureTrailer t;
  t.alg = ReadU16(bytes.subspan(4));
  if (t.alg != kSignatureAlgEd25519) {
    return Fail(Code::kInvalidArgument, "sgl signature trailer: algorithm " + std::to_string(t.alg) +
                                            " is not supported (only 1, Ed25519)");
  }
  ByteSpan pk = bytes.subspan(6, kEd25519PublicKeySize);
  ByteSpan sig = bytes.subspan(6 + kEd25519PublicKeySize, kEd25519SignatureSize);
  t.public_key.assign(pk.begin(), pk.end());
  t.signature.assign(sig.begin(), sig.end());
  return t;
}

Bytes SerializeSignatureTrailer(const SignatureTrailer& t) {
  Bytes out(kSignatureMagic.begin(), kSignatureMagic.end());
  AppendU16(out, t.alg);
  out.insert(out.end(), t.public_key.begin(), t.public_key.end());
  out.insert(out.end(), t.signature.begin(), t.signature.end());
  return out;
}

Result<ContentDigest> ContentDigest::Begin(ByteSpan header_bytes) {
  EvpMdCtxPtr md(EVP_MD_CTX_new());
  if (!md || EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(md.get(), header_bytes.data(), header_bytes.size()) != 1) {
    return OpenSslError(Code::kInternal, "content digest init");
  }
  return ContentDigest(std::move(md));
}

Result<void> ContentDigest::AddTag(ByteSpan tag) {
  if (EVP_DigestUpdate(md_.get(), tag.data(), tag.size()) != 1) return OpenSslError(Code::kInternal, "content digest");
  return Ok();
}

Result<Sha256Digest> ContentDigest::Finish() {
  Sha256Digest d{};
  unsigned len = 0;
  if (EVP_DigestFinal_ex(md_.get(), d.data(), &len) != 1) return OpenSslError(Code::kInternal, "content digest");
  return d;
}

std::string ArtifactSignature::signer_id() const { return protocol::OwnerKeyId(public_key); }

SignatureTrailer SignContainer(const Ed25519Signer& signer, const ContainerHeader& header,
                               const Sha256Digest& content_digest) {
  std::string artifact_id = protocol::ArtifactId(header.enc, header.sealed_dek);
  SignatureTrailer t;
  t.public_key = signer.public_key();
  t.signature = signer.Sign(protocol::ArtifactSignatureMessage(artifact_id, content_digest));
  return t;
}

Result<ArtifactSignature> VerifyContainerSignature(const Container& c) {
  if (!c.signature()) {
    return Fail(Code::kVerificationFailed, c.path() + ": the container is not signed (format version 1); "
                                                      "encrypt it with `sigil model encrypt --sign`");
  }
  const ChunkLayout& layout = c.layout();
  SIGIL_ASSIGN_OR_RETURN(ContentDigest digest, ContentDigest::Begin(c.header_bytes()));
  std::array<std::uint8_t, kTagSize> tag{};
  for (std::uint64_t i = 0; i < layout.count(); ++i) {
    std::uint64_t at = layout.file_offset(i) + layout.plain_size(i);
    SIGIL_RETURN_IF_ERROR(internal::PreadFull(c.fd(), tag.data(), tag.size(), at, c.path()));
    SIGIL_RETURN_IF_ERROR(digest.AddTag(tag));
  }
  ArtifactSignature out;
  out.artifact_id = protocol::ArtifactId(c.header().enc, c.header().sealed_dek);
  SIGIL_ASSIGN_OR_RETURN(out.content_digest, digest.Finish());
  out.public_key = c.signature()->public_key;
  out.signature = c.signature()->signature;
  auto ok = Ed25519Verify(out.public_key, protocol::ArtifactSignatureMessage(out.artifact_id, out.content_digest),
                          out.signature);
  if (!ok) {
    return Fail(Code::kVerificationFailed,
                c.path() + ": the owner signature (signer " + out.signer_id() +
                    ") does not match the header and chunk tags: the container was modified after signing");
  }
  return out;
}

}  // namespace sigil::loader
