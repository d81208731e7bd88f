// GET /fhir/metadata: a CapabilityStatement that says exactly what this server does today.
#include "api/service_impl.h"
#include "fhir/model/model.h"

namespace ehr::api {

namespace {

json::Value Code(const char* code) {
  json::Value o = json::Value::MakeObject();
  o.Set("code", json::Value(code));
  return o;
}

json::Value SearchParam(std::string_view name, std::string_view type, std::string_view definition) {
  json::Value o = json::Value::MakeObject();
  o.Set("name", json::Value(std::string(name)));
  if (!definition.empty()) o.Set("definition", json::Value(std::string(definition)));
  o.Set("type", json::Value(std::string(type)));
  return o;
}

const char* TypeName(fhir::SearchParamType type) {
  switch (type) {
    case fhir::SearchParamType::kNumber: return "number";
    case fhir::SearchParamType::kDate: return "date";
    case fhir::SearchParamType::kString: return "string";
    case fhir::SearchParamType::kToken: return "token";
    case fhir::SearchParamType::kReference: return "reference";
    case fhir::SearchParamType::kComposite: return "composite";
    case fhir::SearchParamType::kQuantity: return "quantity";
    case fhir::SearchParamType::kUri: return "uri";
    case fhir::SearchParamType::kSpecial: return "special";
  }
  return "special";
}

// The parameters the search engine answers: all but _query and the special ones other than
// Location near (_list, a result-shaping parameter, is described in the documentation).
bool Supported(const fhir::SearchParamDef& p) {
  if (p.type == fhir::SearchParamType::kSpecial) return p.code == "near";
  return p.code != "_query" && p.code != "_list";
}

}  // namespace

net::Response FhirService::Impl::Capabilities(const RequestContext& ctx) {
  json::Value cs = json::Value::MakeObject();
  cs.Set("resourceType", json::Value("CapabilityStatement"));
  cs.Set("status", json::Value("active"));
  cs.Set("date", json::Value(FormatInstant(clock.Now()).substr(0, 10)));
  cs.Set("publisher", json::Value("ehr"));
  cs.Set("kind", json::Value("instance"));
  json::Value software = json::Value::MakeObject();
  software.Set("name", json::Value("ehr"));
  software.Set("version", json::Value(options.version));
  cs.Set("software", std::move(software));
  json::Value implementation = json::Value::MakeObject();
  implementation.Set("description", json::Value("ehr FHIR R4 server" +
                                                (options.region.empty() ? std::string() : ", region " + options.region)));
  implementation.Set("url", json::Value(ctx.base_url));
  cs.Set("implementation", std::move(implementation));
  cs.Set("fhirVersion", json::Value("4.0.1"));
  json::Array formats;
  formats.emplace_back("application/fhir+json");
  formats.emplace_back("json");
  cs.Set("format", json::Value(std::move(formats)));
  json::Array patch_formats;
  patch_formats.emplace_back("application/json-patch+json");
  cs.Set("patchFormat", json::Value(std::move(patch_formats)));

  json::Value rest = json::Value::MakeObject();
  rest.Set("mode", json::Value("server"));
  rest.Set("documentation",
           json::Value("Search supports every R4 search parameter of types string, token, date, number, "
                       "quantity, reference, uri and composite, with all of R4's modifiers (token :in and :not-in "
                       "expand stored ValueSets and the specification's required-binding ones, without filters, "
                       "up to 500 codes; token :below and :above follow the concept hierarchy of a stored "
                       "CodeSystem) and prefixes, chains, _has, "
                       "_include, _revinclude, _sort, _count (keyset paging), _total, _summary (true, text, data, "
                       "count, false) and _elements; read and vread take _summary and _elements too. _text and "
                       "_content search words, \"phrases\" and OR in the narrative and in every string of a "
                       "resource. _list takes the id of a List, or one of the functional lists $current-problems "
                       "(Condition), $current-medications (MedicationRequest, MedicationStatement), "
                       "$current-allergies and $current-drug-allergies (AllergyIntolerance), which stand for "
                       "their clinical or order status. Location near takes latitude|longitude|distance|units (km, m, "
                       "[mi_i], [nmi_i]; 10 km without a distance). _query and _filter are not supported "
                       "yet. Idempotency-Key is honoured on POST "
                       "for 24 hours."));
  json::Value security = json::Value::MakeObject();
  if (options.identity == nullptr) {
    security.Set("description", json::Value("Authentication is not enabled on this instance (development mode)."));
  } else {
    security.Set("cors", json::Value(true));
    security.Set("description",
                 json::Value("Every request except this CapabilityStatement needs \"Authorization: Bearer\" with an "
                             "access token from POST /auth/login (ES256 JWT, keys at /.well-known/jwks.json). "
                             "Access is decided by role and tenant; see the README's role matrix."));
  }
  rest.Set("security", std::move(security));
  json::Array resources;
  for (std::string_view type : fhir::ResourceTypes()) {
    json::Value r = json::Value::MakeObject();
    r.Set("type", json::Value(std::string(type)));
    json::Array interactions;
    for (const char* code : {"read", "vread", "update", "patch", "delete", "history-instance", "history-type", "create",
                             "search-type"}) {
      interactions.push_back(Code(code));
    }
    r.Set("interaction", json::Value(std::move(interactions)));
    r.Set("versioning", json::Value("versioned-update"));
    r.Set("readHistory", json::Value(true));
    r.Set("updateCreate", json::Value(true));
    r.Set("conditionalCreate", json::Value(true));
    r.Set("conditionalRead", json::Value("not-supported"));
    r.Set("conditionalUpdate", json::Value(true));
    r.Set("conditionalDelete", json::Value("single"));
    json::Array params;
    json::Array includes;
    for (const fhir::SearchParamDef* p : fhir::SearchParamsFor(type)) {
      if (!Supported(*p)) continue;
      params.push_back(SearchParam(p->code, TypeName(p->type), p->url));
      if (p->type == fhir::SearchParamType::kReference) includes.emplace_back(std::string(type) + ":" + std::string(p->code));
    }
    params.push_back(SearchParam("_list", "special", "http://hl7.org/fhir/SearchParameter/Resource-list"));
    r.Set("searchParam", json::Value(std::move(params)));
    if (!includes.empty()) r.Set("searchInclude", json::Value(std::move(includes)));
    if (type == "Patient") {
      json::Value everything = json::Value::MakeObject();
      everything.Set("name", json::Value("everything"));
      everything.Set("definition", json::Value("http://hl7.org/fhir/OperationDefinition/Patient-everything"));
      json::Array operations;
      operations.push_back(std::move(everything));
      r.Set("operation", json::Value(std::move(operations)));
    }
    resources.push_back(std::move(r));
  }
  rest.Set("resource", json::Value(std::move(resources)));
  json::Array system;
  for (const char* code : {"transaction", "batch", "history-system", "search-system"}) system.push_back(Code(code));
  rest.Set("interaction", json::Value(std::move(system)));
  // Compartment search: /Patient/{id}/{type} and /Patient/{id}/*.
  json::Array compartments;
  compartments.emplace_back("http://hl7.org/fhir/CompartmentDefinition/patient");
  rest.Set("compartment", json::Value(std::move(compartments)));
  json::Array rests;
  rests.push_back(std::move(rest));
  cs.Set("rest", json::Value(std::move(rests)));
  return JsonResponse(200, cs, ctx);
}

}  // namespace ehr::api
