// The .sgl encrypted container: header model, strict parser, serializer and chunk layout.
// The byte layout is a wire format, specified in loader/FORMAT.md; any change there is a format
// version bump. Pure functions over bytes: no I/O, no crypto, thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/digest.h"
#include "core/hpke.h"
#include "core/json.h"
#include "core/names.h"
#include "core/result.h"

namespace sigil::loader {

inline constexpr std::array<std::uint8_t, 4> kMagic{'S', 'G', 'L', 0};
inline constexpr std::uint16_t kFormatVersion = 1;
// Version 2 is version 1 followed by a signature trailer after the last chunk (FORMAT.md,
// "Signature trailer"). The version is in the header, hence in every chunk's AAD, so a signed
// container cannot be passed off as an unsigned one by cutting the trailer off.
inline constexpr std::uint16_t kFormatVersionSigned = 2;
// magic "SGS\0" (4) || algorithm u16 (2) || Ed25519 public key (32) || signature (64).
inline constexpr std::size_t kSignatureTrailerSize = 102;
// magic(4) || version u16 || header_length u32: enough to learn how much more to read.
inline constexpr std::size_t kHeaderPrefixSize = 10;
inline constexpr std::uint32_t kMaxHeaderSize = 4096;
inline constexpr std::size_t kEncSize = 32;         // X25519 public key
inline constexpr std::size_t kDekSize = 32;         // AES-256 key
inline constexpr std::size_t kSealedDekSize = 48;   // DEK || 16-byte tag
inline constexpr std::size_t kSaltSize = 32;
inline constexpr std::size_t kTagSize = 16;
inline constexpr std::uint16_t kChunkAeadAes256Gcm = 0x0002;  // same id as HPKE's AEAD registry
inline constexpr std::uint32_t kMinChunkSize = 4096;
inline constexpr std::uint32_t kMaxChunkSize = 64u << 20;
inline constexpr std::uint32_t kDefaultChunkSize = 4u << 20;
inline constexpr std::uint64_t kMaxChunkCount = std::uint64_t{1} << 32;
inline constexpr std::size_t kMaxNameSize = kMaxNameLength;
inline constexpr std::size_t kMaxContentTypeSize = 127;

// Every field of a v1 (or v2: same fields) header. Values produced by ParseHeader satisfy ValidateHeader.
struct ContainerHeader {
  std::uint16_t format_version = kFormatVersion;
  std::string tenant;
  std::string key_name;
  std::uint32_t key_version = 0;
  hpke::Suite suite = hpke::kSigilSuite;
  Bytes enc;         // HPKE encapsulated key, kEncSize bytes
  Bytes sealed_dek;  // HPKE ciphertext of the DEK, kSealedDekSize bytes
  std::uint16_t chunk_aead = kChunkAeadAes256Gcm;
  std::uint32_t chunk_size = kDefaultChunkSize;
  std::uint64_t plaintext_size = 0;
  std::string content_type = "application/octet-stream";
  std::array<std::uint8_t, kSaltSize> salt{};
  std::optional<Sha256Digest> plaintext_sha256;

  friend bool operator==(const ContainerHeader& a, const ContainerHeader& b);
};

// Tenant and key names are checked with sigil::ValidateName (core/names.h), the broker's rule.

// Checks every field against the v1 rules (FORMAT.md): names, suite, sizes, chunk size, chunk
// count <= 2^32, content type syntax. kInvalidArgument naming the field.
Result<void> ValidateHeader(const ContainerHeader& h);

// Reads the fixed 10-byte prefix and returns the total header length it declares. Fails with
// kInvalidArgument on a wrong magic, an unknown version or a length outside its bounds.
Result<std::uint32_t> ParseHeaderPrefix(ByteSpan prefix);

// Parses a complete header; `bytes` must be exactly the declared header length. Strict: every
// length bounded, every enum known, no trailing bytes. Errors (kInvalidArgument) name the field
// and its byte offset.
Result<ContainerHeader> ParseHeader(ByteSpan bytes);

// Validates and encodes. SerializeHeader(ParseHeader(b)) == b for every accepted b.
Result<Bytes> SerializeHeader(const ContainerHeader& h);

// Where each chunk lives, for a header of `header_size` bytes. Chunk count is fixed by the
// plaintext size (an empty plaintext has one empty final chunk), so the file size is exact.
class ChunkLayout {
 public:
  ChunkLayout(std::uint64_t header_size, std::uint32_t chunk_size, std::uint64_t plaintext_size,
              std::uint64_t trailer_size = 0);
  ChunkLayout(std::uint64_t header_size, const ContainerHeader& h)
      : ChunkLayout(header_size, h.chunk_size, h.plaintext_size,
                    h.format_version == kFormatVersionSigned ? kSignatureTrailerSize : 0) {}
  std::uint64_t count() const { return count_; }
  std::uint64_t chunk_size() const { return chunk_size_; }
  bool is_last(std::uint64_t i) const { return i + 1 == count_; }
  std::uint64_t plain_offset(std::uint64_t i) const { return i * chunk_size_; }
  std::uint64_t plain_size(std::uint64_t i) const;
  // Offset in the file of chunk i's ciphertext; its tag follows plain_size(i) bytes later.
  std::uint64_t file_offset(std::uint64_t i) const { return header_size_ + i * (chunk_size_ + kTagSize); }
  // Offset of the signature trailer (version 2), right after the last chunk.
  std::uint64_t trailer_offset() const { return header_size_ + plaintext_size_ + count_ * kTagSize; }
  std::uint64_t file_size() const { return trailer_offset() + trailer_size_; }

 private:
  std::uint64_t header_size_;
  std::uint64_t chunk_size_;
  std::uint64_t plaintext_size_;
  std::uint64_t count_;
  std::uint64_t trailer_size_;
};

// Header as JSON for `sigil model inspect`: public fields only (enc and sealed_dek are public
// ciphertext; nothing here is a secret), plus chunk_count, header_size and artifact_id.
Json HeaderToJson(const ContainerHeader& h, std::uint64_t header_size);

// "X25519-HKDF-SHA256-AES-256-GCM" for kSigilSuite, else "kem=0x..,kdf=0x..,aead=0x..".
std::string SuiteName(const hpke::Suite& s);

}  // namespace sigil::loader
