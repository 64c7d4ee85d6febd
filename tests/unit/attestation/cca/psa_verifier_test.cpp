// PsaVerifier on MANIFEST PSA-1 (TF-M token, profile http://arm.com/psa/2.0.0) with its claim
// values, plus refusals built from the real token and a re-signed one for the nonce-size rule.
#include "attestation/cca/psa_verifier.h"

#include <gtest/gtest.h>

#include "attestation/cca/psa_claims.h"
#include "core/cose_sign1.h"
#include "core/digest.h"
#include "core/ec_key.h"
#include "core/encoding.h"
#include "tests/support/matchers.h"
#include "tests/unit/attestation/cca/cca_test_util.h"

namespace sigil::attestation::cca {
namespace {

using namespace sigil::testing::cca;  // NOLINT: test helpers

const Bytes kPsa1Binding(64, 0x00);  // MANIFEST: nonce = 64 zero bytes

std::unique_ptr<Verifier> Make(Bytes iak, bool allow_unbound = false) {
  return PsaVerifier::Create(PsaConfig{.iaks = {{.key = std::move(iak)}}, .allow_unbound = allow_unbound}).value();
}

Result<Claims> VerifyToken(const Verifier& v, ByteSpan token, ByteSpan binding) {
  return v.Verify({.evidence = token, .collateral = {}, .expected_binding = binding});
}

TEST(PsaVerifier, Psa1PassesWithManifestClaims) {
  auto v = Make(Psa1Iak());
  EXPECT_EQ(v->tee(), "psa");
  ASSERT_OK_AND_ASSIGN(Claims c, VerifyToken(*v, Psa1Token(), kPsa1Binding));
  EXPECT_EQ(c.GetString("tee"), "psa");
  EXPECT_EQ(c.GetBool("debug"), false);  // 12288 = 0x3000 secured
  EXPECT_EQ(c.GetString("psa.profile"), "http://arm.com/psa/2.0.0");
  EXPECT_EQ(c.GetString("psa.instance_id"), "01fa58755f658627ce5460f29b75296713248cae7ad9e2984b90280efcbcb50248");
  EXPECT_EQ(c.GetString("psa.implementation_id"), "aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbccccccccccccccccdddddddddddddddd");
  EXPECT_EQ(c.GetInt("psa.client_id"), 3002);
  EXPECT_EQ(c.GetInt("psa.lifecycle"), 12288);
  EXPECT_EQ(c.GetString("psa.lifecycle_state"), "secured");
  EXPECT_EQ(c.GetString("psa.certification_reference"), "0604565272829-10010");
  EXPECT_EQ(c.GetString("psa.verification_service"), "www.trustedfirmware.org");
  EXPECT_EQ(c.Find("psa.boot_seed"), nullptr);  // never reported
  EXPECT_EQ(c.GetInt("psa.sw.count"), 2);
  EXPECT_EQ(c.GetString("psa.sw.0.type"), "SPE");
  EXPECT_EQ(c.GetString("psa.sw.0.version"), "1.6.0");
  EXPECT_EQ(c.GetString("psa.sw.0.description"), "SHA256");
  EXPECT_EQ(c.GetString("psa.sw.0.signer_id").value().substr(0, 8), "bfe6d86f");
  EXPECT_EQ(c.GetString("psa.sw.0.measurement").value().substr(0, 8), "96a2ec56");
  EXPECT_EQ(c.GetString("psa.sw.1.type"), "NSPE");
  EXPECT_EQ(c.GetString("psa.sw.1.version"), "0.0.0");
  EXPECT_EQ(c.GetString("psa.sw.1.signer_id").value().substr(0, 8), "b360caf5");
  EXPECT_EQ(c.GetString("psa.sw.1.measurement").value().substr(0, 8), "087d13c6");
  // measurement = SHA-256(u32be(len) || mv, per component), recomputed here from the claims.
  Bytes input;
  for (int i = 0; i < 2; ++i) {
    const Bytes mv = HexDecode(*c.GetString("psa.sw." + std::to_string(i) + ".measurement")).value();
    AppendU32(input, static_cast<std::uint32_t>(mv.size()));
    input.insert(input.end(), mv.begin(), mv.end());
  }
  EXPECT_EQ(c.GetString("measurement"), HexEncode(Sha256(input)));
}

TEST(PsaVerifier, WrongIakAndWrongNonceAreRefused) {
  EXPECT_CODE(VerifyToken(*Make(Cca2Cpak()), Psa1Token(), kPsa1Binding), Code::kVerificationFailed);
  auto v = Make(Psa1Iak());
  Bytes other = kPsa1Binding;
  other[0] = 1;
  EXPECT_CODE(VerifyToken(*v, Psa1Token(), other), Code::kVerificationFailed);
  EXPECT_CODE(VerifyToken(*v, Psa1Token(), Bytes(32, 0)), Code::kInvalidArgument);
  EXPECT_CODE(VerifyToken(*v, Psa1Token(), {}), Code::kInvalidArgument);
  EXPECT_OK(VerifyToken(*Make(Psa1Iak(), true), Psa1Token(), {}));
  EXPECT_CODE(PsaVerifier::Create(PsaConfig{}), Code::kInvalidArgument);
}

TEST(PsaVerifier, AnyByteFlipInTheSignedRegionsIsRefused) {
  auto v = Make(Psa1Iak());
  const Bytes token = Psa1Token();
  ASSERT_OK_AND_ASSIGN(const cose::Sign1 s, cose::ParseSign1(token, {}, "psa"));
  for (const Bytes* region : {&s.protected_header, &s.payload, &s.signature}) {
    const std::size_t at = Find(token, *region);
    ASSERT_NE(at, SIZE_MAX);
    for (std::size_t i = 0; i < region->size(); ++i) {
      Bytes bad = token;
      bad[at + i] ^= 0x01;
      EXPECT_FALSE(VerifyToken(*v, bad, kPsa1Binding).has_value()) << "offset " << at + i;
    }
  }
  EXPECT_CODE(VerifyToken(*v, Concat({token, Bytes{0x00}}), kPsa1Binding), Code::kMalformedEvidence);
  EXPECT_CODE(VerifyToken(*v, Bytes(token.begin(), token.begin() + 100), kPsa1Binding), Code::kMalformedEvidence);
}

// A 32-byte nonce is compared with the first 32 bytes of the binding (psa_verifier.h).
TEST(PsaVerifier, ShortNonceIsAPrefixOfTheBinding) {
  ASSERT_OK_AND_ASSIGN(const cose::Sign1 s, cose::ParseSign1(Psa1Token(), {}, "psa"));
  Bytes binding(64);
  for (std::size_t i = 0; i < 64; ++i) binding[i] = static_cast<std::uint8_t>(i);
  cbor::ItemPtr nonce(cbor_build_bytestring(binding.data(), 32));
  auto iak = NewKey("P-256");
  const Bytes token = SignSign1(ReplaceClaim(s.payload, 10, std::move(nonce)), iak.get());
  auto v = Make(PublicPem(iak.get()));
  EXPECT_OK(VerifyToken(*v, token, binding));
  Bytes tail_changed = binding;
  tail_changed[40] ^= 1;  // outside the nonce's 32 bytes: still the same nonce
  EXPECT_OK(VerifyToken(*v, token, tail_changed));
  Bytes head_changed = binding;
  head_changed[31] ^= 1;
  EXPECT_CODE(VerifyToken(*v, token, head_changed), Code::kVerificationFailed);
  // A 20-byte nonce is not a PSA nonce size.
  cbor::ItemPtr short_nonce(cbor_build_bytestring(binding.data(), 20));
  const Bytes bad = SignSign1(ReplaceClaim(s.payload, 10, std::move(short_nonce)), iak.get());
  EXPECT_CODE(VerifyToken(*v, bad, binding), Code::kMalformedEvidence);
  // An undefined lifecycle value is malformed; a debug one verifies with debug = true.
  cbor::ItemPtr undefined(cbor_build_uint16(0x7000));
  EXPECT_CODE(VerifyToken(*v, SignSign1(ReplaceClaim(s.payload, 2395, std::move(undefined)), iak.get()), Bytes(64, 0)),
              Code::kMalformedEvidence);
  cbor::ItemPtr debug(cbor_build_uint16(0x4001));
  ASSERT_OK_AND_ASSIGN(Claims c, VerifyToken(*v, SignSign1(ReplaceClaim(s.payload, 2395, std::move(debug)), iak.get()),
                                     Bytes(64, 0)));
  EXPECT_EQ(c.GetBool("debug"), true);
  EXPECT_EQ(c.GetString("psa.lifecycle_state"), "non-rot-debug");
}

// Hostile payloads under a valid signature: the claims decoder's own limits refuse them.
TEST(PsaVerifier, SignedHostilePayloadsAreRefused) {
  auto iak = NewKey("P-256");
  auto v = Make(PublicPem(iak.get()));
  Bytes deep(10000, 0x81);  // ten thousand nested arrays
  deep.push_back(0x00);
  auto r = VerifyToken(*v, SignSign1(deep, iak.get()), Bytes(64, 0));
  EXPECT_CODE(r, Code::kMalformedEvidence);
  EXPECT_NE(r.error().message().find("nesting"), std::string::npos) << r.error().message();
  ASSERT_OK_AND_ASSIGN(const cose::Sign1 s, cose::ParseSign1(Psa1Token(), {}, "psa"));
  Bytes dup = s.payload;  // map header a9 -> aa, then the profile claim (265) appended again
  ASSERT_EQ(dup[0], 0xaa);
  dup[0] = 0xab;
  const Bytes profile = HexDecode("190109").value();
  Bytes again = profile;
  cbor::AppendText(again, "http://arm.com/psa/2.0.0");
  dup.insert(dup.end(), again.begin(), again.end());
  r = VerifyToken(*v, SignSign1(dup, iak.get()), Bytes(64, 0));
  EXPECT_CODE(r, Code::kMalformedEvidence);
  EXPECT_NE(r.error().message().find("duplicate map key 265"), std::string::npos) << r.error().message();
  Bytes trailing = Concat({s.payload, Bytes{0x00}});
  EXPECT_CODE(VerifyToken(*v, SignSign1(trailing, iak.get()), Bytes(64, 0)), Code::kMalformedEvidence);
  Bytes tagged = Concat({Bytes{0xd2}, s.payload});
  EXPECT_CODE(VerifyToken(*v, SignSign1(tagged, iak.get()), Bytes(64, 0)), Code::kMalformedEvidence);
}

TEST(PsaVerifier, CcaTokenIsNotAPsaToken) {
  EXPECT_CODE(VerifyToken(*Make(Psa1Iak()), Cca1Token(), kPsa1Binding), Code::kMalformedEvidence);
}

}  // namespace
}  // namespace sigil::attestation::cca
