// Deterministic demo weights for the reference MLP (`sigil-infer make-weights`), so demos and
// tests get byte-identical models on every machine without shipping binary files.
//
// PRNG: splitmix64 (Steele, Lea, Flood, "Fast splittable pseudorandom number generators",
// OOPSLA 2014): state += 0x9E3779B97F4A7C15; z = state; z = (z ^ z>>30) * 0xBF58476D1CE4E5B9;
// z = (z ^ z>>27) * 0x94D049BB133111EB; return z ^ z>>31. Each value is
// float(z >> 40) * 2^-24 - 0.5, exact in binary32 and uniform in [-0.5, 0.5). One stream,
// seeded with --seed, fills layers.0.weight (row-major [out,in]), layers.0.bias, layers.1.weight,
// ... in that order.
// Thread-safe (free functions; a SplitMix64 object is not shared).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"

namespace sigil::enclave {

class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  std::uint64_t Next();
  // Uniform in [-0.5, 0.5) with 24 random bits.
  float NextCentered();

 private:
  std::uint64_t state_;
};

// Bounds keep a typo in --dims from asking for gigabytes.
inline constexpr std::size_t kMaxLayerWidth = 1u << 16;
inline constexpr std::uint64_t kMaxParameters = std::uint64_t{1} << 26;  // 256 MiB of F32

// Parses "16,64,64,8": at least two widths, each in [1, kMaxLayerWidth], total parameters at
// most kMaxParameters. kInvalidArgument naming the bad element.
Result<std::vector<std::size_t>> ParseDims(std::string_view text);

// The safetensors image of an MLP with widths `dims` (layers.i.weight [dims[i+1], dims[i]],
// layers.i.bias [dims[i+1]]) and __metadata__ {"generator","seed","dims"}. Same (dims, seed),
// same bytes. kInvalidArgument if `dims` breaks the ParseDims bounds.
Result<Bytes> MakeWeights(std::span<const std::size_t> dims, std::uint64_t seed);

}  // namespace sigil::enclave
