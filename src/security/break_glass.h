// Break-glass: an emergency override by which a clinician reaches patients they are not
// assigned to. It is declared explicitly, with a reason (the `X-Break-Glass` request header
// or POST /auth/break-glass), by a role allowed to use it (DOCTOR, NURSE), lasts a limited
// time (default 60 minutes) for the session it was declared in, and is recorded in the
// account store for the privacy officers (GET /auth/break-glass, ADMIN). The reason is
// free text a clinician wrote, so it is stored but never logged.
//
// Thread-safe. Whether a session has an override in force is cached in memory: a
// declaration through this object is seen at once; one made by another process within
// a minute.
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "security/pipeline.h"
#include "store/accounts.h"

namespace ehr::security {

class BreakGlass {
 public:
  BreakGlass(store::AccountStore& accounts, Clock& clock, Micros duration = 60LL * 60 * 1000000)
      : accounts_(accounts), clock_(clock), duration_(duration) {}

  // Whether `who` may break the glass at all.
  static bool MayDeclare(const Principal& who);
  // Declares an override for who's session (400 without a usable reason, 403 for a role or
  // a session that cannot) and records it. A session with one in force keeps it.
  Result<store::BreakGlassRecord> Declare(const Principal& who, std::string_view reason);
  // Whether who's session has an override in force now.
  bool Active(const Principal& who);
  // For review: the newest first.
  Result<std::vector<store::BreakGlassRecord>> Recent(std::string_view tenant, Micros since, int limit) {
    return accounts_.BreakGlassSince(tenant, since, limit);
  }
  Micros duration() const { return duration_; }

 private:
  struct Known {
    Micros expires = 0;  // of the override in force; 0: none
    Micros checked = 0;  // when the store was last asked
  };
  store::AccountStore& accounts_;
  Clock& clock_;
  const Micros duration_;
  std::mutex mu_;
  std::unordered_map<std::string, Known> sessions_;
};

}  // namespace ehr::security
