#include "enclave/weights.h"

#include <charconv>
#include <string>

#include "enclave/safetensors_writer.h"

namespace sigil::enclave {
namespace {

std::string DimsToString(std::span<const std::size_t> dims) {
  std::string s;
  for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? "," : "") + std::to_string(dims[i]);
  return s;
}

Result<void> CheckDims(std::span<const std::size_t> dims) {
  if (dims.size() < 2) return Fail(Code::kInvalidArgument, "dims: need at least an input and an output width");
  std::uint64_t params = 0;
  for (std::size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] == 0 || dims[i] > kMaxLayerWidth) {
      return Fail(Code::kInvalidArgument, "dims: width #" + std::to_string(i + 1) + " must be in [1, " +
                                              std::to_string(kMaxLayerWidth) + "]");
    }
    if (i > 0) params += std::uint64_t{dims[i]} * (dims[i - 1] + 1);  // < 2^33 per layer
  }
  if (params > kMaxParameters) {
    return Fail(Code::kInvalidArgument, "dims: " + std::to_string(params) + " parameters exceed the limit of " +
                                            std::to_string(kMaxParameters));
  }
  return Ok();
}

}  // namespace

std::uint64_t SplitMix64::Next() {
  state_ += 0x9E3779B97F4A7C15ULL;
  std::uint64_t z = state_;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

float SplitMix64::NextCentered() {
  return static_cast<float>(Next() >> 40) * 0x1p-24f - 0.5f;
}

Result<std::vector<std::size_t>> ParseDims(std::string_view text) {
  std::vector<std::size_t> dims;
  std::size_t pos = 0;
  while (true) {
    std::size_t comma = text.find(',', pos);
    std::string_view item = text.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    std::size_t v = 0;
    auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (item.empty() || ec != std::errc() || ptr != item.data() + item.size()) {
      return Fail(Code::kInvalidArgument, "dims: element #" + std::to_string(dims.size() + 1) + " '" +
                                              std::string(item) + "' is not a positive integer");
    }
    dims.push_back(v);
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  SIGIL_RETURN_IF_ERROR(CheckDims(dims));
  return dims;
}

Result<Bytes> MakeWeights(std::span<const std::size_t> dims, std::uint64_t seed) {
  SIGIL_RETURN_IF_ERROR(CheckDims(dims));
  SplitMix64 rng(seed);
  std::vector<Bytes> blobs;
  std::vector<TensorToWrite> tensors;
  for (std::size_t i = 0; i + 1 < dims.size(); ++i) {
    const std::size_t in = dims[i], out = dims[i + 1];
    std::vector<float> w(in * out), b(out);
    for (float& x : w) x = rng.NextCentered();
    for (float& x : b) x = rng.NextCentered();
    blobs.push_back(F32ToBytes(w));
    blobs.push_back(F32ToBytes(b));
    const std::string prefix = "layers." + std::to_string(i);
    tensors.push_back({prefix + ".weight", {out, in}, {}});
    tensors.push_back({prefix + ".bias", {out}, {}});
  }
  // Spans are taken only after `blobs` stops growing, so none of them dangles.
  for (std::size_t k = 0; k < tensors.size(); ++k) tensors[k].data = blobs[k];
  std::map<std::string, std::string> metadata = {
      {"generator", "sigil-infer make-weights"}, {"seed", std::to_string(seed)}, {"dims", DimsToString(dims)}};
  return SerializeSafetensors(metadata, tensors);
}

}  // namespace sigil::enclave
