#include "loader/fd_util.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sigil::loader::internal {

Error ErrnoError(const std::string& what) {
  int err = errno;
  return Error(err == ENOENT ? Code::kNotFound : Code::kUnavailable, what + ": " + std::strerror(err));
}

Result<void> PreadFull(int fd, std::uint8_t* buf, std::size_t n, std::uint64_t offset, const std::string& what) {
  std::size_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd, buf + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("read " + what);
    }
    if (r == 0) {
      return Fail(Code::kUnavailable, "read " + what + ": file ended after " + std::to_string(done) + " of " +
                                          std::to_string(n) + " bytes at offset " + std::to_string(offset) +
                                          " (changed while being read?)");
    }
    done += static_cast<std::size_t>(r);
  }
  return Ok();
}

Result<std::size_t> ReadUpTo(int fd, std::uint8_t* buf, std::size_t n, const std::string& what) {
  std::size_t done = 0;
  while (done < n) {
    ssize_t r = ::read(fd, buf + done, n - done);
    if (r < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("read " + what);
    }
    if (r == 0) break;
    done += static_cast<std::size_t>(r);
  }
  return done;
}

Result<void> WriteFull(int fd, const std::uint8_t* buf, std::size_t n, const std::string& what) {
  std::size_t done = 0;
  while (done < n) {
    ssize_t r = ::write(fd, buf + done, n - done);
    if (r < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("write " + what);
    }
    done += static_cast<std::size_t>(r);
  }
  return Ok();
}

}  // namespace sigil::loader::internal
