#include "loader/container_rewrap.h"

#include <fcntl.h>
#include <libgen.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "core/digest.h"
#include "core/encoding.h"
#include "core/ossl.h"
#include "loader/chunk_crypto.h"
#include "loader/container_signature.h"
#include "loader/fd_util.h"
#include "loader/locked_buffer.h"

namespace sigil::loader {
namespace {

using internal::ErrnoError;
using internal::UniqueFd;

std::string DirOf(const std::string& path) {
  std::string copy = path;
  return ::dirname(copy.data());
}

std::string BaseOf(const std::string& path) {
  std::string copy = path;
  return ::basename(copy.data());
}

// A temporary file next to the output (so the final rename stays on one file system), removed
// unless Commit() ran.
class TempOutput {
 public:
  static Result<TempOutput> Create(const std::string& out) {
    std::string pattern = DirOf(out) + "/." + BaseOf(out) + ".rewrap-XXXXXX";
    int fd = ::mkostemp(pattern.data(), O_CLOEXEC);
    if (fd < 0) return ErrnoError("create a temporary file for " + out);
    if (::fchmod(fd, 0644) != 0) {
      ::close(fd);
      ::unlink(pattern.c_str());
      return ErrnoError("chmod " + pattern);
    }
    return TempOutput(std::move(pattern), UniqueFd(fd));
  }
  TempOutput(TempOutput&& o) noexcept : path_(std::move(o.path_)), fd_(std::move(o.fd_)), committed_(o.committed_) {
    o.committed_ = true;  // the moved-from object owns nothing to remove
  }
  TempOutput& operator=(TempOutput&&) = delete;
  ~TempOutput() {
    if (!committed_) ::unlink(path_.c_str());
  }
  const std::string& path() const { return path_; }
  UniqueFd& fd() { return fd_; }
  void Commit() { committed_ = true; }

 private:
  TempOutput(std::string path, UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
  std::string path_;
  UniqueFd fd_;
  bool committed_ = false;
};

Result<void> SyncDir(const std::string& dir) {
  UniqueFd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!d.valid()) return ErrnoError("open directory " + dir);
  if (::fsync(d.get()) != 0) return ErrnoError("fsync directory " + dir);
  return Ok();
}

Result<ContainerHeader> NewHeader(const ContainerHeader& old, const RewrapTarget& target, bool signed_output) {
  if (target.version <= old.key_version) {
    return Fail(Code::kInvalidArgument, "rewrap: target key version " + std::to_string(target.version) +
                                            " is not newer than the container's version " +
                                            std::to_string(old.key_version));
  }
  ContainerHeader h = old;
  h.format_version = signed_output ? kFormatVersionSigned : kFormatVersion;
  h.key_version = target.version;
  h.enc = target.enc;
  h.sealed_dek = target.sealed_dek;
  // FORMAT.md "Consequences": a changed header needs fresh chunk keys, so a fresh salt.
  if (RAND_bytes(h.salt.data(), static_cast<int>(h.salt.size())) != 1) {
    return OpenSslError(Code::kInternal, "RAND_bytes(salt)");
  }
  if (h.salt == old.salt) return Fail(Code::kInternal, "rewrap: the random salt repeated the old one");
  SIGIL_RETURN_IF_ERROR(ValidateHeader(h));
  return h;
}

// Decrypts, verifies and re-encrypts every chunk of `in` into `out_fd` (after the header), and
// feeds the new tags to `content`. The plaintext exists only in `buf` (locked), one chunk at a time.
Result<void> ReencryptChunks(const Container& in, ChunkCipher& old_cipher, ChunkCipher& new_cipher, LockedBuffer& buf, int out_fd,
                             const std::string& out_path, ContentDigest& content, const ProgressFn& progress) {
  const ChunkLayout& layout = in.layout();
  const ContainerHeader& h = in.header();
  EvpMdCtxPtr md(EVP_MD_CTX_new());
  if (!md || EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr) != 1) return OpenSslError(Code::kInternal, "SHA-256 init");
  std::uint64_t done = 0;
  for (std::uint64_t i = 0; i < layout.count(); ++i) {
    const std::size_t n = layout.plain_size(i);
    SIGIL_RETURN_IF_ERROR(internal::PreadFull(in.fd(), buf.data(), n + kTagSize, layout.file_offset(i), in.path()));
    ChunkTag tag;
    std::copy(buf.data() + n, buf.data() + n + kTagSize, tag.begin());
    SIGIL_RETURN_IF_ERROR(old_cipher.Begin(i, layout.is_last(i)));
    SIGIL_RETURN_IF_ERROR(old_cipher.Update(buf.data(), n));
    if (auto v = old_cipher.FinishDecrypt(tag); !v) {
      if (v.error().code() == Code::kVerificationFailed) return ChunkAuthError(in, i);
      return v;
    }
    if (h.plaintext_sha256 && EVP_DigestUpdate(md.get(), buf.data(), n) != 1) {
      return OpenSslError(Code::kInternal, "SHA-256 update");
    }
    SIGIL_RETURN_IF_ERROR(new_cipher.Begin(i, layout.is_last(i)));
    SIGIL_RETURN_IF_ERROR(new_cipher.Update(buf.data(), n));
    SIGIL_RETURN_IF_ERROR(new_cipher.FinishEncrypt(tag));
    std::copy(tag.begin(), tag.end(), buf.data() + n);
    SIGIL_RETURN_IF_ERROR(content.AddTag(tag));
    SIGIL_RETURN_IF_ERROR(internal::WriteFull(out_fd, buf.data(), n + kTagSize, out_path));
    done += n;
    if (progress) progress(done, h.plaintext_size);
  }
  if (h.plaintext_sha256) {
    Sha256Digest d{};
    unsigned len = 0;
    if (EVP_DigestFinal_ex(md.get(), d.data(), &len) != 1) return OpenSslError(Code::kInternal, "SHA-256 final");
    if (!ConstantTimeEqual(d, *h.plaintext_sha256)) {
      return Fail(Code::kVerificationFailed, in.path() + ": every chunk authenticated but the plaintext SHA-256 " +
                                                 HexEncode(d) + " differs from the header's (bad encryptor); "
                                                 "nothing was written");
    }
  }
  return Ok();
}

}  // namespace

Result<void> CheckRewrapOutput(const std::string& in, const std::string& out, bool overwrite) {
  if (out.empty()) return Fail(Code::kInvalidArgument, "rewrap: no output path");
  if (out == in) return Fail(Code::kInvalidArgument, "rewrap: the output is the input (" + out + "); write a new file");
  struct stat st_in {};
  struct stat st_out {};
  if (::stat(out.c_str(), &st_out) != 0) return Ok();
  if (::stat(in.c_str(), &st_in) == 0 && st_in.st_dev == st_out.st_dev && st_in.st_ino == st_out.st_ino) {
    return Fail(Code::kInvalidArgument, "rewrap: the output " + out + " is the input file; write a new file");
  }
  if (!overwrite) return Fail(Code::kAlreadyExists, "rewrap: " + out + " exists (--force replaces it)");
  if (!S_ISREG(st_out.st_mode)) return Fail(Code::kInvalidArgument, "rewrap: " + out + " exists and is not a regular file");
  return Ok();
}

Result<ContainerHeader> RewrapContainer(const Container& in, const SecretBytes& dek, const RewrapTarget& target,
                                        const std::string& out, const RewrapOptions& options) {
  SIGIL_RETURN_IF_ERROR(CheckRewrapOutput(in.path(), out, options.overwrite));
  SIGIL_ASSIGN_OR_RETURN(ContainerHeader header, NewHeader(in.header(), target, options.signer != nullptr));
  SIGIL_ASSIGN_OR_RETURN(Bytes header_bytes, SerializeHeader(header));
  SIGIL_ASSIGN_OR_RETURN(SecretBytes old_key, DeriveChunkKey(dek, in.header().salt));
  SIGIL_ASSIGN_OR_RETURN(SecretBytes new_key, DeriveChunkKey(dek, header.salt));
  SIGIL_ASSIGN_OR_RETURN(ChunkCipher old_cipher, ChunkCipher::Create(old_key, in.header_bytes(), ChunkCipher::Direction::kDecrypt));
  SIGIL_ASSIGN_OR_RETURN(ChunkCipher new_cipher, ChunkCipher::Create(new_key, header_bytes, ChunkCipher::Direction::kEncrypt));
  SIGIL_ASSIGN_OR_RETURN(LockedBuffer buf, LockedBuffer::Create(in.layout().plain_size(0) + kTagSize));
  SIGIL_ASSIGN_OR_RETURN(ContentDigest content, ContentDigest::Begin(header_bytes));

  SIGIL_ASSIGN_OR_RETURN(TempOutput tmp, TempOutput::Create(out));
  const int fd = tmp.fd().get();
  SIGIL_RETURN_IF_ERROR(internal::WriteFull(fd, header_bytes.data(), header_bytes.size(), tmp.path()));
  SIGIL_RETURN_IF_ERROR(ReencryptChunks(in, old_cipher, new_cipher, buf, fd, tmp.path(), content, options.progress));
  if (options.signer != nullptr) {
    SIGIL_ASSIGN_OR_RETURN(Sha256Digest digest, content.Finish());
    Bytes trailer = SerializeSignatureTrailer(SignContainer(*options.signer, header, digest));
    SIGIL_RETURN_IF_ERROR(internal::WriteFull(fd, trailer.data(), trailer.size(), tmp.path()));
  }
  if (::fsync(fd) != 0) return ErrnoError("fsync " + tmp.path());
  SIGIL_RETURN_IF_ERROR(tmp.fd().Close(tmp.path()));
  // Without --force, an output that appeared meanwhile is not replaced (RENAME_NOREPLACE).
  if (::renameat2(AT_FDCWD, tmp.path().c_str(), AT_FDCWD, out.c_str(), options.overwrite ? 0 : RENAME_NOREPLACE) != 0) {
    if (errno == EEXIST) return Fail(Code::kAlreadyExists, "rewrap: " + out + " exists (--force replaces it)");
    return ErrnoError("rename onto " + out);
  }
  tmp.Commit();
  SIGIL_RETURN_IF_ERROR(SyncDir(DirOf(out)));
  return header;
}

}  // namespace sigil::loader
