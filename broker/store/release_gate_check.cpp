#include "broker/store/release_gate_check.h"

namespace sigil::broker {

Result<std::optional<Error>> CheckReleaseGate(const ReleaseGate& gate, const GateSql& sql) {
  if (!gate.token_id.empty()) {
    SIGIL_ASSIGN_OR_RETURN(bool spent, sql.token_spent(gate.token_id));
    if (spent) {
      return std::optional<Error>(Error(Code::kReplay, std::string(kTokenSpentTag) + "token " + gate.token_id +
                                                           " was spent by a single-use release; attest again"));
    }
  }
  for (const ReleaseCounter& c : gate.counters) {
    const std::int64_t window_start = gate.now_ms - c.window_ms;
    // Every use of a counter shares its window, so what falls out of it now is never needed.
    SIGIL_RETURN_IF_ERROR(sql.prune(c.id, window_start));
    SIGIL_ASSIGN_OR_RETURN(GateSql::Count n, sql.count(c.id, window_start));
    if (n.uses + c.uses > c.max) {
      const std::int64_t wait_s = (n.oldest_ms + c.window_ms - gate.now_ms + 999) / 1000;
      return std::optional<Error>(Error(
          Code::kPolicyDenied, std::string(kReleaseLimitTag) + c.what + ": " + std::to_string(n.uses) +
                                   " counted in the window" +
                                   (c.uses > 1 ? ", and this request releases it " + std::to_string(c.uses) + " times" : "") +
                                   "; the oldest leaves the window in " + std::to_string(wait_s > 0 ? wait_s : 1) + " s"));
    }
  }
  return std::optional<Error>();
}

Result<void> RecordReleaseGate(const ReleaseGate& gate, const GateSql& sql) {
  for (const ReleaseCounter& c : gate.counters) SIGIL_RETURN_IF_ERROR(sql.add(c.id, gate.now_ms, c.uses));
  if (gate.spend_token && !gate.token_id.empty()) SIGIL_RETURN_IF_ERROR(sql.spend(gate.token_id, gate.token_expires_ms, gate.now_ms));
  return Ok();
}

}  // namespace sigil::broker
