#include <algorithm>

#include "policies/evaluate.h"

namespace sigil::policy {

namespace {

// Nesting depth of a trace path: "$.rules[0]" is 0, "$.rules[0].when" 1,
// "$.rules[0].when.allOf[2]" 2 (paths are built by the parser from fixed segment names).
std::size_t Depth(const std::string& path) {
  const auto dots = static_cast<std::size_t>(std::count(path.begin(), path.end(), '.'));
  return dots == 0 ? 0 : dots - 1;
}

}  // namespace

std::string Explain(const Decision& decision) {
  std::string out = decision.allow ? "ALLOW" : "DENY";
  if (decision.allow) out += " by rule '" + decision.rule + "'";
  out += "\nreason: " + decision.reason + "\n";
  if (decision.trace.empty()) return out;
  out += "trace:\n";
  for (const ClauseTrace& t : decision.trace) {
    out += std::string(2 + 2 * Depth(t.path), ' ');
    out += t.result ? "pass  " : "FAIL  ";
    out += t.path + "  " + t.detail + "\n";
  }
  return out;
}

}  // namespace sigil::policy
