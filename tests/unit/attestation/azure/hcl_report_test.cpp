// ParseHclReport and ParseTdReport on the real captures of /work/shared/vectors/azure-cvm
// (MANIFEST "HCL report layout", AZ-SNP-1, AZ-TDX-1) and mutations of them.
#include "attestation/azure/hcl_report.h"

#include <gtest/gtest.h>

#include "attestation/azure/tdreport.h"
#include "attestation/snp/report.h"
#include "core/digest.h"
#include "core/encoding.h"
#include "tests/support/matchers.h"
#include "tests/unit/attestation/azure/azure_test_util.h"

namespace sigil::attestation::azure {
namespace {

using namespace sigil::testing::azure;  // NOLINT: test helpers

void PutU32(Bytes& b, std::size_t off, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[off + i] = static_cast<std::uint8_t>(v >> (8 * i));
}

std::string ErrorOf(const Result<HclReport>& r) { return r ? "" : r.error().message(); }

TEST(HclReportTest, SnpCaptureParsesAsTheManifestSays) {
  const Bytes bytes = SnpHcl();
  ASSERT_EQ(bytes.size(), 2048u);
  ASSERT_OK_AND_ASSIGN(HclReport r, ParseHclReport(bytes));
  EXPECT_EQ(r.header_version, 1u);
  EXPECT_EQ(r.report_size, 1819u);
  EXPECT_EQ(r.request_type, 2u);
  EXPECT_EQ(r.report_type, HclReportType::kSnp);
  EXPECT_EQ(r.hash_type, HclHashType::kSha256);
  EXPECT_EQ(r.runtime_data.size(), 583u);
  EXPECT_EQ(r.padding, 2048u - 1819u);
  EXPECT_EQ(Bytes(r.hardware_report.begin(), r.hardware_report.end()),
            ReadVector("derived_snp_report.bin"));
  EXPECT_EQ(Bytes(r.runtime_data.begin(), r.runtime_data.end()),
            ReadVector("derived_snp_runtime_data.json"));
  EXPECT_EQ(HexEncode(Sha256(r.runtime_data)),
            "1d0a466a9eed975e88f889f7aed4abc1c97e87c4f43e5e3478c9a4a5853cbd7d");
  // The embedded report is a strict SNP v2 report (MANIFEST field table).
  ASSERT_OK_AND_ASSIGN(snp::Report snp, snp::ParseReport(r.hardware_report));
  EXPECT_EQ(snp.version, 2u);
  EXPECT_EQ(snp.vmpl, 0u);
  EXPECT_EQ(snp.policy.raw, 0x3001Fu);
  EXPECT_EQ(HexEncode(snp.measurement),
            "5a71e4ba7e0b83e44c8e853130a65557db0a7782cdb2d906c54b0bf5878202805ab159bfe0cf7d5749aa6f6"
            "2b7094508");
}

TEST(HclReportTest, TdxCaptureParsesAsTheManifestSays) {
  const Bytes bytes = TdxHcl();
  ASSERT_EQ(bytes.size(), 2600u);
  ASSERT_OK_AND_ASSIGN(HclReport r, ParseHclReport(bytes));
  EXPECT_EQ(r.header_version, 2u);
  EXPECT_EQ(r.report_size, 2438u);
  EXPECT_EQ(r.report_type, HclReportType::kTdx);
  EXPECT_EQ(r.hash_type, HclHashType::kSha256);
  EXPECT_EQ(r.runtime_data.size(), 1202u);
  EXPECT_EQ(r.padding, 2600u - 2438u);
  EXPECT_EQ(Bytes(r.hardware_report.begin(), r.hardware_report.end()),
            ReadVector("derived_tdreport.bin"));
  EXPECT_EQ(Bytes(r.runtime_data.begin(), r.runtime_data.end()),
            ReadVector("derived_tdx_runtime_data.json"));
  EXPECT_EQ(HexEncode(Sha256(r.runtime_data)),
            "e8f0796193ba21d6d43d2ea4bb6e4081ce4920729b348f39099cd2f65ecb6170");

  ASSERT_OK_AND_ASSIGN(TdReport td, ParseTdReport(r.hardware_report));
  EXPECT_EQ(HexEncode(td.report_type), "81000000");
  EXPECT_EQ(HexEncode(td.cpu_svn), "0606131503ff00030000000000000000");
  EXPECT_EQ(HexEncode(td.report_data),
            "e8f0796193ba21d6d43d2ea4bb6e4081ce4920729b348f39099cd2f65ecb6170" + std::string(64, '0'));
  EXPECT_EQ(HexEncode(td.mac), "678f8d8cb4d2f3896b21c19641d37ed0ad94828b96ff88c8ba506b1a8194c4b8");
  EXPECT_EQ(HexEncode(td.tcb_valid), "ff01030000000000");
  EXPECT_EQ(HexEncode(td.tee_tcb_svn), "02010600000000000000000000000000");
  EXPECT_EQ(HexEncode(td.tee_tcb_svn2), "02010600000000000000000000000000");
  EXPECT_EQ(HexEncode(td.mr_seam),
            "360304d34a16aace0a18e09ad2d07d2b9fd3c174378e5bf108388079827f89ff62acc5f8c473dd40706324"
            "834e202946");
  EXPECT_EQ(HexEncode(td.mr_td),
            "75f3acc2e1dfc3acf404d7eaa69a2eefcd0475a0dd6516ef5ba3cb83399c61b4aa1c638e3622bb650a514b"
            "fc6e858886");
  EXPECT_EQ(HexEncode(td.xfam), "e718060000000000");  // 0x00000000000618E7 little-endian
  EXPECT_FALSE(td.debug());
  for (const Td48& rtmr : td.rtmr) EXPECT_EQ(rtmr, Td48{});
  // MANIFEST: the two hashes are consistent with the bodies (internal consistency only).
  EXPECT_EQ(Sha384(td.tee_tcb_info), td.tee_tcb_info_hash);
  EXPECT_EQ(Sha384(td.td_info), td.tee_info_hash);
  EXPECT_EQ(HexEncode(td.tee_tcb_info_hash).substr(0, 8), "8801be63");
  EXPECT_EQ(HexEncode(td.tee_info_hash).substr(0, 8), "afdfa33d");
}

TEST(HclReportTest, EveryTruncationIsRefused) {
  for (const Bytes& full : {SnpHcl(), TdxHcl()}) {
    const std::size_t report_size = ParseHclReport(full)->report_size;
    for (std::size_t n = 0; n < report_size; ++n) {
      auto r = ParseHclReport(ByteSpan(full).first(n));
      ASSERT_FALSE(r.has_value()) << "length " << n;
      EXPECT_EQ(r.error().code(), Code::kMalformedEvidence);
    }
    // The NV zero padding may be cut anywhere, down to exactly report_size.
    for (std::size_t n = report_size; n <= full.size(); ++n) {
      ASSERT_OK(ParseHclReport(ByteSpan(full).first(n)));
    }
  }
}

TEST(HclReportTest, TruncationErrorsNameTheField) {
  const Bytes full = SnpHcl();
  EXPECT_NE(ErrorOf(ParseHclReport(ByteSpan(full).first(100))).find("fixed part"),
            std::string::npos);
  EXPECT_NE(ErrorOf(ParseHclReport(ByteSpan(full).first(0x4D4 + 500))).find("runtime-data size (0x4D0)"),
            std::string::npos);
}

TEST(HclReportTest, NonzeroBytesAfterTheReportAreRefused) {
  for (const Bytes& full : {SnpHcl(), TdxHcl()}) {
    const std::size_t report_size = ParseHclReport(full)->report_size;
    for (std::size_t off : {report_size, report_size + 7, full.size() - 1}) {
      Bytes b = full;
      b[off] = 0x01;
      auto r = ParseHclReport(b);
      ASSERT_FALSE(r.has_value());
      EXPECT_NE(r.error().message().find("trailing bytes"), std::string::npos)
          << r.error().message();
    }
    Bytes longer = full;
    longer.push_back(0x41);
    EXPECT_CODE(ParseHclReport(longer), Code::kMalformedEvidence);
  }
}

TEST(HclReportTest, OversizedBufferIsRefused) {
  Bytes b = SnpHcl();
  b.resize(kMaxHclReportSize + 1, 0);
  EXPECT_CODE(ParseHclReport(b), Code::kMalformedEvidence);
}

struct Mutation {
  const char* name;
  std::size_t offset;
  std::uint32_t value;
  const char* expected;  // substring of the error
};

TEST(HclReportTest, HeaderAndRequestDataMutationsAreRefused) {
  const Mutation mutations[] = {
      {"signature", 0x00, 0x41434C48, "signature (0x0)"},
      {"header version 0", 0x04, 0, "header version (0x4)"},
      {"header version 3", 0x04, 3, "header version (0x4)"},
      {"report_size", 0x08, 1820, "report_size (0x8)"},
      {"status", 0x10, 1, "status (0x10)"},
      {"reserved", 0x18, 1, "reserved (0x18)"},
      {"data size", 0x4C0, 604, "request data size (0x4C0)"},
      {"data version 2", 0x4C4, 2, "request-data version (0x4C4)"},
      {"report type VBS", 0x4C8, 1, "report type (0x4C8)"},
      {"report type TVM", 0x4C8, 3, "report type (0x4C8)"},
      {"hash type 0", 0x4CC, 0, "hash type (0x4CC)"},
      {"hash type 4", 0x4CC, 4, "hash type (0x4CC)"},
      {"runtime size 0", 0x4D0, 0, "runtime-data size (0x4D0)"},
      {"runtime size huge", 0x4D0, 0xFFFFFFFF, "runtime-data size (0x4D0)"},
      {"runtime size +1", 0x4D0, 584, "request data size (0x4C0)"},
      {"runtime size -1", 0x4D0, 582, "request data size (0x4C0)"},
  };
  for (const Mutation& m : mutations) {
    Bytes b = SnpHcl();
    PutU32(b, m.offset, m.value);
    auto r = ParseHclReport(b);
    ASSERT_FALSE(r.has_value()) << m.name;
    EXPECT_EQ(r.error().code(), Code::kMalformedEvidence) << m.name;
    EXPECT_NE(r.error().message().find(m.expected), std::string::npos)
        << m.name << ": " << r.error().message();
  }
}

TEST(HclReportTest, ConsistentlyShortenedRuntimeDataStillParses) {
  // All three lengths agree: the parser accepts it (the binding check then refuses it).
  Bytes b = SnpHcl();
  PutU32(b, 0x08, 1818);
  PutU32(b, 0x4C0, 602);
  PutU32(b, 0x4D0, 582);
  b[1818] = 0;  // the cut-off '}' becomes padding
  ASSERT_OK_AND_ASSIGN(HclReport r, ParseHclReport(b));
  EXPECT_EQ(r.runtime_data.size(), 582u);
}

TEST(HclReportTest, TdxPaddingMustBeZero) {
  Bytes b = TdxHcl();
  b[0x420] = 1;
  auto r = ParseHclReport(b);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("TDX hardware-report padding (0x420)"), std::string::npos)
      << r.error().message();
  b = TdxHcl();
  b[0x4BF] = 1;
  EXPECT_CODE(ParseHclReport(b), Code::kMalformedEvidence);
}

TEST(HclReportTest, ReportTypeSelectsTheHardwareReportNotTheRequestType) {
  // MANIFEST: request type is 2 in both captures; only 0x4C8 decides.
  Bytes b = SnpHcl();
  PutU32(b, 0x0C, 1);
  ASSERT_OK_AND_ASSIGN(HclReport r, ParseHclReport(b));
  EXPECT_EQ(r.report_type, HclReportType::kSnp);
  EXPECT_EQ(r.request_type, 1u);
}

TEST(TdReportTest, WrongTypeAndSizeAreRefused) {
  Bytes td = ReadVector("derived_tdreport.bin");
  EXPECT_CODE(ParseTdReport(ByteSpan(td).first(1023)), Code::kMalformedEvidence);
  td[0] = 0x00;  // SGX report type
  EXPECT_CODE(ParseTdReport(td), Code::kMalformedEvidence);
}

}  // namespace
}  // namespace sigil::attestation::azure
