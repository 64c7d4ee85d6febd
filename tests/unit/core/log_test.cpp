// core/log.h: both formats of one record, and the one-record-per-line property under hostile
// values (control characters, invalid UTF-8, forged records, oversized values).
#include "core/log.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "core/json.h"
#include "core/utf8.h"

namespace sigil::log {
namespace {

// 2026-01-31T12:00:00.123Z
const auto kTime = std::chrono::system_clock::time_point(std::chrono::milliseconds(1769860800123));

TEST(Log, TextRecordKeepsTheSigildPrefixAndAppendsFields) {
  EXPECT_EQ(FormatRecord(Format::kText, kTime, Level::kInfo, "request",
                         {{"request_id", "00ff"}, {"status", 200}, {"tenant", ""}, {"route", "/v1/x y"}}),
            "sigild: request request_id=00ff status=200 route=\"/v1/x y\"\n");
  EXPECT_EQ(FormatRecord(Format::kText, kTime, Level::kAlarm, "row failed", {}), "sigild: ALARM: row failed\n");
  EXPECT_EQ(FormatRecord(Format::kText, kTime, Level::kWarning, "w", {}), "sigild: WARNING: w\n");
  EXPECT_EQ(FormatRecord(Format::kText, kTime, Level::kError, "e", {}), "sigild: error: e\n");
}

TEST(Log, JsonRecordHasTimeLevelMsgThenFieldsAndLeavesUnknownOut) {
  const std::string line = FormatRecord(Format::kJson, kTime, Level::kWarning, "request",
                                        {{"request_id", "00ff"}, {"status", 413}, {"tenant", ""}, {"msg", "forged"}});
  EXPECT_EQ(line, R"({"time":"2026-01-31T12:00:00.123Z","level":"warning","msg":"request","request_id":"00ff","status":413})"
                  "\n");
}

TEST(Log, HostileValuesStayInOneLineInBothFormats) {
  const std::string hostile = std::string("a\nsigild: forged\r\x1b[2K\"}\n{\"level\":\"alarm\"\x00\xff\xc3\x28", 34) +
                              std::string(5000, 'x');
  for (Format f : {Format::kText, Format::kJson}) {
    const std::string line = FormatRecord(f, kTime, Level::kInfo, hostile, {{"target", hostile}, {"client", hostile}});
    EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1) << line;
    EXPECT_EQ(line.back(), '\n');
    EXPECT_EQ(line.find('\r'), std::string::npos);
    EXPECT_EQ(line.find('\x1b'), std::string::npos);
    EXPECT_EQ(line.find('\0'), std::string::npos);
    EXPECT_TRUE(IsValidUtf8(line));
    EXPECT_LT(line.size(), 3000u) << "values are bounded";
    if (f == Format::kJson) {
      auto j = ParseJson(std::string_view(line).substr(0, line.size() - 1), "record");
      ASSERT_TRUE(j.has_value()) << line;
      EXPECT_EQ((*j)["level"], "info");
      // The value survives up to its bound, with the invalid bytes replaced.
      EXPECT_EQ((*j)["target"].get<std::string>().rfind("a\nsigild: forged\r\x1b[2K\"}\n{", 0), 0u);
    }
  }
}

TEST(Log, ParseFormat) {
  EXPECT_EQ(ParseFormat("json"), Format::kJson);
  EXPECT_EQ(ParseFormat("text"), Format::kText);
  EXPECT_FALSE(ParseFormat("JSON").has_value());
}

}  // namespace
}  // namespace sigil::log
