// PolicyCache: a policy version is parsed (and its regexes compiled) once, not once per
// concurrent request, and `policy set` hands its freshly validated policy to the cache.
#include "broker/policy_cache.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "broker/store/sqlite_store.h"
#include "tests/support/matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/broker/store_harness.h"

namespace sigil::broker {
namespace {

constexpr char kPolicy[] = R"({"version":1,"rules":[{"name":"r","keys":["*"],
  "when":{"allOf":[{"claim":"m","matches":"[0-9a-f]{96}"},{"claim":"debug","equals":false}]}}]})";

TEST(PolicyCache, ConcurrentRequestsParseANewVersionOnce) {
  testing::TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto store, OpenSqliteStore(dir.File("s.db"), StoreOpen::kCreate));
  ASSERT_OK(CreateTenantForTest(*store, "acme", Bytes(40, 7)));
  ASSERT_OK(store->PutPolicy("acme", kPolicy));
  PolicyCache cache;
  std::vector<std::thread> threads;
  std::vector<const policy::Policy*> seen(16);
  for (std::size_t i = 0; i < seen.size(); ++i) {
    threads.emplace_back([&, i] {
      auto p = cache.Get(*store, "acme");
      seen[i] = p ? p->get() : nullptr;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(cache.parses(), 1);
  for (const policy::Policy* p : seen) EXPECT_EQ(p, seen.front());
  ASSERT_NE(seen.front(), nullptr);
  // Later requests reuse it; a new version is parsed once more.
  for (int i = 0; i < 10; ++i) ASSERT_OK(cache.Get(*store, "acme"));
  EXPECT_EQ(cache.parses(), 1);
  ASSERT_OK(store->PutPolicy("acme", kPolicy));
  ASSERT_OK_AND_ASSIGN(auto again, cache.Get(*store, "acme"));
  EXPECT_NE(again.get(), seen.front());
  EXPECT_EQ(cache.parses(), 2);
}

TEST(PolicyCache, PutSuppliesTheVersionPolicySetValidated) {
  testing::TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto store, OpenSqliteStore(dir.File("s.db"), StoreOpen::kCreate));
  ASSERT_OK(CreateTenantForTest(*store, "acme", Bytes(40, 7)));
  ASSERT_OK(store->PutPolicy("acme", kPolicy));
  ASSERT_OK_AND_ASSIGN(auto stored, store->GetPolicy("acme"));
  ASSERT_OK_AND_ASSIGN(policy::Policy parsed, policy::ParsePolicy(kPolicy, "set"));
  auto shared = std::make_shared<const policy::Policy>(std::move(parsed));
  PolicyCache cache;
  cache.Put("acme", stored.version, shared);
  ASSERT_OK_AND_ASSIGN(auto got, cache.Get(*store, "acme"));
  EXPECT_EQ(got, shared);
  EXPECT_EQ(cache.parses(), 0);
  EXPECT_CODE(cache.Get(*store, "nobody"), Code::kNotFound);
}

}  // namespace
}  // namespace sigil::broker
