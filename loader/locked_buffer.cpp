#include "loader/locked_buffer.h"

#include <string.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

namespace sigil::loader {

Result<LockedBuffer> LockedBuffer::Create(std::size_t size) {
  LockedBuffer b;
  if (size == 0) return b;
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    return Fail(Code::kUnavailable, "mmap of a " + std::to_string(size) + "-byte buffer: " + std::strerror(errno));
  }
  b.data_ = static_cast<std::uint8_t*>(p);
  b.size_ = size;
  // Separate advice values, not flags: each needs its own call.
  if (madvise(p, size, MADV_DONTDUMP) != 0 || madvise(p, size, MADV_WIPEONFORK) != 0) {
    return Fail(Code::kUnavailable, std::string("madvise on a plaintext buffer: ") + std::strerror(errno));
  }
  b.locked_ = mlock(p, size) == 0;
  return b;
}

LockedBuffer::LockedBuffer(LockedBuffer&& o) noexcept { *this = std::move(o); }

LockedBuffer& LockedBuffer::operator=(LockedBuffer&& o) noexcept {
  if (this != &o) {
    Reset();
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
    locked_ = std::exchange(o.locked_, false);
  }
  return *this;
}

LockedBuffer::~LockedBuffer() { Reset(); }

void LockedBuffer::Reset() noexcept {
  if (data_ == nullptr) return;
  explicit_bzero(data_, size_);
  if (locked_) munlock(data_, size_);
  munmap(data_, size_);
  data_ = nullptr;
  size_ = 0;
}

}  // namespace sigil::loader
