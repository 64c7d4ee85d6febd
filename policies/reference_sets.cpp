#include "policies/reference_sets.h"

namespace sigil::policy {

void MapReferenceSets::Add(std::string set, std::string value) {
  sets_[std::move(set)].insert(std::move(value));
}

void MapReferenceSets::AddSet(std::string set) { sets_.try_emplace(std::move(set)); }

bool MapReferenceSets::Contains(std::string_view set, std::string_view value) const {
  auto it = sets_.find(set);
  return it != sets_.end() && it->second.find(value) != it->second.end();
}

bool MapReferenceSets::Exists(std::string_view set) const { return sets_.find(set) != sets_.end(); }

std::vector<std::string> MapReferenceSets::Values(std::string_view set) const {
  auto it = sets_.find(set);
  if (it == sets_.end()) return {};
  return {it->second.begin(), it->second.end()};
}

}  // namespace sigil::policy
