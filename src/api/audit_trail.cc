#include "api/audit_trail.h"

#include <string.h>

#include "api/service_impl.h"

namespace ehr::api {

void AuditTrail::Disclosed(const store::VersionRecord& rec, bool name_it) {
  std::string ref;
  if (name_it) ref = rec.type + "/" + rec.id + "/_history/" + std::to_string(rec.version);
  // A Patient without links is in its own record only: no need to parse it (the hot path
  // of reads by id). One that links others is in their records too (Patient.link.other, the
  // compartment's `link`), which takes PatientsOf.
  // (memmem, not find: find stops at every quote of the body to compare.)
  static constexpr std::string_view kLink = "\"link\"";
  const bool alone = rec.type == "Patient" && !rec.deleted &&
                     ::memmem(rec.body.data(), rec.body.size(), kLink.data(), kLink.size()) == nullptr;
  std::vector<std::string> patients = alone ? std::vector<std::string>{rec.id} : PatientsOf(rec);
  if (patients.empty()) {
    disclosed_other_ = true;
    if (name_it) other_.push_back(std::move(ref));
    return;
  }
  for (std::string& p : patients) {
    auto& refs = by_patient_[std::move(p)];
    if (name_it) refs.push_back(ref);
  }
}

store::AuditAppend AppendOf(const audit::Event& e) {
  audit::Encoded enc = audit::Encode(e);
  return {e.tenant, e.recorded, e.action, e.user, e.patient, std::move(enc.core), std::move(enc.detail)};
}

void AuditBatcher::Append(std::vector<store::AuditAppend> entries, std::function<void(Status)> done) {
  std::lock_guard lock(mu_);
  queue_.push_back({std::move(entries), std::move(done)});
  Schedule();
}

void AuditBatcher::Schedule() {
  if (scheduled_) return;
  scheduled_ = true;
  auto taken = std::make_shared<std::vector<Pending>>();
  store_.WriteAsync(
      [this, taken](store::WriteTxn& txn) -> Status {
        {
          std::lock_guard lock(mu_);
          taken->swap(queue_);
          scheduled_ = false;  // what is queued from now on needs a job of its own
        }
        for (const Pending& p : *taken) {
          for (const store::AuditAppend& a : p.entries) EHR_RETURN_IF_ERROR(txn.AppendAudit(a).status());
        }
        return Status::Ok();
      },
      [this, taken](Status st) {
        std::vector<Pending> orphans;
        if (!st.ok() && taken->empty()) {  // the job never ran (the store is stopping): fail what waits
          std::lock_guard lock(mu_);
          orphans.swap(queue_);
          scheduled_ = false;
        }
        for (Pending& p : *taken) p.done(st);
        for (Pending& p : orphans) p.done(st);
      });
}

void AuditTrail::Touched(std::string patient) { by_patient_[std::move(patient)]; }

std::vector<audit::Event> AuditTrail::Events(const audit::Event& base) const {
  std::vector<audit::Event> out;
  for (const auto& [patient, refs] : by_patient_) {
    audit::Event e = base;
    e.patient = patient;
    e.entities = refs;
    e.query = query_;
    out.push_back(std::move(e));
  }
  if (disclosed_other_ || out.empty()) {  // resources of no patient, or nothing at all (a miss, a denial)
    audit::Event e = base;
    e.entities = other_;
    e.query = query_;
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace ehr::api
