// Group commit (broker/store/group_commit.h) with a scripted batch runner standing in for the store:
// every writer gets its own outcome, and none is answered before the commit holding its write
// has returned. The second property is what a SIGKILL test caught: a writer of the next batch
// woke up, saw the outcome the runner had already recorded, and answered before the commit.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "broker/store/group_commit.h"
#include "tests/support/matchers.h"

namespace sigil::broker {
namespace {

struct NoContext {};

TEST(GroupCommit, NoWriterReturnsBeforeItsBatchIsCommitted) {
  std::promise<void> first_may_commit, second_may_commit;
  std::shared_future<void> first = first_may_commit.get_future().share();
  std::shared_future<void> second = second_may_commit.get_future().share();
  std::atomic<int> batches{0};
  std::atomic<bool> second_committed{false};
  NoContext ctx;
  GroupCommit<NoContext> group([&](const std::vector<GroupCommit<NoContext>::Write*>& batch) {
    const int n = batches++;
    for (auto* w : batch) w->outcome = w->run(ctx);  // outcomes recorded before the "commit"
    (n == 0 ? first : second).wait();                // the commit, held open by the test
    if (n == 1) second_committed = true;
  });
  std::atomic<int> returned{0};
  auto submit = [&] {
    EXPECT_OK(group.Submit([](NoContext&) -> Result<void> { return Ok(); }));
    ++returned;
  };
  std::thread a(submit);
  while (batches.load() < 1) std::this_thread::yield();  // a leads the first batch and holds it
  std::thread b(submit), c(submit);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // b and c queue behind it
  first_may_commit.set_value();
  a.join();
  while (batches.load() < 2) std::this_thread::yield();  // b or c leads the second batch
  // The second batch's outcomes are recorded but its commit has not returned: give a writer that
  // would wrongly answer now every chance to.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(returned.load(), 1) << "a writer was answered before the commit holding its write";
  second_may_commit.set_value();
  b.join();
  c.join();
  EXPECT_TRUE(second_committed.load());
  EXPECT_EQ(returned.load(), 3);
}

TEST(GroupCommit, EachWriterGetsItsOwnOutcome) {
  NoContext ctx;
  GroupCommit<NoContext> group([&](const std::vector<GroupCommit<NoContext>::Write*>& batch) {
    for (auto* w : batch) w->outcome = w->run(ctx);
  });
  std::vector<std::thread> threads;
  std::atomic<int> ok{0}, refused{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        const bool fail = (t + i) % 3 == 0;
        auto r = group.Submit([fail](NoContext&) -> Result<void> {
          if (fail) return Fail(Code::kInternal, "this write fails");
          return Ok();
        });
        if (r.has_value() == !fail) ++(fail ? refused : ok);
        else ADD_FAILURE() << "a writer got another writer's outcome";
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load() + refused.load(), 400);
}

}  // namespace
}  // namespace sigil::broker
