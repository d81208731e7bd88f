// Patient privacy consents: FHIR R4 Consent resources (status active, scope patient-privacy)
// that deny (or permit) access to a patient's records, enforced on every read path as
// records hidden within the caller's reach (store::SearchQuery::hidden, and the same test
// per resource).
//
// A consent's provisions form a tree. A provision applies to a request when its period
// holds now, its actors (if any) include the requester (their Practitioner, one of its
// PractitionerRoles, or the Organization of one), its purposes (if any) include the
// request's purpose of use, and its actions (if any) include access, use or disclose. It
// covers a resource of the patient's record when the resource is of one of its classes
// (resource types), carries one of its security labels, and is one of its data
// references, each where given. A resource covered by an applying provision takes the
// decision of the deepest applying provision that covers it (a deny among several wins);
// the root's type is the base (deny, when absent), a nested provision without a type is an
// exception to its parent. Several consents: what any of them denies is hidden.
//
// Consent only ever restricts: a permit never grants what the roles and reach do not.
// What cannot be evaluated exactly fails closed: an actor of another type (CareTeam, Group)
// counts as the requester in a deny and never in a permit; a criterion we do not read
// (code, dataPeriod, data meanings other than instance, classes of other systems) is
// dropped from a deny and makes a permit cover nothing. Break-glass overrides consent; the
// patient (and their guardian) always read their own record.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "fhir/json/value.h"
#include "store/store.h"

namespace ehr::api {

// Who asks, in the terms consents use.
struct Requester {
  std::vector<std::string> actors;    // "Practitioner/1", "PractitionerRole/2", "Organization/3"
  std::vector<std::string> purposes;  // v3 ActReason codes: TREAT, HPAYMT, HOPERAT, HRESCH
};

struct Provision {
  bool deny = true;
  std::string start, end;  // period, as written
  std::vector<std::string> actors;
  bool other_actors = false;  // an actor of a type we cannot match
  std::vector<std::string> purposes;
  bool reads = true;  // its actions (if any) include access, use or disclose
  // Data criteria; `inexact`: one we do not read was given.
  std::vector<std::string> types;
  bool any_type = true;
  std::vector<store::TokenValue> labels;
  std::vector<std::pair<std::string, std::string>> resources;
  bool inexact = false;
  std::vector<Provision> children;
};

// The root provision of an active privacy consent, or nullopt for any other Consent.
// `patient` receives the id of the patient it is about.
std::optional<Provision> ParseConsent(const json::Value& consent, std::string& patient);

// What the consents (roots) of one patient hide from `who` at `now` (an instant, FHIR text),
// as exclusions whose compartment is left empty.
std::vector<store::Exclusion> HiddenBy(const std::vector<Provision>& consents, const Requester& who,
                                       std::string_view now);

// Whether `e` hides a resource with these compartment patients and security labels.
bool Hides(const store::Exclusion& e, std::string_view type, std::string_view id,
           const std::vector<std::string>& patients, const std::vector<store::TokenValue>& labels);

// The active privacy consents of each tenant, loaded on first use and after a committed
// Consent write (Changed), else at most kCacheTtl old. Thread-safe.
class ConsentDirectory {
 public:
  static constexpr Micros kCacheTtl = 30LL * 1000000;
  static constexpr size_t kMaxConsents = 100000;

  ConsentDirectory(store::Store& store, Clock& clock) : store_(store), clock_(clock) {}

  // What the consents hide from `who` in the records of `patients` (every patient with a
  // consent when `all`), grouped into exclusions with their compartments set.
  Result<std::vector<store::Exclusion>> Hidden(const std::string& tenant, const Requester& who, bool all,
                                               const std::vector<std::string>& patients);
  // Whether any patient of the tenant has an active privacy consent (nothing to evaluate
  // when none does).
  Result<bool> Any(const std::string& tenant) {
    EHR_ASSIGN_OR_RETURN(std::shared_ptr<const Loaded> loaded, Load(tenant));
    return !loaded->by_patient.empty();
  }
  // Any(tenant) when the tenant's consents are loaded and fresh; nullopt when answering
  // would read the store.
  std::optional<bool> AnyIfWarm(const std::string& tenant) {
    std::lock_guard lock(mu_);
    auto it = tenants_.find(tenant);
    if (it == tenants_.end() || it->second->generation != generation_.load() ||
        clock_.Now() - it->second->at >= kCacheTtl) {
      return std::nullopt;
    }
    return !it->second->by_patient.empty();
  }
  void Changed(std::string_view type);

 private:
  struct Loaded {
    uint64_t generation = 0;
    Micros at = 0;
    std::unordered_map<std::string, std::vector<Provision>> by_patient;
  };
  Result<std::shared_ptr<const Loaded>> Load(const std::string& tenant);

  store::Store& store_;
  Clock& clock_;
  std::atomic<uint64_t> generation_{1};
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const Loaded>> tenants_;
};

}  // namespace ehr::api
