#include "loader/container_reader.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "core/digest.h"
#include "core/encoding.h"
#include "core/ossl.h"
#include "loader/chunk_crypto.h"
#include "loader/locked_buffer.h"

namespace sigil::loader {
namespace {

using internal::ErrnoError;
using internal::UniqueFd;

// What the caller of a failed decryption already has: nothing, or a prefix of the plaintext.
std::string ReleasedNote(std::uint64_t bytes_written, std::uint64_t chunks) {
  if (bytes_written == 0) return "no plaintext was released";
  return std::to_string(bytes_written) + " bytes of authenticated plaintext (chunks 0-" +
         std::to_string(chunks - 1) +
         ") were already written to the output before the failure: the output is incomplete and "
         "must be discarded";
}

std::string SizeMismatch(const std::string& path, const ChunkLayout& layout, std::uint64_t actual,
                         const ContainerHeader& h) {
  std::uint64_t want = layout.file_size();
  std::string what = actual < want ? "truncated: " + std::to_string(want - actual) + " bytes missing"
                                   : std::to_string(actual - want) + " unexpected bytes appended";
  if (actual > want && (actual - want) % (h.chunk_size + kTagSize) == 0) {
    what += " (" + std::to_string((actual - want) / (h.chunk_size + kTagSize)) + " whole extra chunks)";
  }
  if (actual < want && actual >= layout.file_offset(0)) {
    std::uint64_t body = actual - layout.file_offset(0);
    what += " (the file holds " + std::to_string(body / (h.chunk_size + kTagSize)) + " complete chunks)";
  }
  return path + ": file is " + std::to_string(actual) + " bytes but its header (plaintext " +
         std::to_string(h.plaintext_size) + " bytes in " + std::to_string(layout.count()) + " chunks of " +
         std::to_string(h.chunk_size) + ") requires exactly " + std::to_string(want) + "; " + what;
}

}  // namespace

Error ChunkAuthError(const Container& c, std::uint64_t index, std::uint64_t bytes_written) {
  std::string hint = index == 0 ? "the header was modified, the DEK is wrong, or the chunk was altered"
                                : "the chunk was altered, reordered or taken from another file";
  return Error(Code::kVerificationFailed,
               c.path() + ": chunk " + std::to_string(index) + " of " + std::to_string(c.layout().count()) +
                   " (file offset " + std::to_string(c.layout().file_offset(index)) +
                   ") failed authentication: " + hint + "; " + ReleasedNote(bytes_written, index));
}

Result<Container> Container::Open(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoError("open " + path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return ErrnoError("stat " + path);
  if (!S_ISREG(st.st_mode)) return Fail(Code::kInvalidArgument, path + ": not a regular file");
  auto actual = static_cast<std::uint64_t>(st.st_size);
  if (actual < kHeaderPrefixSize) {
    return Fail(Code::kInvalidArgument, path + ": " + std::to_string(actual) +
                                            " bytes is too short for an .sgl header");
  }
  Bytes header_bytes(kHeaderPrefixSize);
  SIGIL_RETURN_IF_ERROR(internal::PreadFull(fd.get(), header_bytes.data(), kHeaderPrefixSize, 0, path));
  auto len = ParseHeaderPrefix(header_bytes);
  if (!len) return len.error().Wrap(path);
  if (actual < *len) {
    return Fail(Code::kInvalidArgument, path + ": file is " + std::to_string(actual) +
                                            " bytes, shorter than its declared header (" +
                                            std::to_string(*len) + " bytes)");
  }
  header_bytes.resize(*len);
  SIGIL_RETURN_IF_ERROR(internal::PreadFull(fd.get(), header_bytes.data() + kHeaderPrefixSize,
                                            *len - kHeaderPrefixSize, kHeaderPrefixSize, path));
  auto header = ParseHeader(header_bytes);
  if (!header) return header.error().Wrap(path);
  ChunkLayout layout(header_bytes.size(), *header);
  if (actual != layout.file_size()) {
    return Fail(Code::kInvalidArgument, SizeMismatch(path, layout, actual, *header));
  }
  Container c(path, std::move(fd), std::move(header).value(), std::move(header_bytes));
  SIGIL_RETURN_IF_ERROR(c.ReadTrailer());
  return c;
}

Result<void> Container::ReadTrailer() {
  if (header_.format_version != kFormatVersionSigned) return Ok();
  Bytes raw(kSignatureTrailerSize);
  SIGIL_RETURN_IF_ERROR(internal::PreadFull(fd_.get(), raw.data(), raw.size(), layout_.trailer_offset(), path_));
  auto t = ParseSignatureTrailer(raw);
  if (!t) return t.error().Wrap(path_);
  signature_ = std::move(t).value();
  return Ok();
}

Result<void> DecryptToStream(const Container& c, const SecretBytes& dek, int out_fd) {
  const ContainerHeader& h = c.header();
  const ChunkLayout& layout = c.layout();
  SIGIL_ASSIGN_OR_RETURN(SecretBytes key, DeriveChunkKey(dek, h.salt));
  SIGIL_ASSIGN_OR_RETURN(ChunkCipher cipher, ChunkCipher::Create(key, c.header_bytes(), ChunkCipher::Direction::kDecrypt));
  std::uint64_t first_size = layout.plain_size(0);
  SIGIL_ASSIGN_OR_RETURN(LockedBuffer buf, LockedBuffer::Create(first_size + kTagSize));
  EvpMdCtxPtr md(EVP_MD_CTX_new());
  if (!md || EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr) != 1) {
    return OpenSslError(Code::kInternal, "SHA-256 init");
  }
  for (std::uint64_t i = 0; i < layout.count(); ++i) {
    std::size_t n = layout.plain_size(i);
    SIGIL_RETURN_IF_ERROR(internal::PreadFull(c.fd(), buf.data(), n + kTagSize, layout.file_offset(i), c.path()));
    ChunkTag tag;
    std::copy(buf.data() + n, buf.data() + n + kTagSize, tag.begin());
    SIGIL_RETURN_IF_ERROR(cipher.Begin(i, layout.is_last(i)));
    SIGIL_RETURN_IF_ERROR(cipher.Update(buf.data(), n));
    auto verified = cipher.FinishDecrypt(tag);
    if (!verified) {
      if (verified.error().code() == Code::kVerificationFailed) return ChunkAuthError(c, i, layout.plain_offset(i));
      return verified;
    }
    if (h.plaintext_sha256 && EVP_DigestUpdate(md.get(), buf.data(), n) != 1) {
      return OpenSslError(Code::kInternal, "SHA-256 update");
    }
    SIGIL_RETURN_IF_ERROR(internal::WriteFull(out_fd, buf.data(), n, "decrypted output"));
  }
  if (h.plaintext_sha256) {
    Sha256Digest d{};
    unsigned len = 0;
    if (EVP_DigestFinal_ex(md.get(), d.data(), &len) != 1) return OpenSslError(Code::kInternal, "SHA-256 final");
    if (!ConstantTimeEqual(d, *h.plaintext_sha256)) {
      return Fail(Code::kVerificationFailed, c.path() + ": every chunk authenticated but the plaintext SHA-256 " +
                                                 HexEncode(d) + " differs from the header's " +
                                                 HexEncode(*h.plaintext_sha256) + " (bad encryptor); " +
                                                 ReleasedNote(h.plaintext_size, layout.count()));
    }
  }
  return Ok();
}

Result<Json> InspectContainer(const std::string& path) {
  SIGIL_ASSIGN_OR_RETURN(Container c, Container::Open(path));
  Json out = HeaderToJson(c.header(), c.header_bytes().size());
  if (c.signature()) {
    SIGIL_ASSIGN_OR_RETURN(ArtifactSignature sig, VerifyContainerSignature(c));
    out["signer"] = sig.signer_id();
    out["signer_public_key"] = Base64UrlEncode(sig.public_key);
    out["content_digest"] = HexEncode(sig.content_digest);
  }
  return out;
}

}  // namespace sigil::loader
