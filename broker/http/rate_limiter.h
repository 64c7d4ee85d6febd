// Token buckets keyed by a string (a client address, a tenant name), for the endpoints anyone
// may call. Each key may spend `burst` requests at once and then `per_second` on average; a
// refused request learns how many whole seconds to wait (HTTP 429 with Retry-After).
// Memory is bounded: at most `max_keys` buckets. A bucket that has refilled completely is the
// same as no bucket, so it is forgotten when room is needed; if every bucket is still in use,
// new keys are refused (a flood of distinct keys cannot grow the broker).
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace sigil::broker {

struct RateLimit {
  double per_second = 0;  // 0: unlimited
  double burst = 0;       // bucket size; at least 1 when limited
};

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  RateLimiter(RateLimit limit, std::size_t max_keys);

  // 0 when the request may go on (and is counted), else the seconds (>= 1) after which one
  // more request of this key would be allowed.
  int Take(std::string_view key, Clock::time_point now);
  bool unlimited() const { return limit_.per_second <= 0; }
  std::size_t keys() const;

 private:
  struct Bucket {
    double tokens;
    Clock::time_point updated;
  };
  double Refilled(const Bucket& b, Clock::time_point now) const;
  bool MakeRoom(Clock::time_point now);

  const RateLimit limit_;
  const std::size_t max_keys_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace sigil::broker
