#include "mpi/mpi_service.h"

#include <algorithm>
#include <map>

#include "core/ids.h"
#include "core/log.h"
#include "fhir/json/value.h"
#include "mpi/witness_wire.h"

namespace ehr::mpi {
namespace {

constexpr std::string_view kTypes[] = {"nhs", "kvnr", "nir", "ssn", "passport"};
// A patient has a national identifier or two; more in one call is a client's bug.
constexpr size_t kMaxLinksPerPatient = 16;

constexpr std::string_view kPatientRoute = "/mpi/regions/{region}/patients/{id}";
constexpr std::string_view kRegionRoute = "/mpi/regions/{region}/patients";
constexpr std::string_view kLookupRoute = "/mpi/lookup";
constexpr std::string_view kWitnessRoute = "/mpi/witness/{node}";

net::Response JsonResponse(int status, const json::Value& body, std::string_view route) {
  net::Response r;
  r.status = status;
  r.SetHeader("Content-Type", "application/json");
  r.SetHeader("Cache-Control", "no-store");
  r.body = json::Write(body);
  r.route = std::string(route);
  return r;
}

// `message` is fixed text: never a pseudonym, an id or anything else from the request.
net::Response Error(int status, std::string_view message, std::string_view route) {
  json::Value body = json::Value::MakeObject();
  body.Set("error", json::Value(std::string(message)));
  return JsonResponse(status, body, route);
}

net::Response Unauthenticated(std::string_view message) {
  net::Response r = Error(401, message, "/mpi(unauthenticated)");
  r.SetHeader("WWW-Authenticate", std::string(security::kNodeScheme));
  return r;
}

net::Response MethodNotAllowed(std::string_view allow, std::string_view route) {
  net::Response r = Error(405, "method not allowed", route);
  r.SetHeader("Allow", std::string(allow));
  return r;
}

// The answer to a failed store call: the store's messages carry no bound values, but only
// kInvalid (the request's fault) is worth showing; anything else is ours, worth a retry.
net::Response StoreFailure(const Status& status, const net::Request& request, std::string_view route) {
  if (status.code() == Code::kInvalid) return Error(400, status.message(), route);
  log::Warn("mpi_unavailable",
            {{"route", route}, {"code", static_cast<int>(status.code())}, {"request_id", request.request_id}});
  json::Value body = json::Value::MakeObject();
  body.Set("error", json::Value("the index is unavailable; retry later"));
  if (!request.request_id.empty()) body.Set("requestId", json::Value(request.request_id));
  net::Response r = JsonResponse(503, body, route);
  r.SetHeader("Retry-After", "1");
  return r;
}

bool IsPseudonym(std::string_view s) {
  return s.size() == 64 &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool IsType(std::string_view s) { return std::find(std::begin(kTypes), std::end(kTypes), s) != std::end(kTypes); }

// The path's segments after "/mpi/", percent-decoded; empty segments kept (so that
// "/mpi/lookup/" does not match "/mpi/lookup").
std::vector<std::string> Segments(std::string_view path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t slash = path.find('/', start);
    out.push_back(net::PercentDecode(path.substr(start, slash - start), false));
    if (slash == std::string_view::npos) return out;
    start = slash + 1;
  }
}

// {"links": [{"type": T, "pseudonym": HEX64}, ...]}, a pseudonym given twice with one type
// counting once. The errors name the member, never its value.
Result<std::vector<PatientPseudonym>> ParseLinks(std::string_view body) {
  Result<json::Value> parsed = json::Parse(body);
  if (!parsed.ok()) return Status::Invalid("the body is not valid JSON");
  const json::Value* links = parsed->is_object() ? parsed->Find("links") : nullptr;
  if (links == nullptr || !links->is_array()) return Status::Invalid("the body must be {\"links\": [...]}");
  if (links->as_array().size() > kMaxLinksPerPatient) {
    return Status::Invalid("at most " + std::to_string(kMaxLinksPerPatient) + " links per patient");
  }
  std::map<std::string, std::string, std::less<>> by_pseudonym;
  for (size_t i = 0; i < links->as_array().size(); ++i) {
    const json::Value& link = links->as_array()[i];
    const std::string where = "links[" + std::to_string(i) + "]";
    if (!link.is_object()) return Status::Invalid(where + " must be an object");
    const json::Value* type = link.Find("type");
    if (type == nullptr || !type->is_string() || !IsType(type->as_string())) {
      return Status::Invalid(where + ".type must be one of nhs, kvnr, nir, ssn, passport");
    }
    const json::Value* pseudonym = link.Find("pseudonym");
    if (pseudonym == nullptr || !pseudonym->is_string() || !IsPseudonym(pseudonym->as_string())) {
      return Status::Invalid(where + ".pseudonym must be 64 lower-case hex digits");
    }
    auto [it, added] = by_pseudonym.emplace(pseudonym->as_string(), type->as_string());
    if (!added && it->second != type->as_string()) {
      return Status::Invalid(where + ".pseudonym is given with another type before");
    }
  }
  std::vector<PatientPseudonym> out;
  for (auto& [pseudonym, type] : by_pseudonym) out.push_back(PatientPseudonym{type, pseudonym});
  return out;
}

}  // namespace

MpiService::MpiService(IndexStore& store, const security::NodeVerifier& verifier,
                       std::map<std::string, NodeRole, std::less<>> roles)
    : store_(store), verifier_(verifier), roles_(std::move(roles)) {}

net::Response MpiService::Handle(const net::Request& request) {
  if (request.path == "/mpi/healthz") {
    if (request.method != "GET" && request.method != "HEAD") return MethodNotAllowed("GET, HEAD", "/mpi/healthz");
    json::Value body = json::Value::MakeObject();
    body.Set("status", json::Value("ok"));
    return JsonResponse(200, body, "/mpi/healthz");
  }
  // Everything else reads or writes SQLite, which an IO thread must not wait for.
  if (request.on_io_thread) return net::Response::Defer();

  const std::string_view authorization = request.GetHeader("Authorization");
  if (authorization.empty()) return Unauthenticated("a node token is required (Authorization: Node <token>)");
  Result<security::NodeClaims> claims = verifier_.VerifyHeader(authorization, request.client_certificate);
  if (!claims.ok()) {
    // The verifier's reasons say which check failed, never what the token held.
    if (claims.status().code() != Code::kUnauthorized) return StoreFailure(claims.status(), request, "/mpi");
    return Unauthenticated(claims.status().message());
  }
  const auto caller = roles_.find(claims->issuer);
  if (caller == roles_.end()) return Error(403, "the calling node has no role in the federation", "/mpi(forbidden)");
  const NodeRole& node = caller->second;

  if (!request.path.starts_with("/mpi/")) return Error(404, "no such route", "(not-found)");
  const std::vector<std::string> segments = Segments(std::string_view(request.path).substr(5));

  if (segments.size() == 1 && segments[0] == "lookup") {
    if (request.method != "GET") return MethodNotAllowed("GET", kLookupRoute);
    if (node.role != "vault" && node.role != "gateway") {
      return Error(403, "only vaults and gateways may look up pseudonyms", kLookupRoute);
    }
    const auto params = net::ParseQuery(request.query);
    const std::string_view pseudonym = net::FindParam(params, "pseudonym");
    if (pseudonym.empty()) return Error(400, "the pseudonym parameter is required", kLookupRoute);
    if (!IsPseudonym(pseudonym)) return Error(400, "pseudonym must be 64 lower-case hex digits", kLookupRoute);
    Result<std::vector<Link>> found = store_.Lookup(pseudonym);
    if (!found.ok()) return StoreFailure(found.status(), request, kLookupRoute);
    json::Array matches;
    for (const Link& l : *found) {
      json::Value m = json::Value::MakeObject();
      m.Set("region", json::Value(l.region));
      m.Set("patient", json::Value(l.patient));
      m.Set("type", json::Value(l.type));
      matches.push_back(std::move(m));
    }
    json::Value body = json::Value::MakeObject();
    body.Set("matches", json::Value(std::move(matches)));
    return JsonResponse(200, body, kLookupRoute);
  }

  if (segments.size() == 2 && segments[0] == "witness") return Witness(request, claims->issuer, segments[1]);

  const bool region_route = segments.size() == 3 && segments[0] == "regions" && segments[2] == "patients";
  const bool patient_route = segments.size() == 4 && segments[0] == "regions" && segments[2] == "patients";
  if (!region_route && !patient_route) return Error(404, "no such route", "(not-found)");
  const std::string_view route = patient_route ? kPatientRoute : kRegionRoute;
  if (region_route && request.method != "GET") return MethodNotAllowed("GET", route);
  if (patient_route && request.method != "PUT" && request.method != "DELETE") {
    return MethodNotAllowed("PUT, DELETE", route);
  }
  // A region's links are its vault's alone: no other node may set, remove or list them.
  const std::string& region = segments[1];
  if (node.role != "vault" || node.region.empty() || node.region != region) {
    return Error(403, "only the vault of the region may use its links", route);
  }

  if (region_route) {
    Result<std::vector<Link>> links = store_.LinksOfRegion(region);
    if (!links.ok()) return StoreFailure(links.status(), request, route);
    json::Array out;
    for (const Link& l : *links) {
      json::Value link = json::Value::MakeObject();
      link.Set("patient", json::Value(l.patient));
      link.Set("type", json::Value(l.type));
      link.Set("pseudonym", json::Value(l.pseudonym));
      out.push_back(std::move(link));
    }
    json::Value body = json::Value::MakeObject();
    body.Set("links", json::Value(std::move(out)));
    return JsonResponse(200, body, route);
  }

  const std::string& patient = segments[3];
  if (!IsValidFhirId(patient)) return Error(400, "the patient id is not a valid FHIR id", route);
  if (request.method == "DELETE") {
    if (Status st = store_.Register(region, patient, {}); !st.ok()) return StoreFailure(st, request, route);
    net::Response r;
    r.status = 204;
    r.route = std::string(route);
    return r;
  }
  Result<std::vector<PatientPseudonym>> links = ParseLinks(request.body);
  if (!links.ok()) return Error(400, links.status().message(), route);
  if (Status st = store_.Register(region, patient, *links); !st.ok()) return StoreFailure(st, request, route);
  json::Value body = json::Value::MakeObject();
  body.Set("links", json::Value::MakeInt(static_cast<int64_t>(links->size())));
  return JsonResponse(200, body, route);
}

// A node's audit log heads (audit/witness.h): any node of the federation reads what is held
// of any node; a node hands in its own heads only.
net::Response MpiService::Witness(const net::Request& request, std::string_view caller, std::string_view node) {
  const std::string_view route = kWitnessRoute;
  if (request.method != "GET" && request.method != "PUT") return MethodNotAllowed("GET, PUT", route);
  if (!roles_.contains(node)) return Error(404, "no such node in the federation", route);
  Result<std::optional<audit::WitnessedHead>> held = store_.Witnessed(node);
  if (!held.ok()) return StoreFailure(held.status(), request, route);
  const uint64_t held_size = *held ? (*held)->head.size : 0;
  if (request.method == "GET") {
    Result<int64_t> refusals = store_.WitnessRefusals(node);
    if (!refusals.ok()) return StoreFailure(refusals.status(), request, route);
    Result<std::vector<Micros>> resets = store_.WitnessResets(node);
    if (!resets.ok()) return StoreFailure(resets.status(), request, route);
    json::Value reset_times = json::Value::MakeArray();
    for (Micros at : *resets) reset_times.as_array().push_back(json::Value(FormatInstant(at)));
    if (!*held) {
      json::Value body = json::Value::MakeObject();
      body.Set("error", json::Value("no head of this node has been witnessed"));
      body.Set("refusals", json::Value::MakeInt(*refusals));
      body.Set("resets", reset_times);
      return JsonResponse(404, body, route);
    }
    json::Value body = WitnessedHeadJson(**held);
    body.Set("refusals", json::Value::MakeInt(*refusals));
    body.Set("resets", std::move(reset_times));
    return JsonResponse(200, body, route);
  }
  if (caller != node) return Error(403, "a node hands in its own heads only", route);
  Result<WitnessSubmission> submitted = ParseWitnessSubmission(request.body);
  if (!submitted.ok()) return Error(400, submitted.status().message(), route);
  auto conflict = [&](std::string_view why) {
    json::Value body = json::Value::MakeObject();
    body.Set("error", json::Value(std::string(why)));
    body.Set("witnessed_size", json::Value::MakeInt(static_cast<int64_t>(held_size)));
    return JsonResponse(409, body, route);
  };
  // A proof from another size than the one held proves nothing about it: ask again.
  if (submitted->first != held_size) return conflict("the proof is not from the size of the head witnessed");
  Status verdict = store_.Witness(node, submitted->head.head, submitted->head.public_key, submitted->consistency);
  if (verdict.code() == Code::kInvalid) return Error(400, verdict.message(), route);
  if (verdict.code() == Code::kConflict) {
    log::Warn("mpi.witness_refused", {{"node", node}, {"size", static_cast<int64_t>(submitted->head.head.size)},
                                      {"witnessed_size", static_cast<int64_t>(held_size)}, {"reason", verdict.message()}});
    return conflict(verdict.message());
  }
  if (!verdict.ok()) return StoreFailure(verdict, request, route);
  json::Value body = json::Value::MakeObject();
  body.Set("tree_size", json::Value::MakeInt(static_cast<int64_t>(submitted->head.head.size)));
  return JsonResponse(200, body, route);
}

}  // namespace ehr::mpi
