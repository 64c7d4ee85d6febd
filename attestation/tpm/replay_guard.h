// In-memory monotonic-clock guard per AK: a quote whose (resetCount, restartCount, clock)
// (TPMS_CLOCK_INFO, TCG TPM 2.0 Library Part 2 section 10.11.1) is not strictly greater, in
// that lexicographic order, than the last accepted one for the same AK is refused (kReplay).
// resetCount increments on every TPM Reset (restartCount then returns to 0); restartCount on
// every TPM Restart/Resume; clock only moves forward while the TPM runs. So an old quote, or the
// same quote again, never passes. This guard keeps its state in this process only (lost on
// restart, not shared between processes); the verifier uses it only when no
// TpmConfig::replay_check is set. sigild sets one (broker/data_dir.cpp), backed by the store's
// tpm_clock table (Store::AdvanceTpmClock in broker/store/store.h, broker/store/sqlite_store.cpp), so the
// broker's replay state survives restarts and is shared by everything using the same store.
// Thread-safety: Observe() is safe to call concurrently.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "core/result.h"

namespace sigil::attestation::tpm {

struct ClockState {
  std::uint32_t reset_count = 0;
  std::uint32_t restart_count = 0;
  std::uint64_t clock = 0;
  auto operator<=>(const ClockState&) const = default;
};

class ReplayGuard {
 public:
  // Records `state` for `ak` if it is strictly newer than the last one; kReplay otherwise.
  Result<void> Observe(const std::string& ak, const ClockState& state);

 private:
  std::mutex mu_;
  std::map<std::string, ClockState> last_;
};

}  // namespace sigil::attestation::tpm
