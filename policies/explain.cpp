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
  if (decision.trace.empty() && decision.trace_omitted == 0) return out;
  out += "trace:\n";
  // Room kept for the closing line, so the whole text stays within kMaxTraceBytes.
  constexpr std::size_t kClosingLine = 120;
  std::size_t omitted = decision.trace_omitted;
  for (std::size_t i = 0; i < decision.trace.size(); ++i) {
    const ClauseTrace& t = decision.trace[i];
    std::string line(2 + 2 * Depth(t.path), ' ');
    line += t.error ? "ERROR " : t.result ? "pass  " : "FAIL  ";
    line += t.path + "  " + t.detail + "\n";
    if (out.size() + line.size() > kMaxTraceBytes - kClosingLine) {
      omitted += decision.trace.size() - i;
      break;
    }
    out += line;
  }
  if (omitted > 0) {
    out += "  ...[truncated]: " + std::to_string(omitted) + " more clauses not shown (trace limit " +
           std::to_string(kMaxTraceBytes) + " bytes)\n";
  }
  return out;
}

}  // namespace sigil::policy
