// Policy evaluation: decides whether evidence claims may have a key. Deny by default: a key is
// released only if a rule whose `keys` match the key name has a `when` that holds. Evidence
// whose claim `tee` is "dev" (the insecure software TEE) is admitted only by rules that name
// the dev TEE explicitly (Rule::names_dev_tee).
// A claim test over an absent claim, or a claim of another type than the test expects, is an
// ERROR, neither true nor false; errors propagate (through `not` too) unless the result does
// not depend on them (three-valued logic, policies/README.md "Absent claims"), and a rule whose
// condition is an error does not allow.
// Thread-safety: pure function of its arguments; safe to call concurrently on a shared Policy.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "attestation/claims.h"
#include "policies/model.h"
#include "policies/reference_sets.h"

namespace sigil::policy {

// The verdict of one rule or condition node. `detail` may contain claim values, policy values
// and reference-set names, so traces go only to the tenant's audit log and `sigil policy test`.
// Caps on what one decision may produce, whatever the policy: the reason goes to the workload
// and the trace (as Explain()ed) into an audit record on every denied release.
inline constexpr std::size_t kMaxReasonBytes = 1024;
inline constexpr std::size_t kMaxTraceBytes = 16384;       // Explain() output, and the trace
inline constexpr std::size_t kMaxClauseDetailBytes = 1024;  // one ClauseTrace::detail
// Appended (within the cap) to a reason or trace that was cut.
inline constexpr std::string_view kTruncatedMarker = " ...[truncated]";

struct ClauseTrace {
  std::string path;  // "$.rules[0]" for a rule, "$.rules[0].when.allOf[2]" for a condition
  bool result = false;
  bool error = false;  // neither true nor false: an absent or mistyped claim decided it
  std::string detail;  // at most kMaxClauseDetailBytes
};

struct Decision {
  bool allow = false;
  std::string rule;  // the allowing rule's name; empty on denial
  // The allowing rule's memory, which the caller enforces when it records the release (the
  // policy engine is pure: counting releases is the store's job, broker/api/release_gate.h).
  std::vector<ReleaseLimit> limits;
  bool single_use_token = false;
  // Safe to return to the workload: names rules, claims, reference sets and integer/boolean
  // bounds, and echoes the workload's own claim values, but never policy strings, patterns
  // or reference values. E.g. "rule 'r': claim 'debug' is true, expected false".
  // At most kMaxReasonBytes; ends with kTruncatedMarker if it was cut.
  std::string reason;
  // Rules that cover the key and their clauses, in evaluation order (pre-order), while the sum
  // of path and detail sizes stays within kMaxTraceBytes; the rest are counted in
  // trace_omitted (they are still evaluated: the cap never changes the decision).
  std::vector<ClauseTrace> trace;
  std::size_t trace_omitted = 0;
};

// Evaluates `policy` for `key_name` (the key's name within the tenant, without the tenant).
// Rules are tried in file order; the first that allows wins. An absent claim, or a claim of
// another type than the test expects, makes that test an error (see above); a missing
// reference set makes in_reference false. Never fails.
Decision Evaluate(const Policy& policy, const attestation::Claims& claims,
                  std::string_view key_name, const ReferenceSets& refs);

// Renders a decision and its trace for humans (`sigil policy test`) and the audit log, one
// clause per line, indented by nesting; at most kMaxTraceBytes, ending with a line that says
// how many clauses were left out if any were. Contains trace details, so it is not for the
// workload.
std::string Explain(const Decision& decision);

}  // namespace sigil::policy
