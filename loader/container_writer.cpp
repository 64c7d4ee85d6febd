#include "loader/container_writer.h"

#include <fcntl.h>
#include <libgen.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/ossl.h"
#include "loader/chunk_crypto.h"
#include "loader/container_signature.h"
#include "loader/fd_util.h"

namespace sigil::loader {
namespace {

using internal::ErrnoError;
using internal::UniqueFd;

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool SameFile(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

bool Unchanged(const struct stat& a, const struct stat& b) {
  return SameFile(a, b) && a.st_size == b.st_size && a.st_mtim.tv_sec == b.st_mtim.tv_sec &&
         a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

// Removes the partial output unless Commit() ran.
class PartialFile {
 public:
  explicit PartialFile(std::string path) : path_(std::move(path)) {}
  ~PartialFile() {
    if (!committed_) ::unlink(path_.c_str());
  }
  PartialFile(const PartialFile&) = delete;
  PartialFile& operator=(const PartialFile&) = delete;
  const std::string& path() const { return path_; }
  void Commit() { committed_ = true; }

 private:
  std::string path_;
  bool committed_ = false;
};

Result<Sha256Digest> HashInput(int fd, const std::string& in, std::uint64_t size, Bytes& buf,
                               const ProgressFn& progress, std::uint64_t total) {
  EvpMdCtxPtr md(EVP_MD_CTX_new());
  if (!md || EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr) != 1) {
    return OpenSslError(Code::kInternal, "SHA-256 init");
  }
  std::uint64_t done = 0;
  for (;;) {
    SIGIL_ASSIGN_OR_RETURN(std::size_t n, internal::ReadUpTo(fd, buf.data(), buf.size(), in));
    if (n == 0) break;
    if (EVP_DigestUpdate(md.get(), buf.data(), n) != 1) return OpenSslError(Code::kInternal, "SHA-256 update");
    done += n;
    if (progress) progress(done, total);
  }
  if (done != size) {
    return Fail(Code::kUnavailable, in + ": changed while being read (" + std::to_string(done) +
                                        " bytes read, " + std::to_string(size) + " expected)");
  }
  Sha256Digest d{};
  unsigned len = 0;
  if (EVP_DigestFinal_ex(md.get(), d.data(), &len) != 1) return OpenSslError(Code::kInternal, "SHA-256 final");
  if (::lseek(fd, 0, SEEK_SET) != 0) return ErrnoError("seek " + in);
  return d;
}

// Encrypts every chunk of `in` (positioned at 0) into `out`, after the header.
Result<void> WriteChunks(int in_fd, const std::string& in, int out_fd, const std::string& out,
                         const ChunkLayout& layout, ChunkCipher& cipher, Bytes& buf, ContentDigest& digest,
                         const ProgressFn& progress, std::uint64_t done, std::uint64_t total) {
  for (std::uint64_t i = 0; i < layout.count(); ++i) {
    std::size_t n = layout.plain_size(i);
    SIGIL_ASSIGN_OR_RETURN(std::size_t got, internal::ReadUpTo(in_fd, buf.data(), n, in));
    if (got != n) {
      return Fail(Code::kUnavailable, in + ": shrank while being encrypted (chunk " + std::to_string(i) + ")");
    }
    SIGIL_RETURN_IF_ERROR(cipher.Begin(i, layout.is_last(i)));
    SIGIL_RETURN_IF_ERROR(cipher.Update(buf.data(), n));
    ChunkTag tag;
    SIGIL_RETURN_IF_ERROR(cipher.FinishEncrypt(tag));
    std::copy(tag.begin(), tag.end(), buf.begin() + static_cast<std::ptrdiff_t>(n));
    SIGIL_RETURN_IF_ERROR(digest.AddTag(tag));
    SIGIL_RETURN_IF_ERROR(internal::WriteFull(out_fd, buf.data(), n + kTagSize, out));
    done += n;
    if (progress) progress(done, total);
  }
  std::uint8_t extra = 0;
  SIGIL_ASSIGN_OR_RETURN(std::size_t more, internal::ReadUpTo(in_fd, &extra, 1, in));
  if (more != 0) return Fail(Code::kUnavailable, in + ": grew while being encrypted");
  return Ok();
}

Result<void> SyncDirOf(const std::string& path) {
  std::string copy = path;
  std::string dir = ::dirname(copy.data());
  UniqueFd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!d.valid()) return ErrnoError("open directory " + dir);
  if (::fsync(d.get()) != 0) return ErrnoError("fsync directory " + dir);
  return Ok();
}

}  // namespace

std::string GuessContentType(std::string_view path) {
  if (EndsWith(path, ".safetensors")) return "application/safetensors";
  if (EndsWith(path, ".gguf")) return "application/x-gguf";
  return "application/octet-stream";
}

Result<ContainerHeader> EncryptFileWithDek(const std::string& in, const std::string& out,
                                           ContainerHeader header, const SecretBytes& dek,
                                           const EncryptOptions& options) {
  UniqueFd in_fd(::open(in.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in_fd.valid()) return ErrnoError("open " + in);
  struct stat st_before {};
  if (::fstat(in_fd.get(), &st_before) != 0) return ErrnoError("stat " + in);
  if (!S_ISREG(st_before.st_mode)) return Fail(Code::kInvalidArgument, in + ": not a regular file");
  struct stat st_out {};
  if (::stat(out.c_str(), &st_out) == 0 && SameFile(st_before, st_out)) {
    return Fail(Code::kInvalidArgument, out + ": output is the input file");
  }
  header.format_version = options.signer ? kFormatVersionSigned : kFormatVersion;
  header.suite = hpke::kSigilSuite;
  header.chunk_aead = kChunkAeadAes256Gcm;
  header.chunk_size = options.chunk_size;
  header.plaintext_size = static_cast<std::uint64_t>(st_before.st_size);
  header.content_type = options.content_type.empty() ? GuessContentType(in) : options.content_type;
  header.plaintext_sha256.reset();
  SIGIL_RETURN_IF_ERROR(ValidateHeader(header));

  std::uint64_t size = header.plaintext_size;
  std::uint64_t total = options.plaintext_sha256 ? 2 * size : size;
  Bytes buf(header.chunk_size + kTagSize);
  if (options.plaintext_sha256) {
    SIGIL_ASSIGN_OR_RETURN(header.plaintext_sha256, HashInput(in_fd.get(), in, size, buf, options.progress, total));
  }
  SIGIL_ASSIGN_OR_RETURN(Bytes header_bytes, SerializeHeader(header));
  SIGIL_ASSIGN_OR_RETURN(SecretBytes chunk_key, DeriveChunkKey(dek, header.salt));
  SIGIL_ASSIGN_OR_RETURN(ChunkCipher cipher,
                         ChunkCipher::Create(chunk_key, header_bytes, ChunkCipher::Direction::kEncrypt));

  PartialFile partial(out + ".partial");
  UniqueFd out_fd(::open(partial.path().c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!out_fd.valid()) return ErrnoError("create " + partial.path());
  SIGIL_RETURN_IF_ERROR(internal::WriteFull(out_fd.get(), header_bytes.data(), header_bytes.size(), partial.path()));
  ChunkLayout layout(header_bytes.size(), header);
  SIGIL_ASSIGN_OR_RETURN(ContentDigest digest, ContentDigest::Begin(header_bytes));
  SIGIL_RETURN_IF_ERROR(WriteChunks(in_fd.get(), in, out_fd.get(), partial.path(), layout, cipher, buf, digest,
                                    options.progress, total - size, total));
  if (options.signer) {
    SIGIL_ASSIGN_OR_RETURN(Sha256Digest content, digest.Finish());
    Bytes trailer = SerializeSignatureTrailer(SignContainer(*options.signer, header, content));
    SIGIL_RETURN_IF_ERROR(internal::WriteFull(out_fd.get(), trailer.data(), trailer.size(), partial.path()));
  }
  struct stat st_after {};
  if (::fstat(in_fd.get(), &st_after) != 0) return ErrnoError("stat " + in);
  if (!Unchanged(st_before, st_after)) {
    return Fail(Code::kUnavailable, in + ": modified while being encrypted; try again");
  }
  if (::fsync(out_fd.get()) != 0) return ErrnoError("fsync " + partial.path());
  SIGIL_RETURN_IF_ERROR(out_fd.Close(partial.path()));
  if (::rename(partial.path().c_str(), out.c_str()) != 0) return ErrnoError("rename onto " + out);
  partial.Commit();
  SIGIL_RETURN_IF_ERROR(SyncDirOf(out));
  return header;
}

}  // namespace sigil::loader
