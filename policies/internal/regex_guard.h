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

// Compiles `pattern` as an ECMAScript regular expression. With libstdc++ it is compiled for the
// polynomial-time (Thompson NFA) matcher, which refuses back-references. Fails with
// kInvalidArgument "<problem>" (no path) if the pattern is empty, longer than `max_length`,
// expands beyond `max_expanded`, or does not compile. Never throws.
Result<std::regex> CompileBoundedRegex(std::string_view pattern, std::size_t max_length,
                                       std::size_t max_expanded);

}  // namespace sigil::policy::internal
