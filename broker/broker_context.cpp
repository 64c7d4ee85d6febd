#include "broker/broker_context.h"

#include "core/rfc3339.h"

namespace sigil::broker {

std::string AuditReason(const Error& e) {
  const std::string code(CodeName(e.code()));
  if (e.message().rfind(code + ":", 0) == 0) return e.message();
  return code + ": " + e.message();
}

std::int64_t UnixSeconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::string Rfc3339(std::chrono::system_clock::time_point t) { return FormatRfc3339Utc(t); }

}  // namespace sigil::broker
