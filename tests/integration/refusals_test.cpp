// Every refusal the broker must make: a precise error code and message, an audit record with the
// reason, and no key in the response.
#include <sqlite3.h>

#include <thread>

#include "core/encoding.h"
#include "core/file_io.h"
#include "core/jwk.h"
#include "core/protocol.h"
#include "tests/integration/broker_fixture.h"
#include "tests/support/matchers.h"
#include "tests/support/temp_dir.h"

namespace sigil::integration {
namespace {

// Attests `w` for tenant with the given measurement/debug flag; returns the token.
Result<std::string> AttestAs(net::BrokerClient& c, const Workload& w, const std::string& tenant,
                             const std::string& measurement = kMeasurementA, bool debug = false) {
  SIGIL_ASSIGN_OR_RETURN(Bytes nonce, c.Challenge(tenant, "dev"));
  return c.Attest(tenant, "dev", nonce, w.Evidence(nonce, measurement, debug), w.key.public_key);
}

// The newest audit record of `tenant` must be a denial whose reason contains `needle`.
void ExpectDeniedAndAudited(const std::string& tenant, const std::string& action, const std::string& needle) {
  auto recs = AuditRecords(tenant);
  ASSERT_FALSE(recs.empty());
  const Json& last = recs.back();
  EXPECT_EQ(last.value("action", ""), action) << last.dump();
  EXPECT_EQ(last.value("decision", ""), "deny") << last.dump();
  EXPECT_NE(last.value("reason", "").find(needle), std::string::npos) << last.dump();
  EXPECT_TRUE(last.value("insecure_dev_tee", false)) << "dev TEE records must be flagged";
}

TEST(Release, GrantedFlowOpensToTheSameDek) {
  auto c = BrokerEnv::Get().Client();
  Workload w = Workload::Make();
  ASSERT_OK_AND_ASSIGN(std::string token, AttestAs(*c, w, "acme"));
  TestArtifact a = MakeArtifact("acme", "model");
  ASSERT_OK_AND_ASSIGN(auto released, c->Release(token, w.key.public_key, {a.artifact}));
  ASSERT_EQ(released.size(), 1u);
  auto info = protocol::ReleaseInfo("acme", "model", 1, released[0].artifact_id);
  ASSERT_OK_AND_ASSIGN(SecretBytes dek, hpke::OpenSecret(hpke::kSigilSuite, released[0].enc, w.key.private_key, info,
                                                         {}, released[0].sealed_dek));
  EXPECT_TRUE(ConstantTimeEquals(dek, a.dek));
  auto recs = AuditRecords("acme");
  ASSERT_FALSE(recs.empty());
  EXPECT_EQ(recs.back().value("action", ""), "release");
  EXPECT_EQ(recs.back().value("decision", ""), "allow");
}

TEST(Refusal, ReplayedNonce) {
  auto c = BrokerEnv::Get().Client();
  Workload w = Workload::Make();
  ASSERT_OK_AND_ASSIGN(Bytes nonce, c->Challenge("acme", "dev"));
  Bytes ev = w.Evidence(nonce, kMeasurementA, false);
  ASSERT_OK(c->Attest("acme", "dev", nonce, ev, w.key.public_key));
  EXPECT_CODE(c->Attest("acme", "dev", nonce, ev, w.key.public_key), Code::kReplay);
  ExpectDeniedAndAudited("acme", "attest", "replay");
}

TEST(Refusal, ExpiredNonce) {
  auto c = BrokerEnv::Get().Client();
  Workload w = Workload::Make();
  ASSERT_OK_AND_ASSIGN(Bytes nonce, c->Challenge("acme", "dev"));
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // the fixture's nonce TTL is 2 s
  EXPECT_CODE(c->Attest("acme", "dev", nonce, w.Evidence(nonce, kMeasurementA, false), w.key.public_key), Code::kExpired);
  ExpectDeniedAndAudited("acme", "attest", "expired");
}

TEST(Refusal, EvidenceBoundToAnotherTeeKey) {
  auto c = BrokerEnv::Get().Client();
  Workload w = Workload::Make(), other = Workload::Make();
  ASSERT_OK_AND_ASSIGN(Bytes nonce, c->Challenge("acme", "dev"));
  Bytes ev = w.Evidence(nonce, kMeasurementA, false, other.key.public_key);
  EXPECT_CODE(c->Attest("acme", "dev", nonce, ev, w.key.public_key), Code::kVerificationFailed);
  ExpectDeniedAndAudited("acme", "attest", "bound to a different");
}

TEST(Refusal, TokenUsedWithAnotherTeeKey) {
  auto c = BrokerEnv::Get().Client();
  Workload w = Workload::Make(), thief = Workload::Make();
  ASSERT_OK_AND_ASSIGN(std::string token, AttestAs(*c, w, "acme"));
  TestArtifact a = MakeArtifact("acme", "model");
  EXPECT_CODE(c->Release(token, thief.key.public_key, {a.artifact}), Code::kPermissionDenied);
  ExpectDeniedAndAudited("acme", "release", "different TEE public key");
  // The release only compares its key with the token's (fully checked at attest): a small-order
  // key, which the attest check refuses, is refused here as just another key.
  EXPECT_CODE(c->Release(token, Bytes(32, 0), {a.artifact}), Code::kPermissionDenied);
  ExpectDeniedAndAudited("acme", "release", "different TEE public key");
}

TEST(Refusal, MeasurementNotInReferenceSet) {
  auto c = BrokerEnv::Get().Client();
  Workload w = Workload::Make();
  ASSERT_OK_AND_ASSIGN(std::string token, AttestAs(*c, w, "acme", kMeasurementB));
  TestArtifact a = MakeArtifact("acme", "model");
  auto r = c->Release(token, w.key.public_key, {a.artifact});
  EXPECT_CODE(r, Code::kPolicyDenied);
  EXPECT_NE(r.error().message().find("measurement"), std::string::npos) << r.error().message();
  EXPECT_EQ(r.error().message().find(kMeasurementA), std::string::npos) << "reference values must not leak";
  ExpectDeniedAndAudited("acme", "release", "measurement");
}

TEST(Refusal, DebugEvidence) {
  auto c = BrokerEnv::Get().Client();
  Workload w = Workload::Make();
  ASSERT_OK_AND_ASSIGN(std::string token, AttestAs(*c, w, "acme", kMeasurementA, /*debug=*/true));
  TestArtifact a = MakeArtifact("acme", "model");
  EXPECT_CODE(c->Release(token, w.key.public_key, {a.artifact}), Code::kPolicyDenied);
  ExpectDeniedAndAudited("acme", "release", "debug");
}

TEST(Refusal, TenantWithoutPolicy) {
  auto c = BrokerEnv::Get().Client();
  Workload w = Workload::Make();
  EXPECT_CODE(AttestAs(*c, w, "bob"), Code::kPolicyDenied);
  ExpectDeniedAndAudited("bob", "attest", "no policy");
}

TEST(Refusal, KeyNotCoveredByAnyRule) {
  auto c = BrokerEnv::Get().Client();
  Workload w = Workload::Make();
  ASSERT_OK_AND_ASSIGN(std::string token, AttestAs(*c, w, "acme"));
  TestArtifact a = MakeArtifact("acme", "other");
  EXPECT_CODE(c->Release(token, w.key.public_key, {a.artifact}), Code::kPolicyDenied);
  ExpectDeniedAndAudited("acme", "release", "other");
}

TEST(Refusal, TokenFromAnotherTenant) {
  auto c = BrokerEnv::Get().Client();
  Workload w = Workload::Make();
  ASSERT_OK_AND_ASSIGN(std::string token, AttestAs(*c, w, "carol"));
  TestArtifact a = MakeArtifact("acme", "model");
  EXPECT_CODE(c->Release(token, w.key.public_key, {a.artifact}), Code::kPermissionDenied);
  ExpectDeniedAndAudited("carol", "release", "not to 'acme'");
}

TEST(Refusal, BatchIsAllOrNothing) {
  auto c = BrokerEnv::Get().Client();
  Workload w = Workload::Make();
  ASSERT_OK_AND_ASSIGN(std::string token, AttestAs(*c, w, "acme"));
  TestArtifact ok = MakeArtifact("acme", "model"), bad = MakeArtifact("acme", "other");
  EXPECT_CODE(c->Release(token, w.key.public_key, {ok.artifact, bad.artifact}), Code::kPolicyDenied);
}

TEST(FailClosed, NoReleaseWhenTheAuditLogCannotBeWritten) {
  auto c = BrokerEnv::Get().Client();
  Workload w = Workload::Make();
  ASSERT_OK_AND_ASSIGN(std::string token, AttestAs(*c, w, "acme"));
  TestArtifact a = MakeArtifact("acme", "model");
  std::string db = BrokerEnv::Get().data_dir() + "/store.db";
  auto exec = [&](const char* sql) {
    sqlite3* h = nullptr;
    ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(h, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(h);
    sqlite3_close(h);
  };
  exec("CREATE TRIGGER sigil_test_fail BEFORE INSERT ON audit BEGIN SELECT RAISE(FAIL, 'disk full'); END;");
  auto r = c->Release(token, w.key.public_key, {a.artifact});
  exec("DROP TRIGGER sigil_test_fail;");
  EXPECT_CODE(r, Code::kUnavailable);
  EXPECT_NE(r.error().message().find("audit"), std::string::npos) << r.error().message();
  // With the log writable again the same token works, so the refusal was the log's doing.
  ASSERT_OK(c->Release(token, w.key.public_key, {a.artifact}));
}

// A policy with memory, on the embedded store, set with the real CLI: the per-host limit counts
// releases of one key on one (dev) platform across workloads and tokens, and a single-use rule's
// release spends its token for every key. Each refusal is audited; a spent token releases nothing.
TEST(Refusal, PolicyMemoryLimitsReleasesPerHostAndSpendsSingleUseTokens) {
  const auto& env = BrokerEnv::Get();
  for (auto args : std::vector<std::vector<std::string>>{{"tenant", "create", "memo"}, {"key", "create", "memo/model"},
                                                         {"key", "create", "memo/once"},
                                                         {"refs", "add", "memo", "engines", kMeasurementA}}) {
    auto r = env.Sigil(args);
    ASSERT_EQ(r.exit_code, 0) << args[0] << " " << args[1] << ": " << r.err;
  }
  testing::TempDir dir;
  ASSERT_OK(WriteFileAtomic(dir.File("memo.json"), AsBytes(R"({
    "version": 1,
    "rules": [
      {"name": "per-host", "keys": ["model"],
       "when": {"allOf": [{"claim": "tee", "equals": "dev"}, {"claim": "measurement", "in_reference": "engines"}]},
       "limits": [{"max": 2, "per_seconds": 3600, "per_claim": "platform.id"}]},
      {"name": "once", "keys": ["once"],
       "when": {"allOf": [{"claim": "tee", "equals": "dev"}, {"claim": "measurement", "in_reference": "engines"}]},
       "single_use_token": true}]})"), 0644));
  auto set = env.Sigil({"policy", "set", "memo", dir.File("memo.json")});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  auto c = env.Client();
  TestArtifact model = MakeArtifact("memo", "model"), once = MakeArtifact("memo", "once");
  for (int i = 0; i < 2; ++i) {
    Workload w = Workload::Make();
    ASSERT_OK_AND_ASSIGN(std::string token, AttestAs(*c, w, "memo"));
    ASSERT_OK(c->Release(token, w.key.public_key, {model.artifact}));
  }
  Workload third = Workload::Make();
  ASSERT_OK_AND_ASSIGN(std::string token3, AttestAs(*c, third, "memo"));
  auto limited = c->Release(token3, third.key.public_key, {model.artifact});
  EXPECT_CODE(limited, Code::kPolicyDenied);
  EXPECT_NE(limited.error().message().find("release_limit: rule 'per-host': at most 2 releases of key 'model' per 3600 s per platform.id"),
            std::string::npos) << limited.error().message();
  ExpectDeniedAndAudited("memo", "release", "release_limit");
  // The same token still serves a key whose rule has no limit; that rule is single-use, so the
  // token is then spent for every key.
  ASSERT_OK(c->Release(token3, third.key.public_key, {once.artifact}));
  for (const auto* a : {&once, &model}) {
    auto spent = c->Release(token3, third.key.public_key, {a->artifact});
    EXPECT_CODE(spent, Code::kReplay);
    EXPECT_NE(spent.error().message().find("token_spent"), std::string::npos) << spent.error().message();
    ExpectDeniedAndAudited("memo", "release", "token_spent");
  }
  auto verify = env.Sigil({"audit", "verify", "memo"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

}  // namespace
}  // namespace sigil::integration

namespace sigil::integration {
namespace {

// Real SEV-SNP hardware evidence through the broker: the report (from AMD hardware, captured by
// go-sev-guest) verifies up to its signature chain, but its REPORT_DATA is not this challenge's
// binding, so the broker refuses it as a replay of foreign evidence, and audits the refusal.
TEST(Refusal, RealSnpReportNotBoundToThisChallenge) {
  auto c = BrokerEnv::Get().Client();
  Workload w = Workload::Make();
  ASSERT_OK_AND_ASSIGN(Bytes nonce, c->Challenge("acme", "sev-snp"));
  const std::string dir = std::string(SIGIL_SHARED_DIR) + "/vectors/sev-snp/go-sev-guest/";
  ASSERT_OK_AND_ASSIGN(Bytes report, ReadFile(dir + "attestation.bin"));
  ASSERT_OK_AND_ASSIGN(Bytes vcek, ReadFile(dir + "vcek.der"));
  Json req{{"tenant", "acme"}, {"tee", "sev-snp"}, {"nonce", Base64UrlEncode(nonce)},
           {"evidence", Base64UrlEncode(report)}, {"collateral", Base64UrlEncode(vcek)},
           {"tee_public_key", X25519PublicKeyToJwk(w.key.public_key)}};
  auto r = c->Post("/v1/attest", req.dump());
  EXPECT_CODE(r, Code::kVerificationFailed);
  // Signature and chain passed (the checks before it); the binding is what failed.
  EXPECT_NE(r.error().message().find("bound to a different nonce or TEE key"), std::string::npos) << r.error().message();
  auto recs = AuditRecords("acme");
  ASSERT_FALSE(recs.empty());
  EXPECT_EQ(recs.back().value("action", ""), "attest");
  EXPECT_EQ(recs.back().value("decision", ""), "deny");
  EXPECT_EQ(recs.back().value("tee", ""), "sev-snp");
  EXPECT_FALSE(recs.back().value("insecure_dev_tee", false));
}

}  // namespace
}  // namespace sigil::integration
