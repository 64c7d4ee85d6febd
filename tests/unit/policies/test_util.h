// Helpers for the policy tests: one-rule policies and claim sets.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>

#include "attestation/claims.h"
#include "core/result.h"
#include "policies/policy.h"

namespace sigil::policy::testing {

// A policy with one rule named `name` covering `keys_json` (a JSON array) with `when_json`.
inline Result<Policy> OneRule(const std::string& when_json, const std::string& name = "r",
                              const std::string& keys_json = R"(["k"])") {
  return ParsePolicy(R"({"version":1,"rules":[{"name":")" + name + R"(","keys":)" + keys_json +
                         R"(,"when":)" + when_json + "}]}",
                     "test.json");
}

inline attestation::Claims MakeClaims(
    std::initializer_list<std::pair<std::string, attestation::ClaimValue>> values) {
  attestation::Claims c;
  for (const auto& [k, v] : values) c.Set(k, v);
  return c;
}

}  // namespace sigil::policy::testing
