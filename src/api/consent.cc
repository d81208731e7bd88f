#include "api/consent.h"

#include <algorithm>
#include <map>

#include "api/patient_reach.h"
#include "fhir/model/model.h"
#include "security/role_policy.h"

namespace ehr::api {
namespace {

constexpr std::string_view kResourceTypes = "http://hl7.org/fhir/resource-types";
// Actors matched against the requester; any other type fails closed.
constexpr std::string_view kActorTypes[] = {"Practitioner", "PractitionerRole", "Organization",
                                            "Patient",      "RelatedPerson",    "Device"};
// More terms than this for one provision: its covered data is hidden whole (fail closed).
constexpr size_t kMaxTerms = 64;
// More exclusions than this for one patient: the whole record is hidden (fail closed).
constexpr size_t kMaxExclusions = 256;

const json::Array& ArrayAt(const json::Value& v, std::string_view key) {
  static const json::Array empty;
  const json::Value* a = v.Find(key);
  return a && a->is_array() ? a->as_array() : empty;
}

// "Type/id" of a relative or absolute reference; empty when it is neither.
std::string Relative(std::string_view reference) {
  const size_t last = reference.rfind('/');
  if (last == std::string_view::npos || last == 0) return {};
  const size_t type_start = reference.rfind('/', last - 1);
  std::string_view out = reference.substr(type_start == std::string_view::npos ? 0 : type_start + 1);
  if (out.find("/_history") != std::string_view::npos) return {};
  return std::string(out);
}

std::pair<std::string, std::string> Split(const std::string& ref) {
  const size_t slash = ref.find('/');
  return {ref.substr(0, slash), ref.substr(slash + 1)};
}

bool HasCode(const json::Value& codeable, std::initializer_list<std::string_view> codes) {
  for (const json::Value& c : ArrayAt(codeable, "coding")) {
    const std::string_view code = c.GetString("code");
    if (std::find(codes.begin(), codes.end(), code) != codes.end()) return true;
  }
  return false;
}

Provision ParseProvision(const json::Value& p, bool parent_deny, bool root) {
  Provision out;
  const std::string_view type = p.GetString("type");
  out.deny = type == "deny" || (type != "permit" && (root || !parent_deny));
  if (const json::Value* period = p.Find("period")) {
    out.start = std::string(period->GetString("start"));
    out.end = std::string(period->GetString("end"));
  }
  for (const json::Value& actor : ArrayAt(p, "actor")) {
    const json::Value* ref = actor.Find("reference");
    const std::string rel = ref ? Relative(ref->GetString("reference")) : std::string();
    const std::string actor_type = rel.substr(0, rel.find('/'));
    if (!rel.empty() && std::find(std::begin(kActorTypes), std::end(kActorTypes), actor_type) != std::end(kActorTypes)) {
      out.actors.push_back(rel);
    } else {
      out.other_actors = true;
    }
  }
  if (p.Find("action")) {
    out.reads = false;
    for (const json::Value& action : ArrayAt(p, "action")) out.reads = out.reads || HasCode(action, {"access", "use", "disclose"});
  }
  for (const json::Value& purpose : ArrayAt(p, "purpose")) out.purposes.emplace_back(purpose.GetString("code"));
  bool classes_known = true;
  for (const json::Value& c : ArrayAt(p, "class")) {
    const std::string_view system = c.GetString("system"), code = c.GetString("code");
    if ((system.empty() || system == kResourceTypes) && fhir::IsResourceType(code)) {
      out.types.emplace_back(code);
    } else {
      classes_known = false;
    }
  }
  // A class we cannot read: the superset (any type) stands for the criterion.
  out.any_type = out.types.empty() || !classes_known;
  if (out.any_type) out.types.clear();
  std::sort(out.types.begin(), out.types.end());
  for (const json::Value& label : ArrayAt(p, "securityLabel")) {
    const json::Value* system = label.Find("system");
    store::TokenValue t;
    if (system && system->is_string()) t.system = system->as_string();
    t.code = std::string(label.GetString("code"));
    out.labels.push_back(std::move(t));
  }
  bool data_known = true;
  for (const json::Value& d : ArrayAt(p, "data")) {
    const json::Value* ref = d.Find("reference");
    const std::string rel = ref ? Relative(ref->GetString("reference")) : std::string();
    if (d.GetString("meaning") == "instance" && !rel.empty()) {
      out.resources.push_back(Split(rel));
    } else {
      data_known = false;
    }
  }
  if (!data_known) out.resources.clear();
  out.inexact = !classes_known || !data_known || p.Find("code") || p.Find("dataPeriod");
  for (const json::Value& child : ArrayAt(p, "provision")) out.children.push_back(ParseProvision(child, out.deny, false));
  return out;
}

// A conjunction over a resource's type, labels and identity.
struct Term {
  bool any_type = true;
  std::vector<std::string> types;  // sorted
  std::vector<store::TokenValue> labels;
  std::vector<store::TokenValue> except_labels;
  bool any_resource = true;
  std::vector<std::pair<std::string, std::string>> resources;
  std::vector<std::pair<std::string, std::string>> except_resources;
};
using Union = std::vector<Term>;

// a AND b; nullopt when nothing can satisfy both. Two label sets (one of each) cannot be
// said in one term: the first stands for both, a superset (terms say what is hidden).
std::optional<Term> And(const Term& a, const Term& b) {
  Term out = a;
  if (!b.any_type) {
    if (out.any_type) {
      out.any_type = false;
      out.types = b.types;
    } else {
      std::vector<std::string> both;
      std::set_intersection(a.types.begin(), a.types.end(), b.types.begin(), b.types.end(), std::back_inserter(both));
      out.types = std::move(both);
    }
    if (out.types.empty()) return std::nullopt;
  }
  if (out.labels.empty()) out.labels = b.labels;
  out.except_labels.insert(out.except_labels.end(), b.except_labels.begin(), b.except_labels.end());
  if (!b.any_resource) {
    if (out.any_resource) {
      out.any_resource = false;
      out.resources = b.resources;
    } else {
      std::erase_if(out.resources, [&](const auto& r) {
        return std::find(b.resources.begin(), b.resources.end(), r) == b.resources.end();
      });
    }
    if (out.resources.empty()) return std::nullopt;
  }
  out.except_resources.insert(out.except_resources.end(), b.except_resources.begin(), b.except_resources.end());
  return out;
}

Union And(const Union& a, const Union& b) {
  Union out;
  for (const Term& x : a) {
    for (const Term& y : b) {
      if (std::optional<Term> t = And(x, y)) out.push_back(std::move(*t));
    }
  }
  return out;
}

// What a provision's data criteria cover, as a superset when one is inexact.
Term Covers(const Provision& p) {
  Term t;
  t.any_type = p.any_type;
  t.types = p.types;
  t.labels = p.labels;
  t.any_resource = p.resources.empty();
  t.resources = p.resources;
  return t;
}

// What a provision's data criteria do not cover: a subset, being the complement of the
// superset Covers gives.
Union NotCovered(const Provision& p) {
  Union out;
  if (!p.any_type) {
    Term t;
    t.any_type = false;
    for (std::string_view type : fhir::ResourceTypes()) {
      if (security::InPatientCompartment(type) && !std::binary_search(p.types.begin(), p.types.end(), type)) {
        t.types.emplace_back(type);
      }
    }
    std::sort(t.types.begin(), t.types.end());
    if (!t.types.empty()) out.push_back(std::move(t));
  }
  if (!p.labels.empty()) {
    Term t;
    t.except_labels = p.labels;
    out.push_back(std::move(t));
  }
  if (!p.resources.empty()) {
    Term t;
    t.except_resources = p.resources;
    out.push_back(std::move(t));
  }
  return out;
}

template <typename T>
bool Intersects(const std::vector<T>& a, const std::vector<T>& b) {
  return std::any_of(a.begin(), a.end(), [&](const T& x) { return std::find(b.begin(), b.end(), x) != b.end(); });
}

// Whether a provision applies to this request. What cannot be told is taken to apply to a
// deny and not to a permit.
bool Applies(const Provision& p, const Requester& who, std::string_view now) {
  if (!WithinPeriod(p.start, p.end, now) || !p.reads) return false;
  if (!p.purposes.empty()) {
    // A requester of several purposes: any of them for a deny, all for a permit.
    const bool any = Intersects(who.purposes, p.purposes);
    const bool all = !who.purposes.empty() && std::all_of(who.purposes.begin(), who.purposes.end(), [&](const auto& x) {
      return std::find(p.purposes.begin(), p.purposes.end(), x) != p.purposes.end();
    });
    if (p.deny ? !any : !all) return false;
  }
  if (p.actors.empty() && !p.other_actors) return true;
  if (Intersects(who.actors, p.actors)) return true;
  return p.other_actors && p.deny;
}

// What `p`'s subtree denies among what `p` covers (p applies).
Union Denied(const Provision& p, const Requester& who, std::string_view now) {
  const Term cover = Covers(p);
  Union out;
  Union base;
  if (p.deny) base.push_back(cover);
  for (const Provision& c : p.children) {
    if (!Applies(c, who, now)) continue;
    for (const Term& t : Denied(c, who, now)) {
      if (std::optional<Term> within = And(cover, t)) out.push_back(std::move(*within));
    }
    // What a child covers, it decides: the base keeps only what no applying child covers.
    if (p.deny && base.size() <= kMaxTerms) base = And(base, NotCovered(c));
  }
  if (base.size() > kMaxTerms) base = {cover};
  out.insert(out.end(), base.begin(), base.end());
  return out;
}

bool Matches(const store::TokenValue& want, const store::TokenValue& label) {
  return (!want.system || want.system == label.system.value_or("")) && (!want.code || want.code == label.code);
}

bool AnyMatches(const std::vector<store::TokenValue>& wanted, const std::vector<store::TokenValue>& labels) {
  for (const auto& w : wanted) {
    for (const auto& l : labels) {
      if (Matches(w, l)) return true;
    }
  }
  return false;
}

// A key that is equal for equal terms (to group patients with the same exclusion).
std::string KeyOf(const store::Exclusion& e) {
  std::string key;
  for (const auto& t : e.types) key += t + ",";
  auto tokens = [&](const std::vector<store::TokenValue>& ts) {
    key += "|";
    for (const auto& t : ts) key += (t.system ? "s" + *t.system : "-") + "\x1f" + t.code.value_or("") + "\x1e";
  };
  tokens(e.labels);
  tokens(e.except_labels);
  for (const auto* rs : {&e.resources, &e.except_resources}) {
    key += "|";
    for (const auto& [type, id] : *rs) key += type + "/" + id + ",";
  }
  return key;
}

}  // namespace

std::optional<Provision> ParseConsent(const json::Value& consent, std::string& patient) {
  if (consent.GetString("status") != "active") return std::nullopt;
  const json::Value* scope = consent.Find("scope");
  if (!scope || !HasCode(*scope, {"patient-privacy"})) return std::nullopt;
  const json::Value* subject = consent.Find("patient");
  patient = subject ? PatientIdOf(subject->GetString("reference")) : std::string();
  if (patient.empty()) return std::nullopt;
  if (const json::Value* provision = consent.Find("provision")) return ParseProvision(*provision, true, true);
  // No provision: the policy rule alone (an opt-out hides the whole record).
  const json::Value* rule = consent.Find("policyRule");
  if (rule && HasCode(*rule, {"OPTOUT", "OPTOUTE"})) return Provision{};
  return std::nullopt;
}

std::vector<store::Exclusion> HiddenBy(const std::vector<Provision>& consents, const Requester& who,
                                       std::string_view now) {
  std::vector<store::Exclusion> out;
  for (const Provision& root : consents) {
    if (!Applies(root, who, now)) continue;
    for (Term& t : Denied(root, who, now)) {
      store::Exclusion e;
      e.types = std::move(t.types);
      e.labels = std::move(t.labels);
      e.except_labels = std::move(t.except_labels);
      e.resources = std::move(t.resources);
      e.except_resources = std::move(t.except_resources);
      out.push_back(std::move(e));
    }
  }
  if (out.size() > kMaxExclusions) return {store::Exclusion{}};
  return out;
}

bool Hides(const store::Exclusion& e, std::string_view type, std::string_view id,
           const std::vector<std::string>& patients, const std::vector<store::TokenValue>& labels) {
  const auto& ids = e.compartment.ids;
  if (!std::any_of(patients.begin(), patients.end(),
                   [&](const std::string& p) { return std::find(ids.begin(), ids.end(), p) != ids.end(); })) {
    return false;
  }
  if (!e.types.empty() && std::find(e.types.begin(), e.types.end(), type) == e.types.end()) return false;
  if (!e.labels.empty() && !AnyMatches(e.labels, labels)) return false;
  if (AnyMatches(e.except_labels, labels)) return false;
  auto named = [&](const std::vector<std::pair<std::string, std::string>>& rs) {
    return std::any_of(rs.begin(), rs.end(), [&](const auto& r) { return r.first == type && r.second == id; });
  };
  if (!e.resources.empty() && !named(e.resources)) return false;
  return !named(e.except_resources);
}

Result<std::vector<store::Exclusion>> ConsentDirectory::Hidden(const std::string& tenant, const Requester& who,
                                                               bool all, const std::vector<std::string>& patients) {
  EHR_ASSIGN_OR_RETURN(std::shared_ptr<const Loaded> loaded, Load(tenant));
  std::vector<store::Exclusion> out;
  if (loaded->by_patient.empty()) return out;
  const std::string now = FormatInstant(clock_.Now());
  std::map<std::string, size_t> groups;  // KeyOf -> index in out
  auto add = [&](const std::string& patient, const std::vector<Provision>& consents) {
    for (store::Exclusion& e : HiddenBy(consents, who, now)) {
      auto [it, fresh] = groups.emplace(KeyOf(e), out.size());
      if (fresh) {
        e.compartment = PatientCompartment({});
        out.push_back(std::move(e));
      }
      out[it->second].compartment.ids.push_back(patient);
    }
  };
  if (all || loaded->by_patient.size() < patients.size()) {
    for (const auto& [patient, consents] : loaded->by_patient) {
      if (all || std::binary_search(patients.begin(), patients.end(), patient)) add(patient, consents);
    }
  } else {
    for (const std::string& patient : patients) {
      auto it = loaded->by_patient.find(patient);
      if (it != loaded->by_patient.end()) add(patient, it->second);
    }
  }
  return out;
}

void ConsentDirectory::Changed(std::string_view type) {
  if (type == "Consent") generation_.fetch_add(1);
}

Result<std::shared_ptr<const ConsentDirectory::Loaded>> ConsentDirectory::Load(const std::string& tenant) {
  const uint64_t generation = generation_.load();
  const Micros now = clock_.Now();
  {
    std::lock_guard lock(mu_);
    auto it = tenants_.find(tenant);
    if (it != tenants_.end() && it->second->generation == generation && now - it->second->at < kCacheTtl) {
      return it->second;
    }
  }
  auto loaded = std::make_shared<Loaded>();
  loaded->generation = generation;
  loaded->at = now;
  EHR_RETURN_IF_ERROR(ForEachMatch(store_, tenant, "Consent", "status=active&scope=patient-privacy", kMaxConsents,
                                   [&](const store::SearchMatch& m) -> Status {
                                     EHR_ASSIGN_OR_RETURN(json::Value consent, json::Parse(m.body));
                                     std::string patient;
                                     std::optional<Provision> root = ParseConsent(consent, patient);
                                     if (root) loaded->by_patient[patient].push_back(std::move(*root));
                                     return Status::Ok();
                                   }));
  std::lock_guard lock(mu_);
  if (tenants_.size() > 1000) tenants_.clear();
  tenants_[tenant] = loaded;
  return std::shared_ptr<const Loaded>(loaded);
}

}  // namespace ehr::api
