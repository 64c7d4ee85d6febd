#include "broker/api/release_gate.h"

#include <map>

#include "core/digest.h"
#include "core/encoding.h"
#include "core/json.h"

namespace sigil::broker {
namespace {

// The claim value a counter is kept apart by, typed so that "1" and 1 never share a counter.
std::string TypedValue(const attestation::ClaimValue& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return "s:" + *s;
  if (const auto* i = std::get_if<std::int64_t>(&v)) return "i:" + std::to_string(*i);
  return std::get<bool>(v) ? "b:true" : "b:false";
}

// The id of the sliding window `l` counts this release of `key` in: the SHA-256 of the canonical
// JSON of what it counts, so any claim value gives a short id.
Result<std::string> CounterId(const std::string& key, const policy::ReleaseLimit& l, const std::string& rule,
                              const attestation::Claims& claims) {
  std::string value;
  if (!l.per_claim.empty()) {
    const attestation::ClaimValue* v = claims.Find(l.per_claim);
    if (v == nullptr) {
      return Fail(Code::kPolicyDenied, std::string(kReleaseLimitTag) + "rule '" + rule + "' counts releases per claim '" +
                                           l.per_claim + "', which the workload's evidence does not have");
    }
    value = TypedValue(*v);
  }
  const Json what{{"key", key}, {"per_claim", l.per_claim}, {"value", value}, {"window_s", l.per_seconds}};
  return HexEncode(Sha256(AsBytes(CanonicalJson(what))));
}

// Says the limit in a refusal: integer bounds and names only (the workload may read it).
std::string Describe(const std::string& key, const policy::ReleaseLimit& l, const std::string& rule) {
  return "rule '" + rule + "': at most " + std::to_string(l.max) + " releases of key '" + key + "' per " +
         std::to_string(l.per_seconds) + " s" + (l.per_claim.empty() ? std::string() : " per " + l.per_claim);
}

}  // namespace

Result<ReleaseGate> BuildReleaseGate(const std::vector<AllowedArtifact>& artifacts, const attestation::Claims& claims,
                                     std::string token_id, std::int64_t token_expires_ms) {
  ReleaseGate gate;
  gate.token_id = std::move(token_id);
  gate.token_expires_ms = token_expires_ms;
  std::map<std::string, ReleaseCounter> counters;  // by id: one entry per sliding window
  for (const AllowedArtifact& a : artifacts) {
    const policy::Decision& d = *a.decision;
    gate.spend_token = gate.spend_token || d.single_use_token;
    // A rule's limits never share a window (ParsePolicy refuses a repeated window and claim), so
    // each counts this artifact once.
    for (const policy::ReleaseLimit& l : d.limits) {
      SIGIL_ASSIGN_OR_RETURN(std::string id, CounterId(a.key, l, d.rule, claims));
      auto [it, fresh] = counters.try_emplace(id);
      ReleaseCounter& c = it->second;
      if (fresh) {
        c.id = id;
        c.window_ms = l.per_seconds * 1000;  // part of the id: the same for every limit sharing it
      }
      if (fresh || l.max < c.max) {
        c.max = l.max;
        c.what = Describe(a.key, l, d.rule);
      }
      ++c.uses;
    }
  }
  for (auto& [id, c] : counters) gate.counters.push_back(std::move(c));
  return gate;
}

}  // namespace sigil::broker
