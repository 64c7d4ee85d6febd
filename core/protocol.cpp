#include "core/protocol.h"

#include "core/encoding.h"

namespace sigil::protocol {
namespace {
Bytes Joined(std::initializer_list<std::string_view> parts) {
  Bytes out;
  bool first = true;
  for (auto p : parts) {
    if (!first) out.push_back(0);
    out.insert(out.end(), p.begin(), p.end());
    first = false;
  }
  return out;
}
}  // namespace

Sha512Digest Binding(ByteSpan nonce, ByteSpan tee_public_key) {
  return Sha512(Concat({AsBytes("sigil/v1/binding"), nonce, tee_public_key}));
}

Bytes DekSealInfo(std::string_view tenant, std::string_view key, std::uint32_t version) {
  std::string v = std::to_string(version);
  return Joined({"sigil/v1/dek", tenant, key, v});
}

std::string ArtifactId(ByteSpan enc, ByteSpan sealed_dek) {
  Bytes buf;
  AppendU32(buf, static_cast<std::uint32_t>(enc.size()));
  buf.insert(buf.end(), enc.begin(), enc.end());
  buf.insert(buf.end(), sealed_dek.begin(), sealed_dek.end());
  return HexEncode(Sha256(buf));
}

Bytes ReleaseInfo(std::string_view tenant, std::string_view key, std::uint32_t version,
                  std::string_view artifact_id) {
  std::string v = std::to_string(version);
  return Joined({"sigil/v1/release", tenant, key, v, artifact_id});
}

Bytes ArtifactSignatureMessage(std::string_view artifact_id, const Sha256Digest& content_digest) {
  Bytes out = Joined({"sigil/v1/artifact-signature", artifact_id, ""});
  out.insert(out.end(), content_digest.begin(), content_digest.end());
  return out;
}

std::string OwnerKeyId(ByteSpan ed25519_public_key) { return HexEncode(Sha256(ed25519_public_key)); }

std::string PolicyApprovalMessage(std::string_view tenant, std::int64_t version, std::string_view text_sha256_hex) {
  return "sigil/v1/policy-approval\ntenant " + std::string(tenant) + "\nversion " + std::to_string(version) +
         "\nsha256 " + std::string(text_sha256_hex) + "\n";
}

}  // namespace sigil::protocol
