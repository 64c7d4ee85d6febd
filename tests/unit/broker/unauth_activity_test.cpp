// Unauthenticated requests are summarised per tenant and interval, with a bounded record, instead
// of one permanent audit record each.
#include "broker/audit/unauth_activity.h"

#include <gtest/gtest.h>

#include "broker/audit/audit_chain.h"
#include "broker/store/sqlite_store.h"
#include "core/ed25519.h"
#include "core/json.h"
#include "tests/support/matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/broker/audited_store_fixture.h"

namespace sigil::broker {
namespace {

using std::chrono::seconds;

class UnauthActivityTest : public AuditedStoreTest {
 protected:
  std::vector<Json> Records(const std::string& tenant) {
    std::vector<Json> out;
    auto rows = store_->ListAudit(tenant);
    EXPECT_TRUE(rows.has_value());
    for (const auto& r : *rows) {
      auto j = ParseJson(r.record, "record");
      EXPECT_TRUE(j.has_value());
      if (j && (*j)["action"] == "tenant.genesis") continue;  // record 1, written with the tenant
      out.push_back(*j);
    }
    return out;
  }

};

TEST_F(UnauthActivityTest, ThousandsOfChallengesCostOneRecordPerInterval) {
  StartLog("acme");
  UnauthenticatedActivity a(*audit_, seconds(60));
  const auto t0 = std::chrono::system_clock::now();
  for (int i = 0; i < 5000; ++i) {
    ASSERT_OK(a.Record("acme", "challenge", "ok", "10.0.0." + std::to_string(i % 3), t0 + std::chrono::milliseconds(i)));
  }
  EXPECT_TRUE(Records("acme").empty());  // the interval has not ended yet
  ASSERT_OK(a.Record("acme", "tpm.enrol.start", "deny", "10.0.0.9", t0 + seconds(61)));
  auto recs = Records("acme");
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0]["action"], "unauthenticated.summary");
  ASSERT_OK_AND_ASSIGN(Json detail, ParseJson(recs[0]["detail"].get<std::string>(), "detail"));
  EXPECT_EQ(detail["requests"], 5000);
  EXPECT_EQ(detail["clients"]["10.0.0.0"]["challenge ok"], 1667);
  EXPECT_EQ(detail["clients"]["10.0.0.2"]["challenge ok"], 1666);
  // The second interval is written by a flush (timer or shutdown).
  ASSERT_OK(a.Flush(t0 + seconds(62), /*all=*/true));
  recs = Records("acme");
  ASSERT_EQ(recs.size(), 2u);
  ASSERT_OK_AND_ASSIGN(Json d2, ParseJson(recs[1]["detail"].get<std::string>(), "detail"));
  EXPECT_EQ(d2["clients"]["10.0.0.9"]["tpm.enrol.start deny"], 1);
  auto rows = store_->ListAudit("acme");
  auto cp = store_->GetCheckpoint("acme");
  ASSERT_TRUE(rows && cp);
  EXPECT_TRUE(VerifyAuditChain("acme", *rows, *cp, pub_).ok);
}

TEST_F(UnauthActivityTest, ManyClientsStayBoundedInOneRecord) {
  UnauthenticatedActivity a(*audit_, seconds(60));
  const auto t0 = std::chrono::system_clock::now();
  for (int i = 0; i < 2000; ++i) ASSERT_OK(a.Record("acme", "challenge", "ok", "client-" + std::to_string(i), t0));
  ASSERT_OK(a.Flush(t0 + seconds(60), false));
  auto recs = Records("acme");
  ASSERT_EQ(recs.size(), 1u);
  ASSERT_OK_AND_ASSIGN(Json detail, ParseJson(recs[0]["detail"].get<std::string>(), "detail"));
  EXPECT_EQ(detail["clients"].size(), UnauthenticatedActivity::kMaxNamedClients);
  EXPECT_EQ(detail["other_clients"]["requests"], 2000 - UnauthenticatedActivity::kMaxNamedClients);
  EXPECT_LT(recs[0].dump().size(), 8000u);
}

TEST_F(UnauthActivityTest, FlushWritesOnlyEndedIntervalsUnlessAll) {
  UnauthenticatedActivity a(*audit_, seconds(60));
  const auto t0 = std::chrono::system_clock::now();
  ASSERT_OK(a.Record("acme", "challenge", "ok", "c", t0));
  ASSERT_OK(a.Record("beta", "challenge", "ok", "c", t0 + seconds(30)));
  ASSERT_OK(a.Flush(t0 + seconds(61), false));
  EXPECT_EQ(Records("acme").size(), 1u);
  EXPECT_EQ(Records("beta").size(), 0u);
  ASSERT_OK(a.Flush(t0 + seconds(62), true));
  EXPECT_EQ(Records("beta").size(), 1u);
}

}  // namespace
}  // namespace sigil::broker
