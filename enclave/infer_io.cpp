#include "enclave/infer_io.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace sigil::enclave {
namespace {
std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

std::string Join(std::span<const float> v) {
  std::string s;
  char buf[64];
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::snprintf(buf, sizeof buf, "%.6f", static_cast<double>(v[i]));
    if (i > 0) s += ',';
    s += buf;
  }
  return s;
}
}  // namespace

Result<std::vector<float>> ParseInputVector(std::string_view text) {
  std::vector<float> out;
  std::size_t pos = 0;
  while (true) {
    std::size_t comma = text.find(',', pos);
    std::string_view item =
        Trim(text.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos));
    float v = 0.0f;
    auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (item.empty() || ec != std::errc() || ptr != item.data() + item.size() || !std::isfinite(v)) {
      return Fail(Code::kInvalidArgument, "input: element #" + std::to_string(out.size() + 1) + " '" +
                                              std::string(item) + "' is not a finite number");
    }
    out.push_back(v);
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return out;
}

std::vector<float> DefaultInput(std::size_t n) {
  std::vector<float> x(n);
  for (std::size_t j = 0; j < n; ++j) x[j] = static_cast<float>(j + 1) / static_cast<float>(n);
  return x;
}

std::string FormatOutput(std::span<const float> output, std::size_t argmax, bool json) {
  if (json) return "{\"argmax\":" + std::to_string(argmax) + ",\"output\":[" + Join(output) + "]}\n";
  return "output: " + Join(output) + "\nargmax: " + std::to_string(argmax) + "\n";
}

}  // namespace sigil::enclave
