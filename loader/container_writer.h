// Streaming encryptor for .sgl containers (FORMAT.md), with bounded memory (one chunk buffer).
// This is the layer below EncryptFile (container_keys.h), which picks the DEK and seals it; use
// that one. Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/ed25519.h"
#include "core/result.h"
#include "core/secret_bytes.h"
#include "loader/container_format.h"

namespace sigil::loader {

// Progress report: `done` of `total` units of work; called on the calling thread, never
// concurrently, at most once per chunk plus once at the end.
using ProgressFn = std::function<void(std::uint64_t done, std::uint64_t total)>;

struct EncryptOptions {
  std::uint32_t chunk_size = kDefaultChunkSize;  // power of two in 4 KiB..64 MiB
  std::string content_type;                      // empty: GuessContentType(input path)
  // Record SHA-256 of the plaintext in the header. Costs one extra read pass over the input;
  // progress then counts both passes (total = 2 x plaintext size).
  bool plaintext_sha256 = true;
  ProgressFn progress;
  // When set, the container is written as format version 2 and ends with this model owner's
  // signature over the header and every chunk tag (FORMAT.md, "Signature trailer"). Not owned.
  const Ed25519Signer* signer = nullptr;
};

// "application/safetensors" for *.safetensors, "application/x-gguf" for *.gguf, else
// "application/octet-stream".
std::string GuessContentType(std::string_view path);

// Encrypts regular file `in` to `out`. `header` supplies tenant, key_name, key_version, enc,
// sealed_dek and salt; chunk size, content type, plaintext size and digest are filled in from
// `options` and the input. `dek` (32 bytes) with that salt must never encrypt anything else.
// Writes `out`.partial, fsyncs it and renames it over `out`; on any failure the partial file is
// removed and `out` is untouched. Fails if the input changes size or mtime while being read.
// Returns the header written. Codes: kInvalidArgument (bad header fields or options, input not
// a regular file, input == output), kNotFound, kUnavailable (I/O), kInternal (crypto).
Result<ContainerHeader> EncryptFileWithDek(const std::string& in, const std::string& out,
                                           ContainerHeader header, const SecretBytes& dek,
                                           const EncryptOptions& options);

}  // namespace sigil::loader
