#include "enclave/safetensors.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <set>
#include <tuple>

#include "core/json.h"

namespace sigil::enclave {
namespace {

// Safetensors headers nest three levels deep; anything deeper is not a safetensors header and
// would only feed recursive code downstream.
constexpr std::size_t kMaxDepth = 8;
constexpr std::string_view kMetadataKey = "__metadata__";

Unexpected<Error> Bad(const std::string& what) {
  return Fail(Code::kInvalidArgument, "safetensors: " + what);
}
Unexpected<Error> BadTensor(std::string_view name, const std::string& what) {
  return Bad("tensor '" + std::string(name) + "': " + what);
}

// SAX pass run before building the DOM: nlohmann keeps the last of duplicate keys, while other
// safetensors readers may keep the first, so a header with duplicates could mean two different
// models. It also bounds nesting and reports syntax errors with their byte offset.
class StrictJsonCheck final : public nlohmann::json_sax<Json> {
 public:
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override {
    keys_.emplace_back();
    return Enter();
  }
  bool key(string_t& k) override {
    if (!keys_.back().insert(k).second) {
      error_ = keys_.size() == 1 ? "duplicate tensor name '" + k + "'" : "duplicate key '" + k + "'";
      return false;
    }
    return true;
  }
  bool end_object() override {
    keys_.pop_back();
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override {
    keys_.emplace_back();  // keeps keys_.size() == depth_ so "top level" stays keys_.size() == 1
    return Enter();
  }
  bool end_array() override { return end_object(); }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& ex) override {
    error_ = "header is not valid JSON at byte " + std::to_string(position) + ": " + ex.what();
    return false;
  }
  const std::string& error() const { return error_; }

 private:
  bool Enter() {
    if (++depth_ > kMaxDepth) {
      error_ = "header nests deeper than " + std::to_string(kMaxDepth) + " levels";
      return false;
    }
    return true;
  }
  std::vector<std::set<std::string>> keys_;
  std::size_t depth_ = 0;
  std::string error_;
};

Result<void> CheckJson(std::string_view text) {
  StrictJsonCheck check;
  bool ok = false;
  try {
    ok = Json::sax_parse(text.begin(), text.end(), &check);
  } catch (const std::exception& e) {  // fence: nothing from nlohmann escapes this function
    return Bad(std::string("header is not valid JSON: ") + e.what());
  }
  if (!ok) return Bad(check.error().empty() ? "header is not valid JSON" : check.error());
  return Ok();
}

Result<std::uint64_t> Unsigned(const Json& v, std::string_view name, std::string_view what) {
  if (!v.is_number_unsigned()) return BadTensor(name, std::string(what) + " must be a non-negative integer");
  return v.get<std::uint64_t>();
}

Result<void> ParseShape(const Json& v, TensorInfo& t) {
  if (!v.is_array()) return BadTensor(t.name, "shape must be an array of non-negative integers");
  std::uint64_t elements = 1;
  for (const Json& d : v) {
    SIGIL_ASSIGN_OR_RETURN(std::uint64_t dim, Unsigned(d, t.name, "every shape dimension"));
    if (__builtin_mul_overflow(elements, dim, &elements)) {
      return BadTensor(t.name, "shape element count overflows 64 bits");
    }
    t.shape.push_back(dim);
  }
  t.elements = elements;
  return Ok();
}

Result<void> ParseOffsets(const Json& v, std::uint64_t data_size, TensorInfo& t) {
  if (!v.is_array() || v.size() != 2) {
    return BadTensor(t.name, "data_offsets must be an array [begin, end]");
  }
  SIGIL_ASSIGN_OR_RETURN(t.begin, Unsigned(v[0], t.name, "data_offsets begin"));
  SIGIL_ASSIGN_OR_RETURN(t.end, Unsigned(v[1], t.name, "data_offsets end"));
  const std::string range = "data_offsets [" + std::to_string(t.begin) + "," + std::to_string(t.end) + "]";
  if (t.end < t.begin) return BadTensor(t.name, range + ": end is before begin");
  if (t.end > data_size) {
    return BadTensor(t.name, range + " out of range: the data section is " + std::to_string(data_size) + " bytes");
  }
  std::uint64_t need = 0;
  const std::string dtype(DTypeName(t.dtype));
  if (__builtin_mul_overflow(t.elements, std::uint64_t{DTypeSize(t.dtype)}, &need)) {
    return BadTensor(t.name, "shape " + ShapeToString(t.shape) + " is too large for " + dtype + " data");
  }
  if (t.end - t.begin != need) {
    return BadTensor(t.name, range + " spans " + std::to_string(t.end - t.begin) + " bytes but " + dtype +
                                 " shape " + ShapeToString(t.shape) + " needs " + std::to_string(need));
  }
  return Ok();
}

Result<TensorInfo> ParseTensor(const std::string& name, const Json& v, std::uint64_t data_size) {
  TensorInfo t;
  t.name = name;
  if (!v.is_object()) return BadTensor(name, "expected an object with dtype, shape, data_offsets");
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (it.key() != "dtype" && it.key() != "shape" && it.key() != "data_offsets") {
      return BadTensor(name, "unknown field '" + it.key() + "'");
    }
  }
  for (const char* f : {"dtype", "shape", "data_offsets"}) {
    if (!v.contains(f)) return BadTensor(name, std::string("missing '") + f + "'");
  }
  const Json& dtype = v["dtype"];
  if (!dtype.is_string()) return BadTensor(name, "dtype must be a string");
  std::optional<DType> parsed = DTypeFromName(dtype.get_ref<const std::string&>());
  if (!parsed) return BadTensor(name, "unknown dtype '" + dtype.get<std::string>() + "'");
  t.dtype = *parsed;
  SIGIL_RETURN_IF_ERROR(ParseShape(v["shape"], t));
  SIGIL_RETURN_IF_ERROR(ParseOffsets(v["data_offsets"], data_size, t));
  return t;
}

Result<std::map<std::string, std::string>> ParseMetadata(const Json& v) {
  if (!v.is_object()) return Bad("__metadata__ must be an object of strings");
  std::map<std::string, std::string> out;
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (!it.value().is_string()) return Bad("__metadata__." + it.key() + " must be a string");
    out.emplace(it.key(), it.value().get<std::string>());
  }
  return out;
}

// The spec requires the tensors to tile the data section: sorted by offset, each one starts
// where the previous ended, and the last ends at the end of the file.
Result<void> CheckCoverage(std::vector<TensorInfo>& tensors, std::uint64_t data_size) {
  std::sort(tensors.begin(), tensors.end(), [](const TensorInfo& a, const TensorInfo& b) {
    return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
  });
  std::uint64_t expected = 0;
  const TensorInfo* prev = nullptr;
  for (const TensorInfo& t : tensors) {
    if (t.begin < expected) {
      return BadTensor(t.name, "overlaps tensor '" + prev->name + "' (starts at byte " +
                                   std::to_string(t.begin) + ", before " + std::to_string(expected) + ")");
    }
    if (t.begin > expected) {
      return BadTensor(t.name, "gap of " + std::to_string(t.begin - expected) +
                                   " bytes before it; tensors must cover the data section without gaps");
    }
    expected = t.end;
    prev = &t;
  }
  if (expected != data_size) {
    return Bad(std::to_string(data_size - expected) +
               " bytes at the end of the data section belong to no tensor");
  }
  return Ok();
}

std::uint64_t ReadU64Le(ByteSpan b) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | b[static_cast<std::size_t>(i)];
  return v;
}

}  // namespace

const TensorInfo* SafetensorsIndex::Find(std::string_view name) const {
  for (const TensorInfo& t : tensors) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

std::string ShapeToString(const std::vector<std::uint64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

Result<SafetensorsIndex> ParseSafetensors(ByteSpan file) {
  if (file.size() < 8) {
    return Bad("truncated: " + std::to_string(file.size()) +
               " bytes, but a file starts with an 8-byte header length");
  }
  const std::uint64_t n = ReadU64Le(file.first(8));
  if (n > kMaxSafetensorsHeaderSize) {
    return Bad("header length " + std::to_string(n) + " exceeds the 100 MiB limit");
  }
  if (n > file.size() - 8) {
    return Bad("header length " + std::to_string(n) + " exceeds the " + std::to_string(file.size() - 8) +
               " bytes after the length field (truncated file?)");
  }
  std::string_view header(reinterpret_cast<const char*>(file.data() + 8), static_cast<std::size_t>(n));
  if (header.empty() || header.front() != '{') return Bad("header must be a JSON object starting with '{'");
  SIGIL_RETURN_IF_ERROR(CheckJson(header));
  auto j = ParseJson(header, "safetensors header");
  if (!j) return Fail(Code::kInvalidArgument, j.error().message());

  SafetensorsIndex index;
  index.data_start = 8 + n;
  index.data_size = file.size() - index.data_start;
  for (auto it = j->begin(); it != j->end(); ++it) {
    if (it.key() == kMetadataKey) {
      SIGIL_ASSIGN_OR_RETURN(index.metadata, ParseMetadata(it.value()));
      continue;
    }
    SIGIL_ASSIGN_OR_RETURN(TensorInfo t, ParseTensor(it.key(), it.value(), index.data_size));
    index.tensors.push_back(std::move(t));
  }
  SIGIL_RETURN_IF_ERROR(CheckCoverage(index.tensors, index.data_size));
  return index;
}

namespace {
struct DTypeRow {
  DType dtype;
  std::string_view name;
  std::size_t size;
};
// The dtype names and element sizes of the safetensors format (its Dtype enum).
constexpr DTypeRow kDTypes[] = {
    {DType::kBool, "BOOL", 1}, {DType::kU8, "U8", 1},     {DType::kI8, "I8", 1},     {DType::kF8E5M2, "F8_E5M2", 1},
    {DType::kF8E4M3, "F8_E4M3", 1}, {DType::kI16, "I16", 2}, {DType::kU16, "U16", 2}, {DType::kF16, "F16", 2},
    {DType::kBF16, "BF16", 2}, {DType::kI32, "I32", 4},   {DType::kU32, "U32", 4},   {DType::kF32, "F32", 4},
    {DType::kI64, "I64", 8},   {DType::kU64, "U64", 8},   {DType::kF64, "F64", 8},
};
const DTypeRow& Row(DType d) {
  for (const DTypeRow& r : kDTypes) {
    if (r.dtype == d) return r;
  }
  SIGIL_CHECK(false);
  return kDTypes[0];
}
}  // namespace

std::optional<DType> DTypeFromName(std::string_view name) {
  for (const DTypeRow& r : kDTypes) {
    if (r.name == name) return r.dtype;
  }
  return std::nullopt;
}
std::string_view DTypeName(DType dtype) { return Row(dtype).name; }
std::size_t DTypeSize(DType dtype) { return Row(dtype).size; }

std::vector<float> ReadF32(ByteSpan file, const SafetensorsIndex& index, const TensorInfo& info) {
  SIGIL_CHECK(info.dtype == DType::kF32);
  SIGIL_CHECK(info.end <= index.data_size && index.data_start + index.data_size == file.size());
  const std::uint8_t* p = file.data() + index.data_start + info.begin;
  std::vector<float> out(static_cast<std::size_t>(info.elements));
  for (std::size_t i = 0; i < out.size(); ++i, p += kF32Size) {
    std::uint32_t bits = std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 |
                         std::uint32_t{p[3]} << 24;
    out[i] = std::bit_cast<float>(bits);
  }
  return out;
}

}  // namespace sigil::enclave
