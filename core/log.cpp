#include "core/log.h"

#include <atomic>
#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>

#include "core/text.h"

namespace sigil::log {
namespace {

// Bounds per record part (input bytes before escaping): a message states what happened and may
// quote an error; a field holds one id, name or short excerpt.
constexpr std::size_t kMaxMessage = 1000;
constexpr std::size_t kMaxValue = 200;

std::atomic<Format> g_format{Format::kText};

const char* LevelName(Level level) {
  switch (level) {
    case Level::kInfo: return "info";
    case Level::kWarning: return "warning";
    case Level::kError: return "error";
    case Level::kAlarm: return "alarm";
  }
  return "info";
}

const char* TextPrefix(Level level) {
  switch (level) {
    case Level::kInfo: return "";
    case Level::kWarning: return "WARNING: ";
    case Level::kError: return "error: ";
    case Level::kAlarm: return "ALARM: ";
  }
  return "";
}

// RFC 3339 UTC with milliseconds, e.g. 2026-01-31T12:00:00.123Z.
std::string TimeText(std::chrono::system_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000 - (ms % 1000 < 0 ? 1 : 0));
  const int millis = static_cast<int>(((ms % 1000) + 1000) % 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", millis);
  return buf;
}

// A bounded copy of `v`; JSON serialisation escapes controls and replaces invalid UTF-8.
std::string Bounded(std::string_view v, std::size_t max) {
  if (v.size() <= max) return std::string(v);
  return std::string(v.substr(0, max)) + "...";
}

// Text values are escaped like every displayed input; one with a space, quote or '=' (or an
// empty one) is quoted so that key=value pairs stay readable.
std::string TextValue(std::string_view v) {
  std::string e = EscapeForDisplay(v, kMaxValue);
  if (!e.empty() && e.find_first_of(" \"=") == std::string::npos) return e;
  std::string q = "\"";
  for (char c : e) {
    if (c == '"') {
      q += "\\x22";
    } else {
      q.push_back(c);
    }
  }
  return q + "\"";
}

}  // namespace

void SetFormat(Format format) { g_format.store(format, std::memory_order_relaxed); }

std::optional<Format> ParseFormat(std::string_view name) {
  if (name == "text") return Format::kText;
  if (name == "json") return Format::kJson;
  return std::nullopt;
}

std::string FormatRecord(Format format, std::chrono::system_clock::time_point time, Level level,
                         std::string_view msg, std::initializer_list<Field> fields) {
  if (format == Format::kJson) {
    nlohmann::ordered_json j;
    j["time"] = TimeText(time);
    j["level"] = LevelName(level);
    j["msg"] = Bounded(msg, kMaxMessage);
    for (const Field& f : fields) {
      const std::string key(f.key);
      if (j.contains(key) || (!f.number && f.text.empty())) continue;  // (time, level, msg: ours)
      if (f.number) {
        j[key] = *f.number;
      } else {
        j[key] = Bounded(f.text, kMaxValue);
      }
    }
    return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
  }
  std::string line = "sigild: ";
  line += TextPrefix(level);
  line += EscapeForDisplay(msg, kMaxMessage);
  for (const Field& f : fields) {
    if (!f.number && f.text.empty()) continue;
    line += ' ';
    line += f.key;
    line += '=';
    line += f.number ? std::to_string(*f.number) : TextValue(f.text);
  }
  line += '\n';
  return line;
}

void Write(Level level, std::string_view msg, std::initializer_list<Field> fields) noexcept {
  try {
    const std::string line =
        FormatRecord(g_format.load(std::memory_order_relaxed), std::chrono::system_clock::now(), level, msg, fields);
    std::fwrite(line.data(), 1, line.size(), stderr);  // one call: stdio locks the stream
  } catch (...) {
    std::fputs("sigild: a log record could not be built (out of memory?)\n", stderr);
  }
}

}  // namespace sigil::log
