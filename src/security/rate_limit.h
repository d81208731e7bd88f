// Token buckets: each key (a user, a tenant, a client address) may make `rate` requests
// per second on average, in bursts of up to `burst`. A request that finds its bucket empty
// is refused (429 with Retry-After) and takes nothing. Thread-safe: keys are spread over
// shards, each behind its own mutex; memory is bounded (buckets that have refilled are
// dropped when a shard grows large).
#pragma once

#include <array>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/clock.h"

namespace ehr::security {

struct RateLimit {
  double rate = 0;   // requests per second; 0: unlimited
  double burst = 0;  // bucket size; 0: twice the rate (at least 1)
};

class RateLimiter {
 public:
  explicit RateLimiter(Clock& clock) : clock_(clock) {}
  // 0 when the request may go ahead (it took a token); else how long until a token is
  // there (microseconds, at least 1).
  Micros Take(std::string_view key, const RateLimit& limit);

 private:
  struct Bucket {
    double tokens = 0;
    Micros last = 0;
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Bucket> buckets;
  };
  static constexpr size_t kShards = 16;
  static constexpr size_t kMaxPerShard = 20000;

  Clock& clock_;
  std::array<Shard, kShards> shards_;
};

}  // namespace ehr::security
