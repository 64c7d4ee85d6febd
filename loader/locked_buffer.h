// LockedBuffer: a scratch buffer for plaintext that is not a key (one decrypted chunk on its way
// to a pipe, for instance). Anonymous private mapping, MADV_DONTDUMP and MADV_WIPEONFORK, mlock
// best effort (locked() says whether it held), zeroed and unmapped on destruction. Key material
// belongs in SecretBytes instead. Not thread-safe.
#pragma once

#include <cstdint>
#include <span>

#include "core/result.h"

namespace sigil::loader {

class LockedBuffer {
 public:
  // kUnavailable if the mapping cannot be made; size 0 gives an empty buffer.
  static Result<LockedBuffer> Create(std::size_t size);

  LockedBuffer(LockedBuffer&& other) noexcept;
  LockedBuffer& operator=(LockedBuffer&& other) noexcept;
  LockedBuffer(const LockedBuffer&) = delete;
  LockedBuffer& operator=(const LockedBuffer&) = delete;
  ~LockedBuffer();

  std::span<std::uint8_t> span() { return {data_, size_}; }
  std::uint8_t* data() { return data_; }
  std::size_t size() const { return size_; }
  bool locked() const { return locked_; }

 private:
  LockedBuffer() = default;
  void Reset() noexcept;
  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
  bool locked_ = false;
};

}  // namespace sigil::loader
