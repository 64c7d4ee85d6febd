// NVIDIA RIM parsing and verification (attestation/nvidia/rim.h) on RIMs signed at test time by
// `xmlsec1 --sign` under a test CA chain made by `openssl` (rim_test_util.h): the accepted form,
// then every refusal: unsigned, bad signature, altered measurement, wrong root, expired chain,
// duplicate indices, malformed hashes, missing attributes, DTDs, size and depth; then revocation
// of the signing chain with CRLs (`openssl ca -gencrl`) and OCSP responses (`openssl ocsp`).
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "attestation/nvidia/collateral.h"
#include "attestation/nvidia/rim.h"
#include "core/file_io.h"
#include "tests/support/matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/attestation/nvidia/rim_test_util.h"

namespace sigil::attestation::nvidia {
namespace {

using namespace sigil::testing::nvidia;  // NOLINT: test helpers

const std::vector<int> kActive = {7, 21, 22, 23, 35};

std::string Slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}
ByteSpan Span(const std::string& s) { return AsBytes(s); }

class RimTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pki_ = MakeRimPki(dir_.path());
    auto root = ReadFile(pki_.root_pem);
    ASSERT_TRUE(root);
    auto anchors = ParseAnchors({*root});
    ASSERT_TRUE(anchors);
    roots_ = std::move(*anchors);
  }
  std::string Signed(const std::string& name, const std::string& tmpl) {
    return Slurp(SignRim(pki_, dir_.path(), name, tmpl));
  }
  Result<Rim> Verify(const std::string& xml) {
    return VerifyRim(Span(xml), roots_, std::chrono::system_clock::now());
  }
  void ExpectRefused(const std::string& xml, Code code, const std::string& words) {
    auto r = Verify(xml);
    ASSERT_FALSE(r) << "accepted";
    EXPECT_EQ(r.error().code(), code) << r.error().message();
    EXPECT_NE(r.error().message().find(words), std::string::npos) << r.error().message();
  }

  sigil::testing::TempDir dir_;
  RimPki pki_;
  std::vector<X509Ptr> roots_;
};

TEST_F(RimTest, VerifiesADriverRimSignedByXmlsec) {
  const std::string xml = Signed("driver", RimTemplate(DriverSpec(kActive)));
  auto rim = Verify(xml);
  ASSERT_TRUE(rim) << rim.error().message();
  EXPECT_EQ(rim->kind, RimKind::kDriver);
  EXPECT_EQ(rim->version, "550.54.15");
  EXPECT_EQ(rim->tag_id, "NV_GPU_DRIVER_GH100_550.54.15");
  EXPECT_EQ(rim->product, "GH100");
  EXPECT_EQ(rim->inactive, 64u - kActive.size());
  EXPECT_NE(rim->signer.find("CN=Test RIM Signer"), std::string::npos) << rim->signer;
  ASSERT_EQ(rim->measurements.size(), kActive.size());
  for (std::size_t i = 0; i < kActive.size(); ++i) {
    const RimMeasurement& m = rim->measurements[i];
    EXPECT_EQ(m.rim_index, static_cast<std::uint32_t>(kActive[i]));
    EXPECT_EQ(m.block, static_cast<std::uint32_t>(kActive[i] + 1));  // report block = RIM index + 1
    ASSERT_FALSE(m.alternatives.empty());
    EXPECT_EQ(m.alternatives[0], TestHash("driver", kActive[i]));
  }
  EXPECT_EQ(rim->measurements[0].alternatives.size(), 2u);
  EXPECT_EQ(rim->measurements[0].alternatives[1], TestHash("driver-alt", 7));

  const std::vector<std::string> values = RimReferenceValues(*rim);
  ASSERT_EQ(values.size(), kActive.size() + 2);
  EXPECT_EQ(values[0], "8:" + TestHash("driver", 7));
  EXPECT_EQ(values[1], "8:" + TestHash("driver-alt", 7));
  EXPECT_EQ(values[2], "22:" + TestHash("driver", 21));
  EXPECT_EQ(values.back(), "rim:driver:550.54.15");
  // The unverified parse reads the same content.
  auto parsed = ParseRimUnverified(Span(xml));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->measurements, rim->measurements);
}

TEST_F(RimTest, VbiosRimIsRecognisedByItsVersionAndLowercased) {
  RimSpec spec = DriverSpec({0, 1, 2, 11, 12}, "96.00.5E.00.04");
  spec.tag_id = "1010_0205_862_96005E0004";
  auto rim = Verify(Signed("vbios", RimTemplate(spec)));
  ASSERT_TRUE(rim) << rim.error().message();
  EXPECT_EQ(rim->kind, RimKind::kVbios);
  EXPECT_EQ(rim->version, "96.00.5e.00.04");  // the form of the claim nvidia.vbios_version
  EXPECT_EQ(rim->measurements.front().block, 1u);
  EXPECT_EQ(RimReferenceValues(*rim).back(), "rim:vbios:96.00.5e.00.04");
}

TEST_F(RimTest, UnsignedRimIsRefused) {
  std::string tmpl = RimTemplate(DriverSpec(kActive));
  // The template as is: a Signature element with empty values.
  ExpectRefused(tmpl, Code::kVerificationFailed, "");
  // No Signature element at all.
  const auto at = tmpl.find("<ds:Signature");
  std::string bare = tmpl.substr(0, at) + "</SoftwareIdentity>\n";
  ExpectRefused(bare, Code::kVerificationFailed, "not signed");
  EXPECT_TRUE(ParseRimUnverified(Span(bare)));  // it parses: only verification refuses it
}

TEST_F(RimTest, BadSignatureIsRefused) {
  std::string xml = Signed("driver", RimTemplate(DriverSpec(kActive)));
  const auto at = xml.find("<ds:SignatureValue>") + std::string("<ds:SignatureValue>").size() + 5;
  xml[at] = xml[at] == 'A' ? 'B' : 'A';
  ExpectRefused(xml, Code::kVerificationFailed, "signature");
}

TEST_F(RimTest, AlteredMeasurementIsRefused) {
  std::string xml = Signed("driver", RimTemplate(DriverSpec(kActive)));
  const std::string h = TestHash("driver", 21);
  const auto at = xml.find(h);
  ASSERT_NE(at, std::string::npos);
  xml[at] = xml[at] == 'a' ? 'b' : 'a';
  ExpectRefused(xml, Code::kVerificationFailed, "bad signature");
  // Activating a measurement, or adding a Resource, is an alteration too.
  std::string xml2 = Signed("driver2", RimTemplate(DriverSpec(kActive)));
  const auto act = xml2.find("index=\"40\" active=\"False\"");
  ASSERT_NE(act, std::string::npos);
  xml2.replace(act, std::string("index=\"40\" active=\"False\"").size(), "index=\"40\" active=\"True\" ");
  ExpectRefused(xml2, Code::kVerificationFailed, "bad signature");
}

TEST_F(RimTest, RimSignedUnderAnotherRootIsRefused) {
  sigil::testing::TempDir other_dir;
  RimPki other = MakeRimPki(other_dir.path(), "other-");
  const std::string xml = Slurp(SignRim(other, other_dir.path(), "driver", RimTemplate(DriverSpec(kActive))));
  // The RIM carries its own root; it is not trusted because it is not the configured one.
  ExpectRefused(xml, Code::kVerificationFailed, "does not chain to the RIM root");
  auto own = ReadFile(other.root_pem);
  ASSERT_TRUE(own);
  auto anchors = ParseAnchors({*own});
  ASSERT_TRUE(anchors);
  EXPECT_TRUE(VerifyRim(Span(xml), *anchors, std::chrono::system_clock::now()));
  EXPECT_EQ(VerifyRim(Span(xml), {}, std::chrono::system_clock::now()).error().code(), Code::kInvalidArgument);
}

TEST_F(RimTest, ExpiredChainIsRefused) {
  const std::string xml = Signed("driver", RimTemplate(DriverSpec(kActive)));
  auto r = VerifyRim(Span(xml), roots_, std::chrono::system_clock::now() + std::chrono::hours(24 * 4000));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kExpired) << r.error().message();
}

TEST_F(RimTest, SecondSignatureIsRefused) {
  std::string xml = Signed("driver", RimTemplate(DriverSpec(kActive)));
  // A signed copy wrapped inside the Payload would be verified by a reader that looks for any
  // Signature; this one needs exactly one, a child of the root.
  const auto sig = xml.find("<ds:Signature");
  const auto end = xml.find("</ds:Signature>") + std::string("</ds:Signature>").size();
  const std::string copy = xml.substr(sig, end - sig);
  xml.insert(xml.find("<ns0:Entity"), copy);
  auto r = Verify(xml);
  ASSERT_FALSE(r);
}

TEST_F(RimTest, DuplicateIndexIsRefusedEvenWhenSigned) {
  RimSpec spec = DriverSpec(kActive);
  spec.resources[40].index = 7;  // index 7 twice
  ExpectRefused(Signed("dup", RimTemplate(spec)), Code::kMalformedEvidence, "index 7 appears twice");
}

TEST_F(RimTest, MalformedHashesAreRefusedEvenWhenSigned) {
  RimSpec short_hash = DriverSpec(kActive);
  short_hash.resources[21].hashes[0].pop_back();
  ExpectRefused(Signed("short", RimTemplate(short_hash)), Code::kMalformedEvidence, "96 hex digits");
  RimSpec not_hex = DriverSpec(kActive);
  not_hex.resources[21].hashes[0][3] = 'g';
  ExpectRefused(Signed("nothex", RimTemplate(not_hex)), Code::kMalformedEvidence, "96 hex digits");
}

TEST_F(RimTest, MissingAttributesAreRefused) {
  const std::string base = RimTemplate(DriverSpec(kActive));
  struct Case {
    std::string from, to, words;
  };
  const std::vector<Case> cases = {
      {"index=\"21\" ", "", "Resource has no index"},
      {"index=\"21\" active=\"True\" ", "index=\"21\" ", "no active"},
      {"index=\"21\" active=\"True\" alternatives=\"1\" ", "index=\"21\" active=\"True\" ", "no alternatives"},
      {"index=\"21\" active=\"True\" alternatives=\"1\" ", "index=\"21\" active=\"True\" alternatives=\"2\" ", "no Hash1"},
      {"index=\"21\" active=\"True\" alternatives=\"1\" ", "index=\"21\" active=\"True\" alternatives=\"0\" ", "0 alternatives"},
      {"index=\"21\" active=\"True\"", "index=\"21\" active=\"yes\"", "expected True or False"},
      {"index=\"21\"", "index=\"254\"", "not a number in 0..253"},
      {"colloquialVersion=\"550.54.15\" ", "", "no colloquialVersion"},
      {"colloquialVersion=\"550.54.15\" ", "colloquialVersion=\"latest\" ", "neither a driver"},
      {"tagId=\"NV_GPU_DRIVER_GH100_550.54.15\" ", "", "no tagId"},
      {"type=\"Measurement\" index=\"21\"", "type=\"Other\" index=\"21\"", "expected Measurement"},
  };
  for (const Case& c : cases) {
    std::string tmpl = base;
    const auto at = tmpl.find(c.from);
    ASSERT_NE(at, std::string::npos) << c.from;
    tmpl.replace(at, c.from.size(), c.to);
    SCOPED_TRACE(c.words);
    ExpectRefused(Signed("missing", tmpl), Code::kMalformedEvidence, c.words);
  }
  // Meta or Payload gone.
  std::string no_meta = base;
  const auto m = no_meta.find("    <ns0:Meta");
  no_meta.erase(m, no_meta.find("/>\n", m) + 3 - m);
  ExpectRefused(Signed("nometa", no_meta), Code::kMalformedEvidence, "no Meta");
  // No active measurement at all.
  RimSpec none = DriverSpec(kActive);
  for (auto& r : none.resources) r.active = false;
  ExpectRefused(Signed("none", RimTemplate(none)), Code::kMalformedEvidence, "no active measurement");
}

TEST_F(RimTest, DtdsEntitiesSizeAndDepthAreRefusedBeforeVerification) {
  const std::string body = RimTemplate(DriverSpec(kActive));
  ExpectRefused("<?xml version=\"1.0\"?>\n<!DOCTYPE x [<!ENTITY a \"aaaa\">]>\n" + body, Code::kMalformedEvidence, "DOCTYPE");
  ExpectRefused("", Code::kMalformedEvidence, "empty");
  ExpectRefused(std::string(kMaxRimBytes + 1, ' '), Code::kMalformedEvidence, "more than");
  ExpectRefused("<SoftwareIdentity", Code::kMalformedEvidence, "not well-formed");
  std::string deep = body;
  const auto at = deep.find("    <ns0:Entity");
  deep.insert(at, std::string("<ns0:Entity>") + "<a><b><c><d><e><f><g><h></h></g></f></e></d></c></b></a></ns0:Entity>");
  ExpectRefused(deep, Code::kMalformedEvidence, "nested deeper");
  ExpectRefused("<Other xmlns=\"urn:x\"/>", Code::kMalformedEvidence, "not a SWID SoftwareIdentity");
  // UTF-16 would hide a DOCTYPE from the byte search: refused as not UTF-8.
  std::string utf16 = "\xff\xfe";
  for (char ch : std::string("<!DOCTYPE x [<!ENTITY a \"b\">]><x>&a;</x>")) {
    utf16.push_back(ch);
    utf16.push_back('\0');
  }
  ExpectRefused(utf16, Code::kMalformedEvidence, "not UTF-8");
}

// Revocation of the signing chain (signer <- CA <- root): CRLs and OCSP responses made by the
// real openssl tools, read as the CLI's --collateral files are (ParseRevocationFile).
class RimRevocationTest : public RimTest {
 protected:
  void SetUp() override {
    RimTest::SetUp();
    xml_ = Signed("driver", RimTemplate(DriverSpec(kActive)));
  }
  // Adds the CRLs / OCSP responses in `paths` to crls_ / ocsp_.
  void Load(const std::vector<std::string>& paths) {
    for (const std::string& path : paths) {
      auto bytes = ReadFile(path);
      ASSERT_TRUE(bytes) << path;
      auto parsed = ParseRevocationFile(*bytes);
      ASSERT_TRUE(parsed) << path << ": " << parsed.error().message();
      for (auto& c : parsed->crls) crls_.push_back(std::move(c));
      for (auto& o : parsed->ocsp) ocsp_.push_back(std::move(o));
    }
  }
  Result<Rim> Check(std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) {
    return VerifyRim(Span(xml_), roots_, crls_, ocsp_, now);
  }
  void ExpectRevocationRefused(Code code, const std::string& words,
                               std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) {
    auto r = Check(now);
    ASSERT_FALSE(r) << "accepted, revocation " << RevocationName(r->revocation);
    EXPECT_EQ(r.error().code(), code) << r.error().message();
    EXPECT_NE(r.error().message().find(words), std::string::npos) << r.error().message();
    EXPECT_NE(r.error().message().find("NVIDIA RIM signing chain"), std::string::npos) << r.error().message();
  }
  std::string Dir() { return dir_.path(); }

  std::string xml_;
  std::vector<X509CrlPtr> crls_;
  std::vector<OcspResponsePtr> ocsp_;
};

TEST_F(RimRevocationTest, WithoutRevocationDataNothingIsChecked) {
  auto rim = Check();
  ASSERT_TRUE(rim) << rim.error().message();
  EXPECT_EQ(rim->revocation, Revocation::kNotChecked);
  ASSERT_EQ(rim->unchecked.size(), 2u);  // signer first, then the CA; the root is the anchor
  EXPECT_NE(rim->unchecked[0].find("CN=Test RIM Signer"), std::string::npos) << rim->unchecked[0];
  EXPECT_NE(rim->unchecked[1].find("CN=Test Reference Value CA"), std::string::npos) << rim->unchecked[1];
  // The overload without revocation data says the same.
  auto plain = Verify(xml_);
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->revocation, Revocation::kNotChecked);
}

TEST_F(RimRevocationTest, CurrentCrlsOfBothIssuersMakeItGood) {
  // PEM from `openssl ca -gencrl`, and the DER form of the other one.
  MakeRimCrl(pki_, RimIssuer::kRoot, Dir(), "root-crl", {});
  Load({MakeRimCrl(pki_, RimIssuer::kCa, Dir(), "ca-crl", {}), Dir() + "/root-crl.crl.der"});
  auto rim = Check();
  ASSERT_TRUE(rim) << rim.error().message();
  EXPECT_EQ(rim->revocation, Revocation::kGood);
  EXPECT_TRUE(rim->unchecked.empty());
}

TEST_F(RimRevocationTest, OneIssuersCrlIsPartialAndNamesTheOtherCertificate) {
  Load({MakeRimCrl(pki_, RimIssuer::kCa, Dir(), "ca-crl", {})});
  auto rim = Check();
  ASSERT_TRUE(rim) << rim.error().message();
  EXPECT_EQ(rim->revocation, Revocation::kPartial);
  ASSERT_EQ(rim->unchecked.size(), 1u);
  EXPECT_NE(rim->unchecked[0].find("CN=Test Reference Value CA"), std::string::npos) << rim->unchecked[0];
}

TEST_F(RimRevocationTest, RevokedSignerIsRefused) {
  Load({MakeRimCrl(pki_, RimIssuer::kRoot, Dir(), "root-crl", {}),
        MakeRimCrl(pki_, RimIssuer::kCa, Dir(), "ca-crl", {pki_.signer_pem})});
  ExpectRevocationRefused(Code::kVerificationFailed,
                          "certificate 'Test RIM Signer' is revoked by the CRL of 'Test Reference Value CA'");
}

TEST_F(RimRevocationTest, RevokedIntermediateIsRefused) {
  // In DER, as `openssl crl -outform DER` writes it.
  MakeRimCrl(pki_, RimIssuer::kRoot, Dir(), "root-crl", {pki_.ca_pem});
  Load({Dir() + "/root-crl.crl.der"});
  ExpectRevocationRefused(Code::kVerificationFailed,
                          "certificate 'Test Reference Value CA' is revoked by the CRL of 'Test RIM signing Root CA'");
}

TEST_F(RimRevocationTest, ExpiredCrlIsRefused) {
  Load({MakeRimCrl(pki_, RimIssuer::kCa, Dir(), "ca-crl", {}, /*days=*/30)});
  ASSERT_TRUE(Check());
  // 40 days on, the certificates are still valid but the CRL is past its nextUpdate.
  ExpectRevocationRefused(Code::kExpired, "CRL of 'Test Reference Value CA' is past its nextUpdate",
                          std::chrono::system_clock::now() + std::chrono::hours(24 * 40));
}

TEST_F(RimRevocationTest, CrlByTheWrongIssuerIsRefused) {
  // Another PKI with the same names but its own keys: its CA's CRL names our CA as issuer, and
  // does not verify with our CA's key (forged or misdirected).
  const RimPki other = MakeRimPki(Dir(), "other-");
  Load({MakeRimCrl(other, RimIssuer::kCa, Dir(), "other-ca-crl", {})});
  ExpectRevocationRefused(Code::kVerificationFailed, "CRL of 'Test Reference Value CA' signature does not verify");
}

TEST_F(RimRevocationTest, OcspResponsesFromTheIssuerCountLikeCrls) {
  Load({MakeRimOcsp(pki_, RimIssuer::kCa, Dir(), "signer-ocsp", pki_.signer_pem, /*revoked=*/false),
        MakeRimCrl(pki_, RimIssuer::kRoot, Dir(), "root-crl", {})});
  auto rim = Check();
  ASSERT_TRUE(rim) << rim.error().message();
  EXPECT_EQ(rim->revocation, Revocation::kGood);
  // Past the response's nextUpdate: refused as expired.
  ExpectRevocationRefused(Code::kExpired, "OCSP response for 'Test RIM Signer' is past its nextUpdate",
                          std::chrono::system_clock::now() + std::chrono::hours(24 * 40));
}

TEST_F(RimRevocationTest, OcspRevokedSignerIsRefused) {
  Load({MakeRimOcsp(pki_, RimIssuer::kCa, Dir(), "signer-ocsp", pki_.signer_pem, /*revoked=*/true)});
  ExpectRevocationRefused(Code::kVerificationFailed, "certificate 'Test RIM Signer' is revoked (OCSP");
}

TEST_F(RimRevocationTest, RevocationFilesHoldOnlyCrlsAndOcspResponses) {
  auto cert = ReadFile(pki_.ca_pem);
  ASSERT_TRUE(cert);
  auto r = ParseRevocationFile(*cert);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
  EXPECT_NE(r.error().message().find("CERTIFICATE"), std::string::npos) << r.error().message();
  const std::string garbage = std::string("\x30\x03\x02\x01\x01", 5);
  auto g = ParseRevocationFile(Span(garbage));
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().code(), Code::kMalformedEvidence);
  EXPECT_FALSE(ParseRevocationFile(Span(std::string("not a CRL"))));
}

}  // namespace
}  // namespace sigil::attestation::nvidia
