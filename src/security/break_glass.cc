#include "security/break_glass.h"

#include "core/ids.h"
#include "core/log.h"

namespace ehr::security {
namespace {

constexpr Micros kRecheck = 60LL * 1000000;
constexpr size_t kMaxReason = 500;
constexpr size_t kMaxSessions = 100000;  // cache entries before the cache is cleared

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

bool BreakGlass::MayDeclare(const Principal& who) { return who.HasRole("DOCTOR") || who.HasRole("NURSE"); }

Result<store::BreakGlassRecord> BreakGlass::Declare(const Principal& who, std::string_view reason) {
  if (!who.authenticated) return Status{Code::kUnauthorized, Issue{"error", "login", "authentication is required", {}}};
  if (!MayDeclare(who)) return Status::Forbidden("only doctors and nurses may break the glass");
  if (who.session_id.empty()) return Status::Forbidden("break-glass needs a user's login session");
  reason = Trim(reason);
  if (reason.size() < 3 || reason.size() > kMaxReason) {
    return Status::Invalid("a break-glass reason of 3 to 500 characters is required", "reason");
  }
  for (unsigned char c : reason) {
    if (c < 0x20 || c == 0x7f) return Status::Invalid("the break-glass reason may not contain control characters", "reason");
  }
  const Micros now = clock_.Now();
  {
    std::lock_guard lock(mu_);
    auto it = sessions_.find(who.session_id);
    if (it != sessions_.end() && it->second.expires > now) {
      store::BreakGlassRecord in_force;
      in_force.session_id = who.session_id;
      in_force.expires = it->second.expires;
      return in_force;
    }
  }
  store::BreakGlassRecord r{NewUuid(), who.tenant, who.subject, who.username, who.session_id,
                            std::string(reason), now, now + duration_};
  EHR_RETURN_IF_ERROR(accounts_.InsertBreakGlass(r));
  {
    std::lock_guard lock(mu_);
    if (sessions_.size() >= kMaxSessions) sessions_.clear();
    sessions_[who.session_id] = Known{r.expires, now};
  }
  // The privacy officers' notification (the events module will publish it); no reason, no patient.
  log::Warn("break_glass", {{"id", r.id}, {"user", r.user_id}, {"session", r.session_id},
                            {"minutes", static_cast<int>(duration_ / 60000000)}});
  return r;
}

bool BreakGlass::Active(const Principal& who) {
  if (who.session_id.empty() || !MayDeclare(who)) return false;
  const Micros now = clock_.Now();
  {
    std::lock_guard lock(mu_);
    auto it = sessions_.find(who.session_id);
    if (it != sessions_.end() && (it->second.expires > now || now - it->second.checked < kRecheck)) {
      return it->second.expires > now;
    }
  }
  Result<std::vector<store::BreakGlassRecord>> active = accounts_.ActiveBreakGlass(who.session_id, now);
  Known known{0, now};
  if (active.ok()) {
    for (const auto& r : *active) known.expires = std::max(known.expires, r.expires);
  }
  std::lock_guard lock(mu_);
  if (sessions_.size() >= kMaxSessions) sessions_.clear();
  sessions_[who.session_id] = known;
  return known.expires > now;
}

}  // namespace ehr::security
