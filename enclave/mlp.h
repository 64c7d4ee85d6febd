// The reference inference engine's model: a multi-layer perceptron read from safetensors.
// Tensors "layers.{i}.weight" [out, in] and "layers.{i}.bias" [out] for i = 0..L-1, ReLU between
// layers, softmax at the end. Arithmetic is plain binary32 in a fixed order (no fast-math, no
// threads), so the same model and input print the same digits on every run.
// Thread-safety: an Mlp is immutable after construction; Forward() is safe to call concurrently.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"
#include "enclave/safetensors.h"

namespace sigil::enclave {

struct DenseLayer {
  std::size_t in = 0;
  std::size_t out = 0;
  std::vector<float> weight;  // row-major [out][in]
  std::vector<float> bias;    // [out]
};

class Mlp {
 public:
  // Validates that layer sizes chain (layer i's in == layer i-1's out), that weight and bias
  // sizes match, and that every value is finite. kInvalidArgument naming the layer otherwise.
  static Result<Mlp> FromLayers(std::vector<DenseLayer> layers);
  // Reads layers.0 .. layers.{L-1} from a parsed file. kInvalidArgument naming the tensor on a
  // missing or misshapen tensor, a tensor that is not part of the MLP, or a non-finite value.
  static Result<Mlp> FromSafetensors(ByteSpan file, const SafetensorsIndex& index);

  std::size_t input_size() const { return layers_.front().in; }
  std::size_t output_size() const { return layers_.back().out; }
  std::size_t layer_count() const { return layers_.size(); }

  // Pre-softmax outputs. kInvalidArgument if input.size() != input_size() or an input is not
  // finite.
  Result<std::vector<float>> Logits(std::span<const float> input) const;
  // softmax(Logits(input)), computed as exp(x - max) / sum for numerical stability.
  Result<std::vector<float>> Forward(std::span<const float> input) const;

 private:
  explicit Mlp(std::vector<DenseLayer> layers) : layers_(std::move(layers)) {}
  std::vector<DenseLayer> layers_;
};

// MappedFile + ParseSafetensors + Mlp::FromSafetensors; errors carry the path.
Result<Mlp> LoadMlp(const std::string& path);

// Index of the largest value (the first one on ties). `values` must not be empty.
std::size_t ArgMax(std::span<const float> values);

}  // namespace sigil::enclave
