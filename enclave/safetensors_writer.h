// Writes safetensors files that ParseSafetensors accepts: F32 tensors laid out back to back in
// the order given, "__metadata__" when non-empty, and the header padded with spaces so the data
// section starts on an 8-byte boundary (what the reference implementation does).
// Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"

namespace sigil::enclave {

struct TensorToWrite {
  std::string name;
  std::vector<std::uint64_t> shape;
  ByteSpan data;  // little-endian F32 values, product(shape) * 4 bytes
};

// kInvalidArgument naming the tensor on a data size that does not match its shape, a duplicate
// name or the reserved name "__metadata__".
Result<Bytes> SerializeSafetensors(const std::map<std::string, std::string>& metadata,
                                   std::span<const TensorToWrite> tensors);

// Little-endian IEEE-754 binary32 bytes of `values`.
Bytes F32ToBytes(std::span<const float> values);

}  // namespace sigil::enclave
