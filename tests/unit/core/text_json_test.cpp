// Untrusted text at the seams: UTF-8 validation, display escaping, and the strict JSON reader
// every protocol message goes through.
#include <gtest/gtest.h>

#include "core/json.h"
#include "core/text.h"
#include "core/utf8.h"
#include "tests/support/matchers.h"

namespace sigil {
namespace {

TEST(Utf8, AcceptsWellFormedText) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91"));  // é € 🔑
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));                             // U+10FFFF
}

TEST(Utf8, RefusesEveryIllFormedClassAtItsOffset) {
  EXPECT_EQ(FindInvalidUtf8("ab\x80"), 2u);              // lone continuation byte
  EXPECT_EQ(FindInvalidUtf8("\xc0\xaf"), 0u);            // overlong '/'
  EXPECT_EQ(FindInvalidUtf8("\xe0\x80\xaf"), 0u);        // overlong, 3 bytes
  EXPECT_EQ(FindInvalidUtf8("x\xed\xa0\x80"), 1u);       // surrogate U+D800
  EXPECT_EQ(FindInvalidUtf8("\xf4\x90\x80\x80"), 0u);    // above U+10FFFF
  EXPECT_EQ(FindInvalidUtf8("\xf5\x80\x80\x80"), 0u);    // invalid lead byte
  EXPECT_EQ(FindInvalidUtf8("ok\xe2\x82"), 2u);          // truncated sequence
  EXPECT_EQ(FindInvalidUtf8("\xff"), 0u);
}

TEST(EscapeForDisplay, KeepsPrintableAsciiAndEscapesEverythingElse) {
  EXPECT_EQ(EscapeForDisplay("model-1.2"), "model-1.2");
  EXPECT_EQ(EscapeForDisplay("a\nb"), "a\\x0ab");
  EXPECT_EQ(EscapeForDisplay(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(EscapeForDisplay("\x1b[2K"), "\\x1b[2K");
  EXPECT_EQ(EscapeForDisplay("\xc3\xa9"), "\\xc3\\xa9");
  EXPECT_EQ(EscapeForDisplay("back\\slash"), "back\\\\slash");  // so "\x0a" typed literally stays distinguishable
  EXPECT_EQ(EscapeForDisplay(std::string(100, 'x'), 10), std::string(10, 'x') + "...");
}

TEST(ParseJson, RefusesInvalidUtf8WithoutQuotingIt) {
  auto r = ParseJson("{\"tenant\":\"a\xff\"}", "request body");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
  EXPECT_NE(r.error().message().find("not valid UTF-8 at byte 13"), std::string::npos) << r.error().message();
  EXPECT_TRUE(IsValidUtf8(r.error().message()));
}

TEST(ParseJson, RefusesDuplicateKeysAtAnyDepth) {
  EXPECT_FALSE(ParseJson(R"({"a":1,"a":2})", "x").has_value());
  auto nested = ParseJson(R"({"a":{"b":1,"c":{"d":1,"d":1}}})", "x");
  ASSERT_FALSE(nested.has_value());
  EXPECT_NE(nested.error().message().find("duplicate key \"d\""), std::string::npos);
  // The same key in sibling objects is fine.
  EXPECT_OK(ParseJson(R"({"a":{"k":1},"b":{"k":2},"c":[{"k":1},{"k":2}]})", "x"));
}

TEST(ParseJson, BoundsNesting) {
  std::string deep(kMaxJsonDepth + 10, '[');
  deep += std::string(kMaxJsonDepth + 10, ']');
  auto r = ParseJson(deep, "x");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("nested deeper"), std::string::npos);
  std::string ok(kMaxJsonDepth - 1, '[');
  ok += std::string(kMaxJsonDepth - 1, ']');
  EXPECT_OK(ParseJson(ok, "x"));
}

TEST(ParseJson, ParseErrorsAreEscaped) {
  auto r = ParseJson("{\"a\":\x01}", "x");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message().find('\x01'), std::string::npos) << r.error().message();
}

TEST(GetInt, RefusesIntegersOutsideInt64) {
  ASSERT_OK_AND_ASSIGN(Json j, ParseJson(R"({"big":18446744073709551615,"max":9223372036854775807,"neg":-9223372036854775808,"f":1.5})", "x"));
  EXPECT_CODE(GetInt(j, "big", "$"), Code::kInvalidArgument);
  ASSERT_OK_AND_ASSIGN(std::int64_t max, GetInt(j, "max", "$"));
  EXPECT_EQ(max, INT64_MAX);
  ASSERT_OK_AND_ASSIGN(std::int64_t neg, GetInt(j, "neg", "$"));
  EXPECT_EQ(neg, INT64_MIN);
  EXPECT_CODE(GetInt(j, "f", "$"), Code::kInvalidArgument);
}

TEST(DumpJson, NeverThrowsOnBytesReadBackFromStorage) {
  Json j{{"record", std::string("a\xff\xfe")}};
  std::string out;
  EXPECT_NO_THROW(out = DumpJson(j));
  EXPECT_TRUE(IsValidUtf8(out));
}

}  // namespace
}  // namespace sigil
