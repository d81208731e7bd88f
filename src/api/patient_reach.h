// Whose records a request reaches: security::Reach (what the roles and scopes say) resolved
// against the data into a set of patients, and the checks every path applies with it.
//
// A clinician (DOCTOR, NURSE) is assigned to a patient when the patient's general
// practitioner is them (Patient.generalPractitioner), when they take part in an active
// CareTeam of the patient (CareTeam.participant.member, status active), or in an
// encounter of the patient in progress (Encounter.participant.individual, status arrived,
// triaged, in-progress or onleave); through their Practitioner record or any of its
// PractitionerRoles. A guardian's ward is the patient of their RelatedPerson record
// (active, within its period). Break-glass (security/break_glass.h) lifts a clinician's
// restriction for its time.
//
// Resolved sets are cached per tenant and linked record. A committed write of Patient,
// CareTeam, Encounter, PractitionerRole or RelatedPerson through this server clears the
// cache (Changed); writes by other processes are seen within kCacheTtl.
//
// A resource's patients are those its patient-compartment references name (and a
// Patient its own id). Reading needs one of them reached; writing needs every patient the
// old and the new version name reached (and at least one, for a type of the compartment),
// so that nobody writes into a record they cannot see, or assigns themselves to it.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "security/pipeline.h"
#include "store/store.h"

namespace ehr::api {

// The (type, reference parameter) links of the R4 patient compartment.
const std::vector<std::pair<std::string, std::string>>& PatientLinks();
// The union of these patients' compartments.
store::CompartmentFilter PatientCompartment(std::vector<std::string> ids, bool other_types_pass = false);
// The patients whose compartments a resource of `type` with these index rows is in
// (sorted, unique), a Patient's own id included.
std::vector<std::string> CompartmentPatients(std::string_view type, std::string_view id, const store::IndexRows& rows);

// "Patient/123" (or an absolute URL ending so) -> "123"; else empty.
std::string PatientIdOf(std::string_view reference);
// Whether the instant `now` (FHIR text) lies within a period whose start and end (dates or
// dateTimes, either empty when open) are as written.
bool WithinPeriod(std::string_view start, std::string_view end, std::string_view now);
// Every current match of `query` on `type` in `tenant` (all pages), to `fn`; more than
// `limit` fails (503) rather than silently cutting the list.
Status ForEachMatch(store::Store& store, const std::string& tenant, const std::string& type, const std::string& query,
                    size_t limit, const std::function<Status(const store::SearchMatch&)>& fn);

struct PatientSet {
  bool all = true;
  std::vector<std::string> ids;  // sorted and unique; meaningful when !all
  // Within the reach, what patients' consents hide (api/consent.h).
  std::vector<store::Exclusion> hidden;
  // SMART granular scopes: of these types only what matches (security::Reach::filters).
  std::vector<store::TypeFilter> filters;

  // Every resource of every patient: nothing to check.
  bool Unbounded() const { return all && hidden.empty() && filters.empty(); }
  const store::TypeFilter* FilterOf(std::string_view type) const {
    for (const store::TypeFilter& f : filters) {
      if (f.Covers(std::string(type))) return &f;
    }
    return nullptr;
  }
  bool Contains(std::string_view id) const;
  // A resource of `type` whose compartment patients are `patients`: it is in no patient
  // compartment, or in a reached patient's.
  bool MayRead(std::string_view type, const std::vector<std::string>& patients) const;
  // Every patient it names is reached, and it names one when its type is of the compartment.
  bool MayWrite(std::string_view type, const std::vector<std::string>& patients) const;
};

class PatientReach {
 public:
  static constexpr Micros kCacheTtl = 30LL * 1000000;
  // At most this many patients per clinician: beyond, resolving fails (503) rather than
  // silently cutting the list.
  static constexpr size_t kMaxPatients = 20000;

  PatientReach(store::Store& store, Clock& clock) : store_(store), clock_(clock) {}

  // `reach.all` is honoured as given: the caller lifts a clinician's restriction for
  // break-glass before.
  Result<PatientSet> Resolve(const security::Principal& who, const security::Reach& reach);
  // Whether Resolve (and Actors) would answer from the cache, without reading the store.
  bool Warm(const security::Principal& who, const security::Reach& reach);
  bool ActorsWarm(const security::Principal& who);
  // A committed write of a resource of `type`.
  void Changed(std::string_view type);
  // The references consents may name the principal by: their FHIR record, and for a
  // practitioner their PractitionerRoles and those roles' organizations.
  Result<std::vector<std::string>> Actors(const security::Principal& who);

 private:
  struct Entry {
    uint64_t generation = 0;
    Micros resolved = 0;
    std::vector<std::string> ids;
  };
  Result<std::vector<std::string>> Cached(const std::string& key, const std::function<Result<std::vector<std::string>>()>& fn);
  bool Fresh(const std::string& key);
  Result<std::vector<std::string>> Assigned(const std::string& tenant, const std::string& practitioner);
  Result<std::vector<std::string>> Wards(const std::string& tenant, const std::string& related_person);
  Status ForEachMatch(const std::string& tenant, const std::string& type, const std::string& query,
                      const std::function<Status(const store::SearchMatch&)>& fn) {
    return api::ForEachMatch(store_, tenant, type, query, kMaxPatients, fn);
  }

  store::Store& store_;
  Clock& clock_;
  std::atomic<uint64_t> generation_{1};
  std::mutex mu_;
  std::unordered_map<std::string, Entry> cache_;
};

}  // namespace ehr::api
