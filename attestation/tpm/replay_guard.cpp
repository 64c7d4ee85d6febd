#include "attestation/tpm/replay_guard.h"

namespace sigil::attestation::tpm {

Result<void> ReplayGuard::Observe(const std::string& ak, const ClockState& state) {
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] = last_.try_emplace(ak, state);
  if (inserted) {
    return Ok();
  }
  if (!(state > it->second)) {
    return Fail(Code::kReplay,
                "TPM clock (resetCount, restartCount, clock) did not advance since the last quote "
                "from this AK");
  }
  it->second = state;
  return Ok();
}

}  // namespace sigil::attestation::tpm
