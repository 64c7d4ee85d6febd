// Text input and output of `sigil-infer run`, kept out of main() so tests pin the exact bytes.
// Outputs use fixed "%.6f" so two runs (or two machines) can be compared byte for byte.
// Thread-safe.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace sigil::enclave {

// Parses "0.1,0.2,-3e-2" (spaces around elements allowed). kInvalidArgument naming the element
// on an empty element, trailing characters, or a value that is not a finite binary32.
Result<std::vector<float>> ParseInputVector(std::string_view text);

// The input used when --input is omitted: x[j] = (j + 1) / n for j = 0..n-1.
std::vector<float> DefaultInput(std::size_t n);

// Text form:  "output: v0,v1,...\nargmax: k\n"
// JSON form:  "{\"argmax\":k,\"output\":[v0,v1,...]}\n"   (keys sorted, as CanonicalJson)
std::string FormatOutput(std::span<const float> output, std::size_t argmax, bool json);

}  // namespace sigil::enclave
