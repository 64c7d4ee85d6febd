// core/cose_sign1.h: RFC 9052 Appendix C.2.1 (single ECDSA signature, key "11" of Appendix C.7.1,
// both written here from the RFC text as test data), the PSA and CCA vectors of
// /work/shared/vectors/cca-psa, and one refusal per parse rule.
#include "core/cose_sign1.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "core/cose_key.h"
#include "core/ec_key.h"
#include "core/encoding.h"
#include "tests/support/matchers.h"

namespace sigil::cose {
namespace {

constexpr std::string_view kSig = "8eb33e4ca31d1c465ab05aac34cc6b23d58fef5c083106c4d25a91aef0b0117e"
                                  "2af9a291aa32e14ab834dc56ed2a223444547e01f11d3b0916e5a4c345cacb36";
// 18([h'a10126', {4: '11'}, 'This is the content.', signature])
const std::string kRfcExample = "d28443a10126a10442313154546869732069732074686520636f6e74656e742e5840" +
                                std::string(kSig);
constexpr std::string_view kKey11 =
    "04bac5b11cad8f99f9c72b05cf4b9e26d244dc189f745228255a219a86d6a09eff"
    "20138bf82dc1b6d562be0fa54ab7804a3a64b6d72ccfed6b6fb6ed28bbfc117e";
// Key "meriadoc.brandybuck@buckland.example", also in Appendix C.7.1: a valid P-256 key, not the signer.
constexpr std::string_view kKeyMeriadoc =
    "0465eda5a12577c2bae829437fe338701a10aaa375e1bb5b5de108de439c08551d"
    "1e52ed75701163f7f9e40ddf9f341b3dc9ba860af7e0ca7ca7e9eecd0084d19c";

Bytes Hex(std::string_view h) { return HexDecode(h).value(); }

EvpPkeyPtr P256(std::string_view point) { return EcPublicKeyFromPoint(EcCurve::kP256, Hex(point)).value(); }

Bytes ReadVector(const std::string& rel) {
  std::ifstream in(std::string(SIGIL_SHARED_DIR) + "/vectors/cca-psa/" + rel, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

Result<Sign1> Parse(ByteSpan b, TagRule tag = TagRule::kOptional) {
  return ParseSign1(b, ParseOptions{.tag = tag}, "test");
}

Result<void> ParseAndVerify(ByteSpan b, const EVP_PKEY* key) {
  SIGIL_ASSIGN_OR_RETURN(const Sign1 s, Parse(b));
  return VerifySign1(s, key, "test");
}

TEST(CoseSign1, Rfc9052ExampleVerifies) {
  ASSERT_OK_AND_ASSIGN(const Sign1 s, Parse(Hex(kRfcExample)));
  EXPECT_EQ(s.alg, Algorithm::kEs256);
  EXPECT_EQ(HexEncode(s.protected_header), "a10126");
  EXPECT_EQ(ToString(s.payload), "This is the content.");
  EXPECT_EQ(HexEncode(s.signature), kSig);
  // RFC 9052 section 4.4, encoded by hand: ["Signature1", h'a10126', h'', payload].
  EXPECT_EQ(HexEncode(SigStructure(s)),
            "846a5369676e61747572653143a101264054546869732069732074686520636f6e74656e742e");
  EXPECT_OK(VerifySign1(s, P256(kKey11).get(), "rfc"));
}

TEST(CoseSign1, EveryByteOfTheSignedRegionsMatters) {
  const Bytes good = Hex(kRfcExample);
  const EvpPkeyPtr key = P256(kKey11);
  // Offsets 6..10 are the unprotected map a1 04 42 3131 ({4: '11'}): not covered by the signature
  // (RFC 9052 section 3), so changing its label (7: kid becomes IV) or the kid bytes (9, 10) still
  // verifies; its head (6) and the kid's length (8) break the structure; every other byte of the
  // message is signed or structural and must be refused.
  for (std::size_t i = 0; i < good.size(); ++i) {
    Bytes bad = good;
    bad[i] ^= 0x01;
    const bool unprotected_kid = i == 7 || i == 9 || i == 10;
    if (unprotected_kid) {
      EXPECT_TRUE(ParseAndVerify(bad, key.get()).has_value()) << "offset " << i;
    } else {
      EXPECT_FALSE(ParseAndVerify(bad, key.get()).has_value()) << "offset " << i;
    }
  }
}

TEST(CoseSign1, WrongKeyOrCurveIsRefused) {
  ASSERT_OK_AND_ASSIGN(const Sign1 s, Parse(Hex(kRfcExample)));
  EXPECT_CODE(VerifySign1(s, P256(kKeyMeriadoc).get(), "t"), Code::kVerificationFailed);
  const Bytes pem = ReadVector("ccatoken/tf-rmm_cca_platform.pub.pem");  // P-384
  ASSERT_OK_AND_ASSIGN(EvpPkeyPtr p384, EcPublicKeyFromText(pem, "cpak"));
  auto r = VerifySign1(s, p384.get(), "t");
  EXPECT_CODE(r, Code::kVerificationFailed);
  EXPECT_NE(r.error().message().find("P-256"), std::string::npos);
  // External AAD is part of the signed structure.
  EXPECT_CODE(VerifySign1(s, P256(kKey11).get(), "t", Hex("00")), Code::kVerificationFailed);
}

TEST(CoseSign1, TagRules) {
  const Bytes tagged = Hex(kRfcExample);
  const Bytes untagged(tagged.begin() + 1, tagged.end());
  EXPECT_OK(Parse(untagged, TagRule::kOptional));
  EXPECT_CODE(Parse(untagged, TagRule::kRequired), Code::kMalformedEvidence);
  EXPECT_OK(Parse(tagged, TagRule::kRequired));
  EXPECT_CODE(Parse(tagged, TagRule::kForbidden), Code::kMalformedEvidence);
  EXPECT_OK(Parse(untagged, TagRule::kForbidden));
  Bytes tag17 = tagged;
  tag17[0] = 0xd1;  // COSE_Mac0
  EXPECT_CODE(Parse(tag17), Code::kMalformedEvidence);
  Bytes double_tag = Concat({Hex("d2"), tagged});
  EXPECT_CODE(Parse(double_tag), Code::kMalformedEvidence);
  EXPECT_CODE(Parse(Concat({tagged, Hex("00")})), Code::kMalformedEvidence);  // trailing byte
}

TEST(CoseSign1, HeaderRulesAreEnforced) {
  const std::string payload = "4100";
  const std::string sig64 = "5840" + std::string(128, '1');
  const struct {
    const char* name;
    std::string hex;
    const char* says;
  } cases[] = {
      {"ES512", "8444a1013823a0" + payload + "5842" + std::string(132, '1'), "alg -36"},
      {"alg missing", "8441a0a0" + payload + sig64, "alg"},
      {"empty protected", "8440a0" + payload + sig64, "empty"},
      {"protected not a map", "844101a0" + payload + sig64, "not a map"},
      {"protected trailing", "8444a1012600a0" + payload + sig64, "trailing"},
      {"alg in both", "8443a10126a10126" + payload + sig64, "both"},
      {"crit", "8446a20126028104a0" + payload + sig64, "crit"},
      {"alg as text", "8446a101635a5a5aa0" + payload + sig64, "integer"},
      {"detached", "8443a10126a0f6" + sig64, "detached"},
      {"payload text", "8443a10126a06161" + sig64, "payload"},
      {"short signature", "8443a10126a0" + payload + "5820" + std::string(64, '1'), "signature is 32"},
      {"ES384 with 64", "8444a1013822a0" + payload + sig64, "signature is 64"},
      {"array of 3", "8343a10126a0" + payload, "array of 4"},
      {"unprotected not a map", "8443a1012680" + payload + sig64, "unprotected"},
      {"duplicate in protected", "8445a201260126a0" + payload + sig64, "duplicate"},
      {"indefinite array", "9f43a10126a0" + payload + sig64 + "ff", "indefinite"},
  };
  for (const auto& c : cases) {
    auto r = Parse(Hex(c.hex));
    ASSERT_FALSE(r.has_value()) << c.name;
    EXPECT_EQ(r.error().code(), Code::kMalformedEvidence) << c.name;
    EXPECT_NE(r.error().message().find(c.says), std::string::npos) << c.name << ": " << r.error().message();
  }
}

TEST(CoseSign1, PsaVectorVerifiesWithItsIak) {
  const Bytes token = ReadVector("psatoken/psa-2_0_0_sign1.cbor");
  ASSERT_EQ(token.size(), 534u);
  ASSERT_OK_AND_ASSIGN(EvpPkeyPtr iak, EcPublicKeyFromText(ReadVector("psatoken/public.pem"), "iak"));
  ASSERT_OK_AND_ASSIGN(const Sign1 s, Parse(token, TagRule::kRequired));
  EXPECT_EQ(s.alg, Algorithm::kEs256);
  EXPECT_EQ(HexEncode(s.protected_header), "a10126");
  EXPECT_OK(VerifySign1(s, iak.get(), "psa"));
  ASSERT_OK_AND_ASSIGN(EvpPkeyPtr other, EcPublicKeyFromText(ReadVector("ccatoken/derived_testIAK_pub.pem"), "x"));
  EXPECT_CODE(VerifySign1(s, other.get(), "psa"), Code::kVerificationFailed);
}

TEST(CoseKey, Ec2PublicKeys) {
  // {1: 2, -1: 1, -2: x, -3: y} for key "11".
  const std::string x = std::string(kKey11.substr(2, 64)), y = std::string(kKey11.substr(66, 64));
  const std::string map = "a40102200121582" "0" + x + "225820" + y;
  ASSERT_OK_AND_ASSIGN(cbor::ItemPtr item, cbor::Decode(Hex(map), {}, "key"));
  ASSERT_OK_AND_ASSIGN(EvpPkeyPtr key, PublicKeyFromCoseKey(item.get(), "key"));
  ASSERT_OK_AND_ASSIGN(const Sign1 s, Parse(Hex(kRfcExample)));
  EXPECT_OK(VerifySign1(s, key.get(), "rfc"));
  const std::string with_d = "a50102200121582" "0" + x + "225820" + y + "235820" + std::string(64, '1');
  ASSERT_OK_AND_ASSIGN(cbor::ItemPtr priv, cbor::Decode(Hex(with_d), {}, "key"));
  EXPECT_CODE(PublicKeyFromCoseKey(priv.get(), "key"), Code::kMalformedEvidence);
  const std::string compressed = "a40102200121582" "0" + x + "22f5";
  ASSERT_OK_AND_ASSIGN(cbor::ItemPtr comp, cbor::Decode(Hex(compressed), {}, "key"));
  EXPECT_CODE(PublicKeyFromCoseKey(comp.get(), "key"), Code::kMalformedEvidence);
  const std::string off_curve = "a40102200121582" "0" + x + "225820" + std::string(64, '0');
  ASSERT_OK_AND_ASSIGN(cbor::ItemPtr off, cbor::Decode(Hex(off_curve), {}, "key"));
  EXPECT_CODE(PublicKeyFromCoseKey(off.get(), "key"), Code::kMalformedEvidence);
}

TEST(EcKey, TextForms) {
  EXPECT_OK(EcPublicKeyFromText(ReadVector("psatoken/public.pem"), "pem"));
  const std::string jwk = R"({"kty":"EC","crv":"P-256","x":")" + Base64UrlEncode(Hex(kKey11.substr(2, 64))) +
                          R"(","y":")" + Base64UrlEncode(Hex(kKey11.substr(66, 64))) + R"("})";
  ASSERT_OK_AND_ASSIGN(EvpPkeyPtr from_jwk, EcPublicKeyFromText(AsBytes(jwk), "jwk"));
  ASSERT_OK_AND_ASSIGN(const Sign1 s, Parse(Hex(kRfcExample)));
  EXPECT_OK(VerifySign1(s, from_jwk.get(), "rfc"));
  EXPECT_CODE(EcPublicKeyFromText(AsBytes("not a key"), "junk"), Code::kInvalidArgument);
  const std::string with_d = jwk.substr(0, jwk.size() - 1) + R"(,"d":"AAAA"})";
  EXPECT_CODE(EcPublicKeyFromText(AsBytes(with_d), "jwk"), Code::kInvalidArgument);
  EXPECT_CODE(EcPublicKeyFromPoint(EcCurve::kP256, Hex(kKey11.substr(0, 64))), Code::kMalformedEvidence);
}

}  // namespace
}  // namespace sigil::cose
