// LockedMemfd: an anonymous memory file (memfd_create(2)) that holds decrypted model weights.
// Its pages are locked (mlock(2), so never swapped), excluded from core dumps (MADV_DONTDUMP),
// sealed once filled against writes, shrinking and growth (fcntl(2) F_ADD_SEALS), and wiped
// when this object goes: a child engine that inherits the fd sees immutable bytes, and none of
// it ever reaches disk or outlives the loader.
//
// The file is filled with WriteAt() (pwrite). It has exactly one mapping, ours: shared,
// read-write, locked, MADV_DONTDUMP; ReadOnlyView() exposes it read-only. Because that mapping
// exists when Seal() runs, the write seal is F_SEAL_FUTURE_WRITE (Linux 5.1): from then on
// write(2), fallocate(2), ftruncate(2) and every new writable (or later mprotect'ed writable)
// shared mapping fail for everyone, the engine included, while the mapping created before the
// seal stays writable. That one mapping is how the destructor overwrites the weights with zeros
// after the engine is done, so the plaintext does not linger in freed pages.
//
// Life cycle: Create() -> WriteAt()... -> Seal() -> (engine runs) -> destructor wipes. Wipe()
// also overwrites the whole file with zeros at any point before.
// Thread-safety: WriteAt() may be called concurrently for disjoint ranges; nothing else.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "core/result.h"

namespace sigil::loader {

struct MemfdOptions {
  std::string name = "sigil-model";  // shown as /memfd:<name> in /proc/PID/fd and maps
  // If mlock is refused (RLIMIT_MEMLOCK), fail with kUnavailable instead of continuing with
  // lock_warning() set. sigil-load run and the C API set it unless the operator opted out.
  bool require_lock = false;
};

class LockedMemfd {
 public:
  // Creates a memfd of `size` bytes (MFD_CLOEXEC | MFD_ALLOW_SEALING; the size is fixed at
  // once with F_SEAL_SHRINK | F_SEAL_GROW), maps it shared with MADV_DONTDUMP, and locks the
  // mapping with mlock2(MLOCK_ONFAULT): the limit is checked for the whole size up front, and
  // each page is locked as WriteAt() fills it. Errors: kUnavailable naming the failing call.
  static Result<LockedMemfd> Create(std::uint64_t size, const MemfdOptions& options = {});

  LockedMemfd(LockedMemfd&& other) noexcept;
  LockedMemfd& operator=(LockedMemfd&& other) noexcept;
  LockedMemfd(const LockedMemfd&) = delete;
  LockedMemfd& operator=(const LockedMemfd&) = delete;
  ~LockedMemfd();

  int fd() const { return fd_; }
  std::uint64_t size() const { return size_; }
  bool sealed() const { return sealed_; }
  // True when the pages are mlock'ed; else lock_warning() says why not and how to fix it.
  bool locked() const { return locked_; }
  const std::string& lock_warning() const { return lock_warning_; }

  // Writes `data` at `offset` (pwrite) and faults the written pages into the locked mapping,
  // which locks them. Before Seal() only; the range must lie inside size(). kUnavailable on
  // I/O failure, kInternal on misuse.
  Result<void> WriteAt(std::uint64_t offset, std::span<const std::uint8_t> data);
  // Overwrites the whole file with zeros through our mapping, sealed or not (every holder of
  // the fd then reads zeros).
  void Wipe() noexcept;
  // Adds F_SEAL_FUTURE_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL. After this, write(2),
  // ftruncate(2), fallocate(2) and writable shared mmap(2) of the fd fail with EPERM for every
  // process, and mprotect(PROT_WRITE) of a new shared mapping with EACCES. kUnavailable on
  // failure (the file is then wiped).
  Result<void> Seal();
  // The locked mapping of the whole file, read-only to callers (empty for size 0). Bytes not yet
  // written read as zero. Valid for the lifetime of this object.
  std::span<const std::uint8_t> ReadOnlyView() const { return {map_, size_}; }
  // Clears or sets FD_CLOEXEC, so a child started with exec(2) inherits the fd (the engine opens
  // /proc/self/fd/N). kUnavailable on failure.
  Result<void> SetInheritable(bool inheritable);

 private:
  LockedMemfd() = default;
  void Reset() noexcept;
  int fd_ = -1;
  std::uint64_t size_ = 0;
  std::uint8_t* map_ = nullptr;  // MAP_SHARED, PROT_READ | PROT_WRITE, locked, DONTDUMP
  bool sealed_ = false;
  bool locked_ = false;
  std::string lock_warning_;
};

// The warning text used when mlock is refused, naming the limit and how to raise it.
std::string MemlockWarning(std::uint64_t bytes, int err);

}  // namespace sigil::loader
