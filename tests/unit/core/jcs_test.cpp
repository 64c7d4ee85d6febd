// RFC 8785 canonical JSON against the RFC's own examples (those without non-integer numbers,
// which Jcs refuses by design) and the refusals.
#include "core/jcs.h"

#include <gtest/gtest.h>

#include "core/digest.h"
#include "core/encoding.h"
#include "tests/support/matchers.h"

namespace sigil {
namespace {

std::string Canon(std::string_view text) {
  auto j = ParseJson(text, "test");
  SIGIL_CHECK(j.has_value());
  auto c = Jcs(*j);
  SIGIL_CHECK(c.has_value());
  return *c;
}

// RFC 8785 section 3.2.2 sample, with its "numbers" member (floats) left out: strings and
// literals must come out byte for byte as the RFC's output shows.
TEST(Jcs, Rfc8785SampleWithoutFloats) {
  const std::string in = R"({
    "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
    "literals": [null, true, false]
  })";
  EXPECT_EQ(Canon(in), "{\"literals\":[null,true,false],\"string\":\"\xE2\x82\xAC$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
}

// RFC 8785 section 3.2.3: members sorted by UTF-16 code units, so the emoji (surrogates D83D
// DE00) sorts before U+FB33, although its UTF-8 bytes sort after.
TEST(Jcs, Rfc8785SortingByUtf16CodeUnits) {
  const std::string in = R"({
    "\u20ac": "Euro Sign",
    "\r": "Carriage Return",
    "\ufb33": "Hebrew Letter Dalet With Dagesh",
    "1": "One",
    "\ud83d\ude00": "Emoji: Grinning Face",
    "\u0080": "Control",
    "\u00f6": "Latin Small Letter O With Diaeresis"
  })";
  const std::string out = Canon(in);
  std::vector<std::string> order = {"Carriage Return", "One", "Control", "Latin Small", "Euro Sign", "Emoji", "Hebrew"};
  std::size_t at = 0;
  for (const auto& name : order) {
    const auto pos = out.find(name);
    ASSERT_NE(pos, std::string::npos) << name;
    EXPECT_GT(pos, at) << name << " out of order in " << out;
    at = pos;
  }
}

TEST(Jcs, NestedObjectsIntegersAndEscapes) {
  EXPECT_EQ(Canon(R"({"b":[1,-2,{"z":0,"a":9007199254740991}],"a":"\t\b\f\u0001"})"),
            R"({"a":"\t\b\f\u0001","b":[1,-2,{"a":9007199254740991,"z":0}]})");
}

TEST(Jcs, RefusesFloatsAndUnsafeIntegers) {
  for (const char* text : {R"({"n":1.5})", R"({"n":1e3})", R"([9007199254740992])", R"([-9007199254740992])",
                           R"({"a":{"b":[0.0]}})"}) {
    auto j = ParseJson(text, "test");
    ASSERT_TRUE(j.has_value()) << text;
    SCOPED_TRACE(text);
    EXPECT_CODE(Jcs(*j), Code::kInvalidArgument);
  }
}

}  // namespace
}  // namespace sigil

namespace sigil {
namespace {

// The KBS binding's worked example in docs/protocol.md ("KBS front end"), members given out of
// order as a guest might send them.
TEST(Jcs, KbsRuntimeDataWorkedExample) {
  const std::string c = Canon(R"({"tee-pubkey":{"y":"Y","x":"X","kty":"EC","crv":"P-256"},
      "nonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","additional-evidence":""})");
  EXPECT_EQ(c.size(), 137u);
  const Sha384Digest d = Sha384(AsBytes(c));
  EXPECT_EQ(HexEncode(d),
            "b380a738a9487c0db61684f009087b1d9b344be870656b587add4684a023503de45bc01a894f8e80c212566bdd3fd1cd");
}

}  // namespace
}  // namespace sigil
