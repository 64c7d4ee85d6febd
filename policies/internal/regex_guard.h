// Compilation of `matches` patterns with bounds that keep hostile patterns from exhausting
// memory, time or stack. Internal to policies/.
#pragma once

#include <cstddef>
#include <regex>
#include <string_view>

#include "core/result.h"

namespace sigil::policy::internal {

// An upper bound on the number of atoms in `pattern` once counted repetitions ({n}, {n,},
// {n,m}) are expanded, saturating at a large value. Nested repetitions multiply.
std::size_t RegexExpandedSize(std::string_view pattern);

// What a quantifier (*, +, ?) weighs in RegexMatchCost, against 1 for any other atom. The
// Thompson matcher keeps every loop state that can still match active at once, so matching
// time over a claim of kMaxMatchInput bytes grows with the number of loops after expansion
// (measured with libstdc++: 127 sequential ".*" take ~18 ms over 1 KiB, "(?:.*){0,90}" ~40 ms),
// while a straight run of atoms ("[0-9a-f]{96}") costs almost nothing.
inline constexpr std::size_t kQuantifierCost = 64;

// RegexExpandedSize with each quantifier, after expansion, counted kQuantifierCost times: the
// estimate of matching work that the per-policy budget (policies/parse.h) sums.
std::size_t RegexMatchCost(std::string_view pattern);

// The expansion estimate behind both, with quantifiers weighing `quantifier_weight`.
std::size_t RegexWeightedSize(std::string_view pattern, std::size_t quantifier_weight);

// Compiles `pattern` as an ECMAScript regular expression. With libstdc++ it is compiled for the
// polynomial-time (Thompson NFA) matcher, which refuses back-references. Fails with
// kInvalidArgument "<problem>" (no path) if the pattern is empty, longer than `max_length`,
// expands beyond `max_expanded`, or does not compile. Never throws.
Result<std::regex> CompileBoundedRegex(std::string_view pattern, std::size_t max_length,
                                       std::size_t max_expanded);

}  // namespace sigil::policy::internal
