// enclave/tpm/esys.h against a real TPM (swtpm): opening, errors naming the TCTI, transient
// handles flushed by RAII, and persistent state surviving a restart of the same state dir.
#include "enclave/tpm/esys.h"

#include <gtest/gtest.h>

#include "tests/support/matchers.h"
#include "tests/support/swtpm.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/enclave/tpm/tpm_test_util.h"

namespace sigil::enclave::tpm {
namespace {

using sigil::testing::Swtpm;
using sigil::testing::TempDir;

TEST(EsysTest, OpensSwtpmAndGetsRandom) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(Swtpm sw, Swtpm::Start(dir.path()));
  ASSERT_OK_AND_ASSIGN(EsysContext ctx, OpenTpm(sw.Tcti()));
  TPM2B_DIGEST* raw = nullptr;
  ASSERT_OK(Status(Esys_GetRandom(ctx.get(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, 16, &raw),
                   "Esys_GetRandom"));
  EsysPtr<TPM2B_DIGEST> bytes(raw);
  EXPECT_EQ(bytes->size, 16);
}

TEST(EsysTest, UnreachableTctiIsUnavailableAndNamesIt) {
  // A port nothing listens on (swtpm stopped).
  TempDir dir;
  std::string tcti;
  {
    ASSERT_OK_AND_ASSIGN(Swtpm sw, Swtpm::Start(dir.path()));
    tcti = sw.Tcti();
  }
  auto r = OpenTpm(tcti);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kUnavailable);
  EXPECT_NE(r.error().message().find(tcti), std::string::npos) << r.error().message();
}

TEST(EsysTest, StatusDecodesTheCodeAndNamesTheOperation) {
  EXPECT_OK(Status(TSS2_RC_SUCCESS, "x"));
  auto r = Status(TPM2_RC_HANDLE | TPM2_RC_1, "Esys_Quote");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("Esys_Quote: "), std::string::npos);
  EXPECT_NE(r.error().message().find("handle"), std::string::npos) << r.error().message();
  EXPECT_TRUE(IsRetryable(TPM2_RC_RETRY));
  EXPECT_TRUE(IsRetryable(TPM2_RC_YIELDED));
  EXPECT_TRUE(IsRetryable(TPM2_RC_TESTING));
  EXPECT_FALSE(IsRetryable(TPM2_RC_HANDLE));
  int calls = 0;
  EXPECT_EQ(Retry([&] { return ++calls < 3 ? TPM2_RC_RETRY : TSS2_RC_SUCCESS; }), TSS2_RC_SUCCESS);
  EXPECT_EQ(calls, 3);
}

TEST(EsysTest, TransientHandleFlushesOnDestruction) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(Swtpm sw, Swtpm::Start(dir.path()));
  ASSERT_OK_AND_ASSIGN(EsysContext ctx, OpenTpm(sw.Tcti()));
  {
    ASSERT_OK_AND_ASSIGN(TransientHandle h, CreateTestPrimary(ctx));
    ASSERT_OK_AND_ASSIGN(auto handles, TransientHandlesInTpm(ctx));
    EXPECT_EQ(handles.size(), 1u);
  }
  ASSERT_OK_AND_ASSIGN(auto handles, TransientHandlesInTpm(ctx));
  EXPECT_TRUE(handles.empty());
}

TEST(EsysTest, PersistentObjectSurvivesRestartOnSameStateDir) {
  TempDir dir;
  constexpr TPM2_HANDLE kPersistent = 0x81000123;
  {
    ASSERT_OK_AND_ASSIGN(Swtpm sw, Swtpm::Start(dir.path()));
    ASSERT_OK_AND_ASSIGN(EsysContext ctx, OpenTpm(sw.Tcti()));
    ASSERT_OK_AND_ASSIGN(TransientHandle h, CreateTestPrimary(ctx));
    ESYS_TR persistent = ESYS_TR_NONE;
    ASSERT_OK(Status(Esys_EvictControl(ctx.get(), ESYS_TR_RH_OWNER, h.get(), ESYS_TR_PASSWORD,
                                       ESYS_TR_NONE, ESYS_TR_NONE, kPersistent, &persistent),
                     "Esys_EvictControl"));
    TrCloser close(ctx.get(), persistent);
  }
  ASSERT_OK_AND_ASSIGN(Swtpm sw, Swtpm::Start(dir.path()));
  ASSERT_OK_AND_ASSIGN(EsysContext ctx, OpenTpm(sw.Tcti()));
  ESYS_TR tr = ESYS_TR_NONE;
  ASSERT_OK(Status(
      Esys_TR_FromTPMPublic(ctx.get(), kPersistent, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &tr),
      "Esys_TR_FromTPMPublic"));
  TrCloser close(ctx.get(), tr);
}

}  // namespace
}  // namespace sigil::enclave::tpm
