// The gateway's merge: the vaults' searchset Bundles into one, and the web app's timeline.
//
// Care dates are compared by the earliest instant they denote (ParseInstant), so "2020",
// "2020-05" and "2020-05-01T10:00:00+02:00" order correctly against each other; a time
// written without a zone is read as UTC. The written text is what the timeline shows.
#include "federation/merge.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "core/clock.h"

namespace ehr::federation {
namespace {

constexpr std::string_view kRegionSystem = "urn:ehr:region";

std::string RegionUrn(std::string_view region) { return std::string(kRegionSystem) + ":" + std::string(region); }

// The string at a dotted path of objects ("effectivePeriod.start"); empty when absent.
std::string_view StringAt(const json::Value& v, std::string_view path) {
  const json::Value* at = &v;
  while (true) {
    size_t dot = path.find('.');
    if (dot == std::string_view::npos) return at->GetString(path);
    at = at->Find(path.substr(0, dot));
    if (!at) return {};
    path.remove_prefix(dot + 1);
  }
}

// The elements holding a resource's care date, most telling first (FHIR R4; choice types
// spelled out: a period counts from its start).
const std::vector<std::string_view>& CareDateElements(std::string_view type) {
  static const std::map<std::string_view, std::vector<std::string_view>, std::less<>> kByType = {
      {"Observation", {"effectiveDateTime", "effectivePeriod.start", "effectiveInstant", "issued"}},
      {"DiagnosticReport", {"effectiveDateTime", "effectivePeriod.start", "issued"}},
      {"Condition", {"onsetDateTime", "onsetPeriod.start", "recordedDate"}},
      {"AllergyIntolerance", {"onsetDateTime", "onsetPeriod.start", "recordedDate"}},
      {"Encounter", {"period.start"}},
      {"CarePlan", {"period.start"}},
      {"Procedure", {"performedDateTime", "performedPeriod.start"}},
      {"MedicationRequest", {"authoredOn"}},
      {"MedicationAdministration", {"effectiveDateTime", "effectivePeriod.start"}},
      {"MedicationStatement", {"effectiveDateTime", "effectivePeriod.start"}},
      {"Immunization", {"occurrenceDateTime"}},
      {"Claim", {"billablePeriod.start", "created"}},
      {"ExplanationOfBenefit", {"billablePeriod.start", "created"}},
      {"DocumentReference", {"date"}},
      {"Composition", {"date"}},
      {"ImagingStudy", {"started"}},
      {"ServiceRequest", {"occurrenceDateTime", "occurrencePeriod.start", "authoredOn"}},
      {"Appointment", {"start"}},
      {"CareTeam", {"period.start"}},
      {"Coverage", {"period.start"}},
      {"EpisodeOfCare", {"period.start"}},
      {"Goal", {"startDate", "statusDate"}},
      {"Communication", {"sent", "received"}},
      {"Specimen", {"collection.collectedDateTime", "receivedTime"}},
  };
  static const std::vector<std::string_view> kOther = {"date"};
  auto it = kByType.find(type);
  return it == kByType.end() ? kOther : it->second;
}

// The earliest instant a FHIR date, dateTime or instant denotes; nullopt when unreadable.
std::optional<Micros> EarliestInstant(std::string_view written) {
  if (written.empty()) return std::nullopt;
  if (auto t = ParseInstant(written)) return t;
  // A time without a zone is not valid FHIR, but some sources write it: read it as UTC.
  if (written.find('T') != std::string_view::npos) return ParseInstant(std::string(written) + "Z");
  return std::nullopt;
}

struct CareDate {
  std::string written;            // as the resource has it; empty when it has none
  std::optional<Micros> sort_at;  // the earliest instant, or meta.lastUpdated when no care date
};

CareDate CareDateOf(const json::Value& resource) {
  CareDate found;
  for (std::string_view element : CareDateElements(resource.GetString("resourceType"))) {
    std::string_view text = StringAt(resource, element);
    if (text.empty()) continue;
    if (auto t = EarliestInstant(text)) return {std::string(text), t};
    if (found.written.empty()) found.written = std::string(text);
  }
  // No readable care date: ordered by when the vault stored it, but not shown as one.
  found.sort_at = EarliestInstant(StringAt(resource, "meta.lastUpdated"));
  return found;
}

// The order of the merged Bundle and of the timeline.
struct SortKey {
  int rank = 1;  // 0 Patient, 1 other resources, 2 OperationOutcome
  std::optional<Micros> when;
  std::string region, type, id;
};

SortKey SortKeyOf(const json::Value& resource, std::string_view region) {
  SortKey key;
  key.type = std::string(resource.GetString("resourceType"));
  key.id = std::string(resource.GetString("id"));
  key.region = std::string(region);
  key.rank = key.type == "Patient" ? 0 : key.type == "OperationOutcome" ? 2 : 1;
  if (key.rank == 1) key.when = CareDateOf(resource).sort_at;
  return key;
}

// Newest first, undated last; then region, type and id. Outcomes keep their order within a
// region (used with a stable sort).
bool Before(const SortKey& a, const SortKey& b) {
  if (a.rank != b.rank) return a.rank < b.rank;
  if (a.when != b.when) {
    if (!a.when || !b.when) return a.when.has_value();
    return *a.when > *b.when;
  }
  if (a.region != b.region) return a.region < b.region;
  if (a.rank == 2) return false;
  return std::tie(a.type, a.id) < std::tie(b.type, b.id);
}

bool IsDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Whether version `a` is later than `b`: as numbers when both are (of any length), else as
// text; a missing version is the earliest.
bool LaterVersion(std::string_view a, std::string_view b) {
  if (IsDigits(a) && IsDigits(b)) {
    a.remove_prefix(std::min(a.find_first_not_of('0'), a.size()));
    b.remove_prefix(std::min(b.find_first_not_of('0'), b.size()));
    if (a.size() != b.size()) return a.size() > b.size();
  }
  return a > b;
}

// meta.tag {urn:ehr:region, R} once (a resource has one home: another region's tag is
// dropped) and meta.source "urn:ehr:region:R".
void TagWithRegion(json::Value& resource, std::string_view region, bool set_source) {
  json::Value* meta = resource.Find("meta");
  if (!meta || !meta->is_object()) {
    size_t after_id = 1;
    const json::Object& members = resource.as_object();
    for (size_t i = 0; i < members.size(); ++i) {
      if (members[i].first == "id") after_id = i + 1;
    }
    meta = &resource.SetAt(after_id, "meta", json::Value::MakeObject());
  }
  json::Value* tags = meta->Find("tag");
  if (!tags || !tags->is_array()) tags = &meta->Set("tag", json::Value::MakeArray());
  json::Array& list = tags->as_array();
  std::erase_if(list, [&](const json::Value& tag) {
    return tag.GetString("system") == kRegionSystem && tag.GetString("code") != region;
  });
  bool tagged = std::any_of(list.begin(), list.end(), [&](const json::Value& tag) {
    return tag.GetString("system") == kRegionSystem && tag.GetString("code") == region;
  });
  if (!tagged) {
    json::Value tag = json::Value::MakeObject();
    tag.Set("system", json::Value(std::string(kRegionSystem)));
    tag.Set("code", json::Value(std::string(region)));
    list.push_back(std::move(tag));
  }
  if (set_source) meta->Set("source", json::Value(RegionUrn(region)));
}

struct MergedEntry {
  json::Value resource;
  std::string mode;  // "match", "include" or "outcome"
  SortKey key;
};

json::Value EntryOf(MergedEntry merged) {
  json::Value entry = json::Value::MakeObject();
  if (!merged.key.id.empty()) {
    entry.Set("fullUrl", json::Value(RegionUrn(merged.key.region) + ":" + merged.key.type + "/" + merged.key.id));
  }
  entry.Set("resource", std::move(merged.resource));
  json::Value search = json::Value::MakeObject();
  search.Set("mode", json::Value(std::move(merged.mode)));
  entry.Set("search", std::move(search));
  return entry;
}

// The gateway's own outcome for a region without an answer. It carries the region's tag so
// the web app can say which region is missing, but no meta.source: the region did not write it.
MergedEntry NoAnswer(const std::string& region, const std::string& problem) {
  json::Value issue = json::Value::MakeObject();
  issue.Set("severity", json::Value("warning"));
  issue.Set("code", json::Value("incomplete"));
  std::string diagnostics = "region " + region + " did not answer";
  if (!problem.empty()) diagnostics += ": " + problem;
  issue.Set("diagnostics", json::Value(std::move(diagnostics)));
  json::Value outcome = json::Value::MakeObject();
  outcome.Set("resourceType", json::Value("OperationOutcome"));
  outcome.Set("issue", json::Value(json::Array{std::move(issue)}));
  TagWithRegion(outcome, region, false);
  SortKey key = SortKeyOf(outcome, region);
  return {std::move(outcome), "outcome", std::move(key)};
}

// Why an answer that is not a Bundle counts as none.
std::string NotABundle(const json::Value& answer) {
  std::string_view type = answer.GetString("resourceType");
  if (type.empty()) return "answered with something other than a Bundle";
  if (type != "OperationOutcome") return "answered with a " + std::string(type) + " instead of a Bundle";
  std::string problem = "answered with an OperationOutcome";
  const json::Value* issues = answer.Find("issue");
  if (issues && issues->is_array() && !issues->as_array().empty()) {
    const json::Value& first = issues->as_array().front();
    std::string_view text = first.GetString("diagnostics");
    if (text.empty()) text = StringAt(first, "details.text");
    if (!text.empty()) problem += ": " + std::string(text);
  }
  return problem;
}

// The human text of a CodeableConcept (or the first of an array of them).
std::string ConceptText(const json::Value* codeable) {
  if (codeable && codeable->is_array())
    codeable = codeable->as_array().empty() ? nullptr : &codeable->as_array().front();
  if (!codeable) return "";
  if (std::string_view text = codeable->GetString("text"); !text.empty()) return std::string(text);
  const json::Value* codings = codeable->Find("coding");
  if (!codings || !codings->is_array() || codings->as_array().empty()) return "";
  const json::Value& first = codings->as_array().front();
  std::string_view display = first.GetString("display");
  return std::string(display.empty() ? first.GetString("code") : display);
}

// What the resource is about: its code, or the element that plays that part in its type.
std::string SubjectText(const json::Value& resource) {
  std::string_view type = resource.GetString("resourceType");
  std::string text;
  if (type == "Immunization") {
    text = ConceptText(resource.Find("vaccineCode"));
  } else if (type.starts_with("Medication")) {
    text = ConceptText(resource.Find("medicationCodeableConcept"));
    if (text.empty()) text = std::string(StringAt(resource, "medicationReference.display"));
  } else if (type != "Encounter") {
    text = ConceptText(resource.Find("code"));
  }
  if (text.empty()) text = ConceptText(resource.Find("type"));
  if (text.empty()) text = std::string(resource.GetString("title"));  // Composition, CarePlan
  return text;
}

std::string ValueText(const json::Value& resource) {
  if (const json::Value* quantity = resource.Find("valueQuantity")) {
    const json::Value* number = quantity->Find("value");
    std::string text = number && number->is_number() ? number->number_text() : "";
    std::string_view unit = quantity->GetString("unit");
    if (unit.empty()) unit = quantity->GetString("code");
    if (!unit.empty()) text += (text.empty() ? "" : " ") + std::string(unit);
    return text;
  }
  if (std::string_view text = resource.GetString("valueString"); !text.empty()) return std::string(text);
  return ConceptText(resource.Find("valueCodeableConcept"));
}

std::string Summary(const json::Value& resource) {
  std::string subject = SubjectText(resource);
  std::string value = ValueText(resource);
  if (subject.empty() || value.empty()) return subject + value;
  return subject + ": " + value;
}

std::string RegionOf(const json::Value& resource) {
  const json::Value* meta = resource.Find("meta");
  const json::Value* tags = meta ? meta->Find("tag") : nullptr;
  if (tags && tags->is_array()) {
    for (const json::Value& tag : tags->as_array()) {
      if (tag.GetString("system") == kRegionSystem) return std::string(tag.GetString("code"));
    }
  }
  return "";
}

}  // namespace

json::Value MergeBundles(std::vector<RegionAnswer> answers) {
  std::vector<MergedEntry> merged;
  std::map<std::tuple<std::string, std::string, std::string>, size_t> seen;  // region, type, id
  for (RegionAnswer& answer : answers) {
    if (!answer.bundle) {
      merged.push_back(NoAnswer(answer.region, answer.problem));
      continue;
    }
    if (answer.bundle->GetString("resourceType") != "Bundle") {
      merged.push_back(NoAnswer(answer.region, NotABundle(*answer.bundle)));
      continue;
    }
    json::Value* entries = answer.bundle->Find("entry");
    if (!entries || !entries->is_array()) continue;
    // The answers are ours: their resources move into the merged Bundle (a record of
    // hundreds of resources is not copied).
    for (json::Value& entry : entries->as_array()) {
      json::Value* resource = entry.Find("resource");
      if (!resource || resource->GetString("resourceType").empty()) continue;
      SortKey key = SortKeyOf(*resource, answer.region);
      std::string mode = key.rank == 2 ? "outcome" : StringAt(entry, "search.mode") == "include" ? "include" : "match";
      if (key.rank != 2 && !key.id.empty()) {
        auto [at, fresh] = seen.try_emplace({key.region, key.type, key.id}, merged.size());
        if (!fresh) {
          MergedEntry& kept = merged[at->second];
          if (LaterVersion(StringAt(*resource, "meta.versionId"), StringAt(kept.resource, "meta.versionId"))) {
            kept.resource = std::move(*resource);
            TagWithRegion(kept.resource, answer.region, true);
            kept.key = std::move(key);
          }
          if (mode == "match") kept.mode = mode;  // a match also included stays a match
          continue;
        }
      }
      merged.push_back({std::move(*resource), std::move(mode), std::move(key)});
      TagWithRegion(merged.back().resource, answer.region, true);
    }
  }
  std::stable_sort(merged.begin(), merged.end(),
                   [](const MergedEntry& a, const MergedEntry& b) { return Before(a.key, b.key); });

  int64_t total = 0;
  json::Array out;
  out.reserve(merged.size());
  for (MergedEntry& entry : merged) {
    if (entry.mode == "match") ++total;
    out.push_back(EntryOf(std::move(entry)));
  }
  json::Value bundle = json::Value::MakeObject();
  bundle.Set("resourceType", json::Value("Bundle"));
  bundle.Set("type", json::Value("searchset"));
  bundle.Set("total", json::Value::MakeInt(total));
  if (!out.empty()) bundle.Set("entry", json::Value(std::move(out)));
  return bundle;
}

// Resources about who and where, not about the patient's care.
static bool IsDirectoryType(std::string_view type) {
  return type == "Practitioner" || type == "PractitionerRole" || type == "Organization" || type == "Location" ||
         type == "HealthcareService" || type == "Endpoint" || type == "Device" || type == "Medication";
}

json::Value Timeline(const json::Value& merged) {
  struct Row {
    SortKey key;
    json::Value row;
  };
  std::vector<Row> rows;
  const json::Value* entries = merged.Find("entry");
  if (entries && entries->is_array()) {
    for (const json::Value& entry : entries->as_array()) {
      const json::Value* resource = entry.Find("resource");
      if (!resource) continue;
      std::string_view type = resource->GetString("resourceType");
      // Events of care only: not the people and places they name.
      if (type.empty() || type == "Patient" || type == "OperationOutcome" || IsDirectoryType(type)) continue;
      std::string region = RegionOf(*resource);
      std::string_view id = resource->GetString("id");
      json::Value row = json::Value::MakeObject();
      row.Set("date", json::Value(CareDateOf(*resource).written));
      row.Set("type", json::Value(std::string(type)));
      row.Set("summary", json::Value(Summary(*resource)));
      row.Set("region", json::Value(region));
      row.Set("reference", json::Value(id.empty() ? std::string() : std::string(type) + "/" + std::string(id)));
      rows.push_back({SortKeyOf(*resource, region), std::move(row)});
    }
  }
  // A merged Bundle is already in this order; sorting again keeps the promise for any other.
  std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return Before(a.key, b.key); });
  json::Array out;
  out.reserve(rows.size());
  for (Row& row : rows) out.push_back(std::move(row.row));
  return json::Value(std::move(out));
}

}  // namespace ehr::federation
