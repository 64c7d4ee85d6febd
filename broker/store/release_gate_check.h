// The one algorithm behind Store::AppendRelease's gate, shared by both backends: each supplies
// its SQL for the five steps below and runs this inside the transaction (and, for PostgreSQL,
// under the tenant's append lock) that appends the release's records.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "broker/store/store.h"

namespace sigil::broker {

// A spent token is forgotten this long after it expired: a broker whose clock runs behind still
// refuses it as expired by then (brokers' clocks are assumed within minutes, docs/architecture.md).
inline constexpr std::int64_t kSpentTokenKeepMillis = 3600LL * 1000;

struct GateSql {
  // True if a single-use release spent the token.
  std::function<Result<bool>(const std::string& token)> token_spent;
  // Forgets a counter's uses at or before `cutoff_ms` (outside every later window of it).
  std::function<Result<void>(const std::string& counter, std::int64_t cutoff_ms)> prune;
  // How many uses the counter has after `after_ms`, and the oldest of them (0 if none).
  struct Count {
    std::int64_t uses = 0;
    std::int64_t oldest_ms = 0;
  };
  std::function<Result<Count>(const std::string& counter, std::int64_t after_ms)> count;
  // Records `uses` uses of the counter at `time_ms`.
  std::function<Result<void>(const std::string& counter, std::int64_t time_ms, std::int64_t uses)> add;
  // Remembers the token as spent until `expires_ms` (and forgets tokens long expired at `now_ms`).
  std::function<Result<void>(const std::string& token, std::int64_t expires_ms, std::int64_t now_ms)> spend;
};

// Checks the gate: the refusal (kReplay kTokenSpentTag, kPolicyDenied kReleaseLimitTag) if it
// refuses, nullopt if the release may go ahead; store failures as errors.
Result<std::optional<Error>> CheckReleaseGate(const ReleaseGate& gate, const GateSql& sql);
// Counts the release's uses and spends its token if the gate says so. Only after CheckReleaseGate
// allowed it, in the same transaction.
Result<void> RecordReleaseGate(const ReleaseGate& gate, const GateSql& sql);

}  // namespace sigil::broker
