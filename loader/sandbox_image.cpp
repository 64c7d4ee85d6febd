#include "loader/sandbox_image.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "loader/fd_util.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U  // Linux 6.3, include/uapi/linux/memfd.h
#endif

namespace sigil::loader {

using internal::ErrnoError;
using internal::UniqueFd;

Result<int> CopyToSealedImage(int binary_fd) {
  struct stat st {};
  if (fstat(binary_fd, &st) != 0) return ErrnoError("engine: fstat");
  if (!S_ISREG(st.st_mode)) return Fail(Code::kInvalidArgument, "engine: not a regular file");
  // MFD_EXEC says so explicitly where vm.memfd_noexec exists (6.3+); older kernels reject the
  // flag with EINVAL and make every memfd executable.
  UniqueFd mem(memfd_create("sigil-engine", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC));
  if (!mem.valid() && errno == EINVAL) mem = UniqueFd(memfd_create("sigil-engine", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!mem.valid() && errno == EACCES) {
    return Fail(Code::kUnavailable, "engine image: executable memfds are forbidden here (vm.memfd_noexec=2); "
                                    "the engine runs from a sealed memfd, so set vm.memfd_noexec to 0 or 1");
  }
  if (!mem.valid()) return ErrnoError("engine image: memfd_create");
  off_t offset = 0;
  while (offset < st.st_size) {
    ssize_t n = sendfile(mem.get(), binary_fd, &offset, static_cast<std::size_t>(st.st_size - offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("engine image: sendfile");
    if (n == 0) return Fail(Code::kUnavailable, "engine image: the binary shrank while being copied");
  }
  if (fcntl(mem.get(), F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
    return ErrnoError("engine image: F_ADD_SEALS");
  }
  // Reopen read-only and drop the writable descriptor (deny_write_access() in execve).
  std::string path = "/proc/self/fd/" + std::to_string(mem.get());
  int ro = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (ro < 0) return ErrnoError("engine image: reopen " + path);
  return ro;
}

bool IsSealedImage(int fd) {
  int seals = fcntl(fd, F_GET_SEALS);
  return seals >= 0 && (seals & F_SEAL_WRITE) != 0 && (seals & F_SEAL_SEAL) != 0;
}

Result<void> MakeImageExecuteOnly(int image_fd) {
  if (!IsSealedImage(image_fd)) {
    return Fail(Code::kInvalidArgument, "engine: binary fd is not a sealed image from OpenEngineBinary()");
  }
  if (fchmod(image_fd, S_IXUSR) != 0) return ErrnoError("engine image: fchmod 0100");
  return Ok();
}

int SuidDumpable() {
  UniqueFd f(open("/proc/sys/fs/suid_dumpable", O_RDONLY | O_CLOEXEC));
  char c = 0;
  if (!f.valid() || read(f.get(), &c, 1) != 1 || c < '0' || c > '2') return -1;
  return c - '0';
}

}  // namespace sigil::loader
