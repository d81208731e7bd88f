#include "federation/breaker.h"

namespace ehr::federation {

std::optional<std::string> CircuitBreakers::Skip(std::string_view region) {
  std::lock_guard lock(mu_);
  auto it = regions_.find(region);
  if (it == regions_.end() || it->second.failures < threshold_) return std::nullopt;
  State& s = it->second;
  const Micros now = clock_.Now();
  if (now >= s.open_until && !s.trial) {
    s.trial = true;  // half-open: this call decides
    return std::nullopt;
  }
  const Micros wait = s.open_until > now ? (s.open_until - now + 999'999) / 1'000'000 : 0;
  return "not called: " + std::to_string(s.failures) + " failures in a row" +
         (s.trial ? std::string(", a trial call is under way") : ", next try in " + std::to_string(wait) + " s");
}

void CircuitBreakers::Record(std::string_view region, bool ok) {
  std::lock_guard lock(mu_);
  auto it = regions_.find(region);
  if (ok) {
    if (it != regions_.end()) regions_.erase(it);
    return;
  }
  if (it == regions_.end()) it = regions_.emplace(std::string(region), State{}).first;
  State& s = it->second;
  ++s.failures;
  s.trial = false;
  if (s.failures >= threshold_) s.open_until = clock_.Now() + cool_off_;
}

}  // namespace ehr::federation
