#include "policies/internal/parse_condition.h"

#include <array>
#include <cctype>

#include "core/names.h"
#include "policies/internal/regex_guard.h"
#include "policies/internal/text.h"
#include "policies/internal/version.h"
#include "policies/parse.h"

namespace sigil::policy::internal {

namespace {

using attestation::ClaimValue;

constexpr std::array<std::string_view, 4> kCombinators = {"allOf", "anyOf", "not", "forEachGpu"};
constexpr std::array<std::pair<std::string_view, TestOp>, 10> kTestOps = {{
    {"equals", TestOp::kEquals},
    {"in", TestOp::kIn},
    {"gte", TestOp::kGte},
    {"lte", TestOp::kLte},
    {"in_reference", TestOp::kInReference},
    {"matches", TestOp::kMatches},
    {"present", TestOp::kPresent},
    {"version_gte", TestOp::kVersionGte},
    {"hex_version_gte", TestOp::kHexVersionGte},
    {"indices_in_reference", TestOp::kIndicesInReference},
}};
constexpr std::string_view kCombinatorList = "allOf, anyOf, not, forEachGpu, or a claim test";
constexpr std::string_view kTestOpList =
    "equals, in, gte, lte, in_reference, matches, present, version_gte, hex_version_gte, "
    "indices_in_reference";

Unexpected<Error> Bad(const std::string& path, const std::string& problem) {
  return Fail(Code::kInvalidArgument, path + ": " + problem);
}

bool IsCombinator(std::string_view k) {
  for (std::string_view c : kCombinators) {
    if (c == k) return true;
  }
  return false;
}

const TestOp* FindTestOp(std::string_view k) {
  for (const auto& [name, op] : kTestOps) {
    if (name == k) return &op;
  }
  return nullptr;
}

// An integer from the policy, within the int64 range of integer claims: the same reader
// (core/json.h JsonToInt64) as every protocol message and claims file.
Result<std::int64_t> ToInt64(const Json& j, const std::string& path) { return JsonToInt64(j, path); }

// Appends a scalar from the policy to `out` as a claim value: string, boolean or integer.
// (Built in place rather than returned as Result<ClaimValue>: GCC 12 reports a false
// -Wmaybe-uninitialized on a Result<variant> under -fsanitize=address.)
Result<void> AppendClaimValue(const Json& j, const std::string& path,
                              std::vector<ClaimValue>& out) {
  if (j.is_string()) {
    out.emplace_back(j.get<std::string>());
  } else if (j.is_boolean()) {
    out.emplace_back(j.get<bool>());
  } else if (j.is_number_integer()) {
    SIGIL_ASSIGN_OR_RETURN(const std::int64_t n, ToInt64(j, path));
    out.emplace_back(n);
  } else {
    return Bad(path, "expected a string, an integer or a boolean, got " + JsonTypeName(j));
  }
  return Ok();
}

Result<void> ParseOperand(const Json& v, const std::string& op_path, Condition& c,
                          Budget& budget) {
  switch (c.op) {
    case TestOp::kEquals: {
      return AppendClaimValue(v, op_path, c.values);
    }
    case TestOp::kIn: {
      if (!v.is_array()) return Bad(op_path, "expected an array, got " + JsonTypeName(v));
      if (v.empty()) return Bad(op_path, "must not be empty");
      for (std::size_t i = 0; i < v.size(); ++i) {
        const std::string item_path = op_path + "[" + std::to_string(i) + "]";
        SIGIL_RETURN_IF_ERROR(AppendClaimValue(v[i], item_path, c.values));
        if (c.values.back().index() != c.values.front().index()) {
          return Bad(item_path, std::string("mixed types: ") +
                                    std::string(TypeName(c.values.back())) + " after " +
                                    std::string(TypeName(c.values.front())));
        }
      }
      return Ok();
    }
    case TestOp::kGte:
    case TestOp::kLte: {
      if (!v.is_number_integer()) {
        return Bad(op_path, "expected an integer, got " + JsonTypeName(v));
      }
      SIGIL_ASSIGN_OR_RETURN(c.bound, ToInt64(v, op_path));
      return Ok();
    }
    case TestOp::kInReference:
    case TestOp::kIndicesInReference:
      if (!v.is_string()) {
        return Bad(op_path, "expected a reference set name, got " + JsonTypeName(v));
      }
      c.reference_set = v.get<std::string>();
      // The store and `sigil refs add` accept only this rule; a set name they refuse could never
      // exist, and a `not in_reference` over it would silently never fire.
      if (auto ok = ValidateName(c.reference_set, "reference set name"); !ok) {
        return std::move(ok).error().Wrap(op_path);
      }
      return Ok();
    case TestOp::kVersionGte: {
      if (!v.is_string()) return Bad(op_path, "expected a dotted version string, got " + JsonTypeName(v));
      auto version = ParseDottedVersion(v.get<std::string>());
      if (!version) {
        return Bad(op_path, "invalid version " + Quote(v.get<std::string>()) + " (1-" +
                                std::to_string(kMaxVersionComponents) + " dot-separated decimal numbers of 1-" +
                                std::to_string(kMaxVersionComponentDigits) + " digits, e.g. \"550.90.07\")");
      }
      c.values.emplace_back(v.get<std::string>());
      c.version = std::move(*version);
      return Ok();
    }
    case TestOp::kHexVersionGte: {
      if (!v.is_string()) {
        return Bad(op_path, "expected a dotted hex version string, got " + JsonTypeName(v));
      }
      auto version = ParseDottedHexVersion(v.get<std::string>());
      if (!version) {
        return Bad(op_path, "invalid hex version " + Quote(v.get<std::string>()) + " (1-" +
                                std::to_string(kMaxHexVersionGroups) + " dot-separated groups of 1-" +
                                std::to_string(kMaxHexVersionGroupDigits) +
                                " hex digits, e.g. \"96.00.9f.00.01\")");
      }
      c.values.emplace_back(v.get<std::string>());
      c.version = std::move(*version);
      return Ok();
    }
    case TestOp::kPresent:
      if (!v.is_boolean()) {
        return Bad(op_path, "expected true (the claim is present) or false (it is absent), got " +
                                JsonTypeName(v));
      }
      c.present = v.get<bool>();
      return Ok();
    case TestOp::kMatches: {
      if (!v.is_string()) {
        return Bad(op_path, "expected a regular expression string, got " + JsonTypeName(v));
      }
      c.pattern = v.get<std::string>();
      // Charged before compiling, so a policy of many large patterns stops at the budget.
      if (c.pattern.size() <= kMaxRegexLength && RegexExpandedSize(c.pattern) <= kMaxRegexExpandedSize) {
        budget.regex_cost += RegexMatchCost(c.pattern);
        if (budget.regex_cost > kMaxPolicyRegexCost) {
          return Bad(op_path, "the policy's regular expressions cost more than " +
                                  std::to_string(kMaxPolicyRegexCost) +
                                  " in all (the per-policy budget: each element counts 1 and each "
                                  "*, + or ? " + std::to_string(kQuantifierCost) +
                                  ", after expanding counted repetitions such as {n,m})");
        }
      }
      auto re = CompileBoundedRegex(c.pattern, kMaxRegexLength, kMaxRegexExpandedSize);
      if (!re) return std::move(re).error().Wrap(op_path);
      c.regex = std::move(re).value();
      return Ok();
    }
  }
  return Bad(op_path, "unsupported operator");
}

Result<Condition> ParseClaimTest(const Json& j, const std::string& path, Budget& budget) {
  Condition c;
  c.kind = ConditionKind::kClaimTest;
  c.path = path;
  const Json& claim = *j.find("claim");
  if (!claim.is_string()) {
    return Bad(path + ".claim", "expected a claim name, got " + JsonTypeName(claim));
  }
  c.claim = claim.get<std::string>();
  if (!IsValidName(c.claim, true)) {
    return Bad(path + ".claim", "invalid claim name " + Quote(c.claim) +
                                    " (1-128 characters of A-Z a-z 0-9 . _ : / -)");
  }
  const Json* operand = nullptr;
  std::string op_name;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "claim") continue;
    const TestOp* op = FindTestOp(it.key());
    if (op == nullptr) {
      return Bad(path, "unknown operator " + Quote(it.key()) + " in claim test (expected one of " +
                           std::string(kTestOpList) + ")");
    }
    if (operand != nullptr) {
      return Bad(path, "claim test for " + Quote(c.claim) + " has more than one operator (" +
                           Quote(op_name) + " and " + Quote(it.key()) + ")");
    }
    operand = &it.value();
    op_name = it.key();
    c.op = *op;
  }
  if (operand == nullptr) {
    return Bad(path, "claim test for " + Quote(c.claim) + " has no operator (expected one of " +
                         std::string(kTestOpList) + ")");
  }
  SIGIL_RETURN_IF_ERROR(ParseOperand(*operand, path + "." + op_name, c, budget));
  return c;
}

}  // namespace

bool IsValidName(std::string_view name, bool allow_separators) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  for (char ch : name) {
    const bool ok = std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' ||
                    ch == '-' || (allow_separators && (ch == ':' || ch == '/'));
    if (!ok) return false;
  }
  return true;
}

std::string JsonTypeName(const Json& j) {
  if (j.is_number_float()) return "a non-integer number";
  if (j.is_number()) return "an integer";
  if (j.is_object()) return "an object";
  if (j.is_array()) return "an array";
  if (j.is_string()) return "a string";
  if (j.is_boolean()) return "a boolean";
  return "null";
}

namespace {

Unexpected<Error> OverConditionBudget(const std::string& path) {
  return Bad(path, "the policy has more than " + std::to_string(kMaxConditions) +
                       " conditions in all (the per-policy budget)");
}

}  // namespace

Result<Condition> ParseCondition(const Json& j, const std::string& path, int depth,
                                 Budget& budget) {
  if (depth > kMaxConditionDepth) {
    return Bad(path,
               "conditions nested deeper than " + std::to_string(kMaxConditionDepth) + " levels");
  }
  if (++budget.conditions > kMaxConditions) return OverConditionBudget(path);
  if (!j.is_object()) return Bad(path, "a condition must be an object, got " + JsonTypeName(j));
  if (j.empty()) {
    return Bad(path, "empty condition (expected one of " + std::string(kCombinatorList) + ")");
  }
  if (j.contains("claim")) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (IsCombinator(it.key())) {
        return Bad(path, "a claim test cannot also have " + Quote(it.key()) +
                             " (wrap both in allOf or anyOf)");
      }
    }
    return ParseClaimTest(j, path, budget);
  }
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!IsCombinator(it.key())) {
      const std::string hint =
          FindTestOp(it.key()) != nullptr ? " (a claim test needs \"claim\")" : "";
      return Bad(path, "unknown operator " + Quote(it.key()) + " (expected one of " +
                           std::string(kCombinatorList) + ")" + hint);
    }
  }
  if (j.size() != 1) {
    return Bad(path, "a condition must have exactly one of allOf, anyOf, not, forEachGpu or claim; found " +
                         std::to_string(j.size()));
  }
  const std::string& op = j.begin().key();
  const Json& v = j.begin().value();
  Condition c;
  c.path = path;
  if (op == "forEachGpu") {
    // Inside, claim names are one GPU's (gpu.N. removed), which have no GPUs of their own.
    if (budget.inside_for_each_gpu) return Bad(path, "forEachGpu cannot be nested in forEachGpu");
    c.kind = ConditionKind::kForEachGpu;
    budget.inside_for_each_gpu = true;
    auto child = ParseCondition(v, path + ".forEachGpu", depth + 1, budget);
    budget.inside_for_each_gpu = false;
    if (!child) return std::move(child).error();
    c.children.push_back(std::move(*child));
    return c;
  }
  if (op == "not") {
    c.kind = ConditionKind::kNot;
    SIGIL_ASSIGN_OR_RETURN(Condition child, ParseCondition(v, path + ".not", depth + 1, budget));
    c.children.push_back(std::move(child));
    return c;
  }
  c.kind = op == "allOf" ? ConditionKind::kAllOf : ConditionKind::kAnyOf;
  const std::string list_path = path + "." + op;
  if (!v.is_array()) {
    return Bad(list_path, "expected an array of conditions, got " + JsonTypeName(v));
  }
  if (v.empty()) return Bad(list_path, "must not be empty");
  // Checked before reserving: a list of 100000 children is refused without building any.
  if (budget.conditions + v.size() > kMaxConditions) return OverConditionBudget(list_path);
  c.children.reserve(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    SIGIL_ASSIGN_OR_RETURN(
        Condition child,
        ParseCondition(v[i], list_path + "[" + std::to_string(i) + "]", depth + 1, budget));
    c.children.push_back(std::move(child));
  }
  return c;
}

}  // namespace sigil::policy::internal
