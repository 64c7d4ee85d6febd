// Rendering of untrusted text (names and values from policy files, claims and requests) for
// messages and traces. Internal to policies/.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "attestation/claims.h"

namespace sigil::policy::internal {

// `s` in single quotes; bytes outside printable ASCII, quotes and backslashes are escaped as
// \xNN, and text beyond `max_bytes` input bytes is cut and marked "...".
std::string Quote(std::string_view s, std::size_t max_bytes = 128);

// A claim value for messages: booleans and integers as is, strings Quote()d.
std::string RenderValue(const attestation::ClaimValue& v, std::size_t max_bytes = 128);

// "a boolean", "an integer" or "a string".
std::string_view TypeName(const attestation::ClaimValue& v);

}  // namespace sigil::policy::internal
