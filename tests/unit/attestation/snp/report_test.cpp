// Parser and TCB tests for attestation/snp/report.h and tcb.h, on the real Milan reports of
// /work/shared/vectors/sev-snp (MANIFEST SNP-1, SNP-2) and mutations of them.
#include "attestation/snp/report.h"

#include <gtest/gtest.h>

#include "attestation/snp/tcb.h"
#include "core/encoding.h"
#include "tests/support/matchers.h"
#include "tests/unit/attestation/snp/snp_test_util.h"

namespace sigil::attestation::snp {
namespace {

using sigil::testing::snp::Snp1Report;
using sigil::testing::snp::Snp2Report;

template <std::size_t N>
std::string H(const std::array<std::uint8_t, N>& a) {
  return HexEncode(a);
}

TEST(SnpReportTest, Snp1FieldsMatchManifest) {
  const Bytes bytes = Snp1Report();
  ASSERT_EQ(bytes.size(), kReportSize);
  ASSERT_OK_AND_ASSIGN(Report r, ParseReport(bytes));
  EXPECT_EQ(r.version, 2u);
  EXPECT_EQ(r.guest_svn, 0u);
  EXPECT_EQ(r.policy.raw, 0xB0000u);
  EXPECT_TRUE(r.policy.smt());
  EXPECT_TRUE(r.policy.reserved17());
  EXPECT_TRUE(r.policy.debug());
  EXPECT_FALSE(r.policy.migrate_ma());
  EXPECT_EQ(r.policy.abi_major(), 0);
  EXPECT_EQ(r.policy.abi_minor(), 0);
  EXPECT_EQ(r.family_id, (std::array<std::uint8_t, 16>{}));
  EXPECT_EQ(r.image_id, (std::array<std::uint8_t, 16>{}));
  EXPECT_EQ(r.vmpl, 0u);
  EXPECT_EQ(r.signature_algo, 1u);
  EXPECT_EQ(r.platform_info, 1u);
  EXPECT_FALSE(r.author_key_en);
  EXPECT_FALSE(r.mask_chip_key);
  EXPECT_EQ(r.signing_key, 0);
  EXPECT_EQ(H(r.report_data), "0102030405" + std::string(59 * 2, '0'));
  EXPECT_EQ(H(r.measurement),
            "b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608"
            "eb0cf2e4872b01");
  EXPECT_EQ(r.host_data, (std::array<std::uint8_t, 32>{}));
  EXPECT_EQ(r.id_key_digest, (std::array<std::uint8_t, 48>{}));
  EXPECT_EQ(r.author_key_digest, (std::array<std::uint8_t, 48>{}));
  EXPECT_EQ(H(r.report_id), "8edc638e1857c555d21f6b11bda3c8b1b5a09dba4852b4c8ee7aa2f16f22cc0a");
  EXPECT_EQ(H(r.report_id_ma), std::string(64, 'f'));
  EXPECT_EQ(H(r.chip_id),
            "3ac3fe21e13fb0990eb28a802e3fb6a29483a6b0753590c951bdd3b8e53786184ca39e359669a2b7"
            "6a1936776b564ea464cdce40c05f63c9b610c5068b006b5d");
  for (std::uint64_t tcb : {r.current_tcb, r.reported_tcb, r.committed_tcb, r.launch_tcb}) {
    EXPECT_EQ(tcb, 4901323769462652930u);
  }
  EXPECT_EQ(r.current_build, 3);
  EXPECT_EQ(r.current_minor, 49);
  EXPECT_EQ(r.current_major, 1);
  EXPECT_EQ(r.committed_build, 3);
  EXPECT_EQ(r.committed_minor, 49);
  EXPECT_EQ(r.committed_major, 1);
  ASSERT_OK_AND_ASSIGN(TcbVersion tcb, DecodeTcb(r.reported_tcb, Product::kMilan));
  EXPECT_EQ(tcb, (TcbVersion{2, 0, 5, 68, std::nullopt}));
}

TEST(SnpReportTest, Snp2FieldsMatchManifest) {
  ASSERT_OK_AND_ASSIGN(Report r, ParseReport(Snp2Report()));
  EXPECT_EQ(r.version, 2u);
  EXPECT_EQ(r.policy.raw, 0x30000u);
  EXPECT_FALSE(r.policy.debug());
  EXPECT_EQ(r.platform_info, 1u);
  EXPECT_EQ(H(r.report_data),
            "d447b55d197491bfe15cf298f9de9986b7a7c4be2468b4f6e2d53b71d7c645810b0f2cdfca004043"
            "3be063fc1a8293f0f3f8dae7b79fecb3d1cd82bd6a93ebfd");
  EXPECT_EQ(H(r.measurement),
            "7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d3e1a0dc39b2c60bd"
            "95b9c480cd81841f");
  EXPECT_EQ(H(r.report_id), "92b3b47d59f0a2a10a74c5678868a80238cf593c01a82f3cffb878e904c28d5b");
  EXPECT_EQ(H(r.chip_id),
            "d49554ec717f4e5b0fe6b143bcf0405bd7ae304727edf46603f2a76aef6a3abc15d7af38db757039"
            "029f0efacfd08e244324884738c72b082e2f87a44d541eb6");
  for (std::uint64_t raw : {r.current_tcb, r.reported_tcb, r.committed_tcb, r.launch_tcb}) {
    ASSERT_OK_AND_ASSIGN(TcbVersion tcb, DecodeTcb(raw, Product::kMilan));
    EXPECT_EQ(tcb, (TcbVersion{3, 0, 8, 115, std::nullopt}));
  }
  EXPECT_EQ(r.current_major, 1);
  EXPECT_EQ(r.current_minor, 52);
  EXPECT_EQ(r.current_build, 4);
}

TEST(SnpReportTest, SerializeRoundTripsRealReports) {
  for (const Bytes& bytes : {Snp1Report(), Snp2Report()}) {
    ASSERT_OK_AND_ASSIGN(Report r, ParseReport(bytes));
    EXPECT_EQ(SerializeReport(r), bytes);
  }
}

TEST(SnpReportTest, WrongSizeIsRefused) {
  Bytes b = Snp1Report();
  EXPECT_CODE(ParseReport(ByteSpan(b).first(kReportSize - 1)), Code::kMalformedEvidence);
  b.push_back(0);
  EXPECT_CODE(ParseReport(b), Code::kMalformedEvidence);
  EXPECT_CODE(ParseReport({}), Code::kMalformedEvidence);
}

struct FieldCase {
  std::size_t offset;
  std::uint8_t value;
  const char* expect_in_message;
};

class SnpReportMalformedTest : public ::testing::TestWithParam<FieldCase> {};

TEST_P(SnpReportMalformedTest, RefusedNamingFieldAndOffset) {
  Bytes b = Snp1Report();
  b[GetParam().offset] = GetParam().value;
  auto r = ParseReport(b);
  EXPECT_CODE(r, Code::kMalformedEvidence);
  EXPECT_NE(r.error().message().find(GetParam().expect_in_message), std::string::npos)
      << r.error().message();
}

INSTANTIATE_TEST_SUITE_P(
    Fields, SnpReportMalformedTest,
    ::testing::Values(FieldCase{0x000, 4, "VERSION at 0x000"}, FieldCase{0x000, 1, "VERSION"},
                      FieldCase{0x034, 2, "SIGNATURE_ALGO at 0x034"},
                      FieldCase{0x04B, 1, "FLAGS at 0x048"},
                      FieldCase{0x04C, 1, "RESERVED(0x04C) at 0x04C"},
                      FieldCase{0x188, 1, "at 0x188"}, FieldCase{0x19F, 1, "at 0x19F"},
                      FieldCase{0x1EB, 1, "at 0x1EB"}, FieldCase{0x1EF, 1, "at 0x1EF"},
                      FieldCase{0x1F8, 1, "at 0x1F8"}, FieldCase{0x29F, 1, "at 0x29F"},
                      FieldCase{0x2A0 + 48, 1, "SIGNATURE.R"},
                      FieldCase{0x2E8 + 71, 1, "SIGNATURE.S"},
                      FieldCase{0x49F, 1, "SIGNATURE.RESERVED"}));

TEST(SnpReportTest, Version3ReadsCpuidAndVersion5MitigationVectors) {
  Bytes b = Snp1Report();
  b[0x000] = 3;
  b[0x188] = 0x19;
  b[0x189] = 0x01;
  b[0x18A] = 0x01;
  ASSERT_OK_AND_ASSIGN(Report v3, ParseReport(b));
  EXPECT_EQ(v3.cpuid_fam_id, 0x19);
  EXPECT_EQ(v3.cpuid_mod_id, 0x01);
  EXPECT_EQ(v3.cpuid_step, 0x01);
  EXPECT_EQ(SerializeReport(v3), b);
  b[0x18B] = 1;  // still reserved in v3
  EXPECT_CODE(ParseReport(b), Code::kMalformedEvidence);
  b[0x18B] = 0;
  b[0x1F8] = 7;
  EXPECT_CODE(ParseReport(b), Code::kMalformedEvidence);  // v3: 0x1F8 reserved
  b[0x000] = 5;
  b[0x200] = 9;
  ASSERT_OK_AND_ASSIGN(Report v5, ParseReport(b));
  EXPECT_EQ(v5.launch_mit_vector, 7u);
  EXPECT_EQ(v5.current_mit_vector, 9u);
  EXPECT_EQ(SerializeReport(v5), b);
}

TEST(SnpReportTest, FlagsAndPolicyBitsDecode) {
  Bytes b = Snp1Report();
  b[0x048] = 0x01 | 0x02 | (1 << 2);
  b[0x00A] = 0x04 | 0x08;  // policy bits 18 (migrate_ma) and 19 (debug)
  b[0x009] = 2;            // abi_major
  b[0x008] = 7;            // abi_minor
  ASSERT_OK_AND_ASSIGN(Report r, ParseReport(b));
  EXPECT_TRUE(r.author_key_en);
  EXPECT_TRUE(r.mask_chip_key);
  EXPECT_EQ(r.signing_key, 1);
  EXPECT_TRUE(r.policy.migrate_ma());
  EXPECT_TRUE(r.policy.debug());
  EXPECT_FALSE(r.policy.smt());
  EXPECT_EQ(r.policy.abi_major(), 2);
  EXPECT_EQ(r.policy.abi_minor(), 7);
}

TEST(SnpTcbTest, LayoutDependsOnProduct) {
  // Turin: fmc, bootloader, tee, snp, 3 reserved, microcode.
  ASSERT_OK_AND_ASSIGN(TcbVersion turin, DecodeTcb(0x0900000004030201ull, Product::kTurin));
  EXPECT_EQ(turin, (TcbVersion{2, 3, 4, 9, std::uint8_t{1}}));
  ASSERT_OK_AND_ASSIGN(TcbVersion milan, DecodeTcb(0x4405000000000002ull, Product::kMilan));
  EXPECT_EQ(milan, (TcbVersion{2, 0, 5, 68, std::nullopt}));
  EXPECT_CODE(DecodeTcb(0x4405000000000002ull, Product::kTurin), Code::kMalformedEvidence);
  EXPECT_CODE(DecodeTcb(0x0900000004030201ull, Product::kGenoa), Code::kMalformedEvidence);
}

TEST(SnpTcbTest, ReportedMustEqualVcekEndorsed) {
  const TcbVersion vcek{2, 0, 5, 68, std::nullopt};
  EXPECT_OK(CheckTcbMatchesVcek(vcek, vcek));
  TcbVersion above = vcek;
  above.microcode = 69;
  auto r = CheckTcbMatchesVcek(above, vcek);
  EXPECT_CODE(r, Code::kVerificationFailed);
  EXPECT_NE(r.error().message().find("microcode = 69 is above"), std::string::npos);
  for (std::uint8_t TcbVersion::*field :
       {&TcbVersion::bootloader, &TcbVersion::tee, &TcbVersion::snp, &TcbVersion::microcode}) {
    TcbVersion up = vcek;
    up.*field = static_cast<std::uint8_t>(up.*field + 1);
    EXPECT_CODE(CheckTcbMatchesVcek(up, vcek), Code::kVerificationFailed);
    EXPECT_CODE(CheckTcbMatchesVcek(vcek, up), Code::kVerificationFailed);  // reported below
  }
  const TcbVersion turin{0, 0, 0, 9, std::uint8_t{0}};
  TcbVersion turin_up = turin;
  turin_up.fmc = 1;
  EXPECT_OK(CheckTcbMatchesVcek(turin, turin));
  EXPECT_CODE(CheckTcbMatchesVcek(turin_up, turin), Code::kVerificationFailed);
  EXPECT_CODE(CheckTcbMatchesVcek(vcek, turin), Code::kVerificationFailed);
}

TEST(SnpTcbTest, ProductNames) {
  EXPECT_EQ(ProductFromName("Milan-B0"), Product::kMilan);
  EXPECT_EQ(ProductFromName("Genoa-B1"), Product::kGenoa);
  EXPECT_EQ(ProductFromName("Turin"), Product::kTurin);
  EXPECT_EQ(ProductFromName("Rome"), std::nullopt);
  EXPECT_EQ(ProductName(Product::kGenoa), "Genoa");
}

}  // namespace
}  // namespace sigil::attestation::snp
