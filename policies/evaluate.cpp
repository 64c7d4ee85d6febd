#include "policies/evaluate.h"

#include <algorithm>

#include "policies/glob.h"
#include "policies/internal/claim_test.h"
#include "policies/internal/text.h"

namespace sigil::policy {

namespace {

using internal::Quote;

constexpr std::size_t kMaxAlternativesInReason = 4;
constexpr std::size_t kMaxRulesInReason = 5;

struct Outcome {
  bool result = false;
  std::string why;  // safe for the workload (see Decision::reason)
};

// Evaluates condition trees, appending one ClauseTrace per node in pre-order. Every node is
// evaluated (no short-circuit) so that the trace is complete; trees are bounded by parsing.
class TreeEvaluator {
 public:
  TreeEvaluator(const attestation::Claims& claims, const ReferenceSets& refs,
                std::vector<ClauseTrace>& trace)
      : claims_(claims), refs_(refs), trace_(trace) {}

  Outcome Eval(const Condition& c) {
    const std::size_t slot = trace_.size();
    trace_.push_back({c.path, false, ""});
    Outcome out;
    std::string detail;
    if (c.kind == ConditionKind::kClaimTest) {
      internal::Verdict v = internal::EvaluateClaimTest(c, claims_, refs_);
      out = {v.result, std::move(v.why)};
      detail = std::move(v.detail);
    } else if (c.kind == ConditionKind::kNot) {
      const Outcome inner = Eval(c.children.front());
      out.result = !inner.result;
      out.why = inner.result ? "forbidden: " + inner.why : inner.why;
      detail = std::string("not: the inner condition is ") + (inner.result ? "true" : "false");
    } else {
      out = EvalList(c, detail);
    }
    trace_[slot].result = out.result;
    trace_[slot].detail = std::move(detail);
    return out;
  }

 private:
  Outcome EvalList(const Condition& c, std::string& detail) {
    const bool all = c.kind == ConditionKind::kAllOf;
    std::vector<Outcome> outs;
    outs.reserve(c.children.size());
    for (const Condition& child : c.children) outs.push_back(Eval(child));
    const auto held = static_cast<std::size_t>(
        std::count_if(outs.begin(), outs.end(), [](const Outcome& o) { return o.result; }));
    detail = std::string(all ? "allOf: " : "anyOf: ") + std::to_string(held) + " of " +
             std::to_string(outs.size()) + " hold";
    if (all) {
      if (held == outs.size()) {
        return {true, "all " + std::to_string(outs.size()) + " conditions hold"};
      }
      return *std::find_if(outs.begin(), outs.end(), [](const Outcome& o) { return !o.result; });
    }
    if (held > 0) {
      return *std::find_if(outs.begin(), outs.end(), [](const Outcome& o) { return o.result; });
    }
    std::string why = "none of the alternatives holds: (";
    for (std::size_t i = 0; i < outs.size() && i < kMaxAlternativesInReason; ++i) {
      why += (i == 0 ? "" : ") or (") + outs[i].why;
    }
    why += outs.size() > kMaxAlternativesInReason ? ") or ..." : ")";
    return {false, std::move(why)};
  }

  const attestation::Claims& claims_;
  const ReferenceSets& refs_;
  std::vector<ClauseTrace>& trace_;
};

const std::string* CoveringPattern(const Rule& rule, std::string_view key_name) {
  for (const std::string& p : rule.keys) {
    if (KeyPatternMatches(p, key_name)) return &p;
  }
  return nullptr;
}

std::string DenialReason(std::string_view key_name, const std::vector<std::string>& failures) {
  if (failures.empty()) return "no rule covers key " + Quote(key_name);
  if (failures.size() == 1) return failures.front();
  std::string reason = "no rule allows key " + Quote(key_name) + ": ";
  for (std::size_t i = 0; i < failures.size() && i < kMaxRulesInReason; ++i) {
    reason += (i == 0 ? "" : "; ") + failures[i];
  }
  if (failures.size() > kMaxRulesInReason) {
    reason += "; and " + std::to_string(failures.size() - kMaxRulesInReason) + " more rules";
  }
  return reason;
}

}  // namespace

Decision Evaluate(const Policy& policy, const attestation::Claims& claims,
                  std::string_view key_name, const ReferenceSets& refs) {
  Decision d;
  // The dev TEE is an insecure software TEE: only rules that name it explicitly may admit it.
  const bool dev_tee = claims.GetString("tee") == std::optional<std::string>("dev");
  std::vector<std::string> failures;
  TreeEvaluator evaluator(claims, refs, d.trace);
  for (const Rule& rule : policy.rules()) {
    const std::string* pattern = CoveringPattern(rule, key_name);
    if (pattern == nullptr) continue;
    const std::string rule_name = "rule " + Quote(rule.name);
    const std::size_t slot = d.trace.size();
    d.trace.push_back(
        {rule.path, false,
         rule_name + " covers key " + Quote(key_name) + " (pattern " + Quote(*pattern) + ")"});
    if (dev_tee && !rule.names_dev_tee) {
      const std::string why = rule_name + " does not name the dev TEE explicitly";
      d.trace[slot].detail +=
          "; the claims have tee 'dev' and " + why + ", so its condition is not evaluated";
      failures.push_back(why);
      continue;
    }
    const Outcome o = evaluator.Eval(rule.when);
    d.trace[slot].result = o.result;
    if (o.result) {
      d.allow = true;
      d.rule = rule.name;
      d.reason = rule_name + " allows key " + Quote(key_name);
      return d;
    }
    failures.push_back(rule_name + ": " + o.why);
  }
  d.reason = DenialReason(key_name, failures);
  return d;
}

}  // namespace sigil::policy
