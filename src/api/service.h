// FhirService: the FHIR REST API over a Store. Turns net::Requests into net::Responses;
// every request passes authenticate -> authorize -> interaction. Thread-safe: one instance
// serves all worker threads (state is the immutable options and the thread-safe store).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/clock.h"
#include "fhir/json/value.h"
#include "net/http.h"
#include "security/pipeline.h"
#include "security/rate_limit.h"
#include "store/store.h"

namespace ehr::security {
class BreakGlass;
class Identity;
class RateLimiter;
class Smart;
}

namespace ehr::audit {
class TreeHeadPublisher;
}

namespace ehr::search {
class IdentifierBlinder;
}

namespace ehr::api {

class AuditTrail;

struct ServiceOptions {
  std::string base_url;  // e.g. "https://ehr.example/fhir"; empty: from the Host header
  std::string region;    // shown in the CapabilityStatement
  std::string version = "0.1.0";
  int default_page_size = 50;
  int max_page_size = 1000;
  Micros idempotency_window = 24LL * 3600 * 1000000;
  Clock* clock = nullptr;  // default: Clock::System()
  // 32 secret bytes sealing search paging cursors (api/cursor_seal.h); empty: a random key
  // for the life of the process.
  std::string cursor_key;
  // Accounts and tokens behind /auth/* and /.well-known/jwks.json; nullptr with --auth off.
  security::Identity* identity = nullptr;
  // SMART App Launch and backend services (/auth/authorize, /auth/token, ...); nullptr: none.
  security::Smart* smart = nullptr;
  // Emergency overrides (the X-Break-Glass header, /auth/break-glass); nullptr: none.
  security::BreakGlass* break_glass = nullptr;
  // POST /auth/register: anyone may open a PATIENT account (with a new Patient record).
  bool self_registration = false;
  // Rate limits (429 with Retry-After) when `limiter` is set: FHIR requests per user (per
  // backend client for SERVICE accounts, `service`) and per tenant; the login and token
  // endpoints per client address.
  security::RateLimiter* limiter = nullptr;
  security::RateLimit user_limit{50, 100};
  security::RateLimit service_limit{1000, 2000};
  security::RateLimit tenant_limit{2000, 4000};
  security::RateLimit address_limit{5, 20};
  // The audit log (api/audit_record.cc): every access to or change of health data, login,
  // denial and break-glass is recorded before its answer leaves. Off only for benchmarks
  // that measure its cost.
  bool audit = true;
  // Unauthenticated FHIR requests (401) of one address (api/denial_tally.h): the first
  // `unauthenticated_individually` of each `unauthenticated_window` are recorded an entry
  // each; the rest are counted and recorded as one entry for the address and window, within
  // `unauthenticated_flush` after the window ends (and when the service stops).
  int unauthenticated_individually = 10;
  Micros unauthenticated_window = 60'000'000;
  Micros unauthenticated_flush = 10'000'000;
  // Signs tree heads on demand (POST /audit/tree-head); nullptr: heads are not offered.
  audit::TreeHeadPublisher* audit_heads = nullptr;
  // Blinds sensitive identifiers in the search index and in queries (search/sensitive_ids.h),
  // with the blind-index key of the key store; it must outlive the service. nullptr: a
  // random key for the life of the process (tests: rows written by another process with
  // another key are not found).
  const search::IdentifierBlinder* blinder = nullptr;
};

enum class ReturnPref { kRepresentation, kMinimal, kOutcome };

// Per-request state handed to interactions.
struct RequestContext {
  security::Principal principal;
  std::string base_url;  // without trailing slash
  std::string request_id;
  bool pretty = false;
  ReturnPref prefer = ReturnPref::kRepresentation;
  // For the audit log: the request's trail (nullptr: not recorded, e.g. ehr import, which
  // its write transactions record), the client's address, and the interaction.
  AuditTrail* audit = nullptr;
  std::string peer;
  std::string client_certificate;  // net::Request::client_certificate (mutual TLS)
  std::string audit_subtype;
  std::string audit_action;
};

struct PreparedBundle;  // a checked Bundle, ready to execute

class FhirService {
 public:
  FhirService(store::Store& store, security::Authenticator& authn, security::Authorizer& authz,
              ServiceOptions options);
  ~FhirService();

  net::Response Handle(net::Request& request);
  // True for requests short and bounded enough to answer on the IO thread (health, read
  // and vread by id); everything else runs on the worker pool.
  static bool RunsOnIoThread(const net::Request& request);

  // Processes a batch or transaction Bundle as POST /fhir would (used by `ehr import`).
  // Returns the response Bundle, or an error Status for a failed transaction.
  Result<json::Value> ProcessBundle(json::Value bundle, const RequestContext& ctx);
  // The same in two steps, so that a loader can check the next Bundle (parse, validate)
  // on another thread while the previous one commits.
  Result<std::shared_ptr<PreparedBundle>> PrepareBundle(json::Value bundle, const RequestContext& ctx);
  Result<json::Value> CommitBundle(PreparedBundle& bundle, const RequestContext& ctx);

  // Records an operation handled outside this service (the federation gateway's lookups)
  // in its audit log, as its own requests are (BALP: the user, roles, client, address,
  // request id of `who` and `request`; `subtype` such as "$federated-everything"; the
  // outcome of `status`), with `query` (which must hold no identifier in clear) and
  // `entities`. Durable when it returns OK; with the audit log off, does nothing.
  Status RecordOperation(const net::Request& request, const security::Principal& who, const std::string& subtype,
                         int status, std::string query, std::vector<std::string> entities);

  // The context `ehr import` and tests use: the default tenant, no authentication.
  RequestContext SystemContext() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Deletes the responses kept for Idempotency-Key that are older than `window`
// (ServiceOptions::idempotency_window: a retry after that is a new request), in writes of
// `batch` records so that other writes go on in between, until none is left or
// `stopping()`; returns how many went. `ehr serve` runs it every ten minutes.
Result<int64_t> ExpireIdempotency(store::Store& store, Micros window, Micros now,
                                  const std::function<bool()>& stopping, int batch = 1000);

}  // namespace ehr::api
