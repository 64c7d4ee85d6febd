#include "enclave/mlp.h"

#include <cmath>

#include "enclave/mapped_file.h"

namespace sigil::enclave {
namespace {

Unexpected<Error> Bad(const std::string& what) { return Fail(Code::kInvalidArgument, "mlp: " + what); }

bool AllFinite(std::span<const float> v, std::size_t& bad_index) {
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!std::isfinite(v[i])) {
      bad_index = i;
      return false;
    }
  }
  return true;
}

Result<std::vector<float>> ReadTensor(ByteSpan file, const SafetensorsIndex& index,
                                      const std::string& name, const std::vector<std::uint64_t>& shape) {
  const TensorInfo* t = index.Find(name);
  if (t == nullptr) return Bad("tensor '" + name + "' is missing");
  if (t->dtype != DType::kF32) {
    return Bad("tensor '" + name + "' is " + std::string(DTypeName(t->dtype)) + "; this engine computes in F32 only");
  }
  if (t->shape != shape) {
    return Bad("tensor '" + name + "' has shape " + ShapeToString(t->shape) + ", expected " + ShapeToString(shape));
  }
  return ReadF32(file, index, *t);
}

}  // namespace

Result<Mlp> Mlp::FromLayers(std::vector<DenseLayer> layers) {
  if (layers.empty()) return Bad("a model needs at least one layer");
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const DenseLayer& l = layers[i];
    const std::string name = "layer " + std::to_string(i);
    if (l.in == 0 || l.out == 0) return Bad(name + " has a zero width");
    if (i > 0 && l.in != layers[i - 1].out) {
      return Bad(name + " takes " + std::to_string(l.in) + " inputs but layer " + std::to_string(i - 1) +
                 " produces " + std::to_string(layers[i - 1].out));
    }
    if (l.weight.size() / l.in != l.out || l.weight.size() % l.in != 0 || l.bias.size() != l.out) {
      return Bad(name + " weight or bias size does not match [" + std::to_string(l.out) + "," +
                 std::to_string(l.in) + "]");
    }
    std::size_t k = 0;
    if (!AllFinite(l.weight, k)) return Bad(name + " weight[" + std::to_string(k) + "] is NaN or infinite");
    if (!AllFinite(l.bias, k)) return Bad(name + " bias[" + std::to_string(k) + "] is NaN or infinite");
  }
  return Mlp(std::move(layers));
}

Result<Mlp> Mlp::FromSafetensors(ByteSpan file, const SafetensorsIndex& index) {
  std::vector<DenseLayer> layers;
  for (std::size_t i = 0;; ++i) {
    const std::string prefix = "layers." + std::to_string(i);
    const TensorInfo* w = index.Find(prefix + ".weight");
    if (w == nullptr) break;
    if (w->shape.size() != 2) {
      return Bad("tensor '" + w->name + "' has shape " + ShapeToString(w->shape) + ", expected [out,in]");
    }
    DenseLayer l;
    l.out = static_cast<std::size_t>(w->shape[0]);
    l.in = static_cast<std::size_t>(w->shape[1]);
    SIGIL_ASSIGN_OR_RETURN(l.weight, ReadTensor(file, index, w->name, w->shape));
    SIGIL_ASSIGN_OR_RETURN(l.bias, ReadTensor(file, index, prefix + ".bias", {w->shape[0]}));
    layers.push_back(std::move(l));
  }
  // Every tensor must belong to the model: a stray tensor means the file is not what we think.
  if (index.tensors.size() != 2 * layers.size()) {
    for (const TensorInfo& t : index.tensors) {
      bool used = false;
      for (std::size_t i = 0; i < layers.size(); ++i) {
        const std::string prefix = "layers." + std::to_string(i);
        used = used || t.name == prefix + ".weight" || t.name == prefix + ".bias";
      }
      if (!used) return Bad("tensor '" + t.name + "' is not part of an MLP (layers.{i}.weight/.bias)");
    }
  }
  return FromLayers(std::move(layers));
}

Result<std::vector<float>> Mlp::Logits(std::span<const float> input) const {
  if (input.size() != input_size()) {
    return Bad("input has " + std::to_string(input.size()) + " values, the model takes " +
               std::to_string(input_size()));
  }
  std::size_t k = 0;
  if (!AllFinite(input, k)) return Bad("input[" + std::to_string(k) + "] is NaN or infinite");
  std::vector<float> x(input.begin(), input.end());
  for (std::size_t li = 0; li < layers_.size(); ++li) {
    const DenseLayer& l = layers_[li];
    std::vector<float> y(l.out);
    for (std::size_t o = 0; o < l.out; ++o) {
      float acc = 0.0f;
      const float* row = l.weight.data() + o * l.in;
      for (std::size_t j = 0; j < l.in; ++j) acc += row[j] * x[j];
      acc += l.bias[o];
      y[o] = (li + 1 < layers_.size() && acc < 0.0f) ? 0.0f : acc;  // ReLU on hidden layers only
    }
    // Finite weights and inputs can still overflow binary32; refuse rather than print NaN.
    if (!AllFinite(y, k)) {
      return Bad("layer " + std::to_string(li) + " output[" + std::to_string(k) + "] overflowed");
    }
    x = std::move(y);
  }
  return x;
}

Result<std::vector<float>> Mlp::Forward(std::span<const float> input) const {
  SIGIL_ASSIGN_OR_RETURN(std::vector<float> z, Logits(input));
  const float max = z[ArgMax(z)];
  double sum = 0.0;
  std::vector<double> e(z.size());
  for (std::size_t i = 0; i < z.size(); ++i) sum += e[i] = std::exp(static_cast<double>(z[i]) - max);
  for (std::size_t i = 0; i < z.size(); ++i) z[i] = static_cast<float>(e[i] / sum);
  return z;
}

Result<Mlp> LoadMlp(const std::string& path) {
  auto file = MappedFile::Open(path);
  if (!file) return std::move(file).error();
  auto index = ParseSafetensors(file->bytes());
  if (!index) return std::move(index).error().Wrap(path);
  auto mlp = Mlp::FromSafetensors(file->bytes(), *index);
  if (!mlp) return std::move(mlp).error().Wrap(path);
  return mlp;
}

std::size_t ArgMax(std::span<const float> values) {
  SIGIL_CHECK(!values.empty());
  std::size_t best = 0;
  for (std::size_t i = 1; i < values.size(); ++i) {
    if (values[i] > values[best]) best = i;
  }
  return best;
}

}  // namespace sigil::enclave
