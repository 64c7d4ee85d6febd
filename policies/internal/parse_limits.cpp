#include "policies/internal/parse_limits.h"

#include "policies/internal/parse_condition.h"
#include "policies/internal/text.h"
#include "policies/parse.h"

namespace sigil::policy::internal {
namespace {

Unexpected<Error> Bad(const std::string& path, const std::string& problem) {
  return Fail(Code::kInvalidArgument, path + ": " + problem);
}

Result<std::int64_t> BoundedInt(const Json& j, const std::string& path, std::int64_t max, const char* unit) {
  if (!j.is_number_integer()) return Bad(path, std::string("expected an integer number of ") + unit + ", got " + JsonTypeName(j));
  const std::int64_t n = j.get<std::int64_t>();
  if (n < 1 || n > max) {
    return Bad(path, std::to_string(n) + " is out of range (1 to " + std::to_string(max) + " " + unit + ")");
  }
  return n;
}

Result<ReleaseLimit> ParseLimit(const Json& j, const std::string& path) {
  if (!j.is_object()) return Bad(path, "a limit must be an object, got " + JsonTypeName(j));
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() != "max" && it.key() != "per_seconds" && it.key() != "per_claim") {
      return Bad(path, "unknown field " + Quote(it.key()) + " (expected max, per_seconds, per_claim)");
    }
  }
  if (!j.contains("max")) return Bad(path, "missing field 'max'");
  if (!j.contains("per_seconds")) return Bad(path, "missing field 'per_seconds'");
  ReleaseLimit limit;
  limit.path = path;
  SIGIL_ASSIGN_OR_RETURN(limit.max, BoundedInt(j["max"], path + ".max", kMaxReleaseLimitCount, "releases"));
  SIGIL_ASSIGN_OR_RETURN(limit.per_seconds,
                         BoundedInt(j["per_seconds"], path + ".per_seconds", kMaxReleaseLimitSeconds, "seconds"));
  if (j.contains("per_claim")) {
    const Json& c = j["per_claim"];
    if (!c.is_string()) return Bad(path + ".per_claim", "expected a claim name, got " + JsonTypeName(c));
    limit.per_claim = c.get<std::string>();
    if (!IsValidName(limit.per_claim, true)) {
      return Bad(path + ".per_claim", "invalid claim name " + Quote(limit.per_claim) +
                                          " (1-128 characters of A-Z a-z 0-9 . _ : / -)");
    }
  }
  return limit;
}

}  // namespace

Result<std::vector<ReleaseLimit>> ParseLimits(const Json& v, const std::string& path) {
  if (!v.is_array()) return Bad(path, "expected an array of limits, got " + JsonTypeName(v));
  if (v.empty()) return Bad(path, "must list at least one limit (or leave the field out)");
  if (v.size() > kMaxLimitsPerRule) {
    return Bad(path, std::to_string(v.size()) + " limits, more than the limit of " + std::to_string(kMaxLimitsPerRule));
  }
  std::vector<ReleaseLimit> out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    SIGIL_ASSIGN_OR_RETURN(ReleaseLimit l, ParseLimit(v[i], path + "[" + std::to_string(i) + "]"));
    for (const ReleaseLimit& seen : out) {
      // Two limits over the same window and claim: only the smaller could ever decide, so the
      // larger one misleads a reviewer.
      if (seen.per_seconds == l.per_seconds && seen.per_claim == l.per_claim) {
        return Bad(l.path, "repeats the window and claim of " + seen.path + " (keep the one with the smaller max)");
      }
    }
    out.push_back(std::move(l));
  }
  return out;
}

}  // namespace sigil::policy::internal
