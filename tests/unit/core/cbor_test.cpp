// core/cbor.h: the strict decoder refuses every non-strict form with an error naming the offset,
// and survives hostile nesting without recursion.
#include "core/cbor.h"

#include <gtest/gtest.h>

#include "core/encoding.h"
#include "tests/support/matchers.h"

namespace sigil::cbor {
namespace {

Bytes Hex(std::string_view h) {
  std::string compact;
  for (char c : h) {
    if (c != ' ') compact.push_back(c);
  }
  return HexDecode(compact).value();
}

Result<ItemPtr> DecodeHex(std::string_view h, Limits limits = {}) { return Decode(Hex(h), limits, "test"); }

TEST(CborDecode, AcceptsAStrictMap) {
  // {1: -7, "a": h'0102', 2: [true, null, 1.5 (half)]}
  ASSERT_OK_AND_ASSIGN(ItemPtr item, DecodeHex("a301266161420102028 3f5f6f93e00"));
  ASSERT_TRUE(cbor_isa_map(item.get()));
  ASSERT_OK_AND_ASSIGN(const cbor_item_t* v, MapGet(item.get(), 1, "alg"));
  EXPECT_EQ(GetInt(v, "alg").value(), -7);
  EXPECT_EQ(MapFind(item.get(), 3), nullptr);
  EXPECT_CODE(MapGet(item.get(), 3, "three"), Code::kMalformedEvidence);
}

TEST(CborDecode, RefusesDuplicateKeysEvenWhenEncodedDifferently) {
  EXPECT_CODE(DecodeHex("a2010001 01"), Code::kMalformedEvidence);
  // 1 and 0x18 0x01 are the same key in two encodings.
  auto r = DecodeHex("a20100180101");
  EXPECT_CODE(r, Code::kMalformedEvidence);
  EXPECT_NE(r.error().message().find("duplicate map key 1"), std::string::npos) << r.error().message();
  EXPECT_CODE(DecodeHex("a2616101616102"), Code::kMalformedEvidence);  // {"a":1,"a":2}
  // Duplicates nested in an array inside a map are found too.
  EXPECT_CODE(DecodeHex("a10181a2200020 01"), Code::kMalformedEvidence);
}

TEST(CborDecode, RefusesNonIntegerNonTextKeys) {
  EXPECT_CODE(DecodeHex("a1410001"), Code::kMalformedEvidence);  // {h'00': 1}
}

TEST(CborDecode, RefusesIndefiniteLengths) {
  for (const char* h : {"9f01ff", "5f4101ff", "7f6161ff", "bf0101ff", "ff"}) {
    auto r = DecodeHex(h);
    EXPECT_CODE(r, Code::kMalformedEvidence);
    EXPECT_NE(r.error().message().find("offset"), std::string::npos) << h;
  }
}

TEST(CborDecode, NestingIsBoundedWithoutRecursion) {
  Bytes deep(10000, 0x81);  // [[[[...]]]] ten thousand deep
  deep.push_back(0x00);
  auto r = Decode(deep, Limits{}, "deep");
  EXPECT_CODE(r, Code::kMalformedEvidence);
  EXPECT_NE(r.error().message().find("nesting deeper than 16 at offset 16"), std::string::npos)
      << r.error().message();
  Bytes tags(10000, 0xd2);  // 18(18(18(...)))
  tags.push_back(0x00);
  EXPECT_CODE(Decode(tags, Limits{.allowed_tags = {18}}, "tags"), Code::kMalformedEvidence);
  // Exactly at the limit is fine, one more is not.
  Bytes sixteen(16, 0x81);
  sixteen.push_back(0x00);
  EXPECT_OK(Decode(sixteen, Limits{}, "16"));
  Bytes seventeen(17, 0x81);
  seventeen.push_back(0x00);
  EXPECT_CODE(Decode(seventeen, Limits{}, "17"), Code::kMalformedEvidence);
}

TEST(CborDecode, OnlyExpectedTags) {
  EXPECT_CODE(DecodeHex("d24100"), Code::kMalformedEvidence);
  EXPECT_OK(DecodeHex("d24100", Limits{.allowed_tags = {18}}));
  EXPECT_CODE(DecodeHex("d8184100", Limits{.allowed_tags = {18}}), Code::kMalformedEvidence);  // tag 24
}

TEST(CborDecode, RefusesTrailingTruncatedAndOversized) {
  EXPECT_CODE(DecodeHex("0100"), Code::kMalformedEvidence);      // trailing byte
  EXPECT_CODE(DecodeHex("4301"), Code::kMalformedEvidence);      // bstr longer than the input
  EXPECT_CODE(DecodeHex("8201"), Code::kMalformedEvidence);      // array missing an element
  EXPECT_CODE(DecodeHex("19 01"), Code::kMalformedEvidence);     // truncated argument
  EXPECT_CODE(DecodeHex("9bffffffffffffffff00"), Code::kMalformedEvidence);  // absurd count
  EXPECT_CODE(DecodeHex("5bffffffffffffffff00"), Code::kMalformedEvidence);  // absurd length
  EXPECT_CODE(DecodeHex("bbffffffffffffffff00"), Code::kMalformedEvidence);
  EXPECT_CODE(Decode({}, Limits{}, "empty"), Code::kMalformedEvidence);
  Bytes big{0x59, 0x01, 0x00};
  big.resize(3 + 256, 0xaa);
  EXPECT_CODE(Decode(big, Limits{.max_size = 200}, "big"), Code::kMalformedEvidence);
  EXPECT_OK(Decode(big, Limits{.max_size = 259}, "big"));
}

TEST(CborDecode, RefusesReservedAndUnassignedForms) {
  EXPECT_CODE(DecodeHex("1c"), Code::kMalformedEvidence);    // ai 28 reserved
  EXPECT_CODE(DecodeHex("f810"), Code::kMalformedEvidence);  // two-byte simple < 32
  EXPECT_CODE(DecodeHex("e0"), Code::kMalformedEvidence);    // unassigned simple 0
  EXPECT_CODE(DecodeHex("62c328"), Code::kMalformedEvidence);  // text not UTF-8
  ASSERT_OK_AND_ASSIGN(ItemPtr huge, DecodeHex("1bffffffffffffffff"));
  EXPECT_CODE(GetInt(huge.get(), "huge"), Code::kMalformedEvidence);  // above INT64_MAX
}

TEST(CborDecode, IntegerRange) {
  ASSERT_OK_AND_ASSIGN(ItemPtr max, DecodeHex("1b7fffffffffffffff"));
  EXPECT_EQ(GetInt(max.get(), "max").value(), INT64_MAX);
  ASSERT_OK_AND_ASSIGN(ItemPtr min, DecodeHex("3b7fffffffffffffff"));
  EXPECT_EQ(GetInt(min.get(), "min").value(), INT64_MIN);
  ASSERT_OK_AND_ASSIGN(ItemPtr too_small, DecodeHex("3b8000000000000000"));
  EXPECT_CODE(GetInt(too_small.get(), "min-1"), Code::kMalformedEvidence);
  EXPECT_CODE(GetBytes(max.get(), "x"), Code::kMalformedEvidence);
  EXPECT_CODE(GetText(max.get(), "x"), Code::kMalformedEvidence);
}

TEST(CborEncode, PreferredArgumentEncoding) {
  const std::pair<std::uint64_t, const char*> cases[] = {
      {0, "40"}, {23, "57"}, {24, "5818"}, {255, "58ff"}, {256, "590100"}, {65535, "59ffff"},
      {65536, "5a00010000"}, {0xffffffffULL, "5affffffff"}, {0x100000000ULL, "5b0000000100000000"}};
  for (const auto& [n, hex] : cases) {
    Bytes out;
    AppendHead(out, 2, n);
    EXPECT_EQ(HexEncode(out), hex) << n;
  }
  Bytes text;
  AppendText(text, "Signature1");
  EXPECT_EQ(HexEncode(text), "6a5369676e617475726531");
}

}  // namespace
}  // namespace sigil::cbor
