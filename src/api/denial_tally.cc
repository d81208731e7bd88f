#include "api/denial_tally.h"

namespace ehr::api {

bool DenialTally::Admit(const std::string& address, Micros now) {
  std::lock_guard lock(mu_);
  auto it = windows_.find(address);
  if (it == windows_.end()) {
    const std::string key = windows_.size() < max_addresses_ ? address : std::string(kOtherAddresses);
    auto [placed, added] = windows_.try_emplace(key);
    if (added) placed->second.start = now;
    it = placed;
  }
  Window& w = it->second;
  if (now >= w.start + window_) {  // a new window: the last one's count is ready
    if (w.tallied.count > 0) ended_.push_back(std::move(w.tallied));
    w = Window{now, 0, {}};
  }
  if (w.admitted < individually_) {
    ++w.admitted;
    return true;
  }
  if (w.tallied.count++ == 0) {
    w.tallied.address = it->first;
    w.tallied.from = now;
  }
  w.tallied.to = now;
  return false;
}

std::vector<TalliedDenials> DenialTally::Drain(Micros now, bool all) {
  std::lock_guard lock(mu_);
  std::vector<TalliedDenials> out = std::move(ended_);
  ended_.clear();
  for (auto it = windows_.begin(); it != windows_.end();) {
    const bool over = now >= it->second.start + window_;
    if (all || over) {
      if (it->second.tallied.count > 0) out.push_back(std::move(it->second.tallied));
      it = windows_.erase(it);  // a quiet address is forgotten; it starts a new window when it comes back
    } else {
      ++it;
    }
  }
  return out;
}

}  // namespace ehr::api
