// A read-only, private memory mapping of a whole file. Works on any path open(2) accepts,
// including /proc/self/fd/N of a sealed memfd handed over by sigil-load: it relies on
// open + fstat + mmap, never on the name being a regular on-disk file.
// Move-only; unmaps on destruction. bytes() is safe to read from several threads.
#pragma once

#include <string>

#include "core/bytes.h"
#include "core/result.h"

namespace sigil::enclave {

class MappedFile {
 public:
  // kNotFound / kUnavailable on I/O errors, kInvalidArgument if the path is not a regular file
  // (memfds are). An empty file maps to an empty span.
  static Result<MappedFile> Open(const std::string& path);

  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  // Valid until this object is destroyed. If a writer truncates a plain file underneath the
  // mapping, reads fault (SIGBUS); sigil-load's memfds are sealed against that.
  ByteSpan bytes() const { return {data_, size_}; }

 private:
  MappedFile(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  void Reset() noexcept;
  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace sigil::enclave
