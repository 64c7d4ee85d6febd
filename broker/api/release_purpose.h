// Key-class enforcement at release, independent of tenant policy: a model-weights key goes only
// to a workload whose verified evidence proves it loads the plaintext into sealed memory
// (workload.mode == "sealed-memory": sigil-load run, the C API), never to one that streams it
// (sigil-load cat). Dataset keys may go to either mode. A policy can add conditions on the
// workload.* claims; it cannot remove this one (docs/protocol.md "Workload purpose").
// Thread-safety: pure function.
#pragma once

#include <string>
#include <string_view>

#include "attestation/claims.h"
#include "core/result.h"

namespace sigil::broker {

inline constexpr std::string_view kKeyClassModelWeights = "model-weights";
inline constexpr std::string_view kKeyClassDataset = "dataset";

// Ok(summary) if a key of class `key_class` may be released to a workload with these verified
// claims, where summary is the proven purpose for the audit record ("workload.mode=stream", or
// "workload.mode=unproven"). kPermissionDenied with a reason that names the class, the proven
// mode and what is required otherwise; an unknown class is refused too (fail closed).
Result<std::string> CheckReleasePurpose(std::string_view key_class, const attestation::Claims& claims);

}  // namespace sigil::broker
