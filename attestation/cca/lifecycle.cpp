// attestation/cca/lifecycle.h: the lifecycle ranges as one table.
#include "attestation/cca/lifecycle.h"

#include <array>
#include <utility>

namespace sigil::attestation::cca {
namespace {
constexpr std::array<std::pair<std::int64_t, std::string_view>, 7> kStates{{
    {0x0000, "unknown"},
    {0x1000, "assembly-and-test"},
    {0x2000, "rot-provisioning"},
    {0x3000, "secured"},
    {0x4000, "non-rot-debug"},
    {0x5000, "recoverable-rot-debug"},
    {0x6000, "decommissioned"},
}};
}  // namespace

std::optional<std::string_view> LifecycleStateName(std::int64_t lifecycle) {
  for (const auto& [base, name] : kStates) {
    if (lifecycle >= base && lifecycle <= base + 0xff) return name;
  }
  return std::nullopt;
}

bool IsSecuredLifecycle(std::int64_t lifecycle) { return lifecycle >= 0x3000 && lifecycle <= 0x30ff; }

}  // namespace sigil::attestation::cca
