// Unauthenticated requests from one address, for the audit log (issue 7): each is a denial
// and is recorded, but a flood of them (no token, a stale one, a scanner) must not grow the
// log, and load its writer, by an entry a request. The first `individually` of an address
// in each window are recorded one entry each, as before; the rest are counted, and recorded
// together as one entry for the address and window once the window has ended (Drain).
// Thread-safe; at most `max_addresses` addresses are followed at once, the others counted
// under one key.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.h"

namespace ehr::api {

struct TalliedDenials {
  std::string address;
  int64_t count = 0;  // requests refused and not recorded one by one
  Micros from = 0;    // the first of them
  Micros to = 0;      // the last
};

class DenialTally {
 public:
  static constexpr char kOtherAddresses[] = "(other addresses)";

  DenialTally(int individually, Micros window, size_t max_addresses = 4096)
      : individually_(individually), window_(window), max_addresses_(max_addresses) {}

  // True when the denial from `address` at `now` is to be recorded on its own; false when
  // it was counted.
  bool Admit(const std::string& address, Micros now);
  // The counts of the windows that ended by `now` (every count with `all`, at shutdown).
  std::vector<TalliedDenials> Drain(Micros now, bool all);

 private:
  struct Window {
    Micros start = 0;
    int admitted = 0;
    TalliedDenials tallied;
  };

  const int individually_;
  const Micros window_;
  const size_t max_addresses_;
  std::mutex mu_;
  std::unordered_map<std::string, Window> windows_;  // GUARDED_BY(mu_)
  std::vector<TalliedDenials> ended_;                // GUARDED_BY(mu_)
};

}  // namespace ehr::api
