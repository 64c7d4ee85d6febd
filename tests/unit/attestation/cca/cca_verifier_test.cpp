// CcaVerifier on the vectors of /work/shared/vectors/cca-psa (MANIFEST CCA-1, CCA-2), with the
// manifest's claim values, plus one refusal per check, each built from the real tokens.
#include "attestation/cca/cca_verifier.h"

#include <gtest/gtest.h>

#include "attestation/cca/collection.h"
#include "core/cose_sign1.h"
#include "core/encoding.h"
#include "tests/support/matchers.h"
#include "tests/unit/attestation/cca/cca_test_util.h"

namespace sigil::attestation::cca {
namespace {

using namespace sigil::testing::cca;  // NOLINT: test helpers

const Bytes kCca1Binding(64, 0xab);                                  // MANIFEST: realm challenge ab x 64
std::string Repeat(std::string_view unit, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += unit;
  return s;
}
const Bytes kCca2Binding = ToBytes(Repeat("AB", 32));                 // MANIFEST: ASCII "ABAB..." (64)

std::unique_ptr<Verifier> Make(std::vector<KeyAnchor> cpaks, bool allow_unbound = false) {
  return CcaVerifier::Create(CcaConfig{.cpaks = std::move(cpaks), .allow_unbound = allow_unbound}).value();
}
std::unique_ptr<Verifier> MakeCca1() { return Make({{.key = Cca1Cpak()}}); }
std::unique_ptr<Verifier> MakeCca2() { return Make({{.key = Cca2Cpak()}}); }

Result<Claims> VerifyToken(const Verifier& v, ByteSpan token, ByteSpan binding) {
  return v.Verify({.evidence = token, .collateral = {}, .expected_binding = binding});
}

TEST(CcaVerifier, Cca1PassesWithManifestClaims) {
  auto v = MakeCca1();
  EXPECT_EQ(v->tee(), "cca");
  ASSERT_OK_AND_ASSIGN(Claims c, VerifyToken(*v, Cca1Token(), kCca1Binding));
  const std::string zeros32(64, '0');
  const std::string ids = "0107060504030201000f0e0d0c0b0a090817161514131211101f1e1d1c1b1a1918";
  const std::string sw = "07060504030201000f0e0d0c0b0a090817161514131211101f1e1d1c1b1a1918";
  EXPECT_EQ(c.GetString("tee"), "cca");
  EXPECT_EQ(c.GetBool("debug"), false);
  EXPECT_EQ(c.GetString("measurement"), zeros32);
  EXPECT_EQ(c.GetString("cca.realm.rim"), zeros32);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(c.GetString("cca.realm.rem." + std::to_string(i)), zeros32);
  EXPECT_EQ(c.GetString("cca.realm.personalization"),
            HexEncode(AsBytes("The quick brown fox jumps over 13 lazy dogs.The quick brown fox ")));
  EXPECT_EQ(c.GetString("cca.realm.hash_alg"), "sha-256");
  EXPECT_EQ(c.GetString("cca.realm.public_key_hash_alg"), "sha-256");
  EXPECT_EQ(c.GetString("cca.realm.public_key"),
            "0476f988091be585ed41801aecfab858548c63057e16b0e676120bbd0d2f9c29e056c5d41a0130eb9c21517899dc2314"
            "6b28e1b062bd3ea4b315fd219f1cbb528cb6e74ca49be16773734f61a1ca61031b2bbf3d918f2f94ffc4228e50919544ae");
  EXPECT_EQ(c.Find("cca.realm.profile"), nullptr);
  EXPECT_EQ(c.GetString("cca.platform.profile"), "http://arm.com/CCA-SSD/1.0.0");
  EXPECT_EQ(c.GetString("cca.platform.implementation_id"),
            "7f454c4602010100000000000000000003003e00010000005058000000000000");
  EXPECT_EQ(c.GetString("cca.platform.instance_id"), ids);
  EXPECT_EQ(c.GetString("cca.platform.config"), ids);
  EXPECT_EQ(c.GetInt("cca.platform.lifecycle"), 12291);
  EXPECT_EQ(c.GetString("cca.platform.lifecycle_state"), "secured");
  EXPECT_EQ(c.GetString("cca.platform.hash_alg"), "sha-256");
  EXPECT_EQ(c.GetString("cca.platform.verification_service"), "whatever.com");
  EXPECT_EQ(c.GetInt("cca.platform.sw.count"), 4);
  const char* types[] = {"BL", "M1", "M2", "M3"};
  const char* versions[] = {"3.4.2", "1.2", "1.2.3", "1"};
  for (int i = 0; i < 4; ++i) {
    const std::string p = "cca.platform.sw." + std::to_string(i) + ".";
    EXPECT_EQ(c.GetString(p + "type"), types[i]);
    EXPECT_EQ(c.GetString(p + "version"), versions[i]);
    EXPECT_EQ(c.GetString(p + "measurement"), sw);
    EXPECT_EQ(c.GetString(p + "signer_id"), sw);
  }
}

TEST(CcaVerifier, Cca2PassesWithManifestClaims) {
  ASSERT_OK_AND_ASSIGN(Claims c, VerifyToken(*MakeCca2(), Cca2Token(), kCca2Binding));
  const std::string ccc = HexEncode(AsBytes(std::string(64, 'C')));
  EXPECT_EQ(c.GetString("tee"), "cca");
  EXPECT_EQ(c.GetBool("debug"), false);
  EXPECT_EQ(c.GetString("measurement"), ccc);
  EXPECT_EQ(c.GetString("cca.realm.rim"), ccc);
  EXPECT_EQ(c.GetString("cca.realm.rem.3"), ccc);
  EXPECT_EQ(c.GetString("cca.realm.personalization"), HexEncode(AsBytes(Repeat("AD", 32))));
  EXPECT_EQ(c.GetString("cca.realm.profile"), "tag:arm.com,2023:realm#1.0.0");
  EXPECT_EQ(c.GetString("cca.realm.hash_alg"), "sha-256");
  EXPECT_EQ(c.GetString("cca.realm.public_key_hash_alg"), "sha-512");
  EXPECT_EQ(c.GetString("cca.platform.profile"), "tag:arm.com,2023:cca_platform#1.0.0");
  EXPECT_EQ(c.GetString("cca.platform.implementation_id"), std::string(64, '0'));
  EXPECT_EQ(c.GetString("cca.platform.instance_id"), "01" + Repeat("02", 32));
  EXPECT_EQ(c.GetString("cca.platform.config"), "010203");
  EXPECT_EQ(c.GetInt("cca.platform.lifecycle"), 12288);
  EXPECT_EQ(c.GetString("cca.platform.lifecycle_state"), "secured");
  EXPECT_EQ(c.GetString("cca.platform.hash_alg"), "sha-256");
  EXPECT_EQ(c.GetString("cca.platform.verification_service"), "https://veraison.example/v1/challenge-response");
  EXPECT_EQ(c.GetInt("cca.platform.sw.count"), 1);
  EXPECT_EQ(c.GetString("cca.platform.sw.0.measurement"), Repeat("03", 32));
  EXPECT_EQ(c.GetString("cca.platform.sw.0.signer_id"), Repeat("04", 32));
}

TEST(CcaVerifier, BothFramingsOfEachPairVerify) {
  for (const auto& [token, key, binding] :
       {std::tuple{Cca1Token(), Cca1Cpak(), kCca1Binding}, std::tuple{Cca2Token(), Cca2Cpak(), kCca2Binding}}) {
    ASSERT_OK_AND_ASSIGN(const CcaCollection col, ParseCollection(token));
    auto v = Make({{.key = key}});
    EXPECT_OK(VerifyToken(*v, Frame399(col.platform, col.realm), binding));
    EXPECT_OK(VerifyToken(*v, Frame907(col.platform, col.realm), binding));
  }
}

TEST(CcaVerifier, WrongCpakIsRefused) {
  auto r = VerifyToken(*MakeCca2(), Cca1Token(), kCca1Binding);  // MANIFEST: CCA-1 with testIAK -> FAIL
  EXPECT_CODE(r, Code::kVerificationFailed);
  EXPECT_NE(r.error().message().find("platform token"), std::string::npos) << r.error().message();
  EXPECT_CODE(VerifyToken(*MakeCca1(), Cca2Token(), kCca2Binding), Code::kVerificationFailed);
  auto fresh = NewKey("P-384");
  EXPECT_CODE(VerifyToken(*Make({{.key = PublicPem(fresh.get())}}), Cca1Token(), kCca1Binding), Code::kVerificationFailed);
}

TEST(CcaVerifier, CpakSelectionByInstanceId) {
  const Bytes id = HexDecode("0107060504030201000f0e0d0c0b0a090817161514131211101f1e1d1c1b1a1918").value();
  Bytes other_id = id;
  other_id[32] ^= 1;
  const Bytes wrong = Cca2Cpak();
  // Pinned to the token's instance id: used.
  EXPECT_OK(VerifyToken(*Make({{.key = wrong, .instance_id = other_id}, {.key = Cca1Cpak(), .instance_id = id}}),
                Cca1Token(), kCca1Binding));
  // Pinned to another instance: never tried for this token.
  auto r = VerifyToken(*Make({{.key = Cca1Cpak(), .instance_id = other_id}}), Cca1Token(), kCca1Binding);
  EXPECT_CODE(r, Code::kVerificationFailed);
  EXPECT_NE(r.error().message().find("no trust anchor for instance id"), std::string::npos);
  // A pinned key for this instance takes precedence over an unpinned one.
  EXPECT_CODE(VerifyToken(*Make({{.key = Cca1Cpak()}, {.key = wrong, .instance_id = id}}), Cca1Token(), kCca1Binding),
              Code::kVerificationFailed);
  // Malformed configuration.
  EXPECT_CODE(CcaVerifier::Create(CcaConfig{}), Code::kInvalidArgument);
  EXPECT_CODE(CcaVerifier::Create(CcaConfig{.cpaks = {{.key = ToBytes("junk")}}}), Code::kInvalidArgument);
  EXPECT_CODE(CcaVerifier::Create(CcaConfig{.cpaks = {{.key = Cca1Cpak(), .instance_id = Bytes(32, 1)}}}),
              Code::kInvalidArgument);
}

TEST(CcaVerifier, ChallengeMustMatchTheBinding) {
  auto v = MakeCca1();
  Bytes other = kCca1Binding;
  other[63] ^= 1;
  auto r = VerifyToken(*v, Cca1Token(), other);
  EXPECT_CODE(r, Code::kVerificationFailed);
  EXPECT_NE(r.error().message().find("realm challenge"), std::string::npos);
  EXPECT_CODE(VerifyToken(*v, Cca1Token(), Bytes(32, 0xab)), Code::kInvalidArgument);
  EXPECT_CODE(VerifyToken(*v, Cca1Token(), {}), Code::kInvalidArgument);
  EXPECT_OK(VerifyToken(*Make({{.key = Cca1Cpak()}}, /*allow_unbound=*/true), Cca1Token(), {}));
}

// Every byte of both COSE payloads, protected headers and signatures is covered.
TEST(CcaVerifier, AnyByteFlipInEitherSignedTokenIsRefused) {
  for (const auto& [token, key, binding] :
       {std::tuple{Cca1Token(), Cca1Cpak(), kCca1Binding}, std::tuple{Cca2Token(), Cca2Cpak(), kCca2Binding}}) {
    auto v = Make({{.key = key}});
    ASSERT_OK_AND_ASSIGN(const CcaCollection col, ParseCollection(token));
    for (const Bytes* part : {&col.platform, &col.realm}) {
      ASSERT_OK_AND_ASSIGN(const cose::Sign1 s, cose::ParseSign1(*part, {}, "t"));
      const std::size_t base = Find(token, *part);
      ASSERT_NE(base, SIZE_MAX);
      for (const Bytes* region : {&s.protected_header, &s.payload, &s.signature}) {
        const std::size_t at = base + Find(*part, *region);
        for (std::size_t i = 0; i < region->size(); ++i) {
          Bytes bad = token;
          bad[at + i] ^= 0x01;
          EXPECT_FALSE(VerifyToken(*v, bad, binding).has_value()) << "offset " << at + i;
        }
      }
    }
  }
}

TEST(CcaVerifier, ChangedRakIsRefused) {
  ASSERT_OK_AND_ASSIGN(const CcaCollection col, ParseCollection(Cca1Token()));
  ASSERT_OK_AND_ASSIGN(const cose::Sign1 realm, cose::ParseSign1(col.realm, {}, "realm"));
  const std::size_t rak = Find(Cca1Token(), HexDecode("0476f988091be585ed41801aecfab858").value());
  ASSERT_NE(rak, SIZE_MAX);
  Bytes bad = Cca1Token();
  bad[rak + 40] ^= 0x01;
  EXPECT_FALSE(VerifyToken(*MakeCca1(), bad, kCca1Binding).has_value());
}

// A realm token that verifies under its own RAK but whose RAK the platform did not vouch for:
// only the platform/realm binding catches it.
TEST(CcaVerifier, RealmNotVouchedForByThePlatformIsRefused) {
  ASSERT_OK_AND_ASSIGN(const CcaCollection col, ParseCollection(Cca1Token()));
  ASSERT_OK_AND_ASSIGN(const cose::Sign1 realm, cose::ParseSign1(col.realm, {}, "realm"));
  auto rak = NewKey("P-384");
  const Bytes point = EcPublicPoint(rak.get()).value();
  cbor::ItemPtr value(cbor_build_bytestring(point.data(), point.size()));
  const Bytes forged = SignSign1(ReplaceClaim(realm.payload, 44237, std::move(value)), rak.get());
  auto r = VerifyToken(*MakeCca1(), Frame399(col.platform, forged), kCca1Binding);
  EXPECT_CODE(r, Code::kVerificationFailed);
  EXPECT_NE(r.error().message().find("platform challenge does not match"), std::string::npos) << r.error().message();
  // The other vector's realm (valid, signed by its own RAK) under this platform token: refused.
  ASSERT_OK_AND_ASSIGN(const CcaCollection col2, ParseCollection(Cca2Token()));
  EXPECT_CODE(VerifyToken(*MakeCca1(), Frame399(col.platform, col2.realm), kCca2Binding), Code::kVerificationFailed);
}

TEST(CcaVerifier, FramingRefusals) {
  ASSERT_OK_AND_ASSIGN(const CcaCollection col, ParseCollection(Cca2Token()));
  auto v = MakeCca2();
  const Bytes good = Cca2Token();
  const auto refused = [&](const Bytes& token, const char* says) {
    auto r = VerifyToken(*v, token, kCca2Binding);
    ASSERT_FALSE(r.has_value()) << says;
    EXPECT_EQ(r.error().code(), Code::kMalformedEvidence) << r.error().message();
    EXPECT_NE(r.error().message().find(says), std::string::npos) << r.error().message();
  };
  Bytes tag18 = good;  // MANIFEST: wrong top-level tag 18 -> FAIL
  tag18.erase(tag18.begin(), tag18.begin() + 3);
  tag18.insert(tag18.begin(), 0xd2);
  refused(tag18, "unexpected tag 18");
  refused(Bytes(good.begin() + 3, good.end()), "not tagged");
  refused(Concat({good, Bytes{0x00}}), "trailing bytes");
  Bytes unknown = good;  // key 44241 -> 44242
  unknown[Find(good, Bytes{0x19, 0xac, 0xd1}) + 2] = 0xd2;
  refused(unknown, "unknown collection key");
  Bytes dup = good;  // key 44241 -> 44234
  dup[Find(good, Bytes{0x19, 0xac, 0xd1}) + 2] = 0xca;
  refused(dup, "duplicate map key 44234");
  Bytes one{0xd9, 0x03, 0x8b, 0xa1, 0x19, 0xac, 0xca, 0x82, 0x19, 0x01, 0x07};
  cbor::AppendBytes(one, col.platform);
  refused(one, "realm token (44241) missing");
  Bytes ct = good;  // content-format 263 -> 264
  ct[Find(good, Bytes{0x82, 0x19, 0x01, 0x07}) + 3] = 0x08;
  refused(ct, "content-format");
  refused(Frame399(col.platform, Bytes{0x00}), "CCA realm token");
  Bytes deep{0xd9, 0x01, 0x8f};
  deep.insert(deep.end(), 10000, 0x81);
  deep.push_back(0x00);
  refused(deep, "nesting deeper");
  Bytes indefinite{0xd9, 0x01, 0x8f, 0xbf, 0xff};
  refused(indefinite, "indefinite");
  Bytes huge(kMaxTokenSize + 1, 0x00);
  refused(huge, "limit");
}

}  // namespace
}  // namespace sigil::attestation::cca
