// Token buckets for the endpoints anyone may call (broker/http/rate_limiter.h): the burst is
// spent, then one request per 1/rate seconds, a refusal says how long to wait, keys are
// independent, and the number of buckets stays bounded whatever the keys.
#include "broker/http/rate_limiter.h"

#include <gtest/gtest.h>

#include <string>

namespace sigil::broker {
namespace {

using namespace std::chrono_literals;

TEST(RateLimiter, BurstThenRateAndRetryAfter) {
  RateLimiter limiter({2, 4}, 100);  // 2/s, burst 4
  const auto t0 = RateLimiter::Clock::time_point{} + 1000s;
  for (int i = 0; i < 4; ++i) EXPECT_EQ(limiter.Take("10.0.0.1", t0), 0) << i;
  EXPECT_EQ(limiter.Take("10.0.0.1", t0), 1) << "empty bucket: wait 1 s (one token takes 0.5 s)";
  EXPECT_EQ(limiter.Take("10.0.0.2", t0), 0) << "another key has its own bucket";
  EXPECT_EQ(limiter.Take("10.0.0.1", t0 + 500ms), 0) << "one token back after 1/rate";
  EXPECT_EQ(limiter.Take("10.0.0.1", t0 + 500ms), 1);
  // Long idle: the bucket refills to the burst, not beyond.
  for (int i = 0; i < 4; ++i) EXPECT_EQ(limiter.Take("10.0.0.1", t0 + 3600s), 0) << i;
  EXPECT_GT(limiter.Take("10.0.0.1", t0 + 3600s), 0);
}

TEST(RateLimiter, SlowRateAsksForALongerWait) {
  RateLimiter limiter({0.1, 1}, 10);  // one per 10 s
  const auto t0 = RateLimiter::Clock::time_point{} + 1000s;
  EXPECT_EQ(limiter.Take("a", t0), 0);
  EXPECT_EQ(limiter.Take("a", t0), 10);
  EXPECT_NEAR(limiter.Take("a", t0 + 4s), 6, 1);
}

TEST(RateLimiter, ZeroRateIsUnlimited) {
  RateLimiter limiter({0, 0}, 1);
  const auto t0 = RateLimiter::Clock::time_point{} + 1000s;
  for (int i = 0; i < 10000; ++i) ASSERT_EQ(limiter.Take(std::to_string(i), t0), 0);
  EXPECT_EQ(limiter.keys(), 0u);
}

TEST(RateLimiter, DistinctKeysCannotGrowItBeyondItsBound) {
  RateLimiter limiter({1, 2}, 100);
  const auto t0 = RateLimiter::Clock::time_point{} + 1000s;
  int refused = 0;
  for (int i = 0; i < 1000; ++i) refused += limiter.Take("k" + std::to_string(i), t0) > 0;
  EXPECT_EQ(limiter.keys(), 100u);
  EXPECT_EQ(refused, 900) << "while every bucket is in use, new keys are refused";
  // Once the buckets have refilled they are forgotten and new keys get room.
  EXPECT_EQ(limiter.Take("late", t0 + 10s), 0);
  EXPECT_LE(limiter.keys(), 100u);
}

}  // namespace
}  // namespace sigil::broker
