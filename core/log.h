// sigild's log: one record per line on stderr, as text (the default) or as one JSON object per
// line (`sigild serve --log-format json`). Every log call site goes through Write, so both
// formats carry the same records and the same fields.
//
// Records never carry key material, tokens or request/evidence bodies: call sites pass only ids,
// names, codes and short excerpts. Values may still be hostile (a request target, a client's
// header): the formatter bounds each one and escapes it, so no value can break the
// one-record-per-line property or forge a record, in either format.
//
//   text: sigild: [WARNING: |ERROR: |ALARM: ]MSG key=value key=value
//         (MSG and values through EscapeForDisplay: printable ASCII, everything else \xNN)
//   json: {"time":"2026-01-31T12:00:00.123Z","level":"info","msg":MSG,"key":value,...}
//         (time RFC 3339 UTC with milliseconds; level info|warning|error|alarm; numbers stay
//         numbers; invalid UTF-8 becomes U+FFFD and control characters are JSON-escaped)
// Thread-safety: all functions are thread-safe; a record is written with one call, so records
// from different threads never interleave within a line.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace sigil::log {

enum class Level : std::uint8_t { kInfo, kWarning, kError, kAlarm };
enum class Format : std::uint8_t { kText, kJson };

// A named value on a record: text, or a number (HTTP status, count, port). A text field left
// empty is left out of the record (the value is not known), in both formats.
struct Field {
  Field(std::string_view k, std::string_view v) : key(k), text(v) {}
  Field(std::string_view k, const std::string& v) : key(k), text(v) {}
  Field(std::string_view k, const char* v) : key(k), text(v) {}
  Field(std::string_view k, std::int64_t v) : key(k), number(v) {}
  Field(std::string_view k, int v) : key(k), number(v) {}
  Field(std::string_view k, unsigned v) : key(k), number(v) {}
  std::string_view key;  // a fixed name from the call site, never input
  std::string_view text;
  std::optional<std::int64_t> number;
};

// The format of every later record (the default is kText). Parse accepts "text" and "json".
void SetFormat(Format format);
std::optional<Format> ParseFormat(std::string_view name);

// The line for one record, newline included (pure; for tests).
std::string FormatRecord(Format format, std::chrono::system_clock::time_point time, Level level,
                         std::string_view msg, std::initializer_list<Field> fields);

// Writes one record to stderr in the current format. Never throws (a record that cannot be
// built is replaced by a fixed line).
void Write(Level level, std::string_view msg, std::initializer_list<Field> fields = {}) noexcept;

inline void Info(std::string_view msg, std::initializer_list<Field> fields = {}) noexcept {
  Write(Level::kInfo, msg, fields);
}
inline void Warning(std::string_view msg, std::initializer_list<Field> fields = {}) noexcept {
  Write(Level::kWarning, msg, fields);
}
inline void Error(std::string_view msg, std::initializer_list<Field> fields = {}) noexcept {
  Write(Level::kError, msg, fields);
}

}  // namespace sigil::log
