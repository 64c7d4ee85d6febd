// Unauthenticated work is bounded: a flood of challenges or of malformed TPM enrolment starts
// does not add one permanent audit record each (they are summarised per interval,
// broker/audit/unauth_activity.h), and names that are not names never reach the store or the log.
#include "tests/integration/broker_fixture.h"
#include "tests/support/matchers.h"

namespace sigil::integration {
namespace {

TEST(UnauthenticatedWork, ChallengeFloodDoesNotGrowTheAuditLog) {
  auto c = BrokerEnv::Get().Client();
  const std::size_t before = AuditRecords("acme").size();
  for (int i = 0; i < 300; ++i) ASSERT_OK(c->Challenge("acme", "dev"));
  // At most the summary of an interval that happened to end during the flood.
  EXPECT_LE(AuditRecords("acme").size(), before + 1);
}

TEST(UnauthenticatedWork, MalformedEnrolmentStartsDoNotGrowTheAuditLog) {
  auto c = BrokerEnv::Get().Client();
  const std::size_t before = AuditRecords("acme").size();
  for (int i = 0; i < 100; ++i) {
    auto r = c->Post("/v1/tpm/enrol/start", R"({"tenant":"acme","ek":"not-a-key","ak_public":"AAAA"})");
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument) << r.error().message();
  }
  EXPECT_LE(AuditRecords("acme").size(), before + 1);
}

TEST(ReleaseInput, KeyNamesThatAreNotNamesAreRefusedBeforeTheAudit) {
  auto c = BrokerEnv::Get().Client();
  Workload w = Workload::Make();
  ASSERT_OK_AND_ASSIGN(Bytes nonce, c->Challenge("acme", "dev"));
  ASSERT_OK_AND_ASSIGN(std::string token,
                       c->Attest("acme", "dev", nonce, w.Evidence(nonce, kMeasurementA, false), w.key.public_key));
  const std::size_t before = AuditRecords("acme").size();
  // A key name carrying a forged listing line, a NUL or a terminal escape: refused as invalid
  // input before policy or audit, so no record ever holds it.
  for (const std::string& name : {std::string("m\n2026-12-02T00:00:00Z release allow acme/model v1"),
                                 std::string("m\0x", 3), std::string("m\x1b[2Kx"), std::string("M")}) {
    TestArtifact a = MakeArtifact("acme", "model");
    a.artifact.key = "acme/" + name;
    auto r = c->Release(token, w.key.public_key, {a.artifact});
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument) << r.error().message();
    EXPECT_EQ(r.error().message().find('\n'), std::string::npos);
    EXPECT_EQ(r.error().message().find('\x1b'), std::string::npos);
  }
  EXPECT_EQ(AuditRecords("acme").size(), before);
}

}  // namespace
}  // namespace sigil::integration

namespace sigil::integration {
namespace {

TEST(AdminInput, ReferenceValuesWithControlCharactersAreRefused) {
  auto r = BrokerEnv::Get().Sigil({"refs", "add", "acme", "engines", "abc\n2026-12-02 release allow"});
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_NE(r.err.find("control characters"), std::string::npos) << r.err;
}

TEST(AdminInput, TenantAndKeyNamesInPathsAreValidatedBeforeAnyHandler) {
  // A name with a terminal escape: refused (by the CLI, the HTTP layer or the router), and the
  // error printed never carries the raw escape to the terminal.
  auto r = BrokerEnv::Get().Sigil({"key", "list", "acme\x1b[2K"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.err.find('\x1b'), std::string::npos) << r.err;
  // A name that HTTP carries fine but the name rule refuses reaches the router's check.
  auto upper = BrokerEnv::Get().Sigil({"key", "list", "ACME"});
  EXPECT_NE(upper.exit_code, 0);
  EXPECT_NE(upper.err.find("tenant in path 'ACME' is invalid"), std::string::npos) << upper.err;
}

}  // namespace
}  // namespace sigil::integration
