// k-of-n policy approval (issue 12) through the real sigild and sigil, with approver keys made by
// the real openssl command: once the policy in force names approvers, `sigil policy set` only
// proposes; the proposal is not used for releases until `required` distinct approvers signed the
// exact text (`sigil policy approve`); strangers, a second signature by one approver and a
// signature over another text are refused; rollback is one command and is approved like any
// change; a proposal overtaken by a newer version never goes in force; every step is recorded.
#include "core/encoding.h"
#include "core/file_io.h"
#include "tests/integration/broker_fixture.h"
#include "tests/support/matchers.h"

namespace sigil::integration {
namespace {

constexpr const char* kTenant = "papprove";

testing::CommandResult Sigil(std::vector<std::string> args) { return BrokerEnv::Get().Sigil(std::move(args)); }

class PolicyApproval : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    for (const char* who : {"alice", "bob", "mallory"}) {
      const std::string pem = File(std::string(who) + ".pem"), der = File(std::string(who) + ".der");
      auto g = sigil::testing::Run({"/usr/bin/openssl", "genpkey", "-algorithm", "ed25519", "-out", pem});
      ASSERT_EQ(g.exit_code, 0) << g.err;
      auto p = sigil::testing::Run({"/usr/bin/openssl", "pkey", "-in", pem, "-pubout", "-outform", "DER", "-out", der});
      ASSERT_EQ(p.exit_code, 0) << p.err;
    }
    WritePolicy("only-a.json", kMeasurementA);
    WritePolicy("only-b.json", kMeasurementB);
    for (auto args : std::vector<std::vector<std::string>>{{"tenant", "create", kTenant},
                                                           {"key", "create", std::string(kTenant) + "/k1"},
                                                           {"policy", "set", kTenant, File("only-a.json")}}) {
      auto r = Sigil(args);
      ASSERT_EQ(r.exit_code, 0) << args[0] << " " << args[1] << ": " << r.err;
    }
    artifact_ = new TestArtifact(MakeArtifact(kTenant, "k1"));
  }
  static void TearDownTestSuite() {
    delete artifact_;
    delete dir_;
  }
  static std::string File(const std::string& name) { return dir_->File(name); }
  // A policy admitting only dev workloads of `measurement`, approved by alice and bob (2 of 2).
  static void WritePolicy(const std::string& name, const char* measurement) {
    // Exactly as policies/README.md tells an approver to print it.
    auto spki = [](const char* who) {
      auto r = sigil::testing::Run({"/bin/sh", "-c", "openssl pkey -in '" + File(std::string(who) + ".pem") +
                                                         "' -pubout -outform DER | base64 -w0"});
      EXPECT_EQ(r.exit_code, 0) << r.err;
      auto der = ReadFile(File(std::string(who) + ".der"), 4096);
      EXPECT_TRUE(der.has_value() && Base64Encode(*der) == r.out) << r.out;
      return r.out;
    };
    const std::string text = std::string(R"({"version": 1, "rules": [{"name": "one-build", "keys": ["k1"],
  "when": {"allOf": [{"claim": "tee", "equals": "dev"}, {"claim": "measurement", "equals": ")") + measurement + R"("}]}}],
  "approvals": {"required": 2, "approvers": [{"name": "alice", "public_key": ")" + spki("alice") + R"("},
                                             {"name": "bob", "public_key": ")" + spki("bob") + R"("}]}})";
    ASSERT_TRUE(WriteFileAtomic(File(name), AsBytes(text), 0644).has_value());
  }
  // A fresh workload with `measurement` attests and asks for k1: whether it was released.
  static bool Released(const char* measurement) { return DevWorkloadReleased(kTenant, *artifact_, measurement); }
  // Proposes `file`; returns the proposal's version.
  static std::int64_t Propose(const std::string& file) {
    auto r = Sigil({"--json", "policy", "set", kTenant, File(file)});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto j = ParseJson(r.out, "set");
    EXPECT_TRUE(j.has_value()) << r.out;
    EXPECT_EQ(j->value("state", ""), "proposed");
    EXPECT_EQ(j->value("approvals_required", 0), 2);
    return j->value("policy_version", std::int64_t{0});
  }
  static testing::CommandResult Approve(std::int64_t version, const std::string& file, const char* who) {
    return Sigil({"policy", "approve", kTenant, std::to_string(version), File(file), "--key",
                  File(std::string(who) + ".pem")});
  }
  static std::string Audit() { return Sigil({"audit", "list", kTenant}).out; }

  static testing::TempDir* dir_;
  static TestArtifact* artifact_;
};
testing::TempDir* PolicyApproval::dir_ = nullptr;
TestArtifact* PolicyApproval::artifact_ = nullptr;

TEST_F(PolicyApproval, AProposalTakesEffectOnlyOnceTwoDistinctApproversSignedItsExactText) {
  ASSERT_TRUE(Released(kMeasurementA));
  // The human form, as documented.
  auto set = Sigil({"policy", "set", kTenant, File("only-b.json")});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  EXPECT_NE(set.out.find("proposed: in force once 2 approver(s) sign it"), std::string::npos) << set.out;
  auto get = Sigil({"--json", "policy", "get", kTenant});
  ASSERT_EQ(get.exit_code, 0);
  const std::int64_t in_force = ParseJson(get.out, "get")->value("policy_version", std::int64_t{0});
  const std::int64_t v = in_force + 1;
  EXPECT_TRUE(Released(kMeasurementA)) << "the proposal is not in force";
  EXPECT_FALSE(Released(kMeasurementB));

  auto stranger = Approve(v, "only-b.json", "mallory");
  EXPECT_NE(stranger.exit_code, 0);
  EXPECT_NE(stranger.err.find("is not an approver of policy version"), std::string::npos) << stranger.err;
  // Alice signs the text she was given, not the proposal: the broker refuses the signature.
  auto other_text = Approve(v, "only-a.json", "alice");
  EXPECT_EQ(other_text.exit_code, 4) << other_text.err;
  EXPECT_NE(other_text.err.find("does not verify"), std::string::npos) << other_text.err;

  auto first = Approve(v, "only-b.json", "alice");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.out.find("is proposed: 1 of 2 approvals by alice"), std::string::npos) << first.out;
  auto again = Approve(v, "only-b.json", "alice");
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.err.find("already approved"), std::string::npos) << again.err;
  EXPECT_TRUE(Released(kMeasurementA)) << "one approval of two puts nothing in force";

  auto show = Sigil({"policy", "show", kTenant, std::to_string(v)});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("is proposed: 1 of 2 approvals by alice"), std::string::npos) << show.out;
  EXPECT_NE(show.err.find("sha256 "), std::string::npos) << show.err;

  auto second = Approve(v, "only-b.json", "bob");
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.out.find("policy version " + std::to_string(v) + " is in force"), std::string::npos) << second.out;
  EXPECT_TRUE(Released(kMeasurementB));
  EXPECT_FALSE(Released(kMeasurementA));

  const std::string audit = Audit();
  for (const char* action : {"admin.policy.propose", "admin.policy.approve", "admin.policy.activate"}) {
    EXPECT_NE(audit.find(action), std::string::npos) << action;
  }
  EXPECT_NE(audit.find("approved by alice, bob"), std::string::npos);
  EXPECT_EQ(Sigil({"audit", "verify", kTenant}).exit_code, 0);
}

TEST_F(PolicyApproval, RollbackIsOneCommandApprovedLikeAnyChange) {
  // Wherever the previous test left the tenant: put only-b in force, then roll back to only-a.
  auto get = Sigil({"--json", "policy", "get", kTenant});
  ASSERT_EQ(get.exit_code, 0) << get.err;
  auto in_force = ParseJson(get.out, "get");
  if (in_force->value("policy", "").find(kMeasurementB) == std::string::npos) {
    const std::int64_t v = Propose("only-b.json");
    ASSERT_EQ(Approve(v, "only-b.json", "alice").exit_code, 0);
    ASSERT_EQ(Approve(v, "only-b.json", "bob").exit_code, 0);
  }
  ASSERT_TRUE(Released(kMeasurementB));
  auto rb = Sigil({"policy", "rollback", kTenant, "1"});  // version 1: only-a, set before approvals existed
  ASSERT_EQ(rb.exit_code, 0) << rb.err;
  EXPECT_NE(rb.out.find("rollback proposed as policy version"), std::string::npos) << rb.out;
  EXPECT_TRUE(Released(kMeasurementB)) << "a rollback is not in force before its approvals";
  auto j = ParseJson(Sigil({"--json", "policy", "show", kTenant, "1"}).out, "show");
  ASSERT_TRUE(j.has_value());
  auto latest = ParseJson(Sigil({"--json", "policy", "get", kTenant}).out, "get");
  const std::int64_t v = latest->value("policy_version", std::int64_t{0}) + 1;
  ASSERT_EQ(Approve(v, "only-a.json", "bob").exit_code, 0);
  ASSERT_EQ(Approve(v, "only-a.json", "alice").exit_code, 0);
  EXPECT_TRUE(Released(kMeasurementA));
  EXPECT_FALSE(Released(kMeasurementB));
  EXPECT_NE(Audit().find("admin.policy.rollback"), std::string::npos);
  // Only a version that was in force, older than the one in force, can be rolled back to.
  EXPECT_NE(Sigil({"policy", "rollback", kTenant, std::to_string(v)}).exit_code, 0);
  EXPECT_NE(Sigil({"policy", "rollback", kTenant, "999"}).exit_code, 0);
}

TEST_F(PolicyApproval, AProposalOvertakenByANewerVersionNeverGoesInForce) {
  const std::int64_t stale = Propose("only-b.json");
  const std::int64_t fresh = Propose("only-a.json");
  ASSERT_EQ(Approve(fresh, "only-a.json", "alice").exit_code, 0);
  ASSERT_EQ(Approve(fresh, "only-a.json", "bob").exit_code, 0);
  auto late = Approve(stale, "only-b.json", "alice");
  EXPECT_NE(late.exit_code, 0);
  EXPECT_NE(late.err.find("superseded"), std::string::npos) << late.err;
  auto show = ParseJson(Sigil({"--json", "policy", "show", kTenant, std::to_string(stale)}).out, "show");
  ASSERT_TRUE(show.has_value());
  EXPECT_EQ(show->value("state", ""), "superseded");
  EXPECT_TRUE(Released(kMeasurementA));
}

}  // namespace
}  // namespace sigil::integration
