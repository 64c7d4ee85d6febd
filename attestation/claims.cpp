#include "attestation/claims.h"

namespace sigil::attestation {

const ClaimValue* Claims::Find(std::string_view name) const {
  auto it = values_.find(name);
  return it == values_.end() ? nullptr : &it->second;
}

std::optional<std::string> Claims::GetString(std::string_view name) const {
  const ClaimValue* v = Find(name);
  if (v == nullptr || !std::holds_alternative<std::string>(*v)) return std::nullopt;
  return std::get<std::string>(*v);
}

std::optional<bool> Claims::GetBool(std::string_view name) const {
  const ClaimValue* v = Find(name);
  if (v == nullptr || !std::holds_alternative<bool>(*v)) return std::nullopt;
  return std::get<bool>(*v);
}

std::optional<std::int64_t> Claims::GetInt(std::string_view name) const {
  const ClaimValue* v = Find(name);
  if (v == nullptr || !std::holds_alternative<std::int64_t>(*v)) return std::nullopt;
  return std::get<std::int64_t>(*v);
}

Json Claims::ToJson() const {
  Json j = Json::object();
  for (const auto& entry : values_) {
    const std::string& name = entry.first;
    std::visit([&j, &name](const auto& x) { j[name] = x; }, entry.second);
  }
  return j;
}

Result<Claims> Claims::FromJson(const Json& j, std::string_view where) {
  if (!j.is_object()) return Fail(Code::kInvalidArgument, std::string(where) + ": claims must be an object");
  Claims c;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const Json& v = it.value();
    if (v.is_boolean()) {
      c.Set(it.key(), v.get<bool>());
    } else if (v.is_number_integer()) {
      SIGIL_ASSIGN_OR_RETURN(std::int64_t n, JsonToInt64(v, std::string(where) + "." + it.key()));
      c.Set(it.key(), n);
    } else if (v.is_string()) {
      c.Set(it.key(), v.get<std::string>());
    } else {
      return Fail(Code::kInvalidArgument,
                  std::string(where) + "." + it.key() + ": a claim must be a string, integer or boolean");
    }
  }
  return c;
}

std::string ClaimToString(const ClaimValue& v) {
  if (std::holds_alternative<bool>(v)) return std::get<bool>(v) ? "true" : "false";
  if (std::holds_alternative<std::int64_t>(v)) return std::to_string(std::get<std::int64_t>(v));
  return std::get<std::string>(v);
}

}  // namespace sigil::attestation
