// Every DCAP vector verifies as /work/shared/vectors/{tdx,sgx}/MANIFEST.md says, at the time it
// names, with the field values and TCB statuses it lists.
#include <gtest/gtest.h>

#include "attestation/dcap/quote.h"
#include "attestation/dcap/verifier.h"
#include "core/encoding.h"
#include "dcap_test_util.h"
#include "tests/support/matchers.h"

namespace sigil::attestation::dcap {
namespace {
using namespace testing;

std::unique_ptr<Verifier> MakeVerifier(DcapTee tee) {
  return DcapVerifier::Create(tee, DcapConfig{{Load(kRootDer)}, std::nullopt}).value();
}

Bytes HexBytes(const char* hex) { return HexDecode(hex).value(); }

// TDX-3: dcap-qvl quote v4 + full collateral at 2025-07-19T10:00:34Z: UpToDate, no advisories.
TEST(DcapVectors, Tdx3FullCollateralUpToDate) {
  const Bytes quote = Load(kTdx3);
  const Bytes collateral = Load(kTdx3Collateral);
  const Bytes rd = HexBytes(
      "9a9d48e7f6799642d3d1b34e1e5e1742d4bb02dd6ddd551862c1211d35c304f9eca3efdbb481601c163cf52493d6e44"
      "aed55d51ec39b7e518fadb92c2b523f20");
  auto v = MakeVerifier(DcapTee::kTdx);
  ASSERT_OK_AND_ASSIGN(Claims c, v->Verify({quote, collateral, rd, Unix(1752919234)}));
  EXPECT_EQ(c.GetString("tee"), "tdx");
  EXPECT_EQ(c.GetString("tcb.status"), "UpToDate");
  EXPECT_EQ(c.GetString("tcb.advisory_ids"), "");
  EXPECT_EQ(c.GetBool("debug"), false);
  EXPECT_EQ(c.GetString("platform.id"), "b0c06f000000");
  EXPECT_EQ(c.GetString("measurement"),
            "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7");
  EXPECT_EQ(c.GetString("tdx.mrtd"), c.GetString("measurement"));
  EXPECT_EQ(c.GetString("tdx.tee_tcb_svn"), "06010300000000000000000000000000");
  EXPECT_EQ(c.GetString("tdx.mrseam"),
            "5b38e33a6487958b72c3c12a938eaa5e3fd4510c51aeeab58c7d5ecee41d7c436489d6c8e4f92f160b7cad34207b00c1");
  EXPECT_EQ(c.GetString("tdx.td_attributes"), "0000001000000000");
  EXPECT_EQ(c.GetString("tdx.xfam"), "e702060000000000");
  EXPECT_EQ(c.GetString("tdx.rtmr0"),
            "44c0197b39157fdd7a4dcc44767f9d6b0bb3977c7a8e347b8492f827fe9d9e5c48aca29b220b80b6a540cf994b9bc9c0");
  EXPECT_EQ(c.GetString("tdx.rtmr1"),
            "0084452c01668329d4bc06acdf58a7205c26743304509973949e5619bf81a6a7aea8c323c173019b3093d54e579e9378");
  EXPECT_EQ(c.GetString("tdx.rtmr2"),
            "d833feef2cd945148aa38ead2c53e9b7f138190aaaebfc551dccd829fc207aa3ba80b70870d7330733642e01d48c3132");
  EXPECT_EQ(c.GetString("tdx.rtmr3"), std::string(96, '0'));
  EXPECT_EQ(c.GetString("report_data"), HexEncode(rd));
}

// SGX-1: dcap-qvl quote v3 + collateral at 2025-07-19T10:01:17Z:
// ConfigurationAndSWHardeningNeeded with INTEL-SA-00289 and INTEL-SA-00615.
TEST(DcapVectors, Sgx1ConfigurationAndSwHardeningNeeded) {
  const Bytes quote = Load(kSgx1);
  const Bytes collateral = Load(kSgx1Collateral);
  Bytes rd = ToBytes("Hello, world!");
  rd.resize(64, 0);
  auto v = MakeVerifier(DcapTee::kSgx);
  ASSERT_OK_AND_ASSIGN(Claims c, v->Verify({quote, collateral, rd, Unix(1752919277)}));
  EXPECT_EQ(c.GetString("tee"), "sgx");
  EXPECT_EQ(c.GetString("tcb.status"), "ConfigurationAndSWHardeningNeeded");
  EXPECT_EQ(c.GetString("tcb.advisory_ids"), "INTEL-SA-00289,INTEL-SA-00615");
  EXPECT_EQ(c.GetBool("debug"), false);
  EXPECT_EQ(c.GetString("measurement"),
            "33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb");
  EXPECT_EQ(c.GetString("sgx.mrsigner"),
            "815f42f11cf64430c30bab7816ba596a1da0130c3b028b673133a66cf9a3e0e6");
  EXPECT_EQ(c.GetInt("sgx.isv_prod_id"), 0);
  EXPECT_EQ(c.GetInt("sgx.isv_svn"), 0);
  EXPECT_EQ(c.GetString("platform.id"), "00a067110000");
  EXPECT_EQ(c.GetString("report_data"), HexEncode(rd));
}


// TDX-1: go-tdx-guest quote v4 without collateral at 2023-07-01T01:00:00Z: PASS (signatures and
// PCK chain; tcb.status NotEvaluated). The quote carries 39 trailing bytes, accepted.
TEST(DcapVectors, Tdx1ChainOnlyPasses) {
  const Bytes quote = Load(kTdx1);
  ASSERT_OK_AND_ASSIGN(Quote q, ParseQuote(quote));
  EXPECT_EQ(q.trailing_bytes, 39u);
  EXPECT_EQ(q.header.version, 4);
  EXPECT_EQ(q.header.tee_type, 0x81u);
  EXPECT_EQ(HexEncode(q.header.qe_vendor_id), "939a7233f79c4ca9940a0db3957f0607");
  EXPECT_EQ(HexEncode(q.header.user_data), "739c3f292a15bace1f726351a70d4b7900000000");
  EXPECT_EQ(HexEncode(q.qe_report_body.mr_enclave),
            "853e298f3b7cde28b06493d06fb2ad6f9566a97fea6d3de66236b2af1a35150f");
  EXPECT_EQ(q.qe_report_body.isv_prod_id, 2);
  EXPECT_EQ(q.qe_report_body.isv_svn, 4);
  ASSERT_OK_AND_ASSIGN(Claims c, VerifyDcapQuote(DcapTee::kTdx, quote, Roots(), nullptr, {},
                                                 At(2023, 7, 1, 1, 0, 0)));
  EXPECT_EQ(c.GetString("tcb.status"), "NotEvaluated");
  EXPECT_EQ(c.GetString("platform.id"), "50806f000000");
  EXPECT_EQ(c.GetBool("debug"), false);
  EXPECT_EQ(c.GetString("tdx.tee_tcb_svn"), "03000400000000000000000000000000");
  EXPECT_EQ(c.GetString("tdx.mrseam"),
            "2fd279c16164a93dd5bf373d834328d46008c2b693af9ebb865b08b2ced320c9a89b4869a9fab60fbe9d0c5a5363c656");
  EXPECT_EQ(c.GetString("tdx.td_attributes"), "0000004000000000");
  EXPECT_EQ(c.GetString("tdx.xfam"), "e71a060000000000");
  EXPECT_EQ(c.GetString("measurement"),
            "6363b8043668a3ad953278e10389574d326c6749fb78aa810ecd9336923db86f22fc00b8dcd404bc10d5e119d7215cbb");
  EXPECT_EQ(c.GetString("tdx.mrconfigid"), std::string(96, '0'));
  EXPECT_EQ(c.GetString("tdx.mrowner"), std::string(96, '0'));
  EXPECT_EQ(c.GetString("tdx.mrownerconfig"), std::string(96, '0'));
  EXPECT_EQ(c.GetString("tdx.rtmr0"),
            "2927da70461cd63266f43230cc1849c03ef25ebe490062a801d8fcc80af42976823adf08f833c1e50b51779c6593f32a");
  EXPECT_EQ(c.GetString("tdx.rtmr1"),
            "2c700b8ba9b85783f8be9fb9443647bdc0bb3c50747f06297cc6538c25a5f589c4b56d035c59107c6bc5800db2cacb61");
  EXPECT_EQ(c.GetString("tdx.rtmr2"),
            "8652f0caaba7e215ea442dc36a4499d8fec3362f3a0b2ca151cbe4b3e6466fe59c7368b3c2287fc7c3bf5c924eb4424e");
  EXPECT_EQ(c.GetString("tdx.rtmr3"), std::string(96, '0'));
  EXPECT_EQ(c.GetString("report_data"),
            "6c62dec1b8191749a31dab490be532a35944dea47caef1f980863993d9899545eb7406a38d1eed313b987a467dacead6f0c87a6d766c66f6f29f8acb281f1113");
}

// TDX-1 at 2053-07-01: the PCK leaf (notAfter 2029-09-20) has expired.
TEST(DcapVectors, Tdx1ExpiredPckLeafFails) {
  EXPECT_CODE(VerifyDcapQuote(DcapTee::kTdx, Load(kTdx1), Roots(), nullptr, {},
                              At(2053, 7, 1, 1, 0, 0)),
              Code::kExpired);
}

// TDX-1 with its go-tdx-guest collateral at 2023-07-01: the collateral verifies (signatures,
// dates, CRLs) but no TCB level matches the real SVNs (MANIFEST: "no matching TCB level"), which
// Intel's QVL reports as TCB not supported: refused.
TEST(DcapVectors, Tdx1FullCollateralNoMatchingTcbLevel) {
  const std::string collateral = Tdx1Collateral();
  ASSERT_OK_AND_ASSIGN(Collateral raw, ParseCollateral(AsBytes(collateral)));
  ASSERT_OK_AND_ASSIGN(VerifiedCollateral vc,
                       VerifyCollateral(std::move(raw), Roots(), At(2023, 7, 1, 1, 0, 0)));
  EXPECT_EQ(vc.tcb_info.levels.size() > 0, true);
  auto r = MakeVerifier(DcapTee::kTdx)->Verify({Load(kTdx1), AsBytes(collateral), {},
                                                At(2023, 7, 1, 1, 0, 0)});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kVerificationFailed);
  EXPECT_NE(r.error().message().find("no TCB level"), std::string::npos) << r.error().message();
  // At 2053 the collateral itself has expired.
  EXPECT_CODE(MakeVerifier(DcapTee::kTdx)->Verify({Load(kTdx1), AsBytes(collateral), {},
                                                   At(2053, 7, 1, 1, 0, 0)}),
              Code::kExpired);
}

// TDX-2: go-tdx-guest quote v5 (body type 3, TD 1.5) without collateral at 2026-02-03: PASS.
TEST(DcapVectors, Tdx2V5ChainOnlyPasses) {
  const Bytes quote = Load(kTdx2);
  ASSERT_OK_AND_ASSIGN(Quote q, ParseQuote(quote));
  EXPECT_EQ(q.header.version, 5);
  EXPECT_EQ(q.signed_region.size(), 48u + 6u + 648u);
  EXPECT_EQ(q.qe_report_body.isv_svn, 7);
  ASSERT_OK_AND_ASSIGN(Claims c, VerifyDcapQuote(DcapTee::kTdx, quote, Roots(), nullptr, {},
                                                 At(2026, 2, 3, 1, 0, 0)));
  EXPECT_EQ(c.GetString("platform.id"), "90c06f000000");
  EXPECT_EQ(c.GetString("tdx.tee_tcb_svn"), "0b010400000000000000000000000000");
  EXPECT_EQ(c.GetString("tdx.tee_tcb_svn2"), "0d010400000000000000000000000000");
  EXPECT_EQ(c.GetString("tdx.mrservicetd"), std::string(96, '0'));
  EXPECT_EQ(c.GetString("tdx.mrseam"),
            "7bf063280e94fb051f5dd7b1fc59ce9aac42bb961df8d44b709c9b0ff87a7b4df648657ba6d1189589feab1d5a3c9a9d");
  EXPECT_EQ(c.GetString("tdx.td_attributes"), "0000001000000000");
  EXPECT_EQ(c.GetString("tdx.xfam"), "e702060000000000");
  EXPECT_EQ(c.GetString("measurement"),
            "7348651a34b2d2d3462822e3a750ec6110125f36757c78480bbfc69cc0d21fb001a1ced3ee19747dda8f750c3bc8f876");
  EXPECT_EQ(c.GetString("tdx.rtmr0"),
            "5c8daf76063a71ac8fcef4067564661fc682ed7944c7a5d21dbbced02f61ceff4ba0678c6aef3bdae8cbc614cec24619");
  EXPECT_EQ(c.GetString("tdx.rtmr1"),
            "463acaace1b6e97c76e92e41fe312aa66f3fd4dad60ec7acf169859db0343e3d1e591646795cdc80fbc0ca5f7041d253");
  EXPECT_EQ(c.GetString("tdx.rtmr2"),
            "6369b9c9a3b791ebcbdc5a0bb9536cfb57f50df2b393b33c8b29616d3568baa61f4b59dc6092e31ea8764bcbdfc69f20");
  EXPECT_EQ(c.GetString("tdx.rtmr3"), std::string(96, '0'));
  EXPECT_EQ(c.GetString("report_data"),
            "945eaacf5abc1f719d8666a942fda03d1edcb4490277396093dc5a5289ab9f1e094aed63060cd4a4933a4dd537ed1255c9c79ecb3ed82cd1b486233e31c25c3a");
}

}  // namespace
}  // namespace sigil::attestation::dcap
