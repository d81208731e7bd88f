// Internal to the api module: FhirService's implementation, split over several files by
// concept (routing, reads, writes, bundles, capability statement).
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/audit_trail.h"
#include "api/consent.h"
#include "api/criteria.h"
#include "api/cursor_seal.h"
#include "api/denial_tally.h"
#include "api/interactions.h"
#include "api/outcome.h"
#include "api/patient_reach.h"
#include "api/service.h"
#include "core/periodic.h"
#include "net/http.h"
#include "search/query_parser.h"
#include "search/sensitive_ids.h"

namespace ehr::api {


// The parts of a FHIR REST URL below the base: [type] [id] [_history [vid]] or an operation.
struct FhirPath {
  std::string type;
  std::string id;
  bool history = false;
  std::string version;
  bool search = false;     // Type/_search
  std::string operation;   // "$everything" etc.
  std::string compartment;  // /Patient/{id}/{compartment}: a resource type or "*"
  bool metadata = false;
};

// Parses "/fhir/Patient/1/_history/2" (path below the mount point "/fhir").
Result<FhirPath> ParseFhirPath(std::string_view path);

struct FhirService::Impl {
  Impl(store::Store& s, security::Authenticator& a, security::Authorizer& z, ServiceOptions o)
      : store(s),
        authn(a),
        authz(z),
        options(std::move(o)),
        clock(options.clock ? *options.clock : Clock::System()),
        own_blinder(options.blinder ? nullptr : search::IdentifierBlinder::WithRandomKey()),
        blinder(options.blinder ? *options.blinder : *own_blinder),
        cursor_seal(options.cursor_key),
        reach(s, clock),
        consents(s, clock),
        audit_batch(s),
        unauthenticated(options.unauthenticated_individually, options.unauthenticated_window) {}
  ~Impl();

  store::Store& store;
  security::Authenticator& authn;
  security::Authorizer& authz;
  ServiceOptions options;
  Clock& clock;
  std::unique_ptr<search::IdentifierBlinder> own_blinder;  // when options.blinder is not set
  const search::IdentifierBlinder& blinder;
  CursorSeal cursor_seal;
  PatientReach reach;
  ConsentDirectory consents;
  AuditBatcher audit_batch;
  DenialTally unauthenticated;
  std::unique_ptr<Periodic> tally_flush;  // started with the first tallied denial
  std::once_flag tally_flush_started;

  // A committed write of a resource of `type`: what access decisions cache from it is stale.
  void Changed(std::string_view type) {
    reach.Changed(type);
    consents.Changed(type);
  }

  // service.cc
  net::Response Handle(net::Request& req);
  net::Response Route(net::Request& req, RequestContext& ctx);
  // auth_endpoints.cc
  net::Response Auth(net::Request& req, RequestContext& ctx);
  net::Response Smart(net::Request& req, RequestContext& ctx);
  net::Response Register(const net::Request& req, RequestContext& ctx);
  Status Authorize(const RequestContext& ctx, std::string interaction, const std::string& type,
                   const std::string& id, std::string compartment_patient = {});
  // `search` behind the authorize step: each query it runs must be allowed to the caller
  // (api/search_access.h) and is bounded to their reach, so that no conditional criteria
  // or search entry is an oracle.
  SearchGuard GuardFor(const RequestContext& ctx);
  SearchFn Guarded(const RequestContext& ctx, SearchFn search);

  // reach.cc: whose records the caller reaches (api/patient_reach.h), and what patients'
  // consents hide from them within it (api/consent.h), break-glass applied.
  Result<PatientSet> ReachFor(const RequestContext& ctx, const security::Action& action);
  // For a request on an IO thread: whether deciding `action` would read the store for
  // more than the resource (a reach, actors or consents not cached yet).
  bool WouldBlock(const RequestContext& ctx, const security::Action& action);
  // The caller as consents name them.
  Result<Requester> RequesterOf(const RequestContext& ctx);
  // Granular scope queries as store filters; a query that cannot run matches nothing.
  // `tenant`: the caller's (sensitive identifiers in a scope's query are blinded for it).
  std::vector<store::TypeFilter> FiltersOf(const std::map<std::string, std::vector<std::string>>& queries,
                                           const std::string& tenant);
  // Whether the current version of type/id matches `set`'s filter of its type (if any).
  Result<bool> PassesFilter(const RequestContext& ctx, const PatientSet& set, const std::string& type,
                            const std::string& id);
  // The denial of a resource outside the caller's reach: 404 to a patient or guardian (the
  // resource's existence is not theirs to know), 403 to staff.
  Status Unreached(const RequestContext& ctx, const std::string& type, const std::string& id);
  // OK when the caller reaches `rec`, read by `interaction`, and no consent hides it.
  Status CheckReach(const RequestContext& ctx, const std::string& interaction, const store::VersionRecord& rec);
  // Bounds `q` to the caller's reach (SearchQuery::access); refuses a compartment outside it.
  Result<PatientSet> ApplyReach(const RequestContext& ctx, store::SearchQuery& q);
  // Each version a write transaction writes must stay within the caller's reach.
  WriteGuard WriteGuardFor(const RequestContext& ctx);

  // audit_record.cc: the counted unauthenticated requests of ended windows (all with `all`)
  // as one entry per address and window.
  Status FlushTally(bool all);
  // audit_record.cc: entries of the audit log (api/audit_trail.h). An event with the
  // caller, the interaction and the outcome of HTTP status `status`.
  audit::Event AuditBase(const RequestContext& ctx, int status);
  // Appends the events' entries in `txn`.
  Status AppendAudit(store::WriteTxn& txn, const std::vector<audit::Event>& events);
  // Records each version a write transaction writes, in it.
  WriteAudit AuditWrites(const RequestContext& ctx);
  // After the interaction: records what it disclosed or refused (unless its transaction
  // recorded it); a response whose record could not be written becomes a 503.
  net::Response Recorded(const RequestContext& ctx, net::Response r);
  // A login, logout, refusal or break-glass, recorded before the answer leaves.
  Status RecordEvent(const audit::Event& e);
  // The entry of an /auth/ request (login, logout, break-glass, user administration);
  // a success whose entry could not be written becomes a 503.
  net::Response RecordedAuth(const net::Request& req, RequestContext& ctx, net::Response r);
  // audit_search.cc: GET /fhir/AuditEvent and /fhir/AuditEvent/{id} (append-only: no writes),
  // and the tree heads and proofs under /audit/.
  net::Response AuditEvents(const net::Request& req, const RequestContext& ctx, const FhirPath& p);
  net::Response AuditProofs(const net::Request& req, RequestContext& ctx);

  // rest_read.cc
  net::Response Read(const net::Request& req, const RequestContext& ctx, const FhirPath& p);
  net::Response VRead(const net::Request& req, const RequestContext& ctx, const FhirPath& p);
  net::Response History(const net::Request& req, const RequestContext& ctx, const FhirPath& p);
  // search.cc
  net::Response Search(const net::Request& req, const RequestContext& ctx, const FhirPath& p,
                       std::string_view query);
  // The parse options of a search by the caller: page sizes, strictness, and the blinder
  // and tenant of sensitive identifiers.
  search::ParseOptions SearchParseOptions(const net::Request& req, const RequestContext& ctx) const;
  // Runs a parsed search for the caller's tenant and answers the searchset Bundle; links
  // are `link_base?query` (without _cursor) plus the cursor. `keep_included`, when given,
  // decides which included resources are returned.
  net::Response SearchResponse(const RequestContext& ctx, search::ParsedSearch& parsed, const std::string& link_base,
                               std::string_view query,
                               const std::function<bool(const store::SearchMatch&)>& keep_included = nullptr);
  // The same searchset Bundle as JSON text, searching with `search`: the store, or a write
  // transaction (the GET entries of a Bundle see the transaction's own writes).
  Result<std::string> SearchBundle(const RequestContext& ctx, search::ParsedSearch& parsed, const std::string& link_base,
                                   std::string_view query, const SearchFn& search,
                                   const std::function<bool(const store::SearchMatch&)>& keep_included = nullptr);

  // compartment.cc: /Patient/{id}/{type} and /Patient/{id}/*; Patient/{id}/$everything and
  // Patient/$everything.
  net::Response CompartmentSearch(const net::Request& req, const RequestContext& ctx, const FhirPath& p);
  net::Response Everything(const net::Request& req, const RequestContext& ctx, const FhirPath& p);

  // rest_write.cc
  net::Response Create(net::Request& req, const RequestContext& ctx, const FhirPath& p);
  net::Response Update(net::Request& req, const RequestContext& ctx, const FhirPath& p);
  net::Response Delete(net::Request& req, const RequestContext& ctx, const FhirPath& p);
  net::Response Patch(net::Request& req, const RequestContext& ctx, const FhirPath& p);
  net::Response PostBundle(net::Request& req, const RequestContext& ctx);
  // Runs `fn` in a write transaction, honouring Idempotency-Key. `fn` builds the response.
  net::Response RunWrite(const net::Request& req, const RequestContext& ctx,
                         const std::function<Result<net::Response>(TxnOps&)>& fn);

  // bundle.cc: checks the Bundle and its entries (outside the transaction), then executes
  // it inside one (a transaction fails as a whole; a batch records each entry's outcome).
  Result<std::shared_ptr<PreparedBundle>> PrepareBundle(json::Value bundle, const RequestContext& ctx);
  Result<json::Value> ExecuteBundle(PreparedBundle& bundle, TxnOps& ops, const RequestContext& ctx);
  void PrepareTransactionEarly(PreparedBundle& bundle, const RequestContext& ctx);

  // capability.cc
  net::Response Capabilities(const RequestContext& ctx);
};

// The purpose of use a role acts for (HL7 v3 ActReason: TREAT, HPAYMT, HRESCH, PATRQT, HOPERAT).
const char* PurposeOfRole(std::string_view role);
// AuditEvent.subtype and action of a FHIR request (empty subtype: not audited).
std::pair<std::string, std::string> AuditInteractionOf(std::string_view method, const FhirPath& p);
// The patients whose compartments a stored version is in (none when deleted or of a type
// outside the compartment).
std::vector<std::string> PatientsOf(const store::VersionRecord& rec);
// A token with a granular scope: every type is checked against its filters, not only
// the types of a patient compartment.
bool HasGranularScopes(const security::Principal& who);
// Whether `set` shows `rec`: it is in a reached record and no consent hides it.
bool Shows(const PatientSet& set, const store::VersionRecord& rec);

// Response helpers (service.cc).
net::Response ErrorResponse(const Status& status, const RequestContext& ctx);
// The FHIR base URL: --base-url, else from the Host header.
std::string DeriveBaseUrl(const net::Request& req, const ServiceOptions& o);
net::Response JsonResponse(int status, std::string body, const RequestContext& ctx);
net::Response JsonResponse(int status, const json::Value& body, const RequestContext& ctx);
// A resource version as the response: ETag, Last-Modified, Location when asked, body per Prefer.
net::Response ResourceResponse(int status, const store::VersionRecord& rec, const RequestContext& ctx,
                               bool location);
ReturnPref ParsePrefer(std::string_view prefer);
// ETag and Last-Modified of a stored version.
void SetVersionHeaders(net::Response& r, const store::VersionRecord& rec);
// Entry members of a history or search Bundle, appended as JSON text (stored bytes are not re-parsed).
void AppendEntry(std::string& out, const RequestContext& ctx, const store::VersionRecord& rec, bool history_info,
                 const char* search_mode);
std::string HistoryMethodUrl(const store::VersionRecord& rec);
// One Bundle.link, appended as JSON text after a comma unless `first` (rest_read.cc).
void AppendLink(std::string& out, bool& first, const char* relation, const std::string& url);
// Percent-encodes a query parameter name or value for links ('|', ':' and ',' kept).
std::string PercentEncode(std::string_view s);
std::string ResourceUrl(const RequestContext& ctx, const store::VersionRecord& rec, bool with_version);

}  // namespace ehr::api
