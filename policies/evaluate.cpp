#include "policies/evaluate.h"

#include <algorithm>
#include <cstdint>

#include "policies/glob.h"
#include "policies/internal/claim_test.h"
#include "policies/internal/text.h"

namespace sigil::policy {

namespace {

using internal::Quote;

constexpr std::size_t kMaxAlternativesInReason = 4;
constexpr std::size_t kMaxRulesInReason = 5;
// Composite evidence carries at most 16 GPUs (attestation/composite/bundle.h); a larger count
// is not from a verifier Sigil has.
constexpr std::int64_t kMaxPolicyGpus = 64;

// Cuts `s` to at most `max` bytes, ending with kTruncatedMarker if anything was cut. Reasons and
// details are ASCII (every untrusted byte goes through Quote), so a cut never splits a character.
void Cap(std::string& s, std::size_t max) {
  if (s.size() <= max) return;
  s.resize(max - kTruncatedMarker.size());
  s += kTruncatedMarker;
}

// Three-valued (Kleene) truth: kError is "could not be decided" (an absent or mistyped claim).
enum class Truth : std::uint8_t { kFalse, kTrue, kError };

struct Outcome {
  Truth value = Truth::kFalse;
  std::string why;  // safe for the workload (see Decision::reason); at most kMaxReasonBytes
};

// The trace under construction, kept within kMaxTraceBytes (paths plus details). An entry is
// opened before its children (pre-order) with room reserved for its largest detail, so the
// total can never pass the cap; what does not fit is counted, not stored.
class TraceSink {
 public:
  explicit TraceSink(Decision& d) : d_(d) {}

  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);

  std::size_t Open(const std::string& path) {
    const std::size_t need = path.size() + kMaxClauseDetailBytes;
    if (bytes_ + need > kMaxTraceBytes) {
      ++d_.trace_omitted;
      return kNone;
    }
    bytes_ += need;
    d_.trace.push_back({path, false, false, ""});
    return d_.trace.size() - 1;
  }

  void Close(std::size_t slot, Truth value, std::string detail) {
    if (slot == kNone) return;
    Cap(detail, kMaxClauseDetailBytes);
    bytes_ -= kMaxClauseDetailBytes - detail.size();
    ClauseTrace& t = d_.trace[slot];
    t.result = value == Truth::kTrue;
    t.error = value == Truth::kError;
    t.detail = std::move(detail);
  }

 private:
  Decision& d_;
  std::size_t bytes_ = 0;
};

// Evaluates condition trees, tracing each node in pre-order. Every node is evaluated (no
// short-circuit), so the decision never depends on the order of alternatives; trees are bounded
// by the parser's budgets.
class TreeEvaluator {
 public:
  TreeEvaluator(const attestation::Claims& claims, const ReferenceSets& refs, TraceSink& trace)
      : claims_(claims), refs_(refs), trace_(trace) {}

  Outcome Eval(const Condition& c) {
    const std::size_t slot = trace_.Open(c.path);
    Outcome out;
    std::string detail;
    if (c.kind == ConditionKind::kClaimTest) {
      internal::Verdict v = internal::EvaluateClaimTest(c, claims_, refs_);
      out.value = v.error ? Truth::kError : (v.result ? Truth::kTrue : Truth::kFalse);
      out.why = std::move(v.why);
      detail = std::move(v.detail);
    } else if (c.kind == ConditionKind::kNot) {
      Outcome inner = Eval(c.children.front());
      switch (inner.value) {
        case Truth::kTrue:
          out = {Truth::kFalse, "forbidden: " + inner.why};
          detail = "not: the inner condition is true";
          break;
        case Truth::kFalse:
          out = {Truth::kTrue, std::move(inner.why)};
          detail = "not: the inner condition is false";
          break;
        case Truth::kError:
          // The point of error semantics: `not` over an absent or mistyped claim is not true.
          out = {Truth::kError, std::move(inner.why)};
          detail = "not: the inner condition is an error (absent or mistyped claim), so is this";
          break;
      }
    } else if (c.kind == ConditionKind::kForEachGpu) {
      out = EvalForEachGpu(c, detail);
    } else {
      out = EvalList(c, detail);
    }
    Cap(out.why, kMaxReasonBytes);
    trace_.Close(slot, out.value, std::move(detail));
    return out;
  }

 private:
  Outcome EvalList(const Condition& c, std::string& detail) {
    const bool all = c.kind == ConditionKind::kAllOf;
    std::vector<Outcome> outs;
    outs.reserve(c.children.size());
    for (const Condition& child : c.children) outs.push_back(Eval(child));
    auto count = [&outs](Truth t) {
      return static_cast<std::size_t>(
          std::count_if(outs.begin(), outs.end(), [t](const Outcome& o) { return o.value == t; }));
    };
    auto first = [&outs](Truth t) -> Outcome& {
      return *std::find_if(outs.begin(), outs.end(), [t](const Outcome& o) { return o.value == t; });
    };
    const std::size_t held = count(Truth::kTrue);
    const std::size_t errors = count(Truth::kError);
    detail = std::string(all ? "allOf: " : "anyOf: ") + std::to_string(held) + " of " +
             std::to_string(outs.size()) + " hold";
    if (errors > 0) detail += ", " + std::to_string(errors) + " in error";
    if (all) {
      // false if any child is false, whatever the others; else an error if any is one.
      if (held == outs.size()) {
        return {Truth::kTrue, "all " + std::to_string(outs.size()) + " conditions hold"};
      }
      if (count(Truth::kFalse) > 0) return std::move(first(Truth::kFalse));
      return std::move(first(Truth::kError));
    }
    // true if any child is true, whatever the others; else an error if any is one.
    if (held > 0) return std::move(first(Truth::kTrue));
    std::string why = "none of the alternatives holds: (";
    for (std::size_t i = 0; i < outs.size() && i < kMaxAlternativesInReason; ++i) {
      why += (i == 0 ? "" : ") or (") + outs[i].why;
      if (why.size() > kMaxReasonBytes) break;
    }
    why += outs.size() > kMaxAlternativesInReason ? ") or ..." : ")";
    return {errors > 0 ? Truth::kError : Truth::kFalse, std::move(why)};
  }

  // forEachGpu: `gpu.count` must be an integer 1..kMaxPolicyGpus (absent or mistyped: an error,
  // so plain CPU evidence never passes; 0 GPUs is false, never vacuously true); then the child
  // is evaluated over each GPU's claims (gpu.N.<name> seen as <name>) and must hold for all,
  // with allOf's rule for errors. Each GPU has its own trace line, its clauses after it.
  Outcome EvalForEachGpu(const Condition& c, std::string& detail) {
    const attestation::ClaimValue* n = claims_.Find("gpu.count");
    const std::int64_t* count = n == nullptr ? nullptr : std::get_if<std::int64_t>(n);
    if (count == nullptr || *count > kMaxPolicyGpus) {
      detail = n == nullptr ? "forEachGpu: claim 'gpu.count' is absent (no GPU evidence)"
                            : "forEachGpu: claim 'gpu.count' is not an integer 0.." + std::to_string(kMaxPolicyGpus);
      return {Truth::kError, detail.substr(std::string("forEachGpu: ").size())};
    }
    if (*count < 1) {
      detail = "forEachGpu: claim 'gpu.count' is " + std::to_string(*count) + ", no GPU to hold for";
      return {Truth::kFalse, "claim 'gpu.count' is " + std::to_string(*count) + ", expected at least one GPU"};
    }
    std::vector<attestation::Claims> gpus(static_cast<std::size_t>(*count));
    for (const auto& [name, value] : claims_.values()) {
      // "gpu.<decimal N>.<rest>" with N < count; anything else (gpu.count) is not a GPU's claim.
      if (!name.starts_with("gpu.")) continue;
      const std::size_t dot = name.find('.', 4);
      if (dot == std::string::npos || dot == 4 || dot - 4 > 2) continue;
      std::size_t index = 0;
      bool digits = true;
      for (std::size_t i = 4; i < dot; ++i) {
        digits = digits && name[i] >= '0' && name[i] <= '9';
        index = index * 10 + static_cast<std::size_t>(name[i] - '0');
      }
      if (digits && index < gpus.size()) gpus[index].Set(name.substr(dot + 1), value);
    }
    std::vector<Outcome> outs;
    for (std::size_t i = 0; i < gpus.size(); ++i) {
      const std::size_t slot = trace_.Open(c.path + ".forEachGpu(gpu " + std::to_string(i) + ")");
      TreeEvaluator one(gpus[i], refs_, trace_);
      Outcome o = one.Eval(c.children.front());
      o.why = "gpu " + std::to_string(i) + ": " + o.why;
      trace_.Close(slot, o.value, o.why);
      outs.push_back(std::move(o));
    }
    auto count_of = [&outs](Truth t) {
      return static_cast<std::size_t>(
          std::count_if(outs.begin(), outs.end(), [t](const Outcome& o) { return o.value == t; }));
    };
    const std::size_t held = count_of(Truth::kTrue);
    detail = "forEachGpu: " + std::to_string(held) + " of " + std::to_string(outs.size()) + " GPUs hold";
    if (held == outs.size()) return {Truth::kTrue, "all " + std::to_string(outs.size()) + " GPUs hold"};
    const Truth decided = count_of(Truth::kFalse) > 0 ? Truth::kFalse : Truth::kError;
    return std::move(*std::find_if(outs.begin(), outs.end(), [decided](const Outcome& o) { return o.value == decided; }));
  }

  const attestation::Claims& claims_;
  const ReferenceSets& refs_;
  TraceSink& trace_;
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
    if (reason.size() > kMaxReasonBytes) break;
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
  TraceSink trace(d);
  TreeEvaluator evaluator(claims, refs, trace);
  for (const Rule& rule : policy.rules()) {
    const std::string* pattern = CoveringPattern(rule, key_name);
    if (pattern == nullptr) continue;
    const std::string rule_name = "rule " + Quote(rule.name);
    const std::size_t slot = trace.Open(rule.path);
    std::string detail =
        rule_name + " covers key " + Quote(key_name) + " (pattern " + Quote(*pattern) + ")";
    if (dev_tee && !rule.names_dev_tee) {
      const std::string why = rule_name + " does not name the dev TEE explicitly";
      detail += "; the claims have tee 'dev' and " + why + ", so its condition is not evaluated";
      trace.Close(slot, Truth::kFalse, std::move(detail));
      failures.push_back(why);
      continue;
    }
    Outcome o = evaluator.Eval(rule.when);
    if (o.value == Truth::kError) {
      detail += "; its condition is an error (an absent or mistyped claim), so it does not allow";
    }
    trace.Close(slot, o.value, std::move(detail));
    if (o.value == Truth::kTrue) {
      d.allow = true;
      d.rule = rule.name;
      d.limits = rule.limits;
      d.single_use_token = rule.single_use_token;
      d.reason = rule_name + " allows key " + Quote(key_name);
      Cap(d.reason, kMaxReasonBytes);
      return d;
    }
    failures.push_back(rule_name + ": " + o.why);
  }
  d.reason = DenialReason(key_name, failures);
  Cap(d.reason, kMaxReasonBytes);
  return d;
}

}  // namespace sigil::policy
