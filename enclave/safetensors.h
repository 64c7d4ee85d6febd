// A strict safetensors parser (https://github.com/huggingface/safetensors, "Format"):
//   u64le N || N bytes of UTF-8 JSON header || data section
// The header maps tensor names to {"dtype","shape","data_offsets":[begin,end]} (offsets relative
// to the data section) plus an optional "__metadata__" string->string map. Weights come from
// whoever encrypted the model, so everything is checked before a byte of data is touched: header
// bounds, exact field sets, dtype (one of the format's dtypes; the element size fixes the byte
// length), shapes (overflow-checked), offsets in range, and
// tensors that tile the data section with no overlap and no gap (as the spec requires, so no
// bytes hide between tensors). Errors name the tensor and the problem.
// Pure functions over bytes; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"

namespace sigil::enclave {

inline constexpr std::uint64_t kMaxSafetensorsHeaderSize = std::uint64_t{100} << 20;  // 100 MiB
inline constexpr std::size_t kF32Size = 4;

// Every dtype the safetensors format defines. Validation is dtype-agnostic (only the element
// size matters) so real BF16/F16/quantised shards pass the header check at encryption time; an
// engine that needs one dtype (sigil-infer's MLP: F32) checks it itself.
enum class DType : std::uint8_t {
  kBool, kU8, kI8, kF8E5M2, kF8E4M3, kI16, kU16, kF16, kBF16, kI32, kU32, kF32, kI64, kU64, kF64
};

// "F32" -> kF32 etc.; nullopt for a name the format does not define.
std::optional<DType> DTypeFromName(std::string_view name);
std::string_view DTypeName(DType dtype);
std::size_t DTypeSize(DType dtype);  // bytes per element

struct TensorInfo {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<std::uint64_t> shape;
  std::uint64_t elements = 0;  // product of shape (1 for a scalar)
  std::uint64_t begin = 0;     // byte offsets relative to the data section, begin <= end
  std::uint64_t end = 0;
  bool operator==(const TensorInfo&) const = default;
};

struct SafetensorsIndex {
  std::map<std::string, std::string> metadata;  // "__metadata__", empty if absent
  std::vector<TensorInfo> tensors;              // sorted by data offset
  std::uint64_t data_start = 0;                 // 8 + N: file offset of the data section
  std::uint64_t data_size = 0;

  // The tensor called `name`, or nullptr.
  const TensorInfo* Find(std::string_view name) const;
  bool operator==(const SafetensorsIndex&) const = default;
};

// Parses and validates the whole file image (`file` must span the entire file, since tensor
// coverage is checked against the file's end). kInvalidArgument with a message naming the tensor
// or header part on any violation.
Result<SafetensorsIndex> ParseSafetensors(ByteSpan file);

// The tensor's values, decoded from little-endian IEEE-754 binary32 (info.dtype must be kF32) (the data section need not
// be 4-byte aligned, so values are assembled byte-wise). `info` must come from ParseSafetensors
// over this same `file`.
std::vector<float> ReadF32(ByteSpan file, const SafetensorsIndex& index, const TensorInfo& info);

// Human-readable "[2,3]" form of a shape, for messages.
std::string ShapeToString(const std::vector<std::uint64_t>& shape);

}  // namespace sigil::enclave
