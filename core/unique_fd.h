// An owning POSIX file descriptor: closed on scope exit, movable, not copyable. Shared by the
// loader and the enclave-side attesters so there is one RAII wrapper for fds in the tree.
// Thread-safety: like any value; one owner.
#pragma once

#include <string>
#include <utility>

#include "core/result.h"

namespace sigil {

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
  // Closes and reports close(2)'s result (it can report delayed write errors): kUnavailable
  // naming `what`.
  Result<void> Close(const std::string& what);

 private:
  int fd_ = -1;
};

}  // namespace sigil
