// Named sets of reference values (approved measurements, platform ids, ...) that policies test
// with `in_reference`. They are managed apart from policy (`sigil refs add ...`) so approving a
// new build needs no policy edit. Reference values are policy secrets: they may appear in traces
// (tenant audit log, `sigil policy test`) but never in a Decision's reason.
// Thread-safety: implementations must allow concurrent calls to the const methods.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace sigil::policy {

class ReferenceSets {
 public:
  virtual ~ReferenceSets() = default;
  // True if `set` exists and contains `value` (exact, case-sensitive). False for unknown sets.
  virtual bool Contains(std::string_view set, std::string_view value) const = 0;
  // True if a set called `set` exists (it may be empty).
  virtual bool Exists(std::string_view set) const = 0;
  // Every value of `set`, sorted; empty for unknown sets. For `indices_in_reference`, which
  // needs all the "N:..." entries of a set, not one membership test.
  virtual std::vector<std::string> Values(std::string_view set) const = 0;
};

// In-memory reference sets, for tests, `sigil policy test` and small deployments.
// Not thread-safe while being modified; const use after setup is safe.
class MapReferenceSets : public ReferenceSets {
 public:
  // Adds `value` to `set`, creating the set if needed.
  void Add(std::string set, std::string value);
  // Creates `set` empty if it does not exist.
  void AddSet(std::string set);

  bool Contains(std::string_view set, std::string_view value) const override;
  bool Exists(std::string_view set) const override;
  std::vector<std::string> Values(std::string_view set) const override;

 private:
  std::map<std::string, std::set<std::string, std::less<>>, std::less<>> sets_;
};

}  // namespace sigil::policy
