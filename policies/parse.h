// Parsing and validation of per-tenant policy files (format: policies/README.md).
// Thread-safety: pure function; no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/result.h"
#include "policies/model.h"

namespace sigil::policy {

// Limits enforced by ParsePolicy. Each keeps parsing and evaluation bounded in time, memory and
// stack depth for any input, including hostile ones. The per-policy budgets (kMaxConditions,
// kMaxKeyPatterns, kMaxPolicyRegexCost) are checked while the document is walked, before any
// more work is done, so an over-budget policy is refused in milliseconds.
inline constexpr std::size_t kMaxPolicyBytes = std::size_t{1} << 20;
inline constexpr std::size_t kMaxRules = 1000;
// Release limits (model.h ReleaseLimit): at most this many per rule, each counting at most
// kMaxReleaseLimitCount releases over at most kMaxReleaseLimitSeconds (366 days). The store keeps
// one row per counted release inside each limit's window, so these bound its size per counter.
inline constexpr std::size_t kMaxLimitsPerRule = 8;
inline constexpr std::int64_t kMaxReleaseLimitCount = 100000;
inline constexpr std::int64_t kMaxReleaseLimitSeconds = 366LL * 24 * 3600;
// Policy approvals (model.h ApprovalRule).
inline constexpr std::size_t kMaxApprovers = 32;
inline constexpr std::size_t kMaxApproverNameLength = 64;
inline constexpr int kMaxConditionDepth = 16;       // `when` itself is depth 1
inline constexpr int kMaxJsonDepth = 40;            // checked before the document is built
inline constexpr std::size_t kMaxNameLength = 128;  // rule and claim names
inline constexpr std::size_t kMaxKeyPatternLength = 256;
inline constexpr std::size_t kMaxRegexLength = 256;
// Upper bound on a pattern's size once counted repetitions ({n,m}) are expanded; keeps the
// compiled automaton, and so matching time and recursion depth, small.
inline constexpr std::size_t kMaxRegexExpandedSize = 1000;
// Budget for the whole policy: condition nodes (allOf/anyOf/not and claim tests) in all rules.
// Evaluation visits every node of the rules covering a key, so this bounds its work too.
inline constexpr std::size_t kMaxConditions = 4096;
// Budget for the whole policy: key names and globs in all rules' `keys`.
inline constexpr std::size_t kMaxKeyPatterns = 4096;
// Budget for the whole policy: the sum over all `matches` patterns of their matching cost
// (internal/regex_guard.h RegexMatchCost: expanded size, each quantifier counting 64). It bounds
// both memory (libstdc++'s std::regex keeps one NFA state, with its own copy of any bracket
// matcher, per expanded element: up to ~300 bytes each, measured) and the matching work of one
// evaluation (active loop states times the claim's length).
inline constexpr std::size_t kMaxPolicyRegexCost = 4096;

// Parses and validates a policy. JSON comments (// and /* */) are accepted.
// Fails with kInvalidArgument; the message is "<source_name>: <JSON path>: <problem>", e.g.
// "acme.json: $.rules[1].when.allOf[0]: unknown operator 'eq' (expected one of allOf, anyOf,
// not, or a claim test)". Refuses duplicate object keys, unknown fields, missing fields, wrong
// types, empty key lists, duplicate rule names, claim tests with zero or several operators,
// empty or mixed-type `in` lists, non-integer bounds, invalid or oversized regular expressions,
// nesting beyond kMaxConditionDepth, release limits out of range or over kMaxLimitsPerRule, more than kMaxRules rules, policies over one of the
// per-policy budgets (conditions, key patterns, regex cost), reference-set names that
// sigil::ValidateName refuses (the one name rule of the CLI and the store), key patterns that no
// valid key name can match, and version != 1.
Result<Policy> ParsePolicy(std::string_view text, std::string_view source_name);

}  // namespace sigil::policy
