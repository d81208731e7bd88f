#include "api/audit_trail.h"

#include "api/service_impl.h"

namespace ehr::api {

void AuditTrail::Disclosed(const store::VersionRecord& rec, bool name_it) {
  std::string ref;
  if (name_it) ref = rec.type + "/" + rec.id + "/_history/" + std::to_string(rec.version);
  std::vector<std::string> patients = PatientsOf(rec);
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
