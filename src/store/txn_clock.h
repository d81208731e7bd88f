// store::TxnClock: the time of write transactions. It never goes backwards, and every job
// gets a later time than the previous job, whatever the wall clock does, so that versions of
// a resource are ordered by lastUpdated as by version. Used by a backend's writer thread only.
#pragma once

#include <algorithm>

#include "core/clock.h"

namespace ehr::store {

class TxnClock {
 public:
  // `floor`: the newest time already stored (the next job gets a later one).
  TxnClock(Clock& clock, Micros floor) : clock_(clock), last_(floor) {}
  Micros Next() {
    last_ = std::max(clock_.Now(), last_ + 1);
    return last_;
  }

 private:
  Clock& clock_;
  Micros last_;
};

}  // namespace ehr::store
