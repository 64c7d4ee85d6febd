// Parsed tenant policies, cached by (tenant, policy version) so a release does not re-parse the
// policy text and recompile its regular expressions. A new `policy set` bumps the version, so a
// stale entry is never used. Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "broker/store.h"
#include "policies/policy.h"

namespace sigil::broker {

class PolicyCache {
 public:
  // kNotFound if the tenant has no policy; kInternal if the stored text no longer parses.
  Result<std::shared_ptr<const policy::Policy>> Get(Store& store, const std::string& tenant);

 private:
  std::mutex mu_;
  std::map<std::string, std::pair<std::int64_t, std::shared_ptr<const policy::Policy>>> entries_;
};

}  // namespace sigil::broker
