// The GPU report lines (loader/gpu/report_lines.h) on the real nvtrust H100 report and chain
// (../shared/vectors/nvidia-gpu), and the damaged lines an operator's command could print.
#include "loader/gpu/report_lines.h"

#include <gtest/gtest.h>

#include "core/encoding.h"
#include "core/json.h"
#include "tests/support/matchers.h"
#include "tests/unit/attestation/nvidia/nvidia_test_util.h"

namespace sigil::loader::gpu {
namespace {

namespace nv = sigil::testing::nvidia;

std::string Line(const std::string& report_hex, const std::string& chain) {
  return Json{{"report", report_hex}, {"cert_chain", chain}}.dump() + "\n";
}
std::string RealLine() { return Line(ToString(nv::ReportHexText()), ToString(nv::ChainPem())); }

void ExpectMalformed(const std::string& text, std::string_view why) {
  auto r = ParseGpuReportLines(text, "out");
  ASSERT_FALSE(r.has_value()) << text;
  EXPECT_EQ(r.error().code(), Code::kMalformedEvidence);
  EXPECT_NE(r.error().message().find(why), std::string::npos) << r.error().message();
}

TEST(GpuReportLinesTest, RealReportLinesParse) {
  ASSERT_OK_AND_ASSIGN(auto gpus, ParseGpuReportLines("\n" + RealLine() + "  \r\n" + RealLine(), "out"));
  ASSERT_EQ(gpus.size(), 2u);
  EXPECT_EQ(gpus[0].report, nv::ReportBytes());  // decoded from hex: the raw 4117 bytes
  EXPECT_EQ(gpus[1].collateral, nv::ChainPem());
  // Upper-case hex is hex too.
  std::string upper = ToString(nv::ReportHexText());
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_OK(ParseGpuReportLines(Line(upper, ToString(nv::ChainPem())), "out"));
}

TEST(GpuReportLinesTest, MalformedLinesAreRefusedNamingTheLine) {
  const std::string hex = ToString(nv::ReportHexText()), chain = ToString(nv::ChainPem());
  ExpectMalformed("", "out: no GPU report line");
  ExpectMalformed("\n \n", "no GPU report line");
  ExpectMalformed(RealLine() + hex + "\n", "out line 2");  // bare hex, no chain
  ExpectMalformed(R"({"report":"00"})", "exactly the fields report, cert_chain");
  ExpectMalformed(Json{{"report", hex}, {"cert_chain", chain}, {"gpu", 0}}.dump(), "exactly the fields");
  ExpectMalformed(Json{{"report", 1}, {"cert_chain", chain}}.dump(), "must be strings");
  ExpectMalformed(Line(hex + "g", chain), "report is not hex");
  ExpectMalformed(Line(hex.substr(0, 200), chain), "out line 1: report:");  // truncated report
  ExpectMalformed(Line(hex, "not a chain"), "cert_chain holds no PEM certificate");
  ExpectMalformed(R"({"report":"00","report":"00","cert_chain":""})", "duplicate");
  std::string seventeen;
  for (int i = 0; i < 17; ++i) seventeen += RealLine();
  ExpectMalformed(seventeen, "more than 16 GPU reports");
}

}  // namespace
}  // namespace sigil::loader::gpu
