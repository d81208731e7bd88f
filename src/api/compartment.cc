// The patient compartment: compartment search (GET /fhir/Patient/{id}/{type} and
// /fhir/Patient/{id}/*) and the chart (GET /fhir/Patient/{id}/$everything, and
// /fhir/Patient/$everything for every patient). Membership follows the R4 patient
// CompartmentDefinition (fhir::PatientCompartmentParams): a resource is in Patient/123's
// compartment when one of its type's compartment parameters refers to Patient/123, and the
// patient is in its own. Both are searches (store::SearchQuery::compartment) answered as
// searchset Bundles with keyset paging.
#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "api/service_impl.h"
#include "security/role_policy.h"
#include "fhir/model/model.h"

namespace ehr::api {
namespace {

constexpr std::string_view kPatient = "Patient";

using security::InPatientCompartment;

std::vector<std::string> PatientCompartmentTypes() {
  std::vector<std::string> types;
  for (std::string_view type : fhir::ResourceTypes()) {
    if (InPatientCompartment(type)) types.emplace_back(type);
  }
  return types;
}

Status NotPatientCompartment() {
  return Status::NotSupported(Code::kInvalid, "Only the Patient compartment is supported");
}

// The care date of the resources of a type, for $everything's start and end: the one named
// here (MedicationRequest's `date` is when doses are timed, not when it was written), else
// its `date` parameter (the common clinical date); a type with neither is not filtered.
constexpr std::pair<std::string_view, std::string_view> kCareDates[] = {
    {"Condition", "onset-date"},        {"MedicationRequest", "authoredon"},
    {"MedicationAdministration", "effective-time"}, {"MedicationDispense", "whenhandedover"},
    {"MedicationStatement", "effective"}, {"ServiceRequest", "authored"},
    {"Media", "created"},               {"Specimen", "collected"},
    {"ImagingStudy", "started"},        {"Claim", "created"},
    {"ExplanationOfBenefit", "created"}};

std::string CareDateOf(std::string_view type) {
  auto is_date = [&](std::string_view param) {
    const fhir::SearchParamDef* def = fhir::FindSearchParam(type, param);
    return def != nullptr && def->type == fhir::SearchParamType::kDate;
  };
  for (const auto& [t, param] : kCareDates) {
    if (t == type && is_date(param)) return std::string(param);
  }
  return is_date("date") ? "date" : "";
}

// $everything's start and end: of the types that have a care date, the resources whose
// care date overlaps [start, end] (either open when not given); one filter per care-date
// parameter, over every type that has it.
Result<std::vector<store::TypeFilter>> CareDateFilters(const std::vector<std::string>& types, const std::string& start,
                                                       const std::string& end) {
  std::vector<store::TypeFilter> out;
  if (start.empty() && end.empty()) return out;
  std::map<std::string, std::vector<std::string>> by_param;
  for (const std::string& type : types) {
    const std::string param = CareDateOf(type);
    if (!param.empty()) by_param[param].push_back(type);
  }
  search::ParseOptions options;
  options.strict = true;
  for (auto& [param, of] : by_param) {
    std::string query;
    if (!start.empty()) query = param + "=ge" + PercentEncode(start);
    if (!end.empty()) query += (query.empty() ? "" : "&") + param + "=le" + PercentEncode(end);
    Result<search::ParsedSearch> parsed = search::ParseSearch(of.front(), query, options);
    if (!parsed.ok()) {
      return Status(Code::kInvalid, Issue{"error", "invalid", "$everything: start and end must be dates (" +
                                                                  parsed.status().message() + ")",
                                          start.empty() ? "end" : "start"});
    }
    out.push_back(store::TypeFilter{std::move(of), {std::move(parsed->query.clauses)}});
  }
  return out;
}

}  // namespace

net::Response FhirService::Impl::CompartmentSearch(const net::Request& req, const RequestContext& ctx,
                                                   const FhirPath& p) {
  if (p.type != kPatient) return ErrorResponse(NotPatientCompartment(), ctx);
  const std::string type = p.compartment == "*" ? std::string() : p.compartment;
  if (!type.empty()) {
    if (!fhir::IsResourceType(type)) return ErrorResponse(Status::NotFound("Unknown resource type '" + type + "'"), ctx);
    if (!InPatientCompartment(type)) {
      return ErrorResponse(Status::Invalid("Resources of type " + type + " are never in a Patient compartment"), ctx);
    }
  }
  if (Status st = Authorize(ctx, type.empty() ? "search-system" : "search-type", type, "", p.id); !st.ok()) {
    return ErrorResponse(st, ctx);
  }
  Result<search::ParsedSearch> parsed = search::ParseSearch(type, req.query, SearchParseOptions(req, ctx));
  if (!parsed.ok()) return ErrorResponse(parsed.status(), ctx);
  parsed->query.compartment = PatientCompartment({p.id});
  return SearchResponse(ctx, *parsed, ctx.base_url + "/Patient/" + PercentEncode(p.id) + "/" + p.compartment,
                        req.query);
}

// $everything's parameters (R4 patient-everything): _since (resources changed since),
// _type (only these types), _count (page size), paging, and start and end (care dates:
// resources of the types that have one only when it overlaps the range, CareDateFilters).
// They become a system search, so that each value is checked as a search parameter's is; the page's resources bring the resources they refer to that are in no
// patient's compartment (practitioners, organizations, locations, medications...).
net::Response FhirService::Impl::Everything(const net::Request& req, const RequestContext& ctx, const FhirPath& p) {
  if (Status st = Authorize(ctx, "operation", std::string(kPatient), p.id, p.id); !st.ok()) return ErrorResponse(st, ctx);
  if (!p.id.empty()) {
    Result<std::optional<store::VersionRecord>> patient = store.ReadCurrent(ctx.principal.tenant, kPatient, p.id);
    if (!patient.ok()) return ErrorResponse(patient.status(), ctx);
    if (!patient->has_value() || (*patient)->deleted) {
      return ErrorResponse(Status::NotFound("Patient/" + p.id + " is not known"), ctx);
    }
  }
  const std::string base = ctx.base_url + "/Patient/" + (p.id.empty() ? "" : PercentEncode(p.id) + "/") + "$everything";
  std::string query;
  std::vector<Issue> ignored;
  std::string start, end;
  bool typed = false;
  for (auto& [name, value] : net::ParseQuery(req.query)) {
    std::string as;
    if (name == "_since") {
      as = "_lastUpdated=ge" + PercentEncode(value);
    } else if (name == "_type") {
      as = "_type=" + PercentEncode(value);
      typed = true;
    } else if (name == "_count" || name == "_cursor" || name == "_summary" || name == "_elements") {
      as = name + "=" + PercentEncode(value);
    } else if (name == "start" || name == "end") {
      (name == "start" ? start : end) = value;
    } else if (name != "_format" && name != "_pretty") {
      return ErrorResponse(Status::Invalid("$everything has no parameter '" + name + "'"), ctx);
    }
    if (!as.empty()) query += (query.empty() ? "" : "&") + as;
  }
  Result<search::ParsedSearch> parsed = search::ParseSearch("", query, SearchParseOptions(req, ctx));
  if (!parsed.ok()) return ErrorResponse(parsed.status(), ctx);
  store::SearchQuery& q = parsed->query;
  const std::vector<std::string> asked = q.types;
  if (typed) {
    std::erase_if(q.types, [](const std::string& t) { return !InPatientCompartment(t); });
    if (q.types.empty()) {
      // Only types that are never in a compartment: nothing of the chart is asked for.
      std::string empty = R"({"resourceType":"Bundle","type":"searchset","total":0,"link":[)";
      bool first = true;
      AppendLink(empty, first, "self", base + "?" + query);
      return JsonResponse(200, empty + "]}", ctx);
    }
  } else {
    q.types = PatientCompartmentTypes();
  }
  // Everything the caller may read: types their role does not allow are left out.
  std::erase_if(q.types, [&](const std::string& t) { return !Authorize(ctx, "search-type", t, "", p.id).ok(); });
  if (q.types.empty()) {  // (an empty list would mean every type to the store)
    return ErrorResponse(Status::Forbidden("the account's roles allow reading none of the chart's resource types"), ctx);
  }
  if (!p.id.empty()) q.compartment = PatientCompartment({p.id});
  Result<std::vector<store::TypeFilter>> dated = CareDateFilters(q.types, start, end);
  if (!dated.ok()) return ErrorResponse(dated.status(), ctx);
  q.filters = std::move(*dated);
  store::Include referenced;
  referenced.source_type = "*";
  referenced.param = "*";
  referenced.wildcard = true;
  q.includes.push_back(referenced);
  parsed->warnings.insert(parsed->warnings.end(), ignored.begin(), ignored.end());
  // Referenced resources of compartment types are matches of some page of this chart, or
  // else another patient's: either way not included here.
  auto keep = [&](const store::SearchMatch& m) {
    if (InPatientCompartment(m.type)) return false;
    return !typed || std::find(asked.begin(), asked.end(), m.type) != asked.end();
  };
  return SearchResponse(ctx, *parsed, base, req.query, keep);
}

}  // namespace ehr::api
