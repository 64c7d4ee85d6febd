// Parsing of condition trees (the `when` of a rule). Internal to policies/.
#pragma once

#include <string>
#include <string_view>

#include "core/json.h"
#include "core/result.h"
#include "policies/model.h"

namespace sigil::policy::internal {

// What a policy has used so far of its per-policy budgets (policies/parse.h), shared by all the
// rules of one policy while it is parsed.
struct Budget {
  std::size_t conditions = 0;    // condition nodes, against kMaxConditions
  std::size_t key_patterns = 0;  // entries of `keys`, against kMaxKeyPatterns
  std::size_t regex_cost = 0;    // sum of RegexMatchCost, against kMaxPolicyRegexCost
  bool inside_for_each_gpu = false;  // while parsing a forEachGpu's child (no nesting)
};

// Parses the condition `j` found at JSON path `path`, `depth` levels deep (a rule's `when` is
// depth 1), charging `budget`. Fails with kInvalidArgument "<JSON path>: <problem>", as soon as
// a budget is exceeded (before the node that exceeds it is compiled).
Result<Condition> ParseCondition(const Json& j, const std::string& path, int depth,
                                 Budget& budget);

// True if `name` is 1..kMaxNameLength bytes of [A-Za-z0-9._:/-] (claim names), or of
// [A-Za-z0-9._-] when `allow_separators` is false (rule names). Reference-set names follow
// sigil::ValidateName instead (core/names.h), as the store and the CLI do.
bool IsValidName(std::string_view name, bool allow_separators);

// The JSON type of `j` in words, for messages ("a string", "an array", ...).
std::string JsonTypeName(const Json& j);

}  // namespace sigil::policy::internal
