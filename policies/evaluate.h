// Policy evaluation: decides whether evidence claims may have a key. Deny by default: a key is
// released only if a rule whose `keys` match the key name has a `when` that holds. Evidence
// whose claim `tee` is "dev" (the insecure software TEE) is admitted only by rules that name
// the dev TEE explicitly (Rule::names_dev_tee).
// Thread-safety: pure function of its arguments; safe to call concurrently on a shared Policy.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "attestation/claims.h"
#include "policies/model.h"
#include "policies/reference_sets.h"

namespace sigil::policy {

// The verdict of one rule or condition node. `detail` may contain claim values, policy values
// and reference-set names, so traces go only to the tenant's audit log and `sigil policy test`.
struct ClauseTrace {
  std::string path;  // "$.rules[0]" for a rule, "$.rules[0].when.allOf[2]" for a condition
  bool result = false;
  std::string detail;
};

struct Decision {
  bool allow = false;
  std::string rule;  // the allowing rule's name; empty on denial
  // Safe to return to the workload: names rules, claims, reference sets and integer/boolean
  // bounds, and echoes the workload's own claim values, but never policy strings, patterns
  // or reference values. E.g. "rule 'r': claim 'debug' is true, expected false".
  std::string reason;
  std::vector<ClauseTrace> trace;  // rules that cover the key, in evaluation order (pre-order)
};

// Evaluates `policy` for `key_name` (the key's name within the tenant, without the tenant).
// Rules are tried in file order; the first that allows wins. An absent claim, or a claim of
// another type than the test expects, makes that test false; a missing reference set makes
// in_reference false. Never fails.
Decision Evaluate(const Policy& policy, const attestation::Claims& claims,
                  std::string_view key_name, const ReferenceSets& refs);

// Renders a decision and its trace for humans (`sigil policy test`), one clause per line,
// indented by nesting. Contains trace details, so it is not for the workload.
std::string Explain(const Decision& decision);

}  // namespace sigil::policy
