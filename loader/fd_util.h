// Loader-internal helpers for file descriptors: an owning fd and full-length read/write loops
// that retry EINTR and short transfers. Not part of the loader's public API.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>

#include "core/result.h"
#include "core/unique_fd.h"

namespace sigil::loader::internal {

// The owning fd lives in core/ (shared with enclave/); the loader code names it unqualified.
using UniqueFd = ::sigil::UniqueFd;

// Error with kUnavailable (kNotFound for ENOENT) and strerror(errno).
Error ErrnoError(const std::string& what);

// Reads exactly n bytes at `offset`; a short file gives kUnavailable saying how many were read.
Result<void> PreadFull(int fd, std::uint8_t* buf, std::size_t n, std::uint64_t offset, const std::string& what);
// Reads up to n bytes, stopping early only at end of file; returns the count.
Result<std::size_t> ReadUpTo(int fd, std::uint8_t* buf, std::size_t n, const std::string& what);
Result<void> WriteFull(int fd, const std::uint8_t* buf, std::size_t n, const std::string& what);

}  // namespace sigil::loader::internal
