// PostgreSQL goes away and comes back: while it is down every call fails with a clear
// store_unavailable error (so nothing is released without its audit record) and readiness says
// so; once it is back the same store object serves again, without being reopened.
#include <gtest/gtest.h>

#include "broker/audit/audit_log.h"
#include "core/ed25519.h"
#include "tests/support/matchers.h"
#include "tests/unit/broker/store_harness.h"

namespace sigil::broker {
namespace {

TEST(PostgresOutage, CallsFailClearlyWhileDownAndRecoverWithoutReopening) {
  StoreHarness harness;
  ASSERT_OK_AND_ASSIGN(auto store, harness.Open(StoreOpen::kCreate));
  ASSERT_OK(CreateTenantForTest(*store, "acme", Bytes{1}));
  ASSERT_OK_AND_ASSIGN(Ed25519KeyPair kp, Ed25519Generate());
  std::int64_t clock = 1000;
  ASSERT_OK_AND_ASSIGN(Ed25519Signer key, Ed25519Signer::FromSeed(kp.seed.Reveal(SecretAccess::Get())));
  AuditLog log(*store, std::move(key), [&] { return ++clock; });
  AuditEvent ev{"r1", "workload:x", "release", "m", 1, "allow", "", "", "", "dev", ""};
  ASSERT_OK(log.Append("acme", ev));
  ASSERT_OK(store->CheckReady());

  testing::PostgresServer* server = StoreHarness::Server();
  ASSERT_NE(server, nullptr);
  server->Stop();
  auto append = log.Append("acme", ev);
  ASSERT_FALSE(append.has_value());
  EXPECT_EQ(append.error().code(), Code::kUnavailable);
  EXPECT_NE(append.error().message().find("store_unavailable"), std::string::npos) << append.error().message();
  EXPECT_CODE(store->GetTenantKek("acme"), Code::kUnavailable);
  EXPECT_CODE(store->ProbeWrite(), Code::kUnavailable);
  auto ready = store->CheckReady();
  ASSERT_FALSE(ready.has_value());
  EXPECT_NE(ready.error().message().find("store_unavailable"), std::string::npos) << ready.error().message();

  ASSERT_TRUE(server->Restart());
  ASSERT_OK(store->GetTenantKek("acme"));  // the pool reconnects by itself
  ASSERT_OK(store->ProbeWrite());
  EXPECT_OK(store->CheckReady());
  ASSERT_OK(log.Append("acme", ev));
  ASSERT_OK_AND_ASSIGN(auto rows, store->ListAudit("acme"));
  EXPECT_EQ(rows.size(), 3u);  // genesis and two: the refused append left nothing behind
}

}  // namespace
}  // namespace sigil::broker
