#include "core/json.h"

namespace sigil {

Result<Json> ParseJson(std::string_view text, std::string_view source, bool allow_comments) {
  std::string err;
  Json j;
  try {
    j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/true, allow_comments);
  } catch (const Json::parse_error& e) {
    // e.byte is the 1-based position where parsing stopped.
    return Fail(Code::kInvalidArgument, std::string(source) + ": invalid JSON at byte " +
                                            std::to_string(e.byte) + ": " + e.what());
  } catch (const std::exception& e) {
    return Fail(Code::kInvalidArgument, std::string(source) + ": invalid JSON: " + e.what());
  }
  return j;
}

std::string CanonicalJson(const Json& value) {
  // nlohmann::json stores objects in a std::map, so dump() already emits sorted keys; the
  // replace handler keeps invalid UTF-8 from throwing.
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

namespace {
Result<const Json*> Field(const Json& obj, std::string_view key, std::string_view where) {
  if (!obj.is_object()) return Fail(Code::kInvalidArgument, std::string(where) + ": expected an object");
  auto it = obj.find(std::string(key));
  if (it == obj.end()) {
    return Fail(Code::kInvalidArgument, std::string(where) + "." + std::string(key) + ": missing");
  }
  return &*it;
}
}  // namespace

Result<std::string> GetString(const Json& obj, std::string_view key, std::string_view where) {
  SIGIL_ASSIGN_OR_RETURN(const Json* f, Field(obj, key, where));
  if (!f->is_string()) {
    return Fail(Code::kInvalidArgument, std::string(where) + "." + std::string(key) + ": expected a string");
  }
  return f->get<std::string>();
}

Result<std::int64_t> GetInt(const Json& obj, std::string_view key, std::string_view where) {
  SIGIL_ASSIGN_OR_RETURN(const Json* f, Field(obj, key, where));
  if (!f->is_number_integer()) {
    return Fail(Code::kInvalidArgument, std::string(where) + "." + std::string(key) + ": expected an integer");
  }
  return f->get<std::int64_t>();
}

Result<bool> GetBool(const Json& obj, std::string_view key, std::string_view where) {
  SIGIL_ASSIGN_OR_RETURN(const Json* f, Field(obj, key, where));
  if (!f->is_boolean()) {
    return Fail(Code::kInvalidArgument, std::string(where) + "." + std::string(key) + ": expected true or false");
  }
  return f->get<bool>();
}

}  // namespace sigil
