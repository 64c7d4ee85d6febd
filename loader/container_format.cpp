#include "loader/container_format.h"

#include <algorithm>
#include <bit>
#include <cstdio>

namespace sigil::loader {
namespace {

std::string Where(std::size_t offset, std::string_view field) {
  return "sgl header: byte " + std::to_string(offset) + " (" + std::string(field) + ")";
}
std::string At(std::size_t offset, std::string_view field) { return Where(offset, field) + ": "; }

// Bounds-checked reader over the header bytes; every error names the field and its offset.
class Reader {
 public:
  explicit Reader(ByteSpan b) : b_(b) {}
  std::size_t offset() const { return off_; }
  std::size_t remaining() const { return b_.size() - off_; }

  Result<ByteSpan> Take(std::size_t n, std::string_view field) {
    if (remaining() < n) {
      return Fail(Code::kInvalidArgument, At(off_, field) + "needs " + std::to_string(n) +
                                              " bytes but the header has " +
                                              std::to_string(remaining()) + " left");
    }
    ByteSpan out = b_.subspan(off_, n);
    off_ += n;
    return out;
  }
  Result<std::uint8_t> U8(std::string_view f) {
    SIGIL_ASSIGN_OR_RETURN(ByteSpan s, Take(1, f));
    return s[0];
  }
  Result<std::uint16_t> U16(std::string_view f) {
    SIGIL_ASSIGN_OR_RETURN(ByteSpan s, Take(2, f));
    return ReadU16(s);
  }
  Result<std::uint32_t> U32(std::string_view f) {
    SIGIL_ASSIGN_OR_RETURN(ByteSpan s, Take(4, f));
    return ReadU32(s);
  }
  Result<std::uint64_t> U64(std::string_view f) {
    SIGIL_ASSIGN_OR_RETURN(ByteSpan s, Take(8, f));
    return ReadU64(s);
  }
  // u16 length || bytes, with min <= length <= max.
  Result<ByteSpan> Vec(std::string_view f, std::size_t min, std::size_t max) {
    std::size_t at = off_;
    SIGIL_ASSIGN_OR_RETURN(std::uint16_t n, U16(f));
    if (n < min || n > max) {
      std::string range = min == max ? std::to_string(min) : std::to_string(min) + ".." + std::to_string(max);
      return Fail(Code::kInvalidArgument,
                  At(at, f) + "length " + std::to_string(n) + " is not " + range);
    }
    return Take(n, f);
  }

 private:
  ByteSpan b_;
  std::size_t off_ = 0;
};

bool IsContentTypeChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$&^_.+-").find(c) != std::string_view::npos;
}

// RFC 6838 section 4.2 restricted names: type "/" subtype, no parameters.
Result<void> ValidateContentType(std::string_view ct) {
  auto slash = ct.find('/');
  bool ok = !ct.empty() && ct.size() <= kMaxContentTypeSize && slash != std::string_view::npos &&
            slash > 0 && slash + 1 < ct.size() &&
            std::all_of(ct.begin(), ct.end(), [&](char c) { return c == '/' || IsContentTypeChar(c); }) &&
            ct.find('/', slash + 1) == std::string_view::npos;
  if (!ok) {
    return Fail(Code::kInvalidArgument, "content type must be type/subtype of RFC 6838 characters, "
                                        "at most 127 bytes");
  }
  return Ok();
}

Result<void> ValidateChunkSize(std::uint32_t cs) {
  if (cs < kMinChunkSize || cs > kMaxChunkSize || !std::has_single_bit(cs)) {
    return Fail(Code::kInvalidArgument, "chunk size " + std::to_string(cs) +
                                            " is not a power of two in 4096..67108864");
  }
  return Ok();
}

Result<void> ValidateCounts(std::uint32_t chunk_size, std::uint64_t plaintext_size) {
  // The nonce holds the index in 11 bytes, but the format caps the count at 2^32 so that the
  // total file size always fits in a signed 64-bit offset.
  std::uint64_t count = plaintext_size == 0 ? 1 : (plaintext_size - 1) / chunk_size + 1;
  if (count > kMaxChunkCount) {
    return Fail(Code::kInvalidArgument, "plaintext size " + std::to_string(plaintext_size) +
                                            " needs more than 2^32 chunks of " + std::to_string(chunk_size));
  }
  return Ok();
}

}  // namespace

bool operator==(const ContainerHeader& a, const ContainerHeader& b) {
  return a.format_version == b.format_version && a.tenant == b.tenant && a.key_name == b.key_name &&
         a.key_version == b.key_version && a.suite.kem == b.suite.kem && a.suite.kdf == b.suite.kdf &&
         a.suite.aead == b.suite.aead && a.enc == b.enc && a.sealed_dek == b.sealed_dek &&
         a.chunk_aead == b.chunk_aead && a.chunk_size == b.chunk_size &&
         a.plaintext_size == b.plaintext_size && a.content_type == b.content_type && a.salt == b.salt &&
         a.plaintext_sha256 == b.plaintext_sha256;
}

std::string SuiteName(const hpke::Suite& s) {
  if (s.kem == hpke::kSigilSuite.kem && s.kdf == hpke::kSigilSuite.kdf && s.aead == hpke::kSigilSuite.aead) {
    return "X25519-HKDF-SHA256-AES-256-GCM";
  }
  auto hex = [](auto v) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%04x", static_cast<unsigned>(v));
    return std::string(buf);
  };
  return "kem=" + hex(s.kem) + ",kdf=" + hex(s.kdf) + ",aead=" + hex(s.aead);
}

Result<void> ValidateHeader(const ContainerHeader& h) {
  auto field = [](std::string_view f, Result<void> r) -> Result<void> {
    if (!r) return r.error().Wrap(std::string("sgl header ") + std::string(f));
    return Ok();
  };
  if (h.format_version != kFormatVersion && h.format_version != kFormatVersionSigned) {
    return Fail(Code::kInvalidArgument, "sgl header: format version " + std::to_string(h.format_version) +
                                            " is not supported (only 1, or 2 signed)");
  }
  SIGIL_RETURN_IF_ERROR(field("tenant", ValidateName(h.tenant, "tenant")));
  SIGIL_RETURN_IF_ERROR(field("key", ValidateName(h.key_name, "key name")));
  if (h.key_version == 0) return Fail(Code::kInvalidArgument, "sgl header key version: must be >= 1");
  if (SuiteName(h.suite) != SuiteName(hpke::kSigilSuite)) {
    return Fail(Code::kInvalidArgument, "sgl header suite: " + SuiteName(h.suite) +
                                            " is not supported (only X25519-HKDF-SHA256-AES-256-GCM)");
  }
  if (h.enc.size() != kEncSize) return Fail(Code::kInvalidArgument, "sgl header enc: must be 32 bytes");
  if (h.sealed_dek.size() != kSealedDekSize) {
    return Fail(Code::kInvalidArgument, "sgl header sealed_dek: must be 48 bytes");
  }
  if (h.chunk_aead != kChunkAeadAes256Gcm) {
    return Fail(Code::kInvalidArgument, "sgl header chunk aead: only 0x0002 (AES-256-GCM) is supported");
  }
  SIGIL_RETURN_IF_ERROR(field("chunk size", ValidateChunkSize(h.chunk_size)));
  SIGIL_RETURN_IF_ERROR(field("plaintext size", ValidateCounts(h.chunk_size, h.plaintext_size)));
  return field("content type", ValidateContentType(h.content_type));
}

Result<std::uint32_t> ParseHeaderPrefix(ByteSpan prefix) {
  if (prefix.size() < kHeaderPrefixSize) {
    return Fail(Code::kInvalidArgument, "sgl header: " + std::to_string(prefix.size()) +
                                            " bytes is too short for the 10-byte prefix");
  }
  if (!std::equal(kMagic.begin(), kMagic.end(), prefix.begin())) {
    return Fail(Code::kInvalidArgument, At(0, "magic") + "not an .sgl container (expected \"SGL\\0\")");
  }
  std::uint16_t version = ReadU16(prefix.subspan(4));
  if (version != kFormatVersion && version != kFormatVersionSigned) {
    return Fail(Code::kInvalidArgument, At(4, "format version") + std::to_string(version) +
                                            " is not supported (this build reads versions 1 and 2)");
  }
  std::uint32_t len = ReadU32(prefix.subspan(6));
  if (len < kHeaderPrefixSize || len > kMaxHeaderSize) {
    return Fail(Code::kInvalidArgument, At(6, "header length") + std::to_string(len) +
                                            " is outside 10..4096");
  }
  return len;
}

namespace {

// Tenant, key name, key version, HPKE suite, enc, sealed DEK (FORMAT.md, from offset 10).
Result<void> ParseKeyFields(Reader& r, ContainerHeader& h) {
  std::size_t at = r.offset();
  SIGIL_ASSIGN_OR_RETURN(ByteSpan tenant, r.Vec("tenant", 1, kMaxNameSize));
  h.tenant = ToString(tenant);
  if (auto v = ValidateName(h.tenant, "tenant"); !v) return v.error().Wrap(Where(at + 2, "tenant"));
  at = r.offset();
  SIGIL_ASSIGN_OR_RETURN(ByteSpan key, r.Vec("key name", 1, kMaxNameSize));
  h.key_name = ToString(key);
  if (auto v = ValidateName(h.key_name, "key name"); !v) return v.error().Wrap(Where(at + 2, "key name"));
  at = r.offset();
  SIGIL_ASSIGN_OR_RETURN(h.key_version, r.U32("key version"));
  if (h.key_version == 0) return Fail(Code::kInvalidArgument, At(at, "key version") + "must be >= 1");
  at = r.offset();
  SIGIL_ASSIGN_OR_RETURN(std::uint16_t kem, r.U16("kem id"));
  SIGIL_ASSIGN_OR_RETURN(std::uint16_t kdf, r.U16("kdf id"));
  SIGIL_ASSIGN_OR_RETURN(std::uint16_t aead, r.U16("aead id"));
  h.suite = {hpke::Kem(kem), hpke::Kdf(kdf), hpke::Aead(aead)};
  if (SuiteName(h.suite) != SuiteName(hpke::kSigilSuite)) {
    return Fail(Code::kInvalidArgument, At(at, "hpke suite") + SuiteName(h.suite) +
                                            " is not supported (only X25519-HKDF-SHA256-AES-256-GCM)");
  }
  SIGIL_ASSIGN_OR_RETURN(ByteSpan enc, r.Vec("enc", kEncSize, kEncSize));
  h.enc.assign(enc.begin(), enc.end());
  SIGIL_ASSIGN_OR_RETURN(ByteSpan sealed, r.Vec("sealed dek", kSealedDekSize, kSealedDekSize));
  h.sealed_dek.assign(sealed.begin(), sealed.end());
  return Ok();
}

// Chunk AEAD, chunk size, plaintext size, content type, salt, optional digest.
Result<void> ParseContentFields(Reader& r, ContainerHeader& h) {
  std::size_t at = r.offset();
  SIGIL_ASSIGN_OR_RETURN(h.chunk_aead, r.U16("chunk aead id"));
  if (h.chunk_aead != kChunkAeadAes256Gcm) {
    return Fail(Code::kInvalidArgument, At(at, "chunk aead id") + std::to_string(h.chunk_aead) +
                                            " is not supported (only 2, AES-256-GCM)");
  }
  at = r.offset();
  SIGIL_ASSIGN_OR_RETURN(h.chunk_size, r.U32("chunk size"));
  if (auto v = ValidateChunkSize(h.chunk_size); !v) return v.error().Wrap(Where(at, "chunk size"));
  at = r.offset();
  SIGIL_ASSIGN_OR_RETURN(h.plaintext_size, r.U64("plaintext size"));
  if (auto v = ValidateCounts(h.chunk_size, h.plaintext_size); !v) {
    return v.error().Wrap(Where(at, "plaintext size"));
  }
  at = r.offset();
  SIGIL_ASSIGN_OR_RETURN(ByteSpan ct, r.Vec("content type", 1, kMaxContentTypeSize));
  h.content_type = ToString(ct);
  if (auto v = ValidateContentType(h.content_type); !v) return v.error().Wrap(Where(at + 2, "content type"));
  SIGIL_ASSIGN_OR_RETURN(ByteSpan salt, r.Take(kSaltSize, "salt"));
  std::copy(salt.begin(), salt.end(), h.salt.begin());
  at = r.offset();
  SIGIL_ASSIGN_OR_RETURN(std::uint8_t flag, r.U8("digest flag"));
  if (flag > 1) {
    return Fail(Code::kInvalidArgument, At(at, "digest flag") + std::to_string(flag) + " is not 0 or 1");
  }
  if (flag == 1) {
    SIGIL_ASSIGN_OR_RETURN(ByteSpan d, r.Take(32, "plaintext sha256"));
    h.plaintext_sha256.emplace();
    std::copy(d.begin(), d.end(), h.plaintext_sha256->begin());
  }
  return Ok();
}

}  // namespace

Result<ContainerHeader> ParseHeader(ByteSpan bytes) {
  SIGIL_ASSIGN_OR_RETURN(std::uint32_t len, ParseHeaderPrefix(bytes));
  if (bytes.size() != len) {
    return Fail(Code::kInvalidArgument, At(6, "header length") + "declares " + std::to_string(len) +
                                            " bytes but " + std::to_string(bytes.size()) + " were given");
  }
  Reader r(bytes);
  (void)r.Take(kHeaderPrefixSize, "prefix");
  ContainerHeader h;
  h.format_version = ReadU16(bytes.subspan(4));
  SIGIL_RETURN_IF_ERROR(ParseKeyFields(r, h));
  SIGIL_RETURN_IF_ERROR(ParseContentFields(r, h));
  if (r.remaining() != 0) {
    return Fail(Code::kInvalidArgument, At(r.offset(), "end of header") + std::to_string(r.remaining()) +
                                            " trailing bytes inside the declared header length");
  }
  return h;
}

Result<Bytes> SerializeHeader(const ContainerHeader& h) {
  SIGIL_RETURN_IF_ERROR(ValidateHeader(h));
  Bytes out(kMagic.begin(), kMagic.end());
  AppendU16(out, h.format_version);
  AppendU32(out, 0);  // patched below
  auto vec = [&out](ByteSpan b) {
    AppendU16(out, static_cast<std::uint16_t>(b.size()));
    out.insert(out.end(), b.begin(), b.end());
  };
  vec(AsBytes(h.tenant));
  vec(AsBytes(h.key_name));
  AppendU32(out, h.key_version);
  AppendU16(out, static_cast<std::uint16_t>(h.suite.kem));
  AppendU16(out, static_cast<std::uint16_t>(h.suite.kdf));
  AppendU16(out, static_cast<std::uint16_t>(h.suite.aead));
  vec(h.enc);
  vec(h.sealed_dek);
  AppendU16(out, h.chunk_aead);
  AppendU32(out, h.chunk_size);
  AppendU64(out, h.plaintext_size);
  vec(AsBytes(h.content_type));
  out.insert(out.end(), h.salt.begin(), h.salt.end());
  out.push_back(h.plaintext_sha256 ? 1 : 0);
  if (h.plaintext_sha256) out.insert(out.end(), h.plaintext_sha256->begin(), h.plaintext_sha256->end());
  Bytes len;
  AppendU32(len, static_cast<std::uint32_t>(out.size()));
  std::copy(len.begin(), len.end(), out.begin() + 6);
  return out;
}

ChunkLayout::ChunkLayout(std::uint64_t header_size, std::uint32_t chunk_size, std::uint64_t plaintext_size,
                         std::uint64_t trailer_size)
    : header_size_(header_size),
      chunk_size_(chunk_size),
      plaintext_size_(plaintext_size),
      count_(plaintext_size == 0 ? 1 : (plaintext_size - 1) / chunk_size + 1),
      trailer_size_(trailer_size) {
  SIGIL_CHECK(chunk_size > 0);
}

std::uint64_t ChunkLayout::plain_size(std::uint64_t i) const {
  if (i + 1 < count_) return chunk_size_;
  return plaintext_size_ - plain_offset(i);
}

}  // namespace sigil::loader
