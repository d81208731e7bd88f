#include "federation/gateway.h"

#include <algorithm>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <thread>

#include "core/log.h"
#include "federation/gateway_reply.h"
#include "federation/merge.h"
#include "net/fetch.h"

namespace ehr::federation {
namespace {

constexpr std::string_view kLocate = "/fhir/Patient/$locate";
constexpr std::string_view kEverything = "/fhir/Patient/$federated-everything";
constexpr std::string_view kTimeline = "/fhir/Patient/$federated-timeline";
constexpr std::string_view kWrite = "/fhir/Patient/$federated-write";
constexpr const char* kFhirJson = "application/fhir+json; charset=utf-8";

json::Value Outcome(std::string_view severity, std::string_view code, const std::string& text,
                    const std::string& expression = {}) {
  json::Value issue = json::Value::MakeObject();
  issue.Set("severity", json::Value(std::string(severity)));
  issue.Set("code", json::Value(std::string(code)));
  issue.Set("diagnostics", json::Value(text));
  if (!expression.empty()) {
    json::Value where = json::Value::MakeArray();
    where.as_array().push_back(json::Value(expression));
    issue.Set("expression", std::move(where));
  }
  json::Value outcome = json::Value::MakeObject();
  outcome.Set("resourceType", json::Value("OperationOutcome"));
  json::Value issues = json::Value::MakeArray();
  issues.as_array().push_back(std::move(issue));
  outcome.Set("issue", std::move(issues));
  return outcome;
}

}  // namespace

net::Response GatewayJson(int status, const json::Value& body, std::string route) {
  net::Response r;
  r.status = status;
  r.body = json::Write(body);
  r.SetHeader("Content-Type", kFhirJson);
  r.SetHeader("Cache-Control", "no-store");
  r.route = std::move(route);
  return r;
}

net::Response GatewayError(int status, std::string_view code, const std::string& text, std::string route,
                           const std::string& expression) {
  return GatewayJson(status, Outcome("error", code, text, expression), std::move(route));
}

namespace {

// Every page of a vault's $everything, following its `next` links back to the same vault
// (at most 50 pages), within the deadline.
Result<json::Value> FetchEverything(const std::string& first_url, const std::vector<std::pair<std::string, std::string>>& headers,
                                    const std::string& vault_url, const net::FetchOptions& call, Micros deadline,
                                    Clock& clock) {
  json::Value merged;
  std::string url = first_url;
  for (int page = 0; page < 50 && !url.empty(); ++page) {
    const Micros left = deadline - clock.Now();
    if (left <= 0) return Status::Unavailable("timed out");
    net::FetchOptions fetch = call;
    fetch.timeout_ms = static_cast<int>(std::max<Micros>(left / 1000, 1));
    fetch.max_bytes = 64u << 20;
    EHR_ASSIGN_OR_RETURN(net::HttpReply reply, net::HttpCall("GET", url, headers, {}, fetch));
    auto body = json::Parse(reply.body);
    if (!body.ok() || !body->is_object()) return Status::Unavailable("answered HTTP " + std::to_string(reply.status));
    if (reply.status != 200) {
      // The vault's refusal (consent, region not allowed) comes back as its OperationOutcome.
      return page == 0 ? std::move(*body) : merged;
    }
    url.clear();
    if (const json::Value* links = body->Find("link"); links != nullptr && links->is_array()) {
      for (const json::Value& l : links->as_array()) {
        // Only links back to the same vault are followed.
        if (l.GetString("relation") == "next" && l.GetString("url").rfind(vault_url, 0) == 0) {
          url = std::string(l.GetString("url"));
        }
      }
    }
    if (page == 0) {
      merged = std::move(*body);
      merged.Remove("link");
      continue;
    }
    const json::Value* more = body->Find("entry");
    json::Value* entries = merged.Find("entry");
    if (more != nullptr && more->is_array()) {
      if (entries == nullptr) {
        merged.Set("entry", *more);
      } else {
        for (const json::Value& e : more->as_array()) entries->as_array().push_back(e);
      }
    }
  }
  return merged;
}

}  // namespace

Gateway::Gateway(const FederationConfig& config, const mpi::Pseudonymizer& pseudonyms,
                 const security::NodeSigner& signer, Clock& clock, std::string region)
    : config_(config),
      pseudonyms_(pseudonyms),
      signer_(signer),
      clock_(clock),
      region_(std::move(region)),
      breakers_(clock) {}

bool Gateway::Handles(const net::Request& request) {
  return request.path == kLocate || request.path == kEverything || request.path == kTimeline || request.path == kWrite;
}

std::string Gateway::TokenFor(const Node& node, const security::Principal& who, const std::string& patient,
                              const std::string& pseudonym, bool write) const {
  security::NodeClaims claims;
  claims.audience = node.name;
  claims.user = who.username.empty() ? who.subject : who.username;
  claims.roles = who.roles;
  claims.fhir_user = who.fhir_user;
  claims.region = region_;
  claims.purpose = who.emergency ? "ETREAT" : "TREAT";
  claims.patient = patient;
  claims.pseudonym = pseudonym;
  if (write) claims.access = "write";
  return signer_.Authorization(claims, clock_.Now());
}

std::optional<net::Response> Gateway::Locate(const net::Request& request, const std::string& route,
                                             GatewayRecord& record, Located& out) {
  const auto params = net::ParseQuery(request.query);
  const std::string identifier(net::FindParam(params, "identifier"));
  const size_t bar = identifier.find('|');
  if (identifier.empty() || bar == std::string::npos || bar == 0 || bar + 1 == identifier.size()) {
    return GatewayError(400, "required", "identifier must be given as SYSTEM|VALUE", route, "identifier");
  }
  out.system = identifier.substr(0, bar);
  out.value = identifier.substr(bar + 1);
  // Under each pepper the federation holds (two while it is rotated), newest first.
  Result<std::vector<mpi::PatientPseudonym>> pseudonyms = pseudonyms_.All(out.system, out.value);
  if (!pseudonyms.ok()) {
    return GatewayError(400, "value", "identifier: " + pseudonyms.status().message(), route, "identifier");
  }
  out.pseudonym = pseudonyms->front().pseudonym;
  record.query = "identifier=" + out.system + "|pseudonym:" + out.pseudonym;
  const Node* mpi = config_.Mpi();
  const net::FetchOptions fetch = config_.CallOptions(*mpi, config_.deadline_ms);
  for (const mpi::PatientPseudonym& pseudonym : *pseudonyms) {
    security::NodeClaims to_mpi;
    to_mpi.audience = mpi->name;
    Result<net::HttpReply> looked = net::HttpCall(
        "GET", mpi->url + "/mpi/lookup?pseudonym=" + pseudonym.pseudonym,
        {{"Authorization", signer_.Authorization(to_mpi, clock_.Now())}}, {}, fetch);
    auto found = looked.ok() && looked->status == 200 ? json::Parse(looked->body) : Result<json::Value>(Status::Unavailable(""));
    if (!found.ok() || found->Find("matches") == nullptr || !found->Find("matches")->is_array()) {
      log::Warn("federation.mpi_unavailable", {{"status", looked.ok() ? looked->status : 0}});
      net::Response r = GatewayError(503, "transient", "the Master Patient Index is unavailable; retry later", route);
      r.SetHeader("Retry-After", "5");
      return r;
    }
    for (const json::Value& m : found->Find("matches")->as_array()) {
      Match match{std::string(m.GetString("region")), std::string(m.GetString("patient")), pseudonym.pseudonym};
      const bool seen = std::any_of(out.matches.begin(), out.matches.end(), [&](const Match& earlier) {
        return earlier.region == match.region && earlier.patient == match.patient;
      });
      if (seen) continue;  // under the newer pepper already
      record.entities.push_back(match.region + ":Patient/" + match.patient);
      out.matches.push_back(std::move(match));
    }
  }
  return std::nullopt;
}

net::Response Gateway::Handle(const net::Request& request, const security::Principal& who, GatewayRecord& record) {
  const std::string route(request.path);
  record.subtype = route.substr(route.rfind('/') + 1);
  const bool write = request.path == kWrite;
  if (request.method != (write ? "POST" : "GET")) {
    return GatewayError(405, "not-supported", write ? "use POST" : "use GET", route);
  }
  bool clinician = false;
  for (const std::string& role : who.roles) clinician |= role == "DOCTOR" || role == "NURSE";
  if (!who.authenticated || !clinician) {
    return GatewayError(403, "forbidden", "cross-border lookups are for clinicians", route);
  }
  Located found;
  if (std::optional<net::Response> refused = Locate(request, route, record, found)) return std::move(*refused);
  if (write) return Write(request, who, found, route, record);
  const std::vector<Match>& matches = found.matches;
  const auto params = net::ParseQuery(request.query);
  const Micros deadline = clock_.Now() + static_cast<Micros>(config_.deadline_ms) * 1000;

  if (request.path == kLocate) {
    json::Value out = json::Value::MakeObject();
    out.Set("resourceType", json::Value("Parameters"));
    json::Value parameters = json::Value::MakeArray();
    for (const Match& m : matches) {
      json::Value region = json::Value::MakeObject();
      region.Set("name", json::Value("region"));
      region.Set("valueCode", json::Value(m.region));
      json::Value parts = json::Value::MakeArray();
      parts.as_array().push_back(std::move(region));
      json::Value match = json::Value::MakeObject();
      match.Set("name", json::Value("match"));
      match.Set("part", std::move(parts));
      parameters.as_array().push_back(std::move(match));
    }
    out.Set("parameter", std::move(parameters));
    return GatewayJson(200, out, route);
  }

  // Fan out to the home vaults, in parallel, within the deadline.
  std::string passed;
  for (const char* name : {"_since", "_type"}) {
    const std::string_view value = net::FindParam(params, name);
    if (!value.empty()) passed += std::string("&") + name + "=" + net::PercentEncode(value);
  }
  std::vector<RegionAnswer> answers;
  std::vector<std::future<Result<json::Value>>> calls;
  for (const Match& m : matches) {
    const Node* vault = config_.VaultOf(m.region);
    answers.push_back({m.region, std::nullopt, {}});
    if (vault == nullptr) {
      calls.emplace_back();
      answers.back().problem = "no vault of this region in the federation file";
      continue;
    }
    if (std::optional<std::string> skip = breakers_.Skip(m.region)) {
      calls.emplace_back();
      answers.back().problem = std::move(*skip);
      continue;
    }
    std::vector<std::pair<std::string, std::string>> headers = {
        {"Authorization", TokenFor(*vault, who, m.patient, m.pseudonym, false)}, {"X-Request-Id", request.request_id}};
    const std::string url = vault->url + "/fhir/Patient/" + net::PercentEncode(m.patient) + "/$everything?_count=1000" + passed;
    calls.push_back(std::async(std::launch::async, [url, headers, vault_url = vault->url,
                                                    call = config_.CallOptions(*vault, config_.deadline_ms), deadline, this] {
      // Refused at once (the vault restarting, a connection reset): tried again while the
      // deadline leaves time. A timeout is not retried: the deadline is spent.
      Result<json::Value> got = FetchEverything(url, headers, vault_url, call, deadline, clock_);
      for (Micros backoff = 100'000; !got.ok() && backoff <= 200'000; backoff *= 2) {
        const bool timed_out = got.status().message().find("timed out") != std::string::npos ||
                               got.status().message().find("timeout") != std::string::npos;
        if (timed_out || deadline - clock_.Now() < 2 * backoff) break;
        std::this_thread::sleep_for(std::chrono::microseconds(backoff));
        got = FetchEverything(url, headers, vault_url, call, deadline, clock_);
      }
      return got;
    }));
  }
  for (size_t i = 0; i < calls.size(); ++i) {
    if (!calls[i].valid()) continue;
    const Micros left = deadline - clock_.Now();
    if (calls[i].wait_for(std::chrono::microseconds(std::max<Micros>(left, 0))) != std::future_status::ready) {
      answers[i].problem = "did not answer within " + std::to_string(config_.deadline_ms) + " ms";
      breakers_.Record(answers[i].region, false);
      // The call ends at its own timeout; its future is left to finish on its thread.
      std::thread([f = std::move(calls[i])]() mutable { f.wait(); }).detach();
      continue;
    }
    Result<json::Value> got = calls[i].get();
    breakers_.Record(answers[i].region, got.ok());
    if (got.ok()) {
      answers[i].bundle = std::move(*got);
    } else {
      answers[i].problem = got.status().message();
    }
    if (!answers[i].problem.empty()) {
      log::Warn("federation.vault_unanswered", {{"region", answers[i].region}});
    }
  }
  json::Value merged = MergeBundles(std::move(answers));
  if (request.path == kTimeline) {
    json::Value rows = json::Value::MakeObject();
    rows.Set("rows", Timeline(merged));
    net::Response r = GatewayJson(200, rows, route);
    r.SetHeader("Content-Type", "application/json");
    return r;
  }
  return GatewayJson(200, merged, route);
}

}  // namespace ehr::federation
