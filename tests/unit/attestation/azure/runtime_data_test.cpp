// ParseRuntimeData and the HCLAkPub/HCLEkPub keys on the captures' runtime data
// (MANIFEST AZ-SNP-1, AZ-TDX-1, var-data.bin) and hand-made refusals.
#include "attestation/azure/runtime_data.h"

#include <gtest/gtest.h>

#include "attestation/azure/ak_key.h"
#include "attestation/tpm/signature.h"
#include "core/digest.h"
#include "core/encoding.h"
#include "tests/support/matchers.h"
#include "tests/unit/attestation/azure/azure_test_util.h"

namespace sigil::attestation::azure {
namespace {

using namespace sigil::testing::azure;  // NOLINT: test helpers

Bytes PemToDer(const Bytes& pem) {
  auto key = tpm::LoadAk(pem, Code::kInvalidArgument).value();
  return tpm::AkDer(*key).value();
}

std::string SpkiSha256(const RsaJwk& jwk) { return HexEncode(Sha256(RsaJwkToSpkiDer(jwk).value())); }

TEST(RuntimeDataTest, SnpRuntimeDataGivesTheManifestAk) {
  ASSERT_OK_AND_ASSIGN(RuntimeData rt, ParseRuntimeData(ReadVector("derived_snp_runtime_data.json")));
  EXPECT_EQ(HexEncode(rt.ak.n).substr(0, 16), "b58541a6000104e7");
  EXPECT_EQ(rt.ak.n.size(), 256u);
  EXPECT_EQ(HexEncode(rt.ak.e), "010001");
  EXPECT_FALSE(rt.ek.has_value());  // older HCL format
  ASSERT_OK_AND_ASSIGN(Bytes der, RsaJwkToSpkiDer(rt.ak));
  EXPECT_EQ(der, PemToDer(ReadVector("derived_snp_hclakpub.pem")));
  EXPECT_EQ(HexEncode(Sha256(der)), "4131f80072f6792c9ad9dc46fb4bdd1dac306111886920c13bc146614f215ff4");
  ASSERT_OK_AND_ASSIGN(std::string pem, SpkiDerToPem(der));
  EXPECT_EQ(pem, ToString(ReadVector("derived_snp_hclakpub.pem")));
  EXPECT_EQ(rt.vm.console_enabled, true);
  EXPECT_EQ(rt.vm.current_time, 1678652405);
  EXPECT_EQ(rt.vm.secure_boot, true);
  EXPECT_EQ(rt.vm.tpm_enabled, true);
  EXPECT_EQ(rt.vm.tpm_persisted, std::nullopt);
  EXPECT_EQ(rt.vm.vm_unique_id, "BAEFD3E1-184B-4C4C-AB88-0BDAD260505F");
  EXPECT_FALSE(rt.user_data.has_value());
}

TEST(RuntimeDataTest, TdxRuntimeDataGivesTheManifestKeys) {
  ASSERT_OK_AND_ASSIGN(RuntimeData rt, ParseRuntimeData(ReadVector("derived_tdx_runtime_data.json")));
  EXPECT_EQ(HexEncode(rt.ak.n).substr(0, 16), "b207a81500012c23");
  EXPECT_EQ(RsaJwkToSpkiDer(rt.ak).value(), PemToDer(ReadVector("derived_tdx_hclakpub.pem")));
  EXPECT_EQ(SpkiSha256(rt.ak), "bd29cb2d7f1db3bc6ecb0b1ddb1db5837c1bcb94c7eac48e2575defd64bbf35b");
  ASSERT_TRUE(rt.ek.has_value());
  EXPECT_EQ(SpkiSha256(*rt.ek), "bdec87d416270b9c35c052c41c3347c2e28b889d2c274fa0a2f07f0f5923a477");
  EXPECT_EQ(rt.vm.secure_boot, false);
  EXPECT_EQ(rt.vm.console_enabled, true);
  EXPECT_EQ(rt.vm.tpm_persisted, false);
  EXPECT_EQ(rt.vm.root_cert_thumbprint, "6nZZnYaJc4KqUZ_yvA-mucFdYNouvlPnITnNMXsHl-0");
  EXPECT_EQ(rt.vm.vm_unique_id, "D270E56B-F668-4990-A5BC-9B624576841D");
  ASSERT_TRUE(rt.user_data.has_value());
  EXPECT_EQ(*rt.user_data, Bytes(64, 0));
}

TEST(RuntimeDataTest, StandaloneVarDataParses) {
  ASSERT_OK_AND_ASSIGN(RuntimeData rt, ParseRuntimeData(ReadVector("var-data.bin")));
  EXPECT_EQ(SpkiSha256(rt.ak), "269d2c22c056a2d016b00e0beabdbddf20e11608f3e28e62891bccad37e870dc");
  ASSERT_TRUE(rt.ek.has_value());
  EXPECT_EQ(SpkiSha256(*rt.ek), "d9d7252c2c2173db33532f0cf1e0498f5119b3dced29df137420e3eea288342d");
  EXPECT_EQ(rt.vm.vm_unique_id, "3404EF27-32A2-4A07-A4C7-1A1171624C5D");
  EXPECT_EQ(*rt.user_data, Bytes(64, 0));
}

// The SNP capture's runtime data with `from` replaced by `to` (once).
Bytes Edited(std::string_view from, std::string_view to) {
  std::string text = ToString(ReadVector("derived_snp_runtime_data.json"));
  const auto pos = text.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  text.replace(pos, from.size(), to);
  return ToBytes(text);
}

std::string ParseError(const Bytes& json) {
  auto r = ParseRuntimeData(json);
  if (r) return "";
  EXPECT_EQ(r.error().code(), Code::kMalformedEvidence) << r.error().message();
  return r.error().message();
}

TEST(RuntimeDataTest, RefusalsNameTheMember) {
  const std::string text = ToString(ReadVector("derived_snp_runtime_data.json"));
  const std::size_t n_at = text.find("\"n\":\"") + 5;
  const std::size_t n_end = text.find('"', n_at);
  const std::string n = text.substr(n_at, n_end - n_at);
  const struct {
    Bytes json;
    const char* expected;
  } cases[] = {
      {ToBytes("[]"), "$ is not a JSON object"},
      {ToBytes("{\"keys\":{}}"), "$.keys is missing"},
      {ToBytes("{\"keys\":[1]}"), "$.keys[0] is not an object"},
      {ToBytes("{\"keys\":[{\"kty\":\"RSA\"}]}"), "$.keys[0].kid"},
      {ToBytes("{\"keys\":[],\"vm-configuration\":{}}"), "no key with kid \"HCLAkPub\""},
      {Edited("\"kid\":\"HCLAkPub\"", "\"kid\":\"HCLAkPub2\""), "no key with kid \"HCLAkPub\""},
      {Edited("\"kty\":\"RSA\"", "\"kty\":\"EC\""), "$.keys[0].kty"},
      {Edited("\"e\":\"AQAB\"", "\"e\":\"AQAB=\""), "$.keys[0].e"},
      {Edited("\"e\":\"AQAB\"", "\"e\":\"AAEAAQ\""), "leading zero"},
      {Edited(n, n.substr(0, 170)), "$.keys[0].n"},
      {Edited("\"secure-boot\":true", "\"secure-boot\":\"true\""),
       "$.vm-configuration.secure-boot is not a boolean"},
      {Edited("\"current-time\":1678652405", "\"current-time\":1.5"),
       "$.vm-configuration.current-time"},
      {Edited("\"vmUniqueId\":\"", "\"vmUniqueId\":7,\"x\":\""), "$.vm-configuration.vmUniqueId"},
      {Edited(",\"vm-configuration\":{", ",\"vm-config\":{"), "$.vm-configuration is missing"},
      {Edited("}}", "},\"user-data\":\"0g\"}"), "$.user-data is not hex"},
      {Edited("}}", "},\"user-data\":5}"), "$.user-data is not a string"},
  };
  for (const auto& c : cases) {
    EXPECT_NE(ParseError(c.json).find(c.expected), std::string::npos)
        << ToString(c.json).substr(0, 80) << " -> " << ParseError(c.json);
  }
}

TEST(RuntimeDataTest, DuplicatesAreRefused) {
  // A second HCLAkPub would let a verifier and the party that made the report disagree on the AK.
  const std::string text = ToString(ReadVector("derived_snp_runtime_data.json"));
  const std::size_t start = text.find("{\"kid\"");
  const std::size_t end = text.find("}]", start) + 1;
  std::string twice = text;
  twice.insert(end, "," + text.substr(start, end - start));
  EXPECT_NE(ParseError(ToBytes(twice)).find("second \"HCLAkPub\""), std::string::npos);
  // Duplicate JSON keys are refused by core/json.
  EXPECT_NE(ParseError(Edited("\"secure-boot\":true", "\"secure-boot\":true,\"secure-boot\":false")),
            "");
  // Not UTF-8.
  Bytes bad = ReadVector("derived_snp_runtime_data.json");
  bad[bad.size() - 5] = 0xFF;
  EXPECT_NE(ParseError(bad), "");
}

TEST(RuntimeDataTest, UnknownMembersAreIgnored) {
  ASSERT_OK_AND_ASSIGN(RuntimeData rt,
                       ParseRuntimeData(Edited("\"tpm-enabled\":true",
                                               "\"tpm-enabled\":true,\"new-flag\":[1]")));
  EXPECT_EQ(rt.vm.tpm_enabled, true);
}

}  // namespace
}  // namespace sigil::attestation::azure
