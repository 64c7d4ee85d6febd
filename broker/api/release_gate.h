// The memory of a release request (policies/README.md "Release limits"): from the decisions that
// allowed its artifacts, the counters it counts against and whether it spends its token. The
// store enforces the result atomically with the release's audit records (Store::AppendRelease).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "attestation/claims.h"
#include "broker/store/store.h"
#include "core/result.h"
#include "policies/evaluate.h"

namespace sigil::broker {

// One artifact of the request, released under `decision` (which allowed it).
struct AllowedArtifact {
  std::string key;  // tenant-relative key name
  const policy::Decision* decision = nullptr;
};

// The gate of a release made with token (or KBS session) `token_id`, valid until
// `token_expires_ms`. A counter names (key, window, claim, claim value), never the rule, so a
// key's releases stay counted when the policy changes; two artifacts of one key count twice; two
// limits on the same counter keep the smaller max. kPolicyDenied (kReleaseLimitTag) if a limit
// counts per a claim the workload does not have.
Result<ReleaseGate> BuildReleaseGate(const std::vector<AllowedArtifact>& artifacts, const attestation::Claims& claims,
                                     std::string token_id, std::int64_t token_expires_ms);

}  // namespace sigil::broker
