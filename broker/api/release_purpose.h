// Key-class enforcement at release, independent of tenant policy: a model-weights key goes only
// to a workload whose verified evidence proves it loads the plaintext into sealed memory
// (workload.mode == "sealed-memory": sigil-load run, the C API) or re-encrypts it to the key's
// newest version ("rewrap": sigil-load rewrap, which writes only ciphertext and keeps each
// plaintext chunk in locked memory), never to one that streams it (sigil-load cat). Dataset keys
// may go to any mode. A policy can add conditions on the
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

// A reseal for a new .sgl header ("rewrap": true on a release artifact) goes only to a workload
// that proves workload.mode "rewrap", and such a workload gets a DEK only with its reseal: the
// mode is admitted for model weights because it writes nothing but ciphertext, which holds only
// if it asks for a new header. kPermissionDenied naming the mismatch; Ok otherwise.
Result<void> CheckRewrapRequest(const attestation::Claims& claims, bool asked);

}  // namespace sigil::broker
