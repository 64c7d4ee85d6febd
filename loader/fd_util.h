// Loader-internal helpers for file descriptors: an owning fd and full-length read/write loops
// that retry EINTR and short transfers. Not part of the loader's public API.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>

#include "core/result.h"

namespace sigil::loader::internal {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Closes and reports close(2)'s result (it can report delayed write errors).
  Result<void> Close(const std::string& what);

 private:
  int fd_ = -1;
};

// Error with kUnavailable (kNotFound for ENOENT) and strerror(errno).
Error ErrnoError(const std::string& what);

// Reads exactly n bytes at `offset`; a short file gives kUnavailable saying how many were read.
Result<void> PreadFull(int fd, std::uint8_t* buf, std::size_t n, std::uint64_t offset, const std::string& what);
// Reads up to n bytes, stopping early only at end of file; returns the count.
Result<std::size_t> ReadUpTo(int fd, std::uint8_t* buf, std::size_t n, const std::string& what);
Result<void> WriteFull(int fd, const std::uint8_t* buf, std::size_t n, const std::string& what);

}  // namespace sigil::loader::internal
