#include "policies/internal/claim_test.h"

#include <algorithm>
#include <map>
#include <set>
#include <variant>

#include "policies/internal/text.h"
#include "policies/internal/version.h"

namespace sigil::policy::internal {

namespace {

using attestation::ClaimValue;

constexpr std::size_t kTraceValueBytes = 256;
constexpr std::size_t kTraceListItems = 16;

std::string ClaimName(const Condition& c) { return "claim " + Quote(c.claim); }

std::string RenderList(const std::vector<ClaimValue>& values) {
  std::string out = "[";
  for (std::size_t i = 0; i < values.size() && i < kTraceListItems; ++i) {
    out += (i == 0 ? "" : ", ") + RenderValue(values[i]);
  }
  if (values.size() > kTraceListItems) out += ", ... " + std::to_string(values.size()) + " in all";
  return out + "]";
}

// The claim type a test compares against.
ClaimValue ExpectedType(const Condition& c) {
  switch (c.op) {
    case TestOp::kEquals:
    case TestOp::kIn:
      return c.values.front();
    case TestOp::kGte:
    case TestOp::kLte:
      return std::int64_t{0};
    case TestOp::kInReference:
    case TestOp::kMatches:
    case TestOp::kPresent:
    case TestOp::kVersionGte:
    case TestOp::kHexVersionGte:
    case TestOp::kIndicesInReference:
      break;
  }
  return std::string();
}

Verdict Equals(const Condition& c, const ClaimValue& v) {
  const ClaimValue& want = c.values.front();
  const bool ok = v == want;
  const std::string name = ClaimName(c);
  Verdict out{ok, false, "", ""};
  if (std::holds_alternative<std::string>(want)) {
    out.why = ok ? name + " equals the listed value"
                 : name + " is " + RenderValue(v) + ", which is not the listed value";
  } else {
    out.why = name + " is " + RenderValue(v) + (ok ? "" : ", expected " + RenderValue(want));
  }
  out.detail = name + " = " + RenderValue(v, kTraceValueBytes) +
               (ok ? ", equals " : ", expected ") + RenderValue(want, kTraceValueBytes);
  return out;
}

Verdict In(const Condition& c, const ClaimValue& v) {
  const bool ok = std::find(c.values.begin(), c.values.end(), v) != c.values.end();
  const std::string name = ClaimName(c);
  Verdict out{ok, false, "", ""};
  if (std::holds_alternative<std::string>(c.values.front())) {
    out.why = ok ? name + " is one of the listed values"
                 : name + " is " + RenderValue(v) + ", which is not one of the " +
                       std::to_string(c.values.size()) + " listed values";
  } else {
    out.why = name + " is " + RenderValue(v) +
              (ok ? ", one of the listed values" : ", expected one of " + RenderList(c.values));
  }
  out.detail = name + " = " + RenderValue(v, kTraceValueBytes) + (ok ? " is in " : " is not in ") +
               RenderList(c.values);
  return out;
}

Verdict Bound(const Condition& c, std::int64_t x) {
  const bool gte = c.op == TestOp::kGte;
  const bool ok = gte ? x >= c.bound : x <= c.bound;
  const std::string word = gte ? "at least " : "at most ";
  const std::string bound = word + std::to_string(c.bound);
  std::string why =
      ClaimName(c) + " is " + std::to_string(x) + (ok ? " (" + bound + ")" : ", expected " + bound);
  return {ok, false, why, why};
}

Verdict InReference(const Condition& c, const std::string& s, const ReferenceSets& refs) {
  const std::string name = ClaimName(c);
  const std::string set = Quote(c.reference_set);
  if (!refs.Exists(c.reference_set)) {
    std::string why = "reference set " + set + " (for " + name + ") does not exist";
    return {false, false, why, why + "; " + name + " = " + Quote(s, kTraceValueBytes)};
  }
  const bool ok = refs.Contains(c.reference_set, s);
  const std::string verdict = ok ? " is in reference set " : " is not in reference set ";
  return {ok, false, name + verdict + set,
          name + " = " + Quote(s, kTraceValueBytes) + verdict + set};
}

Verdict Matches(const Condition& c, const std::string& s) {
  const std::string name = ClaimName(c);
  if (s.size() > kMaxMatchInput) {
    std::string why = name + " is too long to match (" + std::to_string(s.size()) +
                      " bytes, limit " + std::to_string(kMaxMatchInput) + ")";
    return {false, true, why, why};  // not tested: neither true nor false
  }
  bool ok = false;
  try {
    ok = std::regex_match(s.begin(), s.end(), c.regex);
  } catch (const std::exception&) {
    std::string why = name + " could not be matched against the pattern (regex engine error)";
    return {false, true, why, why};
  }
  Verdict out{ok, false, "", ""};
  out.why = ok ? name + " matches the pattern"
               : name + " is " + Quote(s) + ", which does not match the pattern";
  out.detail = name + " = " + Quote(s, kTraceValueBytes) + (ok ? " matches " : " does not match ") +
               Quote(c.pattern, 256);
  return out;
}

// A claim that is a string but no dotted version (a VBIOS "96.00.9f.00.01") cannot be compared:
// an error, like a mistyped claim, so `not version_gte` over it is not true.
Verdict VersionGte(const Condition& c, const std::string& s) {
  const std::string name = ClaimName(c);
  const std::string bound = "at least " + std::get<std::string>(c.values.front());
  auto v = ParseDottedVersion(s);
  if (!v) {
    std::string why = name + " is " + Quote(s) + ", not a dotted decimal version";
    return {false, true, why, why};
  }
  const bool ok = VersionAtLeast(*v, c.version);
  std::string why = name + " is " + Quote(s) + (ok ? " (" + bound + ")" : ", expected " + bound);
  return {ok, false, why, why};
}

// As VersionGte, over dotted hex versions (a VBIOS "96.00.9f.00.01"). Unlike version_gte, a
// missing group is not 0: the claim must have as many groups as the bound, else the test is an
// error. VBIOS versions always have five groups, so a different count means the policy names the
// wrong claim or the format changed, and guessing how to align the groups could admit an older
// build.
Verdict HexVersionGte(const Condition& c, const std::string& s) {
  const std::string name = ClaimName(c);
  const std::string bound = "at least " + std::get<std::string>(c.values.front());
  auto v = ParseDottedHexVersion(s);
  if (!v) {
    std::string why = name + " is " + Quote(s) + ", not a dotted hex version";
    return {false, true, why, why};
  }
  if (v->size() != c.version.size()) {
    std::string why = name + " is " + Quote(s) + ", which has " + std::to_string(v->size()) +
                      " groups, not the " + std::to_string(c.version.size()) + " of the bound " +
                      std::get<std::string>(c.values.front());
    return {false, true, why, why};
  }
  const bool ok = VersionAtLeast(*v, c.version);
  std::string why = name + " is " + Quote(s) + (ok ? " (" + bound + ")" : ", expected " + bound);
  return {ok, false, why, why};
}

// `claim` names a family CLAIM.N (nvidia.measurement.N); the set holds "N:value" entries (an
// imported NVIDIA RIM: every approved value of every active index). Holds when every index the
// set lists has its claim, and the claim's value is one the set lists for that index; indices
// the evidence has and the set does not list are not compared (a RIM's inactive ones). Like
// allOf over those per-index tests: false if one is false, else an error if one is absent or
// not a string. Unlike in_reference, a missing set, or one without any "N:" entry, is an error:
// it can never mean "approved", and `not` over it must not become true either.
Verdict IndicesInReference(const Condition& c, const attestation::Claims& claims,
                           const ReferenceSets& refs) {
  const std::string family = "claims " + Quote(c.claim + ".N");
  const std::string set = Quote(c.reference_set);
  if (!refs.Exists(c.reference_set)) {
    std::string why = "reference set " + set + " (for " + family + ") does not exist";
    return {false, true, why, why};
  }
  std::map<std::uint32_t, std::set<std::string, std::less<>>> approved;
  for (const std::string& v : refs.Values(c.reference_set)) {
    const auto colon = v.find(':');
    if (colon == std::string::npos || colon == 0 || colon > 3) continue;
    std::uint32_t index = 0;
    bool digits = true;
    for (std::size_t i = 0; i < colon; ++i) {
      digits = digits && v[i] >= '0' && v[i] <= '9';
      index = index * 10 + static_cast<std::uint32_t>(v[i] - '0');
    }
    if (digits) approved[index].insert(v.substr(colon + 1));
  }
  if (approved.empty()) {
    std::string why = "reference set " + set + " (for " + family + ") has no indexed values";
    return {false, true, why, why};
  }
  Verdict first_error;
  for (const auto& [index, values] : approved) {
    const std::string name = c.claim + "." + std::to_string(index);
    const ClaimValue* v = claims.Find(name);
    const std::string* s = v == nullptr ? nullptr : std::get_if<std::string>(v);
    if (s == nullptr) {
      if (!first_error.error) {
        std::string why = "claim " + Quote(name) + (v == nullptr ? " is absent" : " is not a string") +
                          " (reference set " + set + " lists index " + std::to_string(index) + ")";
        first_error = {false, true, why, why};
      }
      continue;
    }
    if (values.find(*s) == values.end()) {
      std::string why = "claim " + Quote(name) + " is not an approved value for index " +
                        std::to_string(index) + " in reference set " + set;
      return {false, false, why, "claim " + Quote(name) + " = " + Quote(*s, kTraceValueBytes) +
                                     " is not one of the " + std::to_string(values.size()) +
                                     " values for index " + std::to_string(index) + " in " + set};
    }
  }
  if (first_error.error) return first_error;
  std::string why = family + " match reference set " + set + " at all " +
                    std::to_string(approved.size()) + " indices it lists";
  return {true, false, why, why};
}

}  // namespace

Verdict EvaluateClaimTest(const Condition& c, const attestation::Claims& claims,
                          const ReferenceSets& refs) {
  if (c.op == TestOp::kIndicesInReference) return IndicesInReference(c, claims, refs);
  const ClaimValue* v = claims.Find(c.claim);
  if (c.op == TestOp::kPresent) {
    const bool ok = (v != nullptr) == c.present;
    std::string why = ClaimName(c) + (v != nullptr ? " is present" : " is absent") +
                      (ok ? "" : (c.present ? ", expected present" : ", expected absent"));
    return {ok, false, why, why};
  }
  // Absent or mistyped: an error, not false, so that `not` over it cannot become true.
  if (v == nullptr) {
    std::string why = ClaimName(c) + " is absent";
    return {false, true, why, why};
  }
  const ClaimValue expected = ExpectedType(c);
  if (v->index() != expected.index()) {
    std::string why = ClaimName(c) + " is " + std::string(TypeName(*v)) + ", expected " +
                      std::string(TypeName(expected));
    return {false, true, why, why + " (value " + RenderValue(*v, kTraceValueBytes) + ")"};
  }
  switch (c.op) {
    case TestOp::kEquals:
      return Equals(c, *v);
    case TestOp::kIn:
      return In(c, *v);
    case TestOp::kGte:
    case TestOp::kLte:
      return Bound(c, std::get<std::int64_t>(*v));
    case TestOp::kInReference:
      return InReference(c, std::get<std::string>(*v), refs);
    case TestOp::kMatches:
      return Matches(c, std::get<std::string>(*v));
    case TestOp::kVersionGte:
      return VersionGte(c, std::get<std::string>(*v));
    case TestOp::kHexVersionGte:
      return HexVersionGte(c, std::get<std::string>(*v));
    case TestOp::kPresent:
    case TestOp::kIndicesInReference:  // handled above: it tests a family of claims
      break;
  }
  return {false, true, "unsupported operator", "unsupported operator"};
}

}  // namespace sigil::policy::internal
