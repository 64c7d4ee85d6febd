#include "broker/broker_context.h"

#include "core/rfc3339.h"

namespace sigil::broker {

std::int64_t UnixSeconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::string Rfc3339(std::chrono::system_clock::time_point t) { return FormatRfc3339Utc(t); }

}  // namespace sigil::broker
