#include "policies/parse.h"

#include <set>

#include "core/json.h"
#include "core/names.h"
#include "policies/internal/json_guard.h"
#include "policies/internal/parse_condition.h"
#include "policies/internal/parse_approvals.h"
#include "policies/internal/parse_limits.h"
#include "policies/internal/text.h"

namespace sigil::policy {

namespace {

using internal::JsonTypeName;
using internal::Quote;

Unexpected<Error> Bad(const std::string& path, const std::string& problem) {
  return Fail(Code::kInvalidArgument, path + ": " + problem);
}

// Refuses fields of object `j` (at `path`) other than `allowed`, and any of `required` that is
// missing.
Result<void> CheckFields(const Json& j, const std::string& path,
                         std::initializer_list<std::string_view> allowed,
                         std::initializer_list<std::string_view> required) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool known = false;
    for (std::string_view a : allowed) known = known || a == it.key();
    if (!known) {
      std::string list;
      for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      return Bad(path, "unknown field " + Quote(it.key()) + " (expected " + list + ")");
    }
  }
  for (std::string_view r : required) {
    if (!j.contains(r)) return Bad(path, "missing field '" + std::string(r) + "'");
  }
  return Ok();
}

bool KeyNameByte(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
}

// Refuses a key pattern that no valid key name (sigil::ValidateName: 1-64 of [a-z0-9._-],
// starting with a letter or digit) can match: such a rule is dead, and a reviewer would read it
// as covering keys it never covers (e.g. "datasets/*" or "Llama*").
Result<void> CheckKeyPattern(const std::string& k, const std::string& item) {
  std::size_t fixed = 0;  // bytes every match consumes: everything but '*'
  for (char ch : k) {
    const auto u = static_cast<unsigned char>(ch);
    if (u < 0x20 || u == 0x7f) return Bad(item, "control character in key pattern " + Quote(k));
    if (ch != '*' && ch != '?' && !KeyNameByte(ch)) {
      return Bad(item, "key pattern " + Quote(k) + " can never match a key name: " + Quote(std::string(1, ch)) +
                           " is not allowed in key names (1-64 characters a-z 0-9 . _ -, starting "
                           "with a letter or digit; globs add * and ?)");
    }
    if (ch != '*') ++fixed;
  }
  if (fixed > sigil::kMaxNameLength) {
    return Bad(item, "key pattern " + Quote(k) + " can never match a key name: it needs more than " +
                         std::to_string(sigil::kMaxNameLength) + " characters");
  }
  if (k.front() == '.' || k.front() == '_' || k.front() == '-') {
    return Bad(item, "key pattern " + Quote(k) +
                         " can never match a key name: key names start with a letter or digit");
  }
  return Ok();
}

Result<std::vector<std::string>> ParseKeys(const Json& v, const std::string& path,
                                           internal::Budget& budget) {
  if (!v.is_array()) {
    return Bad(path, "expected an array of key names or globs, got " + JsonTypeName(v));
  }
  if (v.empty()) return Bad(path, "must list at least one key name or glob");
  budget.key_patterns += v.size();
  if (budget.key_patterns > kMaxKeyPatterns) {
    return Bad(path, "the policy lists more than " + std::to_string(kMaxKeyPatterns) +
                         " key names or globs in all (the per-policy budget)");
  }
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const std::string item = path + "[" + std::to_string(i) + "]";
    if (!v[i].is_string()) {
      return Bad(item, "expected a key name or glob, got " + JsonTypeName(v[i]));
    }
    std::string k = v[i].get<std::string>();
    if (k.empty()) return Bad(item, "empty key name");
    if (k.size() > kMaxKeyPatternLength) {
      return Bad(item,
                 "key pattern longer than " + std::to_string(kMaxKeyPatternLength) + " bytes");
    }
    SIGIL_RETURN_IF_ERROR(CheckKeyPattern(k, item));
    keys.push_back(std::move(k));
  }
  return keys;
}

Result<Rule> ParseRule(const Json& j, const std::string& path, internal::Budget& budget) {
  if (!j.is_object()) return Bad(path, "a rule must be an object, got " + JsonTypeName(j));
  SIGIL_RETURN_IF_ERROR(
      CheckFields(j, path, {"name", "keys", "when", "limits", "single_use_token"}, {"name", "keys", "when"}));
  Rule rule;
  rule.path = path;
  const Json& name = *j.find("name");
  if (!name.is_string()) return Bad(path + ".name", "expected a string, got " + JsonTypeName(name));
  rule.name = name.get<std::string>();
  if (!internal::IsValidName(rule.name, false)) {
    return Bad(path + ".name", "invalid rule name " + Quote(rule.name) +
                                   " (1-128 characters of A-Z a-z 0-9 . _ -)");
  }
  SIGIL_ASSIGN_OR_RETURN(rule.keys, ParseKeys(*j.find("keys"), path + ".keys", budget));
  SIGIL_ASSIGN_OR_RETURN(rule.when,
                         internal::ParseCondition(*j.find("when"), path + ".when", 1, budget));
  rule.names_dev_tee = NamesDevTee(rule.when);
  if (auto l = j.find("limits"); l != j.end()) {
    SIGIL_ASSIGN_OR_RETURN(rule.limits, internal::ParseLimits(*l, path + ".limits"));
  }
  if (auto s = j.find("single_use_token"); s != j.end()) {
    if (!s->is_boolean()) return Bad(path + ".single_use_token", "expected true or false, got " + JsonTypeName(*s));
    rule.single_use_token = s->get<bool>();
  }
  return rule;
}

// The rules, and the approvals in *approvals.
Result<std::vector<Rule>> ParseDocument(const Json& doc, ApprovalRule* approvals) {
  if (!doc.is_object()) return Bad("$", "a policy must be a JSON object, got " + JsonTypeName(doc));
  SIGIL_RETURN_IF_ERROR(CheckFields(doc, "$", {"version", "rules", "approvals"}, {"version", "rules"}));
  if (auto a = doc.find("approvals"); a != doc.end()) {
    SIGIL_ASSIGN_OR_RETURN(*approvals, internal::ParseApprovals(*a, "$.approvals"));
  }
  const Json& version = *doc.find("version");
  if (!version.is_number_integer() || version != 1) {
    const std::string shown = version.dump(-1, ' ', false, Json::error_handler_t::replace);
    return Bad("$.version", "unsupported policy version " + Quote(shown, 32) + " (expected 1)");
  }
  const Json& rules = *doc.find("rules");
  if (!rules.is_array()) {
    return Bad("$.rules", "expected an array of rules, got " + JsonTypeName(rules));
  }
  if (rules.size() > kMaxRules) {
    return Bad("$.rules", std::to_string(rules.size()) + " rules, more than the limit of " +
                              std::to_string(kMaxRules));
  }
  std::vector<Rule> out;
  out.reserve(rules.size());
  std::set<std::string, std::less<>> names;
  internal::Budget budget;
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const std::string path = "$.rules[" + std::to_string(i) + "]";
    SIGIL_ASSIGN_OR_RETURN(Rule rule, ParseRule(rules[i], path, budget));
    if (!names.insert(rule.name).second) {
      return Bad(path + ".name", "duplicate rule name " + Quote(rule.name));
    }
    out.push_back(std::move(rule));
  }
  return out;
}

}  // namespace

Result<Policy> ParsePolicy(std::string_view text, std::string_view source_name) {
  const std::string source(source_name);
  if (text.size() > kMaxPolicyBytes) {
    return Fail(Code::kInvalidArgument, source + ": policy is " + std::to_string(text.size()) +
                                            " bytes, more than the limit of " +
                                            std::to_string(kMaxPolicyBytes));
  }
  if (auto s = internal::CheckJsonStructure(text, kMaxJsonDepth); !s) {
    return std::move(s).error().Wrap(source);
  }
  SIGIL_ASSIGN_OR_RETURN(Json doc, ParseJson(text, source, /*allow_comments=*/true));
  ApprovalRule approvals;
  auto rules = ParseDocument(doc, &approvals);
  if (!rules) return std::move(rules).error().Wrap(source);
  return Policy(source, std::move(rules).value(), std::move(approvals));
}

}  // namespace sigil::policy
