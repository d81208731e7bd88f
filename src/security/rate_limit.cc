#include "security/rate_limit.h"

#include <algorithm>
#include <cmath>
#include <functional>

namespace ehr::security {

Micros RateLimiter::Take(std::string_view key, const RateLimit& limit) {
  if (limit.rate <= 0) return 0;
  const double burst = limit.burst > 0 ? limit.burst : std::max(1.0, 2 * limit.rate);
  const Micros now = clock_.Now();
  Shard& shard = shards_[std::hash<std::string_view>()(key) % kShards];
  std::lock_guard lock(shard.mu);
  if (shard.buckets.size() >= kMaxPerShard) {
    // A bucket that has refilled is as good as none.
    std::erase_if(shard.buckets, [&](const auto& kv) {
      return kv.second.tokens + static_cast<double>(now - kv.second.last) / 1e6 * limit.rate >= burst;
    });
    // Still full (a flood of distinct keys): start afresh rather than grow without bound.
    if (shard.buckets.size() >= kMaxPerShard) shard.buckets.clear();
  }
  auto [it, fresh] = shard.buckets.try_emplace(std::string(key), Bucket{burst, now});
  Bucket& b = it->second;
  if (!fresh && now > b.last) {
    b.tokens = std::min(burst, b.tokens + static_cast<double>(now - b.last) / 1e6 * limit.rate);
    b.last = now;
  }
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return 0;
  }
  return std::max<Micros>(1, static_cast<Micros>(std::ceil((1 - b.tokens) / limit.rate * 1e6)));
}

}  // namespace ehr::security
