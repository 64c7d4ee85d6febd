#include "core/encoding.h"

#include <gtest/gtest.h>

#include "tests/support/matchers.h"

namespace sigil {
namespace {

TEST(Hex, RoundTripAndErrors) {
  Bytes b = {0x00, 0xab, 0xff, 0x10};
  EXPECT_EQ(HexEncode(b), "00abff10");
  ASSERT_OK_AND_ASSIGN(Bytes d, HexDecode("00ABff10"));
  EXPECT_EQ(d, b);
  EXPECT_CODE(HexDecode("abc"), Code::kInvalidArgument);
  auto bad = HexDecode("00zz");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("offset 2"), std::string::npos);
}

TEST(Base64Url, Rfc4648Vectors) {
  // RFC 4648 section 10 test vectors (base64url has the same output for these).
  const std::pair<const char*, const char*> cases[] = {
      {"", ""}, {"f", "Zg"}, {"fo", "Zm8"}, {"foo", "Zm9v"}, {"foob", "Zm9vYg"},
      {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}};
  for (auto [plain, enc] : cases) {
    EXPECT_EQ(Base64UrlEncode(AsBytes(plain)), enc);
    ASSERT_OK_AND_ASSIGN(Bytes d, Base64UrlDecode(enc));
    EXPECT_EQ(ToString(d), plain);
  }
  EXPECT_EQ(Base64Encode(AsBytes("fo")), "Zm8=");
  Bytes hi = {0xfb, 0xff};
  EXPECT_EQ(Base64UrlEncode(hi), "-_8");
  EXPECT_EQ(Base64Encode(hi), "+/8=");
}

TEST(Base64Url, RejectsBadInput) {
  EXPECT_CODE(Base64UrlDecode("Zm9v+g"), Code::kInvalidArgument);
  EXPECT_CODE(Base64UrlDecode("Z"), Code::kInvalidArgument);
  EXPECT_CODE(Base64UrlDecode("Zh"), Code::kInvalidArgument);  // non-zero trailing bits
  EXPECT_CODE(Base64UrlDecode("Zm 9v"), Code::kInvalidArgument);
}

}  // namespace
}  // namespace sigil
