// Normalised claims: the flat, typed result of verifying any evidence format. Names are shared
// across TEEs where they mean the same thing (tee, debug, measurement, tcb.status, platform.id),
// plus format-specific ones (dev.*, snp.*, tdx.*, tpm.*). Policies are evaluated over these.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>

#include "core/json.h"
#include "core/result.h"

namespace sigil::attestation {

using ClaimValue = std::variant<bool, std::int64_t, std::string>;

class Claims {
 public:
  void Set(std::string name, ClaimValue value) { values_[std::move(name)] = std::move(value); }
  const ClaimValue* Find(std::string_view name) const;
  std::optional<std::string> GetString(std::string_view name) const;
  std::optional<bool> GetBool(std::string_view name) const;
  std::optional<std::int64_t> GetInt(std::string_view name) const;
  const std::map<std::string, ClaimValue, std::less<>>& values() const { return values_; }

  Json ToJson() const;
  // Accepts a flat JSON object of strings, booleans and integers; errors name the field.
  static Result<Claims> FromJson(const Json& j, std::string_view where);

  bool operator==(const Claims&) const = default;

 private:
  std::map<std::string, ClaimValue, std::less<>> values_;
};

// Renders a claim value as text (for audit records and explanations).
std::string ClaimToString(const ClaimValue& v);

}  // namespace sigil::attestation
