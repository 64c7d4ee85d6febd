// Parallel decryption of an .sgl container into a LockedMemfd: plaintext lives only in locked,
// non-dumpable, finally sealed memory, and is verified before anyone can see it.
#pragma once

#include <cstdint>
#include <string>

#include "core/result.h"
#include "core/secret_bytes.h"
#include "loader/container_reader.h"
#include "loader/container_writer.h"
#include "loader/locked_memfd.h"

namespace sigil::loader {

struct DecryptOptions {
  unsigned threads = 0;  // 0: UsableCpus(); capped at the chunk count (and at 256)
  ProgressFn progress;   // (plaintext bytes done, plaintext size), on the calling thread
  // Fail (kUnavailable) instead of returning a memfd with lock_warning() set when mlock is
  // refused by RLIMIT_MEMLOCK.
  bool require_lock = false;
  // Also check the header's plaintext SHA-256 (if it has one) before sealing. Off by default:
  // the chunked AEAD already authenticates every byte, the order and the length under the
  // released key, with the header (digest included) as AAD, so the digest only catches a buggy
  // encryptor, and hashing in order costs about 0.5 CPU-s per GiB on one thread, which on a
  // small machine is a third of the load time (bench/run loader, dec_digest_s column).
  bool verify_digest = false;
  std::string memfd_name = "sigil-model";
};

// The CPUs this process may run on (sched_getaffinity(2), so taskset and cpusets count), at
// least 1: the default worker count.
unsigned UsableCpus();

// Decrypts every chunk of `c` with `dek` (32 bytes) into a new memfd of exactly the plaintext
// size, on `threads` workers that take chunks in index order. Each worker owns one reusable
// AES-GCM context and one locked slice buffer (no per-chunk allocation): it preads ciphertext
// into the buffer, decrypts it in place and pwrites it to the chunk's place in the memfd, whose
// pages are locked as they fill (LockedMemfd::WriteAt); it also asks for readahead of the
// chunk it will probably take next. Meanwhile the calling thread reports progress and, if the
// header has a plaintext SHA-256, hashes chunks in index order as they verify, so the digest
// costs no second pass. If any tag fails, all workers stop, the whole mapping is zeroed and the
// memfd closed: no plaintext is reachable and the error (kVerificationFailed) names the lowest
// bad chunk, whichever worker met it. The same holds for a plaintext digest mismatch, which is
// checked before sealing. On success the memfd is sealed
// (LockedMemfd::Seal) and still FD_CLOEXEC. Codes: kInvalidArgument (DEK size),
// kVerificationFailed, kUnavailable (I/O, memfd/mmap/mlock), kInternal. Thread-safe.
Result<LockedMemfd> DecryptToMemfd(const Container& c, const SecretBytes& dek,
                                   const DecryptOptions& options = {});

// `sigil-load cat --hold`: DecryptToMemfd (with verify_digest forced on, as DecryptToStream
// checks the digest too), then writes the whole plaintext to `out_fd`. Nothing is written unless
// every chunk (and the digest, if the header has one) authenticated, so a refusal's "no
// plaintext was released" is true; the price is memory for the whole plaintext (locked if
// RLIMIT_MEMLOCK allows, else `*lock_warning` says why not, unless options.require_lock). Codes
// as DecryptToMemfd, plus kUnavailable if writing `out_fd` fails (then the output holds a
// prefix of the authenticated plaintext, and the error says how many bytes). Thread-safe.
Result<void> DecryptHeldToStream(const Container& c, const SecretBytes& dek, int out_fd,
                                 const DecryptOptions& options = {}, std::string* lock_warning = nullptr);

}  // namespace sigil::loader
