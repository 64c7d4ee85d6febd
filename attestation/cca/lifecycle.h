// PSA / CCA security lifecycle (RFC 9783 section 4.3.1; Arm CCA platform token, DEN0137 A7.2.3.1:
// the same ranges under CCA names). The low byte is implementation-defined; the high byte is
// the state. Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace sigil::attestation::cca {

// The lifecycle state names Sigil reports (`*.lifecycle_state` claims), or nullopt for a value
// outside every defined range (such a token is refused as malformed).
//   0x0000-0x00ff unknown                  0x4000-0x40ff non-rot-debug
//   0x1000-0x10ff assembly-and-test        0x5000-0x50ff recoverable-rot-debug
//   0x2000-0x20ff rot-provisioning         0x6000-0x60ff decommissioned
//   0x3000-0x30ff secured
std::optional<std::string_view> LifecycleStateName(std::int64_t lifecycle);

// True only for 0x3000-0x30ff ("secured"): the root of trust is locked and no debug is open.
// Verifiers report the lifecycle without refusing; policies use this to refuse every other state.
bool IsSecuredLifecycle(std::int64_t lifecycle);

}  // namespace sigil::attestation::cca
