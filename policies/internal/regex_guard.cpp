// GCC 12 with -fsanitize=address reports -Wmaybe-uninitialized inside libstdc++'s regex
// compiler (the std::function in _NFA states), code that this file instantiates by compiling
// patterns. The warning is a false positive in library code, so it is silenced for the
// library headers only; the pragma must precede the first inclusion of <regex>.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <regex>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#include "policies/internal/regex_guard.h"

#include <limits>
#include <string>
#include <vector>

namespace sigil::policy::internal {

namespace {

constexpr std::size_t kSaturated = std::numeric_limits<std::size_t>::max() / 4;

std::size_t SatAdd(std::size_t a, std::size_t b) { return a + b > kSaturated ? kSaturated : a + b; }
std::size_t SatMul(std::size_t a, std::size_t b) {
  if (a == 0 || b == 0) return 0;
  return a > kSaturated / b ? kSaturated : a * b;
}

// Reads a decimal number at p[i...], saturating; advances i past the digits.
std::size_t ReadNumber(std::string_view p, std::size_t& i) {
  std::size_t n = 0;
  while (i < p.size() && p[i] >= '0' && p[i] <= '9') {
    n = SatAdd(SatMul(n, 10), static_cast<std::size_t>(p[i] - '0'));
    ++i;
  }
  return n;
}

// If p[i] starts a counted repetition "{n}", "{n,}" or "{n,m}", returns the largest number of
// copies it makes and sets `end` to the index of the closing brace; otherwise returns 0.
std::size_t CountedRepetition(std::string_view p, std::size_t i, std::size_t& end) {
  std::size_t j = i + 1;
  const std::size_t digits_start = j;
  const std::size_t n = ReadNumber(p, j);
  if (j == digits_start) return 0;
  std::size_t copies = n;
  if (j < p.size() && p[j] == ',') {
    ++j;
    const std::size_t m_start = j;
    const std::size_t m = ReadNumber(p, j);
    copies = j == m_start ? SatAdd(n, 1) : (m > n ? m : n);
  }
  if (j >= p.size() || p[j] != '}') return 0;
  end = j;
  return copies == 0 ? 1 : copies;
}

// Index of the ']' closing the bracket expression that opens at p[i] (or p.size()).
std::size_t BracketEnd(std::string_view p, std::size_t i) {
  std::size_t j = i + 1;
  while (j < p.size() && p[j] != ']') j += p[j] == '\\' ? 2 : 1;
  return j < p.size() ? j : p.size();
}

}  // namespace

std::size_t RegexWeightedSize(std::string_view p, std::size_t quantifier_weight) {
  std::vector<std::size_t> groups{0};  // running size of each open group; [0] is the whole
  std::size_t last = 0;                // size of the most recent atom or group
  auto add = [&](std::size_t n) {
    groups.back() = SatAdd(groups.back(), n);
    last = n;
  };
  for (std::size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    std::size_t end = 0;
    if (c == '\\') {
      ++i;
      add(1);
    } else if (c == '[') {
      i = BracketEnd(p, i);
      add(1);
    } else if (c == '(') {
      groups.push_back(0);
      last = 0;
      // "(?:", "(?=", "(?!": the '?' is part of the group syntax, not a quantifier.
      if (i + 2 < p.size() && p[i + 1] == '?' && (p[i + 2] == ':' || p[i + 2] == '=' || p[i + 2] == '!')) {
        i += 2;
      }
    } else if (c == ')' && groups.size() > 1) {
      const std::size_t g = groups.back();
      groups.pop_back();
      add(SatAdd(g, 2));
    } else if (std::size_t copies = c == '{' ? CountedRepetition(p, i, end) : 0; copies != 0) {
      const std::size_t grown = SatMul(last, copies);
      groups.back() = SatAdd(groups.back() - last, grown);
      last = grown;
      i = end;
    } else if (c == '*' || c == '+' || c == '?') {
      groups.back() = SatAdd(groups.back(), quantifier_weight);
    } else {
      add(1);
    }
  }
  std::size_t total = 0;
  for (std::size_t g : groups) total = SatAdd(total, g);
  return total;
}

std::size_t RegexExpandedSize(std::string_view p) { return RegexWeightedSize(p, 1); }

std::size_t RegexMatchCost(std::string_view p) { return RegexWeightedSize(p, kQuantifierCost); }

Result<std::regex> CompileBoundedRegex(std::string_view pattern, std::size_t max_length,
                                       std::size_t max_expanded) {
  if (pattern.empty()) return Fail(Code::kInvalidArgument, "empty regular expression");
  if (pattern.size() > max_length) {
    return Fail(Code::kInvalidArgument, "regular expression is " + std::to_string(pattern.size()) +
                                            " bytes, more than the limit of " +
                                            std::to_string(max_length));
  }
  if (RegexExpandedSize(pattern) > max_expanded) {
    return Fail(Code::kInvalidArgument,
                "regular expression is too complex (counted repetitions expand beyond " +
                    std::to_string(max_expanded) + " elements)");
  }
  auto flags = std::regex::ECMAScript;
#if defined(__GLIBCXX__)
  // libstdc++ extension: Thompson-NFA matching, polynomial in the input, no back-references.
  flags |= std::regex_constants::__polynomial;
#endif
  try {
    return std::regex(pattern.begin(), pattern.end(), flags);
  } catch (const std::regex_error& e) {
    return Fail(Code::kInvalidArgument, std::string("invalid regular expression: ") + e.what());
  } catch (const std::exception& e) {
    return Fail(Code::kInvalidArgument,
                std::string("cannot compile regular expression: ") + e.what());
  }
}

}  // namespace sigil::policy::internal
