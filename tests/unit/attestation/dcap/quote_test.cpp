// The pure quote parser (quote.h): layouts, trailing bytes, truncation and precise errors.
#include <gtest/gtest.h>

#include "attestation/dcap/quote.h"
#include "core/encoding.h"
#include "dcap_test_util.h"
#include "tests/support/matchers.h"

namespace sigil::attestation::dcap {
namespace {
using namespace testing;

TEST(DcapQuote, TrailingBytesAcceptedAndCounted) {
  EXPECT_EQ(ParseQuote(Load(kTdx1))->trailing_bytes, 39u);
  EXPECT_EQ(ParseQuote(Load(kTdx2))->trailing_bytes, 0u);
  EXPECT_EQ(ParseQuote(Load(kTdx3))->trailing_bytes, 70u);
  EXPECT_EQ(ParseQuote(Load(kSgx1))->trailing_bytes, 0u);
}

TEST(DcapQuote, SgxHeaderAndBody) {
  ASSERT_OK_AND_ASSIGN(Quote q, ParseQuote(Load(kSgx1)));
  EXPECT_EQ(q.header.version, 3);
  EXPECT_EQ(q.header.tee_type, 0u);
  EXPECT_EQ(q.header.qe_svn, 10);
  EXPECT_EQ(q.header.pce_svn, 15);
  EXPECT_EQ(HexEncode(q.header.user_data), "3987622ee6968a54977c8626ef47123500000000");
  ASSERT_TRUE(q.sgx.has_value());
  EXPECT_EQ(HexEncode(q.sgx->cpu_svn), "0b0b1a18ffff04000000000000000000");
  EXPECT_EQ(q.sgx->misc_select, 0u);
  EXPECT_EQ(HexEncode(q.sgx->attributes), "0500000000000000e700000000000000");
  EXPECT_EQ(q.sgx->config_svn, 0);
  EXPECT_EQ(q.signed_region.size(), 432u);
  EXPECT_EQ(HexEncode(q.qe_report_body.mr_enclave),
            "96b347a64e5a045e27369c26e6dcda51fd7c850e9b3a3a79e718f43261dee1e4");
  EXPECT_EQ(HexEncode(q.qe_report_body.mr_signer),
            "8c4f5775d796503e96137f77c68a829a0056ac8ded70140b081b094490c57bff");
  EXPECT_EQ(q.qe_report_body.isv_prod_id, 1);
  EXPECT_EQ(q.qe_report_body.isv_svn, 10);
}

// Every proper prefix that ends inside the signature data is refused cleanly.
TEST(DcapQuote, EveryTruncationRefused) {
  for (const char* rel : {kTdx1, kTdx2, kTdx3, kSgx1}) {
    const Bytes quote = Load(rel);
    const std::size_t end = quote.size() - ParseQuote(quote)->trailing_bytes;
    for (std::size_t n = 0; n < end; ++n) {
      auto r = ParseQuote(ByteSpan(quote).first(n));
      ASSERT_FALSE(r.has_value()) << rel << " prefix " << n;
      ASSERT_EQ(r.error().code(), Code::kMalformedEvidence);
    }
  }
}

TEST(DcapQuote, ErrorsNameFieldAndOffset) {
  Bytes q = Load(kTdx1);
  q[0] = 3;  // version 3 is SGX-only
  auto r = ParseQuote(q);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("offset 4"), std::string::npos) << r.error().message();
  q = Load(kTdx1);
  q[0x278] = 0x10;  // signature data length (go-tdx-guest negative table)
  r = ParseQuote(q);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("certification data size 4165 at offset 766"), std::string::npos) << r.error().message();
  q = Load(kTdx1);
  q[2] = 3;  // attestation key type
  r = ParseQuote(q);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("attestation key type 3 at offset 2"), std::string::npos);
  q = Load(kTdx2);
  q[48] = 4;  // v5 body type
  r = ParseQuote(q);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("offset 48"), std::string::npos) << r.error().message();
}

}  // namespace
}  // namespace sigil::attestation::dcap
