#include "core/encoding.h"
#include "core/protocol.h"
#include "loader/container_format.h"

namespace sigil::loader {

Json HeaderToJson(const ContainerHeader& h, std::uint64_t header_size) {
  ChunkLayout layout(header_size, h);
  Json j = {
      {"format", "sigil-model-container"},
      {"format_version", h.format_version},
      {"tenant", h.tenant},
      {"key", h.key_name},
      {"key_version", h.key_version},
      {"suite", SuiteName(h.suite)},
      {"enc", Base64UrlEncode(h.enc)},
      {"sealed_dek", Base64UrlEncode(h.sealed_dek)},
      {"artifact_id", protocol::ArtifactId(h.enc, h.sealed_dek)},
      {"chunk_aead", "AES-256-GCM"},
      {"chunk_size", h.chunk_size},
      {"chunk_count", layout.count()},
      {"plaintext_size", h.plaintext_size},
      {"content_type", h.content_type},
      {"salt", HexEncode(h.salt)},
      {"header_size", header_size},
      {"file_size", layout.file_size()},
  };
  j["plaintext_sha256"] = h.plaintext_sha256 ? Json(HexEncode(*h.plaintext_sha256)) : Json(nullptr);
  return j;
}

}  // namespace sigil::loader
