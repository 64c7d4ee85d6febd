// Parsed tenant policies, cached by (tenant, policy version) so a release does not re-parse the
// policy text and recompile its regular expressions. A new `policy set` bumps the version, so a
// stale entry is never used. Each version is parsed once: concurrent requests that find a new
// version wait for the one that parses it instead of each parsing it again, and `policy set`
// hands the policy it has just validated to the cache (Put). Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "broker/store/store.h"
#include "policies/policy.h"

namespace sigil::broker {

class PolicyCache {
 public:
  // kNotFound if the tenant has no policy; kInternal if the stored text no longer parses (for
  // example a policy stored before a budget was lowered): such a tenant gets nothing released.
  Result<std::shared_ptr<const policy::Policy>> Get(Store& store, const std::string& tenant);
  // The same, with the stored version it was parsed from (a release records which version decided).
  struct Versioned {
    std::int64_t version = 0;
    std::shared_ptr<const policy::Policy> policy;
  };
  Result<Versioned> GetVersioned(Store& store, const std::string& tenant);

  // Records `parsed` as the policy of `tenant` at `version` (what `policy set` just stored).
  void Put(const std::string& tenant, std::int64_t version, std::shared_ptr<const policy::Policy> parsed);

  // How many times a stored policy text was parsed by Get (for tests: once per version).
  std::int64_t parses() const;

 private:
  // One per tenant. Its mutex is held while that tenant's policy is parsed, so a new version is
  // parsed by one request while the others wait for it; other tenants are not blocked.
  struct Slot {
    std::mutex mu;
    std::int64_t version = -1;
    std::shared_ptr<const policy::Policy> policy;
  };

  std::shared_ptr<Slot> SlotFor(const std::string& tenant);

  mutable std::mutex mu_;  // guards slots_ and parses_
  std::map<std::string, std::shared_ptr<Slot>> slots_;
  std::int64_t parses_ = 0;
};

}  // namespace sigil::broker
