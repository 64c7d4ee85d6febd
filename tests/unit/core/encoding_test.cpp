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

// docs/protocol.md "Encodings": base64url on the wire is unpadded, URL-safe and canonical.
struct RefusedCase {
  const char* name;
  std::string text;
  const char* why;  // a substring of the error message
};

class Base64UrlRefuses : public ::testing::TestWithParam<RefusedCase> {};

TEST_P(Base64UrlRefuses, WithInvalidArgumentSayingWhy) {
  const RefusedCase& c = GetParam();
  auto r = Base64UrlDecode(c.text);
  ASSERT_FALSE(r.has_value()) << c.text;
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
  EXPECT_NE(r.error().message().find(c.why), std::string::npos) << r.error().message();
  EXPECT_EQ(r.error().message().rfind("base64url: ", 0), 0u) << r.error().message();
}

INSTANTIATE_TEST_SUITE_P(
    Rule, Base64UrlRefuses,
    ::testing::Values(
        // '=' padding in every position RFC 4648 section 4 would put it, and stray ones.
        RefusedCase{"PadOne", "Zm8=", "'=' padding at offset 3 is not allowed"},
        RefusedCase{"PadTwo", "Zg==", "'=' padding at offset 2 is not allowed"},
        RefusedCase{"PadAfterFullBlock", "Zm9v=", "'=' padding at offset 4"},
        RefusedCase{"PadFour", "Zm9v====", "'=' padding at offset 4"},
        RefusedCase{"PadOnly", "=", "'=' padding at offset 0"},
        RefusedCase{"PadInside", "Zg==Zm9v", "'=' padding at offset 2"},
        RefusedCase{"PadOf32Bytes", std::string(43, 'A') + "=", "'=' padding at offset 43"},
        // The standard alphabet's two characters.
        RefusedCase{"Plus", "Zm9v+g", "invalid character at offset 4"},
        RefusedCase{"Slash", "Zm9v/w", "invalid character at offset 4"},
        // Whitespace anywhere, as PEM-style wrapping or a trailing newline from a file.
        RefusedCase{"Space", "Zm 9v", "invalid character at offset 2"},
        RefusedCase{"LeadingSpace", " Zm9v", "invalid character at offset 0"},
        RefusedCase{"TrailingNewline", "Zm9v\n", "invalid character at offset 4"},
        RefusedCase{"CrLf", "Zm9v\r\nYg", "invalid character at offset 4"},
        RefusedCase{"Tab", "Zm9v\tYg", "invalid character at offset 4"},
        RefusedCase{"Nul", std::string("Zm9v\0Yg", 7), "invalid character at offset 4"},
        RefusedCase{"HighByte", "Zm9v\xc3\xa9", "invalid character at offset 4"},
        RefusedCase{"Dot", "Zm9v.Yg", "invalid character at offset 4"},
        // Lengths no encoder produces, and non-canonical trailing bits.
        RefusedCase{"LengthOneMod4", "Z", "impossible length 1"},
        RefusedCase{"LengthFiveMod4", "Zm9vY", "impossible length 5"},
        RefusedCase{"TrailingBitsOfOneByte", "Zh", "non-zero trailing bits"},
        RefusedCase{"TrailingBitsOfTwoBytes", "Zm9", "non-zero trailing bits"},
        RefusedCase{"TrailingBitsAfterBlock", "Zm9vYh", "non-zero trailing bits"},
        RefusedCase{"TrailingBitsUrlAlphabet", "-_9", "non-zero trailing bits"}),
    [](const ::testing::TestParamInfo<RefusedCase>& i) { return std::string(i.param.name); });

// The one spelling each value has is exactly the encoder's output, for every length mod 3 and
// every last character (so the canonical-bits rule refuses nothing the encoder writes).
TEST(Base64Url, EveryEncoderOutputDecodesAndNothingElseOfThatValue) {
  for (std::size_t n = 0; n < 70; ++n) {
    Bytes b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 37 + n * 11);
    std::string enc = Base64UrlEncode(b);
    ASSERT_EQ(enc.find_first_of("=+/"), std::string::npos) << enc;
    ASSERT_OK_AND_ASSIGN(Bytes d, Base64UrlDecode(enc));
    EXPECT_EQ(d, b) << n;
    // The RFC 4648 section 4 padded spelling of the same bytes is refused.
    std::string padded = enc + std::string((4 - enc.size() % 4) % 4, '=');
    if (padded != enc) {
      SCOPED_TRACE(padded);
      EXPECT_CODE(Base64UrlDecode(padded), Code::kInvalidArgument);
    }
  }
  for (int last = 0; last < 256; ++last) {
    Bytes one = {0x61, static_cast<std::uint8_t>(last)};  // two bytes: 3 characters, 2 spare bits
    std::string enc = Base64UrlEncode(one);
    ASSERT_OK_AND_ASSIGN(Bytes d, Base64UrlDecode(enc));
    EXPECT_EQ(d, one);
  }
}

// Standard base64 (audit *_b64 fields, proof hashes, checkpoint notes) is padded and canonical.
TEST(Base64, PaddedCanonicalOnly) {
  for (auto [plain, enc] : {std::pair{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
                            {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}}) {
    EXPECT_EQ(Base64Encode(AsBytes(plain)), enc);
    ASSERT_OK_AND_ASSIGN(Bytes d, Base64Decode(enc));
    EXPECT_EQ(ToString(d), plain);
  }
  ASSERT_OK_AND_ASSIGN(Bytes hi, Base64Decode("+/8="));
  EXPECT_EQ(hi, (Bytes{0xfb, 0xff}));
  for (const char* bad : {"Zg", "Zm8", "Zg=", "Zg===", "Zm9v=", "Zm9v====", "Z===", "Zg==Zg==", "Zh==",
                          "Zm9=", "-_8=", "Zm9v\n", " Zm9v", "Zm 9v"}) {
    SCOPED_TRACE(bad);
    EXPECT_CODE(Base64Decode(bad), Code::kInvalidArgument);
  }
}

}  // namespace
}  // namespace sigil
