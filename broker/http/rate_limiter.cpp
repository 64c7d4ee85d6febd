#include "broker/http/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace sigil::broker {

RateLimiter::RateLimiter(RateLimit limit, std::size_t max_keys)
    : limit_{limit.per_second, std::max(limit.burst, 1.0)}, max_keys_(std::max<std::size_t>(max_keys, 1)) {}

double RateLimiter::Refilled(const Bucket& b, Clock::time_point now) const {
  const double elapsed = std::chrono::duration<double>(now - b.updated).count();
  return std::min(limit_.burst, b.tokens + std::max(elapsed, 0.0) * limit_.per_second);
}

bool RateLimiter::MakeRoom(Clock::time_point now) {
  std::erase_if(buckets_, [&](const auto& kv) { return Refilled(kv.second, now) >= limit_.burst; });
  return buckets_.size() < max_keys_;
}

int RateLimiter::Take(std::string_view key, Clock::time_point now) {
  if (unlimited()) return 0;
  std::lock_guard lock(mu_);
  auto it = buckets_.find(std::string(key));
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_keys_ && !MakeRoom(now)) return 1;
    it = buckets_.emplace(std::string(key), Bucket{limit_.burst, now}).first;
  }
  Bucket& b = it->second;
  b.tokens = Refilled(b, now);
  b.updated = now;
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return 0;
  }
  return std::max(1, static_cast<int>(std::ceil((1 - b.tokens) / limit_.per_second)));
}

std::size_t RateLimiter::keys() const {
  std::lock_guard lock(mu_);
  return buckets_.size();
}

}  // namespace sigil::broker
