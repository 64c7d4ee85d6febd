// Opening an .sgl container: header parse, exact size check, and the streaming decryptor used by
// `sigil-load cat`. The parallel in-memory decryptor is in memfd_decrypt.h.
#pragma once

#include <cstdint>
#include <string>

#include "core/bytes.h"
#include "core/json.h"
#include "core/result.h"
#include "core/secret_bytes.h"
#include "loader/container_format.h"
#include "loader/container_signature.h"
#include "loader/fd_util.h"

namespace sigil::loader {

// An open container whose header parsed and whose file size is exactly what the header implies.
// Owns the read-only fd. Reads use pread(2), so one Container may serve several threads.
class Container {
 public:
  // Opens `path` (O_RDONLY | O_CLOEXEC), reads and parses the header, and refuses any file size
  // other than the exact one (truncated, or with bytes appended), saying by how much, before any
  // chunk is decrypted. A version 2 container's signature trailer is parsed here but verified
  // only by VerifyContainerSignature (it reads every tag). Codes: kNotFound, kUnavailable (I/O),
  // kInvalidArgument (not a regular file, bad header or trailer, wrong size).
  static Result<Container> Open(const std::string& path);

  const ContainerHeader& header() const { return header_; }
  // The serialized header: the AAD of every chunk.
  ByteSpan header_bytes() const { return header_bytes_; }
  const ChunkLayout& layout() const { return layout_; }
  int fd() const { return fd_.get(); }
  const std::string& path() const { return path_; }
  // The parsed (not yet verified) trailer of a version 2 container; empty for version 1.
  const std::optional<SignatureTrailer>& signature() const { return signature_; }

 private:
  Container(std::string path, internal::UniqueFd fd, ContainerHeader h, Bytes header_bytes)
      : path_(std::move(path)),
        fd_(std::move(fd)),
        header_(std::move(h)),
        header_bytes_(std::move(header_bytes)),
        layout_(header_bytes_.size(), header_) {}
  Result<void> ReadTrailer();
  std::string path_;
  internal::UniqueFd fd_;
  ContainerHeader header_;
  Bytes header_bytes_;
  ChunkLayout layout_;
  std::optional<SignatureTrailer> signature_;
};

// Decrypts chunk by chunk into `out_fd` (e.g. stdout); a chunk is written only after its tag
// verified, through one locked, non-dumpable buffer of one chunk that is wiped afterwards.
// Verifies the plaintext SHA-256 if the header has one. Note: a container tampered with in chunk
// k still yields chunks 0..k-1 (each authentic) before the error, which then says how many
// bytes were written and that they must be discarded; size tampering is refused before any
// output. kInvalidArgument (DEK size), kVerificationFailed (naming the first bad
// chunk, or the digest), kUnavailable (I/O).
Result<void> DecryptToStream(const Container& c, const SecretBytes& dek, int out_fd);

// Opens the container (as Container::Open) and returns HeaderToJson(...) for it; for a signed
// container, first verifies the signature (VerifyContainerSignature: kVerificationFailed if it
// does not hold) and adds "signer" (owner key id), "signer_public_key" (base64url) and
// "content_digest" (hex). No secrets.
Result<Json> InspectContainer(const std::string& path);

// The error for chunk `index` failing authentication, shared by both decryptors. It ends with
// "no plaintext was released" if `bytes_written` is 0; otherwise it says how many bytes of
// authenticated plaintext the stream decryptor had already written and that they must be
// discarded, since the output is incomplete. (DecryptHeldToStream, memfd_decrypt.h, writes
// nothing before the whole container authenticates.)
Error ChunkAuthError(const Container& c, std::uint64_t index, std::uint64_t bytes_written = 0);

}  // namespace sigil::loader
