// Evaluation of one claim test (a leaf of a condition tree). Internal to policies/.
#pragma once

#include <string>

#include "attestation/claims.h"
#include "policies/model.h"
#include "policies/reference_sets.h"

namespace sigil::policy::internal {

// Longest string claim that `matches` will run a regular expression over; longer values fail
// the test (claims from any verifier are far shorter).
inline constexpr std::size_t kMaxMatchInput = 1024;

struct Verdict {
  bool result = false;
  // The test could not be evaluated: its claim is absent or of another type than the test
  // expects. Such a test is neither true nor false (policies/README.md "Absent claims").
  bool error = false;
  // Why, in words safe for the workload: the workload's own claim value, integer and boolean
  // bounds, names; never policy strings, patterns or reference values.
  std::string why;
  // Why, with every value, for the trace (audit log and `sigil policy test`).
  std::string detail;
};

// Evaluates the claim test `c` (c.kind == kClaimTest). An absent claim or a claim of another
// type gives an error verdict (error = true, result = false), except for `present`, which is
// defined for every claim. A missing reference set gives false. Never throws.
Verdict EvaluateClaimTest(const Condition& c, const attestation::Claims& claims,
                          const ReferenceSets& refs);

}  // namespace sigil::policy::internal
