// LockedMemfd: an anonymous memory file (memfd_create(2)) that holds decrypted model weights.
// Its pages are locked (mlock(2), so never swapped), excluded from core dumps (MADV_DONTDUMP)
// and, once filled, sealed against writes, shrinking and growth (fcntl(2) F_ADD_SEALS), so a
// child engine that inherits the fd sees immutable bytes and none of it ever reaches disk.
//
// The file is filled with WriteAt() (pwrite), never through a writable mapping: the only
// mapping is read-only (MAP_PRIVATE, PROT_READ), locked, and what ReadOnlyView() returns. So
// sealing needs no unmap/remap, and no writable mapping can ever block F_SEAL_WRITE.
//
// Life cycle: Create() -> WriteAt()... -> Seal(). On a failure path before Seal(), Wipe()
// overwrites the whole file with zeros (the destructor also wipes an unsealed memfd). Once
// sealed, the contents can no longer be wiped by anyone, by design: the destructor only unmaps
// and closes, and the kernel frees the pages when the last fd and mapping (the engine's) go.
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
  // lock_warning() set.
  bool require_lock = false;
};

class LockedMemfd {
 public:
  // Creates a memfd of `size` bytes (MFD_CLOEXEC | MFD_ALLOW_SEALING; the size is fixed at
  // once with F_SEAL_SHRINK | F_SEAL_GROW), maps it read-only with MADV_DONTDUMP, and locks
  // the mapping with mlock2(MLOCK_ONFAULT): the limit is checked for the whole size up front,
  // and each page is locked as WriteAt() fills it. Errors: kUnavailable naming the failing call.
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
  // Overwrites the whole file with zeros. Only possible before Seal(); a no-op after.
  void Wipe() noexcept;
  // Adds F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL. After this, write(2),
  // ftruncate(2) and writable shared mmap(2) of the fd fail with EPERM. kUnavailable on failure
  // (the file is then wiped).
  Result<void> Seal();
  // The locked read-only mapping of the whole file (empty for size 0). Bytes not yet written
  // read as zero. Valid for the lifetime of this object.
  std::span<const std::uint8_t> ReadOnlyView() const { return {ro_, size_}; }
  // Clears or sets FD_CLOEXEC, so a child started with exec(2) inherits the fd (the engine opens
  // /proc/self/fd/N). kUnavailable on failure.
  Result<void> SetInheritable(bool inheritable);

 private:
  LockedMemfd() = default;
  void Reset() noexcept;
  int fd_ = -1;
  std::uint64_t size_ = 0;
  std::uint8_t* ro_ = nullptr;
  bool sealed_ = false;
  bool locked_ = false;
  std::string lock_warning_;
};

// The warning text used when mlock is refused, naming the limit and how to raise it.
std::string MemlockWarning(std::uint64_t bytes, int err);

}  // namespace sigil::loader
