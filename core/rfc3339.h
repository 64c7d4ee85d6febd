// Time points as RFC 3339 UTC text ("2026-01-31T12:00:00Z", whole seconds), the one format the
// broker's audit records, its collateral messages and the CLI print.
#pragma once

#include <chrono>
#include <string>

namespace sigil {

// Truncates to whole seconds (RFC 3339 section 5.6 date-time with "Z").
std::string FormatRfc3339Utc(std::chrono::system_clock::time_point t);

}  // namespace sigil
