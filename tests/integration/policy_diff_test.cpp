// sigil policy diff against the real sigild: a tenant's recorded release decisions (one allowed
// workload with measurement A, one refused with measurement B) replayed against two policies.
#include "core/file_io.h"
#include "tests/integration/broker_fixture.h"
#include "tests/support/matchers.h"

namespace sigil::integration {
namespace {
// Named: this file shares a unity batch (CMakeLists.txt) with others that define kTenant and Sigil.
namespace policy_diff {

constexpr const char* kTenant = "pdiff";

// Today's policy: measurement in the reference set "engines" (which holds A).
constexpr const char* kOld = R"({"version": 1, "rules": [{"name": "engines", "keys": ["k1"],
  "when": {"allOf": [{"claim": "tee", "equals": "dev"}, {"claim": "measurement", "in_reference": "engines"}]}}]})";

testing::CommandResult Sigil(std::vector<std::string> args) { return BrokerEnv::Get().Sigil(std::move(args)); }

// A fresh workload with `measurement` attests and asks for k1; returns whether it was released.
bool Release(const TestArtifact& a, const std::string& measurement) {
  return DevWorkloadReleased(kTenant, a, measurement);
}

class PolicyDiff : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    ASSERT_TRUE(WriteFileAtomic(File("old.json"), AsBytes(kOld), 0644).has_value());
    // The candidate: only measurement B.
    const std::string only_b = std::string(R"({"version": 1, "rules": [{"name": "only-b", "keys": ["k1"],
      "when": {"allOf": [{"claim": "tee", "equals": "dev"}, {"claim": "measurement", "equals": ")") +
                               kMeasurementB + R"("}]}}]})";
    ASSERT_TRUE(WriteFileAtomic(File("new.json"), AsBytes(only_b), 0644).has_value());
    ASSERT_TRUE(WriteFileAtomic(File("refs-b.json"), AsBytes(std::string(R"({"engines": [")") + kMeasurementB + "\"]}"),
                                0644).has_value());
    for (auto args : std::vector<std::vector<std::string>>{
             {"tenant", "create", kTenant}, {"refs", "add", kTenant, "engines", kMeasurementA},
             {"policy", "set", kTenant, File("old.json")}, {"key", "create", std::string(kTenant) + "/k1"}}) {
      auto r = Sigil(args);
      ASSERT_EQ(r.exit_code, 0) << args[0] << " " << args[1] << ": " << r.err;
    }
    TestArtifact a = MakeArtifact(kTenant, "k1");
    ASSERT_TRUE(Release(a, kMeasurementA));   // seq: allowed today
    ASSERT_FALSE(Release(a, kMeasurementB));  // refused today
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::string File(const std::string& name) { return dir_->File(name); }
  static testing::TempDir* dir_;
};
testing::TempDir* PolicyDiff::dir_ = nullptr;

TEST_F(PolicyDiff, ListsEveryDecisionThatWouldChangeBothWays) {
  auto r = Sigil({"policy", "diff", File("old.json"), File("new.json"), "--tenant", kTenant});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("key k1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("allow -> deny"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("deny -> allow  (new: rule 'only-b')"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("tenant pdiff: 2 decisions replayed, 1 allow -> deny, 1 deny -> allow\n"), std::string::npos) << r.out;
}

TEST_F(PolicyDiff, JsonNamesTheRecordsAndBothDecisions) {
  auto r = Sigil({"--json", "policy", "diff", File("old.json"), File("new.json"), "--tenant", kTenant});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = ParseJson(r.out, "diff");
  ASSERT_TRUE(j.has_value()) << r.out;
  EXPECT_EQ((*j)["replayed"], 2);
  EXPECT_EQ((*j)["skipped_no_claims"], 0);
  ASSERT_EQ((*j)["changes"].size(), 2u);
  const Json& first = (*j)["changes"][0];  // measurement A, allowed when it happened
  EXPECT_EQ(first["recorded"], "allow");
  EXPECT_EQ(first["old"]["allow"], true);
  EXPECT_EQ(first["old"]["rule"], "engines");
  EXPECT_EQ(first["new"]["allow"], false);
  const Json& second = (*j)["changes"][1];
  EXPECT_EQ(second["recorded"], "deny");
  EXPECT_EQ(second["new"]["rule"], "only-b");
  EXPECT_LT(first["seq"].get<std::uint64_t>(), second["seq"].get<std::uint64_t>());
  // The records it names are the tenant's release records.
  bool found = false;
  for (const Json& rec : AuditRecords(kTenant)) {
    if (rec["seq"] == first["seq"]) found = rec["action"] == "release" && rec["decision"] == "allow";
  }
  EXPECT_TRUE(found);
}

TEST_F(PolicyDiff, CheckExitsFourOnlyWhenSomethingChanges) {
  EXPECT_EQ(Sigil({"policy", "diff", File("old.json"), File("new.json"), "--tenant", kTenant, "--check"}).exit_code, 4);
  auto same = Sigil({"policy", "diff", File("old.json"), File("old.json"), "--tenant", kTenant, "--check"});
  EXPECT_EQ(same.exit_code, 0) << same.err;
  EXPECT_NE(same.out.find("2 decisions replayed, 0 allow -> deny, 0 deny -> allow"), std::string::npos) << same.out;
}

TEST_F(PolicyDiff, LastLimitsTheReplayToTheNewestDecisions) {
  auto r = Sigil({"--json", "policy", "diff", File("old.json"), File("new.json"), "--tenant", kTenant, "--last", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = ParseJson(r.out, "diff");
  ASSERT_TRUE(j.has_value());
  EXPECT_EQ((*j)["replayed"], 1);
  ASSERT_EQ((*j)["changes"].size(), 1u);
  EXPECT_EQ((*j)["changes"][0]["recorded"], "deny");
  EXPECT_EQ(Sigil({"policy", "diff", File("old.json"), File("new.json"), "--tenant", kTenant, "--last", "0"}).exit_code, 2);
}

// With reference sets from a file instead of the tenant's: "engines" = {B} makes today's policy
// allow B and refuse A, exactly what the candidate does, so nothing changes.
TEST_F(PolicyDiff, RefsFromAFileReplaceTheTenantsSets) {
  auto r = Sigil({"policy", "diff", File("old.json"), File("new.json"), "--tenant", kTenant, "--refs", File("refs-b.json")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("2 decisions replayed, 0 allow -> deny, 0 deny -> allow"), std::string::npos) << r.out;
}

TEST_F(PolicyDiff, BadInputsAreRefusedBeforeAnythingIsReplayed) {
  ASSERT_TRUE(WriteFileAtomic(File("broken.json"), AsBytes(R"({"version": 1, "rules": [{"name": 7}]})"), 0644).has_value());
  auto bad = Sigil({"policy", "diff", File("old.json"), File("broken.json"), "--tenant", kTenant});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("broken.json"), std::string::npos) << bad.err;
  EXPECT_NE(Sigil({"policy", "diff", File("old.json"), File("new.json"), "--tenant", "nosuchtenant"}).exit_code, 0);
}

}  // namespace policy_diff
}  // namespace
}  // namespace sigil::integration
