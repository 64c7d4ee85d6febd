#include "core/json.h"

#include <limits>
#include <set>
#include <vector>

#include "core/text.h"
#include "core/utf8.h"

namespace sigil {

namespace {

// Thrown from the parser callback and caught in ParseJson only: the callback has no other way to
// stop nlohmann's parser with a message of ours.
struct Refusal : std::exception {
  std::string message;
  explicit Refusal(std::string m) : message(std::move(m)) {}
};

}  // namespace

Result<Json> ParseJson(std::string_view text, std::string_view source, bool allow_comments) {
  // Checked up front so the error says what is wrong in words, and so no message below can carry
  // raw bytes that are not UTF-8 (nlohmann's own messages quote the input).
  if (auto bad = FindInvalidUtf8(text)) {
    return Fail(Code::kInvalidArgument,
                std::string(source) + ": not valid UTF-8 at byte " + std::to_string(*bad + 1));
  }
  // Duplicate keys are refused: nlohmann keeps the last one silently, so a signer or reviewer
  // and the broker could read different values from one message. One set of keys per open
  // object; depth is bounded so a deep document cannot exhaust the stack of later recursive code.
  std::vector<std::set<std::string>> keys;
  auto callback = [&keys](int depth, Json::parse_event_t event, Json& parsed) {
    if (depth > kMaxJsonDepth) {
      throw Refusal("nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    }
    switch (event) {
      case Json::parse_event_t::object_start: keys.emplace_back(); break;
      case Json::parse_event_t::object_end: if (!keys.empty()) keys.pop_back(); break;
      case Json::parse_event_t::key: {
        const auto& k = parsed.get_ref<const std::string&>();
        if (!keys.empty() && !keys.back().insert(k).second) {
          throw Refusal("duplicate key \"" + EscapeForDisplay(k, 64) + "\"");
        }
        break;
      }
      default: break;
    }
    return true;
  };
  Json j;
  try {
    j = Json::parse(text.begin(), text.end(), callback, /*allow_exceptions=*/true, allow_comments);
  } catch (const Refusal& r) {
    return Fail(Code::kInvalidArgument, std::string(source) + ": " + r.message);
  } catch (const Json::parse_error& e) {
    // e.byte is the 1-based position where parsing stopped; e.what() quotes input, so escape it.
    return Fail(Code::kInvalidArgument, std::string(source) + ": invalid JSON at byte " +
                                            std::to_string(e.byte) + ": " + EscapeForDisplay(e.what(), 160));
  } catch (const std::exception& e) {
    return Fail(Code::kInvalidArgument, std::string(source) + ": invalid JSON: " + EscapeForDisplay(e.what(), 160));
  }
  return j;
}

std::string CanonicalJson(const Json& value) {
  // nlohmann::json stores objects in a std::map, so dump() already emits sorted keys; the
  // replace handler keeps invalid UTF-8 from throwing.
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string DumpJson(const Json& value) { return value.dump(-1, ' ', false, Json::error_handler_t::replace); }

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

Result<std::int64_t> JsonToInt64(const Json& value, std::string_view where) {
  // nlohmann stores integers above INT64_MAX as unsigned; get<int64_t>() would wrap them
  // (18446744073709551615 -> -1), so they are refused rather than converted.
  if (value.is_number_unsigned() &&
      value.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return Fail(Code::kInvalidArgument, std::string(where) + ": integer out of range (signed 64-bit)");
  }
  if (!value.is_number_integer()) return Fail(Code::kInvalidArgument, std::string(where) + ": expected an integer");
  return value.get<std::int64_t>();
}

Result<std::int64_t> GetInt(const Json& obj, std::string_view key, std::string_view where) {
  SIGIL_ASSIGN_OR_RETURN(const Json* f, Field(obj, key, where));
  return JsonToInt64(*f, std::string(where) + "." + std::string(key));
}

Result<bool> GetBool(const Json& obj, std::string_view key, std::string_view where) {
  SIGIL_ASSIGN_OR_RETURN(const Json* f, Field(obj, key, where));
  if (!f->is_boolean()) {
    return Fail(Code::kInvalidArgument, std::string(where) + "." + std::string(key) + ": expected true or false");
  }
  return f->get<bool>();
}

}  // namespace sigil
