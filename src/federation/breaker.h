// A circuit breaker per region for the gateway's fan-out (issue 9): after `threshold`
// failures in a row a region's vault is not called for `cool_off` (its answer is a warning
// at once instead of a wait for the deadline on every lookup); then one call goes through,
// and its outcome closes the breaker or opens it again. Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"

namespace ehr::federation {

class CircuitBreakers {
 public:
  explicit CircuitBreakers(Clock& clock, int threshold = 3, Micros cool_off = 30'000'000)
      : clock_(clock), threshold_(threshold), cool_off_(cool_off) {}

  // nullopt: call the region's vault (the caller then reports the outcome with Record);
  // otherwise why not, without personal data ("not called: 3 failures in a row, next try in 12 s").
  std::optional<std::string> Skip(std::string_view region);
  void Record(std::string_view region, bool ok);

 private:
  struct State {
    int failures = 0;         // in a row
    Micros open_until = 0;    // while failures >= threshold
    bool trial = false;       // a call is under way after the cool-off
  };
  Clock& clock_;
  const int threshold_;
  const Micros cool_off_;
  std::mutex mu_;
  std::map<std::string, State, std::less<>> regions_;
};

}  // namespace ehr::federation
