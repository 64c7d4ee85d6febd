// Parsing and validation of per-tenant policy files (format: policies/README.md).
// Thread-safety: pure function; no I/O.
#pragma once

#include <cstddef>
#include <string_view>

#include "core/result.h"
#include "policies/model.h"

namespace sigil::policy {

// Limits enforced by ParsePolicy. Each keeps parsing and evaluation bounded in time, memory and
// stack depth for any input, including hostile ones.
inline constexpr std::size_t kMaxPolicyBytes = std::size_t{1} << 20;
inline constexpr std::size_t kMaxRules = 1000;
inline constexpr int kMaxConditionDepth = 32;       // `when` itself is depth 1
inline constexpr int kMaxJsonDepth = 80;            // checked before the document is built
inline constexpr std::size_t kMaxNameLength = 128;  // rule, claim and reference-set names
inline constexpr std::size_t kMaxKeyPatternLength = 256;
inline constexpr std::size_t kMaxRegexLength = 256;
// Upper bound on a pattern's size once counted repetitions ({n,m}) are expanded; keeps the
// compiled automaton, and so matching time and recursion depth, small.
inline constexpr std::size_t kMaxRegexExpandedSize = 1000;

// Parses and validates a policy. JSON comments (// and /* */) are accepted.
// Fails with kInvalidArgument; the message is "<source_name>: <JSON path>: <problem>", e.g.
// "acme.json: $.rules[1].when.allOf[0]: unknown operator 'eq' (expected one of allOf, anyOf,
// not, or a claim test)". Refuses duplicate object keys, unknown fields, missing fields, wrong
// types, empty key lists, duplicate rule names, claim tests with zero or several operators,
// empty or mixed-type `in` lists, non-integer bounds, invalid or oversized regular expressions,
// nesting beyond kMaxConditionDepth, more than kMaxRules rules and version != 1.
Result<Policy> ParsePolicy(std::string_view text, std::string_view source_name);

}  // namespace sigil::policy
