// Moving an .sgl container to another version of its key (loader/FORMAT.md "Consequences"): the
// new header carries the new version and the DEK sealed to it (enc, sealed_dek, from the broker),
// and a fresh salt, so fresh chunk keys: the same DEK and salt under a new header would encrypt
// chunk i again under one AES-GCM (key, nonce). Every chunk is decrypted into one locked buffer,
// verified, re-encrypted under the new header and written; memory stays one chunk whatever the
// file size. Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <string>

#include "core/bytes.h"
#include "core/ed25519.h"
#include "core/result.h"
#include "core/secret_bytes.h"
#include "loader/container_reader.h"
#include "loader/container_writer.h"

namespace sigil::loader {

// What the new header names instead of the old key version: the DEK sealed to `version` of the
// same tenant/key with protocol::DekSealInfo (net::HeaderReseal as the broker returns it).
struct RewrapTarget {
  std::uint32_t version = 0;
  Bytes enc, sealed_dek;
};

struct RewrapOptions {
  // Sign the output (format version 2) with this model owner key; unsigned (version 1) if null.
  // Not owned. Whether a signer is required is the caller's rule (sigil-load rewrap).
  const Ed25519Signer* signer = nullptr;
  bool overwrite = false;  // replace an existing output (sigil-load rewrap --force)
  ProgressFn progress;     // plaintext bytes re-encrypted, of the plaintext size
};

// Refuses an output that is the input (same path or same file) with kInvalidArgument, and an
// existing output with kAlreadyExists unless `overwrite`. Cheap: call it before attesting too.
Result<void> CheckRewrapOutput(const std::string& in, const std::string& out, bool overwrite);

// Writes `out`: `in`'s header with key version, enc and sealed_dek from `target`, a fresh random
// salt and the format version the signer implies; the same plaintext, content type and optional
// plaintext SHA-256, chunk size and artifact contents. `dek` is `in`'s DEK (32 bytes). The output
// goes to a temporary file in `out`'s directory, renamed onto `out` only after the last chunk,
// the plaintext digest (if recorded) and the trailer; any failure removes it and leaves `out`
// untouched. Returns the header written. Codes: kInvalidArgument (target not newer than the
// input's version, bad enc/sealed_dek sizes, output is the input), kAlreadyExists,
// kVerificationFailed (a chunk of `in` or its digest does not authenticate), kUnavailable
// (I/O), kInternal.
Result<ContainerHeader> RewrapContainer(const Container& in, const SecretBytes& dek, const RewrapTarget& target,
                                        const std::string& out, const RewrapOptions& options = {});

}  // namespace sigil::loader
