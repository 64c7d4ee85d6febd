// Fuzz target: arbitrary bytes as a policy file. Parsing must never crash; a policy that parses
// is evaluated against fixed claims for a few key names, and the decision must be consistent.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "policies/policy.h"

namespace {

using sigil::attestation::Claims;
using namespace sigil::policy;

void Check(bool ok) {
  if (!ok) std::abort();
}

Claims FixedClaims(bool dev) {
  Claims c;
  c.Set("tee", std::string(dev ? "dev" : "sev-snp"));
  c.Set("debug", false);
  c.Set("measurement", std::string("a1b2c3"));
  c.Set("tcb.svn", std::int64_t{3});
  c.Set("tcb.status", std::string("UpToDate"));
  c.Set("platform.id", std::string("0123456789abcdef"));
  c.Set("x", std::string("a"));
  return c;
}

const MapReferenceSets& Refs() {
  static const MapReferenceSets refs = [] {
    MapReferenceSets r;
    r.Add("approved-engines", "a1b2c3");
    r.Add("demo-engines", "a1b2c3");
    r.AddSet("empty");
    return r;
  }();
  return refs;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto policy = ParsePolicy(text, "fuzz.json");
  if (!policy) {
    Check(!policy.error().message().empty());
    return 0;
  }
  for (bool dev : {false, true}) {
    const Claims claims = FixedClaims(dev);
    for (std::string_view key : {"demo-llama", "llama3", "datasets/x", ""}) {
      const Decision d = Evaluate(*policy, claims, key, Refs());
      Check(d.allow == !d.rule.empty());
      Check(!d.reason.empty());
      if (d.allow) {
        // The allowing rule covers the key, and for dev evidence names the dev TEE.
        bool found = false;
        for (const Rule& r : policy->rules()) {
          if (r.name != d.rule) continue;
          found = true;
          Check(!dev || r.names_dev_tee);
        }
        Check(found);
      }
      Check(!Explain(d).empty());
    }
  }
  return 0;
}
