#include "policies/model.h"

#include <algorithm>
#include <set>
#include <variant>

namespace sigil::policy {

namespace {

void CollectReferenceSets(const Condition& c, std::set<std::string>& out) {
  if (c.kind == ConditionKind::kClaimTest) {
    if (c.op == TestOp::kInReference || c.op == TestOp::kIndicesInReference) {
      out.insert(c.reference_set);
    }
    return;
  }
  for (const Condition& child : c.children) CollectReferenceSets(child, out);
}

bool IsDevValue(const attestation::ClaimValue& v) {
  const auto* s = std::get_if<std::string>(&v);
  return s != nullptr && *s == "dev";
}

}  // namespace

std::vector<std::string> Policy::ReferenceSetNames() const {
  std::set<std::string> names;
  for (const Rule& r : rules_) CollectReferenceSets(r.when, names);
  return {names.begin(), names.end()};
}

bool NamesDevTee(const Condition& c) {
  switch (c.kind) {
    case ConditionKind::kClaimTest:
      if (c.claim != "tee") return false;
      if (c.op == TestOp::kEquals || c.op == TestOp::kIn) {
        return std::any_of(c.values.begin(), c.values.end(), IsDevValue);
      }
      return false;
    case ConditionKind::kAllOf:
      return std::any_of(c.children.begin(), c.children.end(),
                         [](const Condition& x) { return NamesDevTee(x); });
    case ConditionKind::kAnyOf:
      return !c.children.empty() && std::all_of(c.children.begin(), c.children.end(),
                                                [](const Condition& x) { return NamesDevTee(x); });
    case ConditionKind::kNot:
    // The claims inside are one GPU's (its `tee` is the GPU's), never the workload's TEE.
    case ConditionKind::kForEachGpu:
      return false;
  }
  return false;
}

}  // namespace sigil::policy
