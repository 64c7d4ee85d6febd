// Builds raw safetensors images from a header string, for tests that need malformed headers.
#pragma once

#include <string>

#include "core/bytes.h"

namespace sigil::testing {

// u64le(header.size()) || header || data
inline Bytes FileWithHeader(const std::string& header, const Bytes& data) {
  Bytes b;
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<std::uint8_t>(header.size() >> (8 * i)));
  b.insert(b.end(), header.begin(), header.end());
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

}  // namespace sigil::testing
