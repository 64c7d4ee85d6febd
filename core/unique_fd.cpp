#include "core/unique_fd.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sigil {

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(o.fd_, -1);
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

Result<void> UniqueFd::Close(const std::string& what) {
  const int fd = std::exchange(fd_, -1);
  if (fd >= 0 && ::close(fd) != 0) {
    const int err = errno;
    return Fail(err == ENOENT ? Code::kNotFound : Code::kUnavailable, "close " + what + ": " + std::strerror(err));
  }
  return Ok();
}

}  // namespace sigil
