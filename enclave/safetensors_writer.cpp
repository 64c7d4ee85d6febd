#include "enclave/safetensors_writer.h"

#include <bit>
#include <set>

#include "core/json.h"
#include "enclave/safetensors.h"

namespace sigil::enclave {

Result<Bytes> SerializeSafetensors(const std::map<std::string, std::string>& metadata,
                                   std::span<const TensorToWrite> tensors) {
  Json header = Json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::set<std::string> names;
  std::uint64_t offset = 0;
  for (const TensorToWrite& t : tensors) {
    if (t.name == "__metadata__" || !names.insert(t.name).second) {
      return Fail(Code::kInvalidArgument, "safetensors writer: tensor name '" + t.name + "' is reserved or repeated");
    }
    std::uint64_t elements = 1;
    for (std::uint64_t d : t.shape) {
      if (__builtin_mul_overflow(elements, d, &elements)) elements = UINT64_MAX;
    }
    if (elements > t.data.size() / kF32Size || elements * kF32Size != t.data.size()) {
      return Fail(Code::kInvalidArgument, "safetensors writer: tensor '" + t.name + "' has " +
                                              std::to_string(t.data.size()) + " bytes for shape " +
                                              ShapeToString(t.shape));
    }
    header[t.name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.data.size()}}};
    offset += t.data.size();
  }
  std::string text = CanonicalJson(header);
  text.append((8 - (text.size() % 8)) % 8, ' ');
  Bytes out;
  out.reserve(8 + text.size() + offset);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(text.size() >> (8 * i)));
  out.insert(out.end(), text.begin(), text.end());
  for (const TensorToWrite& t : tensors) out.insert(out.end(), t.data.begin(), t.data.end());
  return out;
}

Bytes F32ToBytes(std::span<const float> values) {
  Bytes out;
  out.reserve(values.size() * kF32Size);
  for (float v : values) {
    auto bits = std::bit_cast<std::uint32_t>(v);
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(bits >> (8 * i)));
  }
  return out;
}

}  // namespace sigil::enclave
