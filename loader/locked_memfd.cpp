#include "loader/locked_memfd.h"

#include <fcntl.h>
#include <string.h>  // explicit_bzero
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010  // Linux 5.1, include/uapi/linux/fcntl.h
#endif

namespace sigil::loader {
namespace {

Error Errno(const std::string& what) {
  return Error(Code::kUnavailable, "memfd: " + what + ": " + std::strerror(errno));
}

bool IsLimitError(int err) { return err == EPERM || err == ENOMEM || err == EAGAIN; }

}  // namespace

std::string MemlockWarning(std::uint64_t bytes, int err) {
  rlimit rl{};
  std::string limit = "unknown";
  if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0) {
    limit = rl.rlim_cur == RLIM_INFINITY ? "unlimited" : std::to_string(rl.rlim_cur) + " bytes";
  }
  return "mlock of " + std::to_string(bytes) + " bytes refused (" + std::strerror(err) +
         "; RLIMIT_MEMLOCK is " + limit + "): the decrypted model may be swapped to disk. Raise the "
         "limit with `ulimit -l unlimited` in the launching shell, LimitMEMLOCK=infinity in the "
         "systemd unit, or --ulimit memlock=-1 for a container, or grant CAP_IPC_LOCK";
}

Result<LockedMemfd> LockedMemfd::Create(std::uint64_t size, const MemfdOptions& options) {
  if (size > static_cast<std::uint64_t>(std::numeric_limits<off_t>::max())) {
    return Fail(Code::kInvalidArgument, "memfd: size " + std::to_string(size) + " too large");
  }
  LockedMemfd m;
  m.fd_ = memfd_create(options.name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (m.fd_ < 0) return Errno("memfd_create");
  m.size_ = size;
  if (ftruncate(m.fd_, static_cast<off_t>(size)) != 0) return Errno("ftruncate to " + std::to_string(size));
  if (fcntl(m.fd_, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) != 0) return Errno("F_ADD_SEALS(shrink, grow)");
  if (size == 0) {
    m.locked_ = true;  // nothing to lock
    return m;
  }
  // Shared and writable: the one mapping that may write after Seal() (F_SEAL_FUTURE_WRITE
  // spares mappings that exist when it is added), kept for the final wipe.
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, m.fd_, 0);
  if (p == MAP_FAILED) return Errno("mmap of " + std::to_string(size) + " bytes");
  m.map_ = static_cast<std::uint8_t*>(p);
  if (madvise(p, size, MADV_DONTDUMP) != 0) return Errno("madvise(MADV_DONTDUMP)");
  if (mlock2(p, size, MLOCK_ONFAULT) == 0) {
    m.locked_ = true;
  } else {
    int err = errno;
    if (!IsLimitError(err)) return Errno("mlock2");
    m.lock_warning_ = MemlockWarning(size, err);
    if (options.require_lock) {
      return Fail(Code::kUnavailable,
                  m.lock_warning_ + "; or accept swappable weights explicitly (sigil-load run --allow-unlocked, "
                                    "or allow_unlocked in the C API), a choice that is part of what is attested");
    }
  }
  return m;
}

LockedMemfd::LockedMemfd(LockedMemfd&& o) noexcept { *this = std::move(o); }

LockedMemfd& LockedMemfd::operator=(LockedMemfd&& o) noexcept {
  if (this != &o) {
    Reset();
    fd_ = std::exchange(o.fd_, -1);
    size_ = std::exchange(o.size_, 0);
    map_ = std::exchange(o.map_, nullptr);
    sealed_ = std::exchange(o.sealed_, false);
    locked_ = std::exchange(o.locked_, false);
    lock_warning_ = std::move(o.lock_warning_);
  }
  return *this;
}

LockedMemfd::~LockedMemfd() { Reset(); }

void LockedMemfd::Reset() noexcept {
  Wipe();  // the engine is done (or never started): the plaintext goes before the pages are freed
  if (map_ != nullptr) munmap(map_, size_);
  map_ = nullptr;
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

Result<void> LockedMemfd::WriteAt(std::uint64_t offset, std::span<const std::uint8_t> data) {
  if (sealed_ || fd_ < 0 || offset > size_ || data.size() > size_ - offset) {
    return Fail(Code::kInternal, "memfd: write outside the file or after sealing");
  }
  for (std::size_t done = 0; done < data.size();) {
    ssize_t n = pwrite(fd_, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Errno("pwrite");
    done += static_cast<std::size_t>(n);
  }
  if (!locked_ || data.empty()) return Ok();
  // Fault the written pages into the VM_LOCKED mapping: that is what locks them.
  const std::uint64_t page = static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
  std::uint64_t begin = offset / page * page;
  std::uint64_t end = std::min<std::uint64_t>((offset + data.size() + page - 1) / page * page, size_);
  if (madvise(map_ + begin, end - begin, MADV_POPULATE_READ) != 0) {
    if (errno != EINVAL) return Errno("madvise(MADV_POPULATE_READ)");
    volatile const std::uint8_t* v = map_;  // before Linux 5.14: touch each page
    for (std::uint64_t a = begin; a < end; a += page) (void)v[a];
  }
  return Ok();
}

void LockedMemfd::Wipe() noexcept {
  // Through the mapping, not pwrite: after Seal() it is the only way left to write. Only pages
  // that exist are zeroed (mincore(2)): a hole reads as zero already, and touching it would
  // allocate it, which on a load that failed at chunk 0 of a 100 GiB model would mean 100 GiB
  // of zero pages. A full model costs one memset, about 0.1-0.4 s per GiB.
  if (map_ == nullptr) return;
  const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  constexpr std::size_t kWindow = 64u << 20;  // mincore vector of 16 Ki entries per call
  std::vector<unsigned char> resident(kWindow / page);
  for (std::uint64_t off = 0; off < size_; off += kWindow) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(kWindow, size_ - off));
    const std::size_t pages = (n + page - 1) / page;
    if (mincore(map_ + off, n, resident.data()) != 0) {
      explicit_bzero(map_ + off, n);  // cannot tell: zero it all
      continue;
    }
    for (std::size_t i = 0; i < pages;) {
      if ((resident[i] & 1) == 0) {
        ++i;
        continue;
      }
      std::size_t j = i;
      while (j < pages && (resident[j] & 1) != 0) ++j;
      const std::size_t begin = i * page, end = std::min(j * page, n);
      explicit_bzero(map_ + off + begin, end - begin);
      i = j;
    }
  }
}

Result<void> LockedMemfd::Seal() {
  if (sealed_ || fd_ < 0) return Fail(Code::kInternal, "memfd: already sealed or closed");
  if (fcntl(fd_, F_ADD_SEALS, F_SEAL_FUTURE_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
    Error e = Errno("F_ADD_SEALS(future write, shrink, grow, seal)");
    Wipe();
    return e;
  }
  sealed_ = true;
  return Ok();
}

Result<void> LockedMemfd::SetInheritable(bool inheritable) {
  int flags = fcntl(fd_, F_GETFD);
  if (flags < 0) return Errno("F_GETFD");
  flags = inheritable ? (flags & ~FD_CLOEXEC) : (flags | FD_CLOEXEC);
  if (fcntl(fd_, F_SETFD, flags) != 0) return Errno("F_SETFD");
  return Ok();
}

}  // namespace sigil::loader
