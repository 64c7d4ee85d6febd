// TpmAttester against a real TPM (swtpm): its evidence verifies with the real TpmVerifier for
// RSA and ECC AKs and several PCR selections, is bound to the binding, leaves no transient
// object behind, reuses a persistent AK, and works while another process uses the same TPM.
#include "enclave/tpm/tpm_attester.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "attestation/tpm/evidence.h"
#include "attestation/tpm/verifier.h"
#include "core/bytes.h"
#include "core/encoding.h"
#include "enclave/tpm/ak.h"
#include "enclave/tpm/pcr_selection.h"
#include "tests/support/matchers.h"
#include "tests/support/swtpm.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/enclave/tpm/tpm_test_util.h"

namespace sigil::enclave::tpm {
namespace {

using sigil::testing::Swtpm;
using sigil::testing::TempDir;
namespace att = attestation::tpm;

Bytes TestBinding(std::uint8_t seed) {
  Bytes b(64);
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(seed + 7 * i);
  return b;
}

class TpmAttesterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    auto sw = Swtpm::Start(dir_->path());
    ASSERT_TRUE(sw.has_value()) << sw.error().message();
    swtpm_ = new Swtpm(std::move(*sw));
  }
  static void TearDownTestSuite() {
    delete swtpm_;
    delete dir_;
  }

  static TpmAttesterConfig Config(AkKind kind, std::string pcrs) {
    TpmAttesterConfig c;
    c.tcti = swtpm_->Tcti();
    c.ak_kind = kind;
    c.pcrs = std::move(pcrs);
    return c;
  }

  static Result<Bytes> AkPem(const TpmAttesterConfig& c) {
    SIGIL_ASSIGN_OR_RETURN(std::string pem, ExportAkPem(c));
    return ToBytes(pem);
  }

  static Result<attestation::Claims> VerifyWith(ByteSpan evidence, const Bytes& ak_pem,
                                                ByteSpan binding) {
    att::TpmConfig tc;
    tc.registered_aks = {ak_pem};
    SIGIL_ASSIGN_OR_RETURN(auto verifier, att::TpmVerifier::Create(tc));
    attestation::VerifyInput in;
    in.evidence = evidence;
    in.expected_binding = binding;
    in.now = std::chrono::system_clock::now();
    return verifier->Verify(in);
  }

  static void ExpectNoTransientObjects() {
    ASSERT_OK_AND_ASSIGN(EsysContext ctx, OpenTpm(swtpm_->Tcti()));
    ASSERT_OK_AND_ASSIGN(auto handles, TransientHandlesInTpm(ctx));
    EXPECT_TRUE(handles.empty()) << handles.size() << " transient objects left in the TPM";
  }

  static TempDir* dir_;
  static Swtpm* swtpm_;
};
TempDir* TpmAttesterTest::dir_ = nullptr;
Swtpm* TpmAttesterTest::swtpm_ = nullptr;

struct Case {
  AkKind kind;
  const char* pcrs;
};

TEST_F(TpmAttesterTest, EvidenceVerifiesWithTheRealVerifier) {
  const Case cases[] = {
      {AkKind::kEccP256Sha256, "sha256:0,1,2,7"},
      {AkKind::kEccP256Sha256,
       "sha256:0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23"},
      {AkKind::kEccP384Sha384, "sha256:0,7+sha1:0"},
      {AkKind::kRsaSsaSha256, "sha1:1,2+sha256:16"},
      {AkKind::kRsaPssSha256, "sha256:23"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(AkKindName(c.kind)) + " " + c.pcrs);
    TpmAttesterConfig config = Config(c.kind, c.pcrs);
    ASSERT_OK_AND_ASSIGN(Bytes ak_pem, AkPem(config));
    ASSERT_OK_AND_ASSIGN(AttesterPtr attester, TpmAttester::Create(config));
    EXPECT_EQ(attester->tee(), "tpm");
    Bytes binding = TestBinding(static_cast<std::uint8_t>(c.kind));
    ASSERT_OK_AND_ASSIGN(Bytes evidence, attester->Evidence(binding));
    ASSERT_OK_AND_ASSIGN(attestation::Claims claims, VerifyWith(evidence, ak_pem, binding));
    EXPECT_EQ(claims.GetString("tee"), "tpm");
    // Every selected PCR is a claim, and the quote's qualifying data is binding[0..32).
    ASSERT_OK_AND_ASSIGN(TPML_PCR_SELECTION sel, ParsePcrSelection(c.pcrs));
    ASSERT_OK_AND_ASSIGN(att::Evidence parsed, att::ParseEvidence(evidence));
    ASSERT_OK_AND_ASSIGN(att::Quote quote, att::ParseQuote(parsed.attest));
    EXPECT_EQ(quote.extra_data, Bytes(binding.begin(), binding.begin() + 32));
    for (const auto& [bank, values] : parsed.pcrs) {
      for (const auto& [pcr, value] : values) {
        std::string name =
            std::string("tpm.pcr.") + att::HashName(bank) + "." + std::to_string(pcr);
        EXPECT_EQ(claims.GetString(name), HexEncode(value)) << name;
      }
    }
    EXPECT_EQ(FormatPcrSelection(sel).size() > 0, true);
    ExpectNoTransientObjects();
  }
}

TEST_F(TpmAttesterTest, OtherBindingIsRefused) {
  TpmAttesterConfig config = Config(AkKind::kEccP256Sha256, "sha256:0");
  ASSERT_OK_AND_ASSIGN(Bytes ak_pem, AkPem(config));
  ASSERT_OK_AND_ASSIGN(AttesterPtr attester, TpmAttester::Create(config));
  ASSERT_OK_AND_ASSIGN(Bytes evidence, attester->Evidence(TestBinding(1)));
  EXPECT_CODE(VerifyWith(evidence, ak_pem, TestBinding(2)), Code::kVerificationFailed);
  // Only the first 32 bytes are quoted: a binding differing only after them still verifies,
  // which is why the verifier documents binding[0..32) as the qualifying data.
  Bytes tail_changed = TestBinding(1);
  tail_changed[40] ^= 1;
  EXPECT_OK(VerifyWith(evidence, ak_pem, tail_changed));
}

TEST_F(TpmAttesterTest, UnregisteredAkIsRefused) {
  TpmAttesterConfig ecc = Config(AkKind::kEccP256Sha256, "sha256:0");
  ASSERT_OK_AND_ASSIGN(Bytes other_ak, AkPem(Config(AkKind::kEccP384Sha384, "sha256:0")));
  ASSERT_OK_AND_ASSIGN(AttesterPtr attester, TpmAttester::Create(ecc));
  ASSERT_OK_AND_ASSIGN(Bytes evidence, attester->Evidence(TestBinding(3)));
  EXPECT_CODE(VerifyWith(evidence, other_ak, TestBinding(3)), Code::kVerificationFailed);
}

TEST_F(TpmAttesterTest, BadInputsAreCleanErrors) {
  EXPECT_CODE(TpmAttester::Create(Config(AkKind::kEccP256Sha256, "sha1:0")),
              Code::kInvalidArgument);
  EXPECT_CODE(TpmAttester::Create(Config(AkKind::kEccP256Sha256, "sha256:24")),
              Code::kInvalidArgument);
  EXPECT_CODE(TpmAttester::Create(Config(AkKind::kEccP256Sha256, "md5:1+sha256:0")),
              Code::kInvalidArgument);
  ASSERT_OK_AND_ASSIGN(AttesterPtr attester,
                       TpmAttester::Create(Config(AkKind::kEccP256Sha256, "sha256:0")));
  EXPECT_CODE(attester->Evidence(Bytes(32)), Code::kInvalidArgument);
  TpmAttesterConfig missing = Config(AkKind::kEccP256Sha256, "sha256:0");
  missing.ak_handle = 0x81000777;
  ASSERT_OK_AND_ASSIGN(AttesterPtr no_ak, TpmAttester::Create(missing));
  EXPECT_CODE(no_ak->Evidence(TestBinding(4)), Code::kNotFound);
  ExpectNoTransientObjects();
}

TEST_F(TpmAttesterTest, PcrSelectionParsesAndFormats) {
  ASSERT_OK_AND_ASSIGN(TPML_PCR_SELECTION sel, ParsePcrSelection("sha256:7,0,1,1+sha1:23"));
  EXPECT_EQ(FormatPcrSelection(sel), "sha256:0,1,7+sha1:23");
  EXPECT_CODE(ParsePcrSelection("sha256:0+sha256:1"), Code::kInvalidArgument);
  EXPECT_CODE(ParsePcrSelection("sha256:"), Code::kInvalidArgument);
  EXPECT_CODE(ParsePcrSelection("sha256:1,,2"), Code::kInvalidArgument);
  EXPECT_CODE(ParsePcrSelection("sha256"), Code::kInvalidArgument);
}

TEST_F(TpmAttesterTest, PcrReadLoopsOverMoreThanEightPcrs) {
  // TPM2_PCR_Read returns at most 8 digests per call; 24 + 24 PCRs need several calls.
  ASSERT_OK_AND_ASSIGN(EsysContext ctx, OpenTpm(swtpm_->Tcti()));
  ASSERT_OK_AND_ASSIGN(
      TPML_PCR_SELECTION sel,
      ParsePcrSelection("sha256:0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23+"
                        "sha1:0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23"));
  ASSERT_OK_AND_ASSIGN(PcrRead read, ReadPcrs(ctx, sel));
  ASSERT_EQ(read.values.size(), 2u);
  EXPECT_EQ(read.values[TPM2_ALG_SHA256].size(), 24u);
  EXPECT_EQ(read.values[TPM2_ALG_SHA1].size(), 24u);
  EXPECT_EQ(read.values[TPM2_ALG_SHA256][0].size(), 32u);
  EXPECT_EQ(read.values[TPM2_ALG_SHA1][0].size(), 20u);
}

TEST_F(TpmAttesterTest, PersistentAkIsReusedAndEqualsThePrimary) {
  constexpr TPM2_HANDLE kHandle = 0x81010042;
  TpmAttesterConfig config = Config(AkKind::kEccP256Sha256, "sha256:0,1");
  ASSERT_OK_AND_ASSIGN(std::string primary_pem, ExportAkPem(config));
  ASSERT_OK_AND_ASSIGN(std::string persisted_pem, ExportAkPem(config, kHandle));
  // A primary is a function of the owner seed and template (Part 1 s.26.3): the same key.
  EXPECT_EQ(primary_pem, persisted_pem);
  // Persisting again is a no-op returning the same key.
  ASSERT_OK_AND_ASSIGN(std::string again, ExportAkPem(config, kHandle));
  EXPECT_EQ(again, persisted_pem);
  config.ak_handle = kHandle;
  ASSERT_OK_AND_ASSIGN(AttesterPtr attester, TpmAttester::Create(config));
  for (std::uint8_t i = 0; i < 3; ++i) {
    ASSERT_OK_AND_ASSIGN(Bytes evidence, attester->Evidence(TestBinding(i)));
    EXPECT_OK(VerifyWith(evidence, ToBytes(persisted_pem), TestBinding(i)));
  }
  ExpectNoTransientObjects();
  // Clean up so other tests see an empty persistent range.
  ASSERT_OK_AND_ASSIGN(EsysContext ctx, OpenTpm(swtpm_->Tcti()));
  ASSERT_OK_AND_ASSIGN(LoadedAk ak, LoadPersistentAk(ctx, kHandle));
  ESYS_TR none = ESYS_TR_NONE;
  ASSERT_OK(Status(Esys_EvictControl(ctx.get(), ESYS_TR_RH_OWNER, ak.persistent.get(),
                                     ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, kHandle, &none),
                   "Esys_EvictControl(remove)"));
  ak.persistent.Release();
}

TEST_F(TpmAttesterTest, ConcurrentProcessUsingTheSameTpm) {
  TpmAttesterConfig config = Config(AkKind::kEccP256Sha256, "sha256:0,1,2,3");
  ASSERT_OK_AND_ASSIGN(Bytes ak_pem, AkPem(config));
  ASSERT_OK_AND_ASSIGN(AttesterPtr attester, TpmAttester::Create(config));
  constexpr int kRounds = 5;
  // A second process quotes through its own connection at the same time; swtpm serves one
  // connection at a time, so each side waits for the other rather than failing.
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int ok = 0;
    for (int i = 0; i < kRounds; ++i) ok += attester->Evidence(TestBinding(100)).has_value();
    _exit(ok == kRounds ? 0 : 1);
  }
  for (int i = 0; i < kRounds; ++i) {
    ASSERT_OK_AND_ASSIGN(Bytes evidence,
                         attester->Evidence(TestBinding(static_cast<std::uint8_t>(i))));
    EXPECT_OK(VerifyWith(evidence, ak_pem, TestBinding(static_cast<std::uint8_t>(i))));
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  ExpectNoTransientObjects();
}

}  // namespace
}  // namespace sigil::enclave::tpm
