// POST /fhir/Patient/$federated-write?identifier=SYSTEM|VALUE at a gateway: a clinician
// records something about a visitor (issue 9, "writes about a visiting patient"). Nothing is
// kept at the gateway: the resource goes to one vault, as the federation file says
// (FederationConfig::visitor_writes):
//   "home"  the vault of the region that issued the identifier, when it holds the person's
//           record (else the one region that does; several: 409), under that record;
//   "local" the vault of the gateway's own region, under the visitor's record there, which
//           is made holding only the identifier when there is none (a conditional create, so
//           two writes at once make one); the vault then registers its pseudonym at the MPI,
//           which links it to the person's other records.
// The vault decides under its own policy (federation/vault_access.h): the token names the
// patient and the pseudonym of the identifier entered, which must be that patient's.
#include <algorithm>

#include "core/log.h"
#include "federation/gateway.h"
#include "federation/gateway_reply.h"
#include "fhir/model/model.h"
#include "mpi/national_id.h"
#include "net/fetch.h"

namespace ehr::federation {
namespace {

// The region whose authority issued identifiers of `system` ("" when none of the
// federation's: a passport of another country).
std::string IssuingRegion(std::string_view system) {
  if (std::optional<mpi::NationalIdKind> kind = mpi::KindOfSystem(system)) {
    switch (*kind) {
      case mpi::NationalIdKind::kNhsNumber: return "uk";
      case mpi::NationalIdKind::kKvnr: return "de";
      case mpi::NationalIdKind::kNir: return "fr";
      case mpi::NationalIdKind::kSsn: return "us";
    }
  }
  if (mpi::IsPassportSystem(system)) {
    const std::string_view country = system.substr(mpi::kPassportSystemPrefix.size());
    if (country == "GBR") return "uk";
    if (country == "DEU") return "de";
    if (country == "FRA") return "fr";
    if (country == "USA") return "us";
  }
  return "";
}

// The element by which resources of `type` name their patient: "subject" or "patient" (of
// the type's patient compartment parameters); "" for types recorded otherwise.
std::string PatientElementOf(std::string_view type) {
  const auto params = fhir::PatientCompartmentParams(type);
  for (std::string_view name : {"subject", "patient"}) {
    for (std::string_view p : params) {
      if (p == name) return std::string(name);
    }
  }
  return "";
}

json::Value Reference(const std::string& patient) {
  json::Value ref = json::Value::MakeObject();
  ref.Set("reference", json::Value("Patient/" + patient));
  return ref;
}

}  // namespace

net::Response Gateway::Write(const net::Request& request, const security::Principal& who, const Located& found,
                             const std::string& route, GatewayRecord& record) {
  Result<json::Value> body = json::Parse(request.body);
  if (!body.ok() || !body->is_object() || body->GetString("resourceType").empty()) {
    return GatewayError(400, "structure", "the body must be one FHIR resource in JSON", route);
  }
  const std::string type(body->GetString("resourceType"));
  const std::string element = type == "Patient" ? "" : PatientElementOf(type);
  if (element.empty()) {
    return GatewayError(422, "not-supported", type + " is not something recorded about a patient (by subject or patient)",
                        route, type);
  }
  if (body->Find(element) != nullptr) {
    return GatewayError(422, "invariant", "leave " + element + " out: it is set to the patient's record in the vault written to",
                        route, type + "." + element);
  }

  // The vault, and the patient's record there.
  std::string region;
  if (config_.visitor_writes == "local") {
    region = region_;
  } else {
    const std::string issuer = IssuingRegion(found.system);
    std::vector<std::string> regions;
    for (const Match& m : found.matches) {
      if (std::find(regions.begin(), regions.end(), m.region) == regions.end()) regions.push_back(m.region);
    }
    if (std::find(regions.begin(), regions.end(), issuer) != regions.end()) {
      region = issuer;
    } else if (regions.size() == 1) {
      region = regions.front();
    } else if (regions.empty()) {
      return GatewayError(404, "not-found", "no region holds a record of this person: there is no home vault to write to",
                          route, "identifier");
    } else {
      return GatewayError(409, "conflict", "several regions hold a record of this person and none issued the identifier",
                          route, "identifier");
    }
  }
  std::string patient, pseudonym = found.pseudonym;
  for (const Match& m : found.matches) {
    if (m.region != region) continue;
    if (!patient.empty()) {
      return GatewayError(409, "conflict", "region " + region + " holds several records of this person", route, "identifier");
    }
    patient = m.patient;
    pseudonym = m.pseudonym;
  }
  const Node* vault = config_.VaultOf(region);
  if (vault == nullptr) return GatewayError(404, "not-found", "no vault of region " + region + " in the federation", route);

  const net::FetchOptions fetch = config_.CallOptions(*vault, config_.deadline_ms);
  auto call = [&](const std::string& target, const std::string& payload, const std::string& about,
                  std::vector<std::pair<std::string, std::string>> extra) {
    std::vector<std::pair<std::string, std::string>> headers = {
        {"Authorization", TokenFor(*vault, who, about, pseudonym, true)},
        {"Content-Type", "application/fhir+json"},
        {"X-Request-Id", request.request_id}};
    headers.insert(headers.end(), extra.begin(), extra.end());
    return net::HttpCall("POST", vault->url + target, headers, payload, fetch);
  };
  auto unanswered = [&] {
    log::Warn("federation.vault_unanswered", {{"region", region}});
    net::Response r = GatewayError(503, "transient", "the vault of region " + region + " did not answer; retry later", route);
    r.SetHeader("Retry-After", "5");
    return r;
  };
  auto refused = [&](const net::HttpReply& reply) {
    // The vault's own OperationOutcome (what it refused and why), as it gave it.
    net::Response r;
    r.status = reply.status;
    r.body = reply.body;
    r.SetHeader("Content-Type", reply.content_type.empty() ? "application/fhir+json" : reply.content_type);
    r.route = route;
    return r;
  };

  if (patient.empty()) {
    // Local writes: the visitor's record here, holding the identifier entered and nothing else.
    json::Value id = json::Value::MakeObject();
    id.Set("system", json::Value(found.system));
    id.Set("value", json::Value(found.value));
    json::Value visitor = json::Value::MakeObject();
    visitor.Set("resourceType", json::Value("Patient"));
    visitor.Set("identifier", json::Value(json::Array{std::move(id)}));
    Result<net::HttpReply> made =
        call("/fhir/Patient", json::Write(visitor), "",
             {{"If-None-Exist", "identifier=" + net::PercentEncode(found.system) + "|" + net::PercentEncode(found.value)}});
    if (!made.ok()) return unanswered();
    if (made->status != 200 && made->status != 201) return refused(*made);
    Result<json::Value> record_made = json::Parse(made->body);
    if (!record_made.ok() || record_made->GetString("id").empty()) return unanswered();
    patient = std::string(record_made->GetString("id"));
    record.entities.push_back(region + ":Patient/" + patient);
  }

  body->Set(element, Reference(patient));
  Result<net::HttpReply> written = call("/fhir/" + type, json::Write(*body), patient, {});
  if (!written.ok()) return unanswered();
  if (written->status != 201) return refused(*written);
  Result<json::Value> created = json::Parse(written->body);
  if (!created.ok()) return unanswered();
  record.entities.push_back(region + ":" + type + "/" + std::string(created->GetString("id")));
  // Where it lives: the region, as in merged Bundles (merge.h).
  json::Value* meta = created->Find("meta");
  if (meta != nullptr && meta->is_object()) meta->Set("source", json::Value("urn:ehr:region:" + region));
  return GatewayJson(201, *created, route);
}

}  // namespace ehr::federation
