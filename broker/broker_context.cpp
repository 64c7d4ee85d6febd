#include "broker/broker_context.h"

#include <ctime>

namespace sigil::broker {

Result<void> ValidateName(const std::string& name, const char* what) {
  auto ok_char = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'; };
  bool ok = !name.empty() && name.size() <= 64 && name[0] != '.' && name[0] != '-' && name[0] != '_';
  for (char c : name) ok = ok && ok_char(c);
  if (!ok) {
    return Fail(Code::kInvalidArgument, std::string(what) + " '" + name +
                                            "' is invalid: use 1-64 characters a-z 0-9 . _ -, starting with a letter or digit");
  }
  return Ok();
}

std::int64_t UnixSeconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::string Rfc3339(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace sigil::broker
