#include "broker/policy_cache.h"

namespace sigil::broker {

Result<std::shared_ptr<const policy::Policy>> PolicyCache::Get(Store& store, const std::string& tenant) {
  SIGIL_ASSIGN_OR_RETURN(auto stored, store.GetPolicy(tenant));
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(tenant);
    if (it != entries_.end() && it->second.first == stored.second) return it->second.second;
  }
  auto parsed = policy::ParsePolicy(stored.first, "policy v" + std::to_string(stored.second) + " of tenant " + tenant);
  if (!parsed) return Fail(Code::kInternal, "stored policy does not parse: " + parsed.error().message());
  auto p = std::make_shared<const policy::Policy>(std::move(*parsed));
  std::lock_guard lock(mu_);
  entries_[tenant] = {stored.second, p};
  return p;
}

}  // namespace sigil::broker
