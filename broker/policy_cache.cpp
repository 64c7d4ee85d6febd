#include "broker/policy_cache.h"

namespace sigil::broker {

std::shared_ptr<PolicyCache::Slot> PolicyCache::SlotFor(const std::string& tenant) {
  std::lock_guard lock(mu_);
  auto& slot = slots_[tenant];
  if (!slot) slot = std::make_shared<Slot>();
  return slot;
}

Result<std::shared_ptr<const policy::Policy>> PolicyCache::Get(Store& store, const std::string& tenant) {
  SIGIL_ASSIGN_OR_RETURN(Versioned v, GetVersioned(store, tenant));
  return std::move(v.policy);
}

Result<PolicyCache::Versioned> PolicyCache::GetVersioned(Store& store, const std::string& tenant) {
  SIGIL_ASSIGN_OR_RETURN(auto stored, store.GetPolicy(tenant));
  std::shared_ptr<Slot> slot = SlotFor(tenant);
  std::lock_guard lock(slot->mu);
  // Exact match: versions are not monotonic across a tenant deleted and created again.
  if (slot->policy && slot->version == stored.version) return Versioned{stored.version, slot->policy};
  {
    std::lock_guard count(mu_);
    ++parses_;
  }
  auto parsed = policy::ParsePolicy(stored.text, "policy v" + std::to_string(stored.version) + " of tenant " + tenant);
  if (!parsed) return Fail(Code::kInternal, "stored policy does not parse: " + parsed.error().message());
  slot->policy = std::make_shared<const policy::Policy>(std::move(*parsed));
  slot->version = stored.version;
  return Versioned{stored.version, slot->policy};
}

void PolicyCache::Put(const std::string& tenant, std::int64_t version, std::shared_ptr<const policy::Policy> parsed) {
  std::shared_ptr<Slot> slot = SlotFor(tenant);
  std::lock_guard lock(slot->mu);
  slot->policy = std::move(parsed);
  slot->version = version;
}

std::int64_t PolicyCache::parses() const {
  std::lock_guard lock(mu_);
  return parses_;
}

}  // namespace sigil::broker
