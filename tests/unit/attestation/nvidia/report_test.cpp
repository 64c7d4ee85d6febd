// The SPDM GET_MEASUREMENTS/MEASUREMENTS parser on the real nvtrust Hopper report (MANIFEST
// NV-1) and on mutations of it: every truncation, trailing bytes, each header field, block and
// opaque record rules.
#include "attestation/nvidia/report.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>

#include "core/encoding.h"
#include "tests/support/matchers.h"
#include "tests/unit/attestation/nvidia/nvidia_test_util.h"

namespace sigil::attestation::nvidia {
namespace {

using namespace sigil::testing::nvidia;  // NOLINT: test helpers

// Offsets in the vector (MANIFEST NV-1): request 0..37, response header 37..45, record 45..3565
// (64 blocks of 55 bytes), responder nonce 3565..3597, opaque length 3597, opaque 3599..4021,
// signature 4021..4117.
constexpr std::size_t kRecordAt = 45;
constexpr std::size_t kBlockSize = 55;
constexpr std::size_t kOpaqueAt = 3599;

void ExpectMalformed(const Bytes& bytes, const std::string& needle) {
  auto r = ParseReport(bytes);
  ASSERT_FALSE(r.has_value()) << "expected refusal mentioning: " << needle;
  EXPECT_EQ(r.error().code(), Code::kMalformedEvidence);
  EXPECT_NE(r.error().message().find(needle), std::string::npos) << r.error().message();
}

TEST(NvidiaReportTest, ParsesTheVectorAsTheManifestSays) {
  const Bytes bytes = ReportBytes();
  ASSERT_EQ(bytes.size(), 4117u);
  ASSERT_OK_AND_ASSIGN(const Report r, ParseReport(bytes));
  EXPECT_EQ(r.request_param1, 0x01);
  EXPECT_EQ(r.request_param2, 0xFF);
  EXPECT_EQ(r.slot_id, 0);
  EXPECT_EQ(Bytes(r.request_nonce.begin(), r.request_nonce.end()), ExpectedNonce());
  EXPECT_EQ(HexEncode(r.responder_nonce),
            "b4b8a06aaaa35542839388e159d447a5d6f6194998fd86513e2d591ccf640985");
  ASSERT_EQ(r.blocks.size(), 64u);
  for (std::size_t i = 0; i < r.blocks.size(); ++i) {
    EXPECT_EQ(r.blocks[i].index, i + 1);
    EXPECT_EQ(r.blocks[i].dmtf_type, 0x01);  // digest of mutable firmware
    EXPECT_EQ(r.blocks[i].value.size(), 48u);
  }
  EXPECT_EQ(HexEncode(r.blocks[1].value),
            "8048dfd18fe229bf16eb9d30cca0f11a24dafe6eb731de1462984645a0b189b77c4e4e17de727a5e19e3"
            "d07de51da338");
  EXPECT_EQ(r.opaque.size(), 14u);
  EXPECT_EQ(r.driver_version, "550.90.07");
  ASSERT_TRUE(r.vbios.has_value());
  EXPECT_EQ(HexEncode(*r.vbios), "009f009601000000");
  ASSERT_TRUE(r.fwid.has_value());
  EXPECT_EQ(HexEncode(*r.fwid), kFwidHex);
  EXPECT_FALSE(r.feature_flags.has_value());  // this 550-series capture has no type 36
  EXPECT_EQ(SignedSize(r), 4021u);            // MANIFEST: "the first 4021 bytes (signed part)"
  EXPECT_EQ(SerializeReport(r), bytes);
}

TEST(NvidiaReportTest, DecodesHexTextAndRawBytes) {
  ASSERT_OK_AND_ASSIGN(const Bytes from_text, DecodeEvidence(ReportHexText()));
  EXPECT_EQ(from_text, ReportBytes());
  ASSERT_OK_AND_ASSIGN(const Bytes from_raw, DecodeEvidence(ReportBytes()));
  EXPECT_EQ(from_raw, ReportBytes());
  std::string upper = ToString(ReportHexText());
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](char c) { return static_cast<char>(std::toupper(c)); });
  ASSERT_OK_AND_ASSIGN(const Bytes from_upper, DecodeEvidence(ToBytes("\n " + upper + "\r\n")));
  EXPECT_EQ(from_upper, ReportBytes());
  EXPECT_CODE(DecodeEvidence(ToBytes("11e0zz")), Code::kMalformedEvidence);
  EXPECT_CODE(DecodeEvidence(ToBytes("11e")), Code::kMalformedEvidence);
  EXPECT_CODE(DecodeEvidence(ToBytes("11e0 01ff")), Code::kMalformedEvidence);
  EXPECT_CODE(DecodeEvidence(ToBytes("  \n")), Code::kMalformedEvidence);
  EXPECT_CODE(DecodeEvidence({}), Code::kMalformedEvidence);
}

TEST(NvidiaReportTest, EveryTruncationIsRefusedCleanly) {
  const Bytes bytes = ReportBytes();
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    auto r = ParseReport(ByteSpan(bytes).first(n));
    ASSERT_FALSE(r.has_value()) << "prefix of " << n << " bytes accepted";
    EXPECT_EQ(r.error().code(), Code::kMalformedEvidence) << n;
  }
}

// Decision (report.h): bytes after the signature are not covered by it and are refused.
TEST(NvidiaReportTest, BytesAfterTheSignatureAreRefused) {
  for (const Bytes& tail : {Bytes{0x00}, Bytes(96, 0x00), Bytes{0x11, 0xE0}}) {
    Bytes bytes = ReportBytes();
    bytes.insert(bytes.end(), tail.begin(), tail.end());
    ExpectMalformed(bytes, std::to_string(tail.size()) + " unsigned bytes after the signature at "
                                                         "offset 4117");
  }
}

TEST(NvidiaReportTest, HeaderFieldsAreChecked) {
  struct Case {
    std::size_t offset;
    std::uint8_t value;
    const char* needle;
  };
  const Case cases[] = {
      {0, 0x10, "request SPDMVersion"},  {1, 0x60, "GET_MEASUREMENTS"},
      {2, 0x00, "request Param1"},       {2, 0x03, "request Param1"},
      {3, 0x02, "request Param2"},       {36, 0x08, "SlotIDParam"},
      {37, 0x12, "response SPDMVersion"}, {38, 0xE0, "MEASUREMENTS (0x60)"},
  };
  for (const Case& c : cases) {
    Bytes bytes = ReportBytes();
    bytes[c.offset] = c.value;
    ExpectMalformed(bytes, c.needle);
  }
}

TEST(NvidiaReportTest, BlockCountAndRecordLengthMustAgree) {
  Bytes fewer = ReportBytes();
  fewer[41] = 63;
  ExpectMalformed(fewer, "more than NumberOfBlocks (63)");
  Bytes more = ReportBytes();
  more[41] = 65;
  ExpectMalformed(more, "holds 64 blocks but NumberOfBlocks is 65");
  Bytes longer = ReportBytes();
  longer[42] += 1;  // record length 3521: the record swallows a responder-nonce byte
  EXPECT_CODE(ParseReport(longer), Code::kMalformedEvidence);
  Bytes huge = ReportBytes();
  huge[44] = 0xFF;  // record length far beyond the input
  ExpectMalformed(huge, "MeasurementRecord at offset 45");
}

TEST(NvidiaReportTest, MeasurementBlockRulesAreEnforced) {
  Bytes spec = ReportBytes();
  spec[kRecordAt + 1] = 0x02;
  ExpectMalformed(spec, "MeasurementSpecification is not DMTF (1) at offset 46");
  Bytes size = ReportBytes();
  size[kRecordAt + 5] = 47;  // DMTF value size 47 inside a 51-byte block
  ExpectMalformed(size, "DMTF value size disagrees with MeasurementSize");
  Bytes zero = ReportBytes();
  zero[kRecordAt] = 0;
  ExpectMalformed(zero, "reserved measurement index at offset 45");
  Bytes all = ReportBytes();
  all[kRecordAt + 5 * kBlockSize] = 0xFF;
  ExpectMalformed(all, "reserved measurement index");
  Bytes dup = ReportBytes();
  dup[kRecordAt + kBlockSize] = 1;  // block 2 claims index 1
  ExpectMalformed(dup, "duplicate measurement index 1 at offset 100");
}

TEST(NvidiaReportTest, DuplicateBlockInARecordIsRefused) {
  const Bytes block = {0x05, 0x01, 0x04, 0x00, 0x81, 0x01, 0x00, 0xAA};
  Bytes record = block;
  record.insert(record.end(), block.begin(), block.end());
  auto r = ParseMeasurementRecord(record, 2, 0);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("duplicate measurement index 5 at offset 8"),
            std::string::npos);
  ASSERT_OK_AND_ASSIGN(auto one, ParseMeasurementRecord(block, 1, 0));
  EXPECT_EQ(one[0].dmtf_type, 0x81);  // raw bit stream values are kept as they are
}

TEST(NvidiaReportTest, OpaqueRecordsAreStrict) {
  const Bytes rec = {0x03, 0x00, 0x02, 0x00, 0x31, 0x00};
  Bytes dup = rec;
  dup.insert(dup.end(), rec.begin(), rec.end());
  auto d = ParseOpaqueData(dup, 100);
  ASSERT_FALSE(d.has_value());
  EXPECT_NE(d.error().message().find("duplicate opaque record type 3 at offset 106"),
            std::string::npos);
  EXPECT_CODE(ParseOpaqueData(Bytes{0x03, 0x00, 0x05, 0x00, 0x31}, 0), Code::kMalformedEvidence);
  EXPECT_CODE(ParseOpaqueData(Bytes{0x03, 0x00, 0x05}, 0), Code::kMalformedEvidence);
  EXPECT_CODE(ParseOpaqueData(Bytes{0x03}, 0), Code::kMalformedEvidence);
  ASSERT_OK_AND_ASSIGN(auto unknown, ParseOpaqueData(Bytes{0x99, 0x01, 0x00, 0x00}, 0));
  EXPECT_EQ(unknown[0].type, 0x199);  // kept, typed as unknown
  EXPECT_TRUE(unknown[0].value.empty());

  // In the real report: the first record (type 6, VBIOS) retyped as 3 duplicates the driver
  // version record further on.
  Bytes bytes = ReportBytes();
  bytes[kOpaqueAt] = 0x03;
  ExpectMalformed(bytes, "duplicate opaque record type 3");
  Bytes longer = ReportBytes();
  longer[kOpaqueAt - 2] += 1;  // OpaqueLength 423: the last record is cut by the signature
  EXPECT_CODE(ParseReport(longer), Code::kMalformedEvidence);
}

// Interpreted records with the wrong shape, built by re-encoding the parsed vector.
TEST(NvidiaReportTest, InterpretedOpaqueRecordsMustBeWellFormed) {
  const Report base = ParseReport(ReportBytes()).value();
  const auto with = [&](std::uint16_t type, Bytes value) {
    Report r = base;
    for (OpaqueRecord& o : r.opaque) {
      if (o.type == type) o.value = value;
    }
    return SerializeReport(r);
  };
  ExpectMalformed(with(kOpaqueFwid, Bytes(47, 1)), "FWID (type 20) is not 48 bytes");
  ExpectMalformed(with(kOpaqueVbiosVersion, Bytes(9, 1)), "VBIOS version (type 6) is not 8");
  ExpectMalformed(with(kOpaqueDriverVersion, Bytes(4, 0)), "driver version (type 3) is empty");
  ExpectMalformed(with(kOpaqueDriverVersion, ToBytes("55\n0")), "not printable ASCII");
  Report flags = base;
  flags.opaque.push_back({kOpaqueFeatureFlags, Bytes{0x01, 0x00, 0x00, 0x00}});
  ASSERT_OK_AND_ASSIGN(const Report parsed, ParseReport(SerializeReport(flags)));
  EXPECT_EQ(parsed.feature_flags, (Bytes{0x01, 0x00, 0x00, 0x00}));
}

}  // namespace
}  // namespace sigil::attestation::nvidia
