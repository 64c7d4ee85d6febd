// Where SecretBytes keeps its bytes: a pool of locked, dump-excluded pages mapped once and reused,
// instead of one libsodium guarded mapping (mmap + mprotect + mlock, then munlock + munmap) per
// secret. Those system calls, and the TLB shootdowns they send to the broker's other I/O threads,
// were most of sigild's CPU on the release path (issue 11).
//
// Guarantees, the same as sodium_malloc gives each secret:
//  - locked: every region is mlock()ed when it is mapped; if that fails the allocation fails
//    (kUnavailable, naming RLIMIT_MEMLOCK) rather than handing out swappable memory;
//  - never in a core dump: MADV_DONTDUMP on every region;
//  - wiped: a block is zeroed (sodium_memzero) before it goes back to its free list;
//  - guard pages: each region has a PROT_NONE page before and after it.
// Within a region secrets sit next to each other, so a small overflow is caught not by a guard
// page but by checks: every block keeps at least kTailBytes of zero slack after the secret, checked
// at free; a free block must still be all zero when it is handed out again; freeing a block twice
// or a pointer the pool did not hand out aborts. Under AddressSanitizer free blocks and slack are
// poisoned, so an out-of-bounds or use-after-free access is reported where it happens.
//
// Secrets larger than kMaxPooledSecret (rare: the 4 KiB read buffer of a root-key file, a large
// AEAD plaintext) still get their own sodium_malloc mapping, locked the same strict way. SIGIL_SECRET_ARENA=off in the
// environment sends every secret there (used to measure the difference; no weaker guarantees).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "core/result.h"

namespace sigil::secret_arena {

// Size classes are powers of two from 32 to 4096 bytes; a secret of n bytes takes the smallest
// class of at least n + kTailBytes.
inline constexpr std::size_t kTailBytes = 16;
inline constexpr std::size_t kMaxClass = 4096;
inline constexpr std::size_t kMaxPooledSecret = kMaxClass - kTailBytes;

// n > 0 zeroed bytes of locked, dump-excluded memory; kUnavailable if none can be had.
Result<std::uint8_t*> Allocate(std::size_t n);
// Wipes and returns memory obtained from Allocate(n), with the same n. Aborts on misuse
// (double free, foreign pointer, overwritten slack).
void Free(std::uint8_t* p, std::size_t n) noexcept;

// --- Introspection, for tests and diagnostics -----------------------------------------------
// True when secrets of n bytes come from the pool (false: own sodium_malloc mapping).
bool IsPooled(std::size_t n);
// Block size used for a secret of n bytes, or 0 if it is not pooled.
std::size_t ClassSize(std::size_t n);
// The region (readable/writable part, without its guard pages) that holds p, if any.
struct Region {
  const std::uint8_t* begin;
  std::size_t bytes;
};
std::optional<Region> RegionOf(const void* p);
// Whether `bytes` bytes at p are all zero, read without tripping AddressSanitizer's poisoning of
// free blocks; lets a test check that a block it freed was wiped.
bool IsZeroForTest(const void* p, std::size_t bytes);

}  // namespace sigil::secret_arena
