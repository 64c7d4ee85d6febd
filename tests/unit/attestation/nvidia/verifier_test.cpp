// NvidiaVerifier on the real nvtrust Hopper report and chain (MANIFEST NV-1): the claims Trustee
// derives for it, and refusals built by mutating the real report, nonce, chain and root.
#include "attestation/nvidia/verifier.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "attestation/nvidia/chain.h"
#include "attestation/nvidia/collateral.h"
#include "attestation/nvidia/signature.h"
#include "core/digest.h"
#include "core/encoding.h"
#include "core/json.h"
#include "tests/support/matchers.h"
#include "tests/unit/attestation/nvidia/nvidia_test_util.h"

namespace sigil::attestation::nvidia {
namespace {

using namespace sigil::testing::nvidia;  // NOLINT: test helpers

std::unique_ptr<Verifier> MakeVerifier(Bytes root = RootPem(), Bytes default_chain = {}) {
  NvidiaConfig config;
  config.roots.push_back(std::move(root));
  config.default_chain = std::move(default_chain);
  return NvidiaVerifier::Create(std::move(config)).value();
}

Result<Claims> VerifyNv(const Verifier& v, ByteSpan evidence, ByteSpan collateral,
                        ByteSpan binding, std::chrono::system_clock::time_point t = VerifyTime()) {
  return v.Verify({evidence, collateral, binding, t, {}});
}

// The chain as separate PEM blocks, leaf first (the file's last block has no newline).
std::vector<std::string> ChainBlocks() {
  const std::string pem = ToString(ChainPem());
  const std::string begin = "-----BEGIN CERTIFICATE-----";
  const std::string end = "-----END CERTIFICATE-----";
  std::vector<std::string> out;
  std::size_t at = pem.find(begin);
  while (at != std::string::npos) {
    const std::size_t stop = pem.find(end, at);
    if (stop == std::string::npos) break;
    out.push_back(pem.substr(at, stop + end.size() - at) + "\n");
    at = pem.find(begin, stop);
  }
  return out;
}

std::string Join(const std::vector<std::string>& blocks, std::vector<std::size_t> pick) {
  std::string out;
  for (std::size_t i : pick) out += blocks[i];
  return out;
}

void ExpectRefused(const Result<Claims>& r, Code code, const std::string& needle) {
  ASSERT_FALSE(r.has_value()) << "expected refusal: " << needle;
  EXPECT_EQ(r.error().code(), code) << r.error().message();
  EXPECT_NE(r.error().message().find(needle), std::string::npos) << r.error().message();
}

TEST(NvidiaVerifierTest, VectorPassesWithTrusteeClaims) {
  auto v = MakeVerifier();
  EXPECT_EQ(v->tee(), "nvidia-gpu");
  ASSERT_OK_AND_ASSIGN(const Claims c, VerifyNv(*v, ReportHexText(), ChainPem(), ExpectedNonce()));
  EXPECT_EQ(c.GetString("tee"), "nvidia-gpu");
  EXPECT_EQ(c.GetBool("debug"), false);
  EXPECT_EQ(c.GetString("nvidia.revocation"), "not-checked");  // no CRL given: never "good"
  EXPECT_EQ(c.GetString("nvidia.cc_mode"), "not-reported");    // no opaque type 36
  EXPECT_EQ(c.GetInt("nvidia.measurement_count"), 64);
  EXPECT_EQ(c.GetString("nvidia.nonce"), HexEncode(ExpectedNonce()));
  // measurement = SHA-384 of the MeasurementRecord (blocks are in index order): bytes 45..3565.
  const Bytes report = ReportBytes();
  EXPECT_EQ(c.GetString("measurement"),
            HexEncode(Sha384(ByteSpan(report).subspan(45, 3520))));

  const std::string text = ToString(ReadVector("nvtrust/trustee_hopperAttestationReport-claims.json"));
  ASSERT_OK_AND_ASSIGN(const Json expected, ParseJson(text, "trustee claims"));
  const Json& config = expected["config"];
  EXPECT_EQ(c.GetString("nvidia.driver_version"), config["driver_version"].get<std::string>());
  EXPECT_EQ(c.GetString("nvidia.vbios_version"), config["vbios_version"].get<std::string>());
  EXPECT_EQ(c.GetString("nvidia.vbios_version"), "96.00.9f.00.01");
  EXPECT_EQ(c.GetString("nvidia.fwid"), config["fwid"].get<std::string>());
  EXPECT_EQ(c.GetString("nvidia.fwid"), kFwidHex);
  for (const char* name : {"board_id", "chip_sku", "chip_sku_mod", "cpr_info", "gpu_info",
                           "nvdec0_status", "project", "project_sku", "project_sku_mod",
                           "protected_pcie_status"}) {
    EXPECT_EQ(c.GetString(std::string("nvidia.") + name), config[name].get<std::string>())
        << name;
  }
  ASSERT_EQ(expected["measurements"].size(), 64u);
  for (const auto& [index, value] : expected["measurements"].items()) {
    EXPECT_EQ(c.GetString("nvidia.measurement." + index), value.get<std::string>()) << index;
  }
  ASSERT_EQ(config["measurement_count"].size(), 64u);
  for (const auto& [index, value] : config["measurement_count"].items()) {
    EXPECT_EQ(c.GetInt("nvidia.msrscnt." + index), value.get<std::int64_t>()) << index;
  }
}

TEST(NvidiaVerifierTest, RawBytesAndTheSixtyFourByteBindingWork) {
  auto v = MakeVerifier();
  EXPECT_OK(VerifyNv(*v, ReportBytes(), ChainPem(), ExpectedNonce()));
  // Sigil's 64-byte binding: the nonce is its first 32 bytes, the rest is not in the GPU report.
  const Bytes binding = Concat({ExpectedNonce(), Bytes(32, 0xA5)});
  EXPECT_OK(VerifyNv(*v, ReportBytes(), ChainPem(), binding));
  const Bytes nonce_last = Concat({Bytes(32, 0xA5), ExpectedNonce()});
  ExpectRefused(VerifyNv(*v, ReportBytes(), ChainPem(), nonce_last), Code::kVerificationFailed,
                "nonce mismatch");
}

TEST(NvidiaVerifierTest, WrongOrMissingNonceIsRefused) {
  auto v = MakeVerifier();
  Bytes wrong = ExpectedNonce();
  wrong[31] ^= 0x01;
  ExpectRefused(VerifyNv(*v, ReportBytes(), ChainPem(), wrong), Code::kVerificationFailed,
                "NVIDIA report nonce mismatch");
  // The responder nonce is not the one the verifier chose.
  const Report r = ParseReport(ReportBytes()).value();
  ExpectRefused(VerifyNv(*v, ReportBytes(), ChainPem(), r.responder_nonce), Code::kVerificationFailed,
                "nonce mismatch");
  // No unchecked-nonce mode: empty and odd lengths are caller errors.
  EXPECT_CODE(VerifyNv(*v, ReportBytes(), ChainPem(), {}), Code::kInvalidArgument);
  EXPECT_CODE(VerifyNv(*v, ReportBytes(), ChainPem(), Bytes(31, 0)), Code::kInvalidArgument);
  EXPECT_CODE(VerifyNv(*v, ReportBytes(), ChainPem(), Bytes(48, 0)), Code::kInvalidArgument);
}

// One flipped byte in each signed region, through the whole verifier.
TEST(NvidiaVerifierTest, AFlipInEachSignedRegionIsRefused) {
  auto v = MakeVerifier();
  std::vector<std::pair<std::size_t, std::string>> flips = {
      {2, "request param1"}, {20, "request nonce"}, {36, "slot"},
      {39, "response param1"}, {40, "response param2"}, {3565, "responder nonce first"},
      {3596, "responder nonce last"}, {3599 + 4, "opaque VBIOS value"},
      {3599 + 200, "opaque measurement counts"}, {4020, "opaque last byte"},
      {4021, "signature r"}, {4021 + 60, "signature s"}, {4116, "signature last"}};
  for (std::size_t block = 0; block < 64; ++block) {
    flips.push_back({45 + block * 55 + 7 + block % 48, "block " + std::to_string(block + 1)});
  }
  for (const auto& [offset, what] : flips) {
    Bytes bytes = ReportBytes();
    bytes[offset] ^= 0x01;
    Bytes binding = ExpectedNonce();
    if (offset >= 4 && offset < 36) binding[offset - 4] ^= 0x01;  // so the nonce check passes
    auto r = VerifyNv(*v, bytes, ChainPem(), binding);
    EXPECT_FALSE(r.has_value()) << "flip at " << offset << " (" << what << ") accepted";
  }
}

// Every byte of the signed part and the signature: parse or signature check refuses it.
TEST(NvidiaVerifierTest, EveryByteIsCoveredByTheSignature) {
  const Bytes bytes = ReportBytes();
  auto chain = ParseCollateral(ChainPem()).value();
  const EVP_PKEY* leaf_key = X509_get0_pubkey(chain.chain[0].get());
  ASSERT_NE(leaf_key, nullptr);
  const Report good = ParseReport(bytes).value();
  EXPECT_OK(VerifyReportSignature(bytes, good, *leaf_key));
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    Bytes flipped = bytes;
    flipped[i] ^= 0x80;
    auto parsed = ParseReport(flipped);
    if (!parsed) continue;
    EXPECT_CODE(VerifyReportSignature(flipped, *parsed, *leaf_key), Code::kVerificationFailed);
  }
}

TEST(NvidiaVerifierTest, ChainToAWrongRootIsRefused) {
  const auto blocks = ChainBlocks();
  ASSERT_EQ(blocks.size(), 5u);
  // An intermediate pinned as "root" does not anchor: the chain must end at a self-signed root.
  auto v = MakeVerifier(ToBytes(blocks[3]));
  ExpectRefused(VerifyNv(*v, ReportBytes(), ChainPem(), ExpectedNonce()), Code::kVerificationFailed,
                "does not verify to a configured root");
  // A different self-signed P-384 root.
  const TestPki other = MakePki({});
  auto w = MakeVerifier(ToBytes(Pem(*other.root)));
  ExpectRefused(VerifyNv(*w, ReportBytes(), ChainPem(), ExpectedNonce()), Code::kVerificationFailed,
                "does not verify to a configured root");
  // A collateral root equal in name but not configured: the vector chain with our root added.
  ExpectRefused(VerifyNv(*w, ReportBytes(), ToBytes(Join(blocks, {0, 1, 2, 3})), ExpectedNonce()),
                Code::kVerificationFailed, "configured root");
}

TEST(NvidiaVerifierTest, IncompleteOrReorderedChainsAreRefused) {
  auto v = MakeVerifier();
  const auto blocks = ChainBlocks();
  // Without the root in the collateral the pinned root completes it.
  EXPECT_OK(VerifyNv(*v, ReportBytes(), ToBytes(Join(blocks, {0, 1, 2, 3})), ExpectedNonce()));
  // Issuers in any order after the leaf.
  EXPECT_OK(VerifyNv(*v, ReportBytes(), ToBytes(Join(blocks, {0, 3, 1, 4, 2})), ExpectedNonce()));
  // Without intermediates (MANIFEST negative).
  ExpectRefused(VerifyNv(*v, ReportBytes(), ToBytes(Join(blocks, {0, 4})), ExpectedNonce()),
                Code::kVerificationFailed, "does not verify");
  // Without the leaf: the first certificate (BROM) did not sign the report.
  ExpectRefused(VerifyNv(*v, ReportBytes(), ToBytes(Join(blocks, {1, 2, 3, 4})), ExpectedNonce()),
                Code::kVerificationFailed, "signature does not verify");
  // The leaf alone.
  ExpectRefused(VerifyNv(*v, ReportBytes(), ToBytes(blocks[0]), ExpectedNonce()),
                Code::kVerificationFailed, "at least 2 certificates");
  // No chain at all and no default chain.
  ExpectRefused(VerifyNv(*v, ReportBytes(), {}, ExpectedNonce()), Code::kVerificationFailed,
                "at least 2 certificates, got 0");
}

TEST(NvidiaVerifierTest, DefaultChainIsUsedWhenTheCollateralHasNone) {
  auto v = MakeVerifier(RootPem(), ChainPem());
  EXPECT_OK(VerifyNv(*v, ReportBytes(), {}, ExpectedNonce()));
  // The collateral's chain wins over the default.
  ExpectRefused(VerifyNv(*v, ReportBytes(), ToBytes(ChainBlocks()[0]), ExpectedNonce()),
                Code::kVerificationFailed, "at least 2 certificates");
}

TEST(NvidiaVerifierTest, ValidityIsCheckedAtInputNow) {
  auto v = MakeVerifier();
  // 2021-01-01: after the leaf's notBefore (2020-10-17) but before 2022-03-01 (MANIFEST).
  ExpectRefused(VerifyNv(*v, ReportBytes(), ChainPem(), ExpectedNonce(), At(1609459200)),
                Code::kExpired, "does not verify");
  EXPECT_OK(VerifyNv(*v, ReportBytes(), ChainPem(), ExpectedNonce(), At(1646179200)));  // 2022-03-02
}

TEST(NvidiaVerifierTest, CollateralAndConfigAreParsedStrictly) {
  auto v = MakeVerifier();
  const std::string key =
      "-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n";
  ExpectRefused(VerifyNv(*v, ReportBytes(), ToBytes(ToString(ChainPem()) + "\n" + key), ExpectedNonce()),
                Code::kMalformedEvidence, "unsupported label 'PRIVATE KEY'");
  std::string corrupt = ToString(ChainPem());
  corrupt[100] = '*';
  EXPECT_CODE(VerifyNv(*v, ReportBytes(), ToBytes(corrupt), ExpectedNonce()),
              Code::kMalformedEvidence);
  EXPECT_CODE(VerifyNv(*v, ToBytes("not a report"), ChainPem(), ExpectedNonce()),
              Code::kMalformedEvidence);

  EXPECT_CODE(NvidiaVerifier::Create({}), Code::kInvalidArgument);
  EXPECT_CODE(NvidiaVerifier::Create({{ToBytes("junk")}, {}}), Code::kInvalidArgument);
  EXPECT_CODE(NvidiaVerifier::Create({{RootPem()}, ToBytes("junk")}), Code::kInvalidArgument);
}

// The fuzz seed with one block of each accepted kind (written by Python `cryptography`).
TEST(NvidiaVerifierTest, CollateralTakesCertificatesCrlsAndOcspResponses) {
  std::ifstream in(std::string(SIGIL_SOURCE_DIR) +
                       "/tests/fuzz/corpus/nvidia_report/collateral_crl_ocsp.pem",
                   std::ios::binary);
  const Bytes pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_OK_AND_ASSIGN(const Collateral c, ParseCollateral(pem));
  EXPECT_EQ(c.chain.size(), 1u);
  EXPECT_EQ(c.crls.size(), 1u);
  EXPECT_EQ(c.ocsp.size(), 1u);
  EXPECT_CODE(ParseCollateral(ToBytes("no PEM here")), Code::kMalformedEvidence);
  ASSERT_OK_AND_ASSIGN(const Collateral empty, ParseCollateral({}));
  EXPECT_TRUE(empty.chain.empty());
}

TEST(NvidiaVerifierTest, LeafFwidIsTheReportFwid) {
  const auto chain = ParseCollateral(ChainPem()).value();
  ASSERT_OK_AND_ASSIGN(const auto fwid, LeafFwid(*chain.chain[0]));
  EXPECT_EQ(HexEncode(fwid), kFwidHex);
  Report report = ParseReport(ReportBytes()).value();
  EXPECT_OK(CheckFwid(*chain.chain[0], report));
  (*report.fwid)[47] ^= 0x01;
  EXPECT_CODE(CheckFwid(*chain.chain[0], report), Code::kVerificationFailed);
  report.fwid.reset();
  EXPECT_CODE(CheckFwid(*chain.chain[0], report), Code::kVerificationFailed);
  // The root certificate has no TcbInfo extension.
  EXPECT_CODE(LeafFwid(*chain.chain[4]), Code::kVerificationFailed);
}

}  // namespace
}  // namespace sigil::attestation::nvidia
