#include "cli/serve_node.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "api/cursor_seal.h"
#include "api/service.h"
#include "audit/archive.h"
#include "audit/log.h"
#include "cli/admin_audit.h"
#include "cli/identity_setup.h"
#include "cli/key_store.h"
#include "core/log.h"
#include "federation/gateway.h"
#include "federation/head_witness.h"
#include "federation/registrar.h"
#include "federation/vault_access.h"
#include "fhir/json/value.h"
#include "mpi/index_store.h"
#include "mpi/mpi_service.h"
#include "search/sensitive_ids.h"
#include "security/break_glass.h"
#include "security/oidc.h"
#include "security/pipeline.h"
#include "security/rate_limit.h"
#include "security/role_policy.h"
#include "store/sqlite/sqlite_store.h"

namespace ehr::cli {

namespace {

// An OperationOutcome of one error issue (json::Write escapes the text: a status message
// may hold quotes).
net::Response JsonError(int status, const std::string& code, const std::string& text, std::string route) {
  json::Value issue = json::Value::MakeObject();
  issue.Set("severity", json::Value("error"));
  issue.Set("code", json::Value(code));
  issue.Set("diagnostics", json::Value(text));
  json::Value outcome = json::Value::MakeObject();
  outcome.Set("resourceType", json::Value("OperationOutcome"));
  outcome.Set("issue", json::Value(json::Array{std::move(issue)}));
  net::Response r;
  r.status = status;
  r.body = json::Write(outcome);
  r.SetHeader("Content-Type", "application/fhir+json; charset=utf-8");
  r.route = std::move(route);
  return r;
}

// A start-up failure, saying what failed.
Status Because(const std::string& what, const Status& st) { return Status::Invalid(what + ": " + st.message()); }

}  // namespace

std::set<std::string> ServeFlags() {
  std::set<std::string> known = WithKeyStoreFlags(
      {"data", "listen", "auth", "region", "base-url", "workers", "io-threads", "durable", "access-log", "max-body-mb",
       "readers", "token-ttl-seconds", "clinician-reach", "break-glass-minutes", "rate-limit-user",
       "rate-limit-service", "rate-limit-tenant", "rate-limit-address", "self-registration", "oidc", "tls-cert",
       "tls-key", "tls-client-ca", "audit", "audit-head-seconds", "audit-retention-days", "reencrypt-seconds",
       "demo-patients", "visitor-writes"});
  known = WithStoreFlags(std::move(known));
  for (const std::string& f : FederationFlags()) known.insert(f);
  return known;
}

Result<ServeSettings> ParseServeSettings(const Args& args) {
  ServeSettings s;
  const std::string auth = args.Get("auth", "on");
  if (auth != "on" && auth != "off") return Status::Invalid("--auth must be on or off");
  s.auth = auth == "on";
  EHR_ASSIGN_OR_RETURN(s.token_ttl_seconds, ParseInt("token-ttl-seconds", args.Get("token-ttl-seconds", "900"), 60, 3600));
  EHR_ASSIGN_OR_RETURN(s.break_glass_minutes,
                       ParseInt("break-glass-minutes", args.Get("break-glass-minutes", "60"), 1, 24 * 60));
  // Rate limits, requests per second (bursts of twice as many); 0 turns one off.
  const char* limit_flags[4][2] = {{"rate-limit-user", "50"}, {"rate-limit-service", "1000"},
                                   {"rate-limit-tenant", "2000"}, {"rate-limit-address", "5"}};
  for (int i = 0; i < 4; ++i) {
    EHR_ASSIGN_OR_RETURN(int rate, ParseInt(limit_flags[i][0], args.Get(limit_flags[i][0], limit_flags[i][1]), 0, 10000000));
    s.rate_limits[i] = rate;
  }
  const std::string reach = args.Get("clinician-reach", "assigned");
  if (reach != "assigned" && reach != "all") return Status::Invalid("--clinician-reach must be assigned or all");
  s.clinicians_reach_all = reach == "all";
  const std::string audit = args.Get("audit", "on");
  if (audit != "on" && audit != "off") return Status::Invalid("--audit must be on or off");
  s.audit = audit == "on";
  EHR_ASSIGN_OR_RETURN(s.audit_head_seconds, ParseInt("audit-head-seconds", args.Get("audit-head-seconds", "60"), 0, 24 * 3600));
  EHR_ASSIGN_OR_RETURN(s.audit_retention_days,
                       ParseInt("audit-retention-days",
                                args.Get("audit-retention-days", std::to_string(audit::kDefaultRetentionDays)), 1, 100 * 366));
  EHR_ASSIGN_OR_RETURN(s.reencrypt_seconds, ParseInt("reencrypt-seconds", args.Get("reencrypt-seconds", "10"), 1, 24 * 3600));
  EHR_ASSIGN_OR_RETURN(s.workers, ParseInt("workers", args.Get("workers", "64"), 1, 1024));
  EHR_ASSIGN_OR_RETURN(s.io_threads, ParseInt("io-threads", args.Get("io-threads", "0"), 0, 256));
  EHR_ASSIGN_OR_RETURN(s.readers, ParseInt("readers", args.Get("readers", "16"), 1, 256));
  EHR_ASSIGN_OR_RETURN(s.max_body_mb, ParseInt("max-body-mb", args.Get("max-body-mb", "64"), 1, 4096));
  s.durable = args.Get("durable", "on") != "off";
  s.access_log = args.Get("access-log", "on") != "off";
  s.self_registration = args.Get("self-registration", "off") == "on";
  s.base_url = args.Get("base-url");
  s.region = args.Get("region");
  s.oidc_file = args.Get("oidc");
  EHR_ASSIGN_OR_RETURN(s.store, ParseStoreChoice(args));
  if (!s.auth) {
    std::fprintf(stderr, "ehr serve: WARNING: authentication is OFF (development only); anyone on this machine "
                         "can read and write all data\n");
  }
  if (!s.audit) {
    std::fprintf(stderr, "ehr serve: WARNING: the audit log is OFF (for measuring its cost only); accesses to "
                         "health data are not recorded\n");
  }
  return s;
}

struct ServeNode::Impl {
  Args args;
  ServeSettings settings;
  std::string data;
  std::string label;
  std::string host;
  net::TlsOptions tls;
  KeyStore keys;  // before the store: it must outlive it
  std::unique_ptr<store::Store> store;
  std::unique_ptr<Periodic> reencrypt;
  std::unique_ptr<Periodic> idempotency_expiry;
  FederationNode fed;
  // The Master Patient Index.
  std::unique_ptr<mpi::IndexStore> index;
  std::unique_ptr<mpi::MpiService> mpi;
  // Vaults and gateways.
  api::ServiceOptions options;
  IdentityHandle identity;
  std::unique_ptr<security::ExternalIssuers> external;
  std::unique_ptr<security::Authenticator> authn;
  std::unique_ptr<security::Authorizer> authz;
  std::unique_ptr<security::BreakGlass> break_glass;
  std::unique_ptr<security::RateLimiter> limiter;
  std::unique_ptr<audit::Archiver> archiver;
  std::unique_ptr<audit::TreeHeadPublisher> heads;
  std::unique_ptr<search::IdentifierBlinder> blinder;
  std::unique_ptr<federation::FederatedAuthenticator> fed_authn;
  std::unique_ptr<federation::FederatedAuthorizer> fed_authz;
  std::unique_ptr<federation::MpiRegistrar> registrar;
  std::unique_ptr<federation::HeadWitness> witness;
  std::unique_ptr<Periodic> witnessing;
  std::unique_ptr<federation::Gateway> gateway;
  std::unique_ptr<api::FhirService> service;
  std::unique_ptr<net::HttpServer> server;  // last: destroyed first, while what it calls lives

  Status PrepareMpi();
  Status PrepareFhir();
  net::Response Handle(net::Request& r);
  net::Response HandleMpi(net::Request& r);
  net::Response HandleGateway(net::Request& r);
  security::Authenticator& RequestAuthenticator() { return fed_authn ? *fed_authn : *authn; }
};

ServeNode::ServeNode(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ServeNode::~ServeNode() {
  if (impl_->registrar) impl_->registrar->Stop();
}

Result<std::unique_ptr<ServeNode>> ServeNode::Open(const Args& args, const ServeSettings& settings, std::string data) {
  auto impl = std::make_unique<Impl>();
  impl->args = args;
  impl->settings = settings;
  impl->data = std::move(data);
  std::error_code ec;
  std::filesystem::create_directories(impl->data, ec);
  if (ec) return Status::Invalid("cannot create data directory " + impl->data + ": " + ec.message());
  Result<KeyStore> keys = OpenKeyStore(args, impl->data);
  if (!keys.ok()) return Because("cannot open the key store", keys.status());
  impl->keys = std::move(*keys);
  auto store = OpenStore(settings.store, impl->data, impl->keys, StoreTuning{settings.readers, settings.durable});
  if (!store.ok()) return Because("cannot open the database", store.status());
  impl->store = std::move(*store);
  // A node restored from a backup without its keyring records the restore now (admin_audit.h).
  if (Status st = RecordPendingRestore(*impl->store, impl->data); !st.ok()) {
    return Because("cannot record the restore in the audit log", st);
  }
  log::Info("keys.opened", {{"key_store", impl->keys.description},
                            {"encrypt_bodies", impl->keys.encrypt_bodies ? "on" : "off"}});
  // Bodies move onto their tenant's newest data key in the background (after a rotation,
  // or once encryption is turned on for a database that was written without it).
  impl->reencrypt = StartReencryptJob(*impl->store, std::chrono::seconds(settings.reencrypt_seconds));
  return std::unique_ptr<ServeNode>(new ServeNode(std::move(impl)));
}

store::Store& ServeNode::store() { return *impl_->store; }

Status ServeNode::Listen(const std::string& host, uint16_t port, const net::TlsOptions& tls) {
  Impl& n = *impl_;
  n.host = host;
  n.tls = tls;
  net::ServerOptions so;
  so.host = host;
  so.port = port;
  so.worker_threads = n.settings.workers;
  so.io_threads = n.settings.io_threads;
  so.max_body_bytes = static_cast<size_t>(n.settings.max_body_mb) * 1024 * 1024;
  so.access_log = n.settings.access_log;
  so.run_inline = &api::FhirService::RunsOnIoThread;
  so.tls = tls;
  n.server = std::make_unique<net::HttpServer>(so, [impl = impl_.get()](net::Request& r) { return impl->Handle(r); });
  return n.server->Start();
}

uint16_t ServeNode::port() const { return impl_->server->port(); }

std::string ServeNode::Origin() const {
  const std::string& host = impl_->host;
  return (impl_->tls.enabled() ? "https://" : "http://") + (host.find(':') != std::string::npos ? "[" + host + "]" : host) +
         ":" + std::to_string(port());
}

std::string ServeNode::Banner() const {
  const Impl& n = *impl_;
  if (n.mpi) return "Master Patient Index at " + Origin() + "/mpi (node " + n.fed.self->name + ")";
  std::string line = "FHIR R4 " + (n.fed.role.empty() ? std::string("server") : n.fed.role) + " at " + Origin() +
                     "/fhir (data " + n.data;
  if (!n.options.region.empty()) line += ", region " + n.options.region;
  return line + ")";
}

int ServeUntilSignalled(const std::vector<ServeNode*>& nodes, const sigset_t& signals) {
  std::thread signal_thread([&nodes, signals] {
    int sig = 0;
    sigset_t set = signals;
    while (sigwait(&set, &sig) == 0 && sig == SIGHUP) {
      for (ServeNode* node : nodes) {
        if (Status st = node->ReloadTls(); st.ok()) {
          log::Info("tls.reloaded", {{"signal", sig}});
        } else {
          log::Warn("tls.reload_failed", {{"error", st.message()}});
        }
      }
    }
    log::Info("shutdown_requested", {{"signal", sig}});
    for (ServeNode* node : nodes) node->Stop();
  });
  std::vector<std::thread> runners;
  for (size_t i = 1; i < nodes.size(); ++i) runners.emplace_back([node = nodes[i]] { node->Run(); });
  log::Info("server_started", {{"port", static_cast<int>(nodes.front()->port())}});
  nodes.front()->Run();
  // Every node stops on the signal; one that returned by itself (a failure) takes the others.
  for (ServeNode* node : nodes) node->Stop();
  for (std::thread& t : runners) t.join();
  pthread_kill(signal_thread.native_handle(), SIGTERM);
  signal_thread.join();
  log::Info("server_stopped");
  log::Flush();
  return 0;
}

void ServeNode::Run() { impl_->server->Run(); }
Status ServeNode::ReloadTls() { return impl_->server->ReloadTls(); }
void ServeNode::Stop() { impl_->server->Stop(); }

Status ServeNode::Prepare(FederationNode fed, const std::string& label) {
  impl_->fed = std::move(fed);
  impl_->label = label;
  return impl_->fed.role == "mpi" ? impl_->PrepareMpi() : impl_->PrepareFhir();
}

// `--role mpi`: the Master Patient Index (mpi/mpi_service.h) over DATA/mpi.db.
Status ServeNode::Impl::PrepareMpi() {
  auto opened = mpi::OpenIndexStore(data + "/mpi.db", Clock::System());
  if (!opened.ok()) return Because("cannot open the MPI database", opened.status());
  index = std::move(*opened);
  std::map<std::string, mpi::MpiService::NodeRole, std::less<>> roles;
  for (const federation::Node& n : fed.config.nodes) roles[n.name] = {n.role, n.region};
  mpi = std::make_unique<mpi::MpiService>(*index, *fed.verifier, std::move(roles));
  return Status::Ok();
}

Status ServeNode::Impl::PrepareFhir() {
  options.base_url = settings.base_url;
  if (settings.auth) {
    auto opened = OpenIdentity(settings.store, data, options.base_url, settings.token_ttl_seconds, keys.kek.get());
    if (!opened.ok()) return Because("cannot open the account database", opened.status());
    identity = std::move(*opened);
    const char* env_password = std::getenv("EHR_ADMIN_PASSWORD");
    auto bootstrap = identity.identity->Bootstrap(env_password ? env_password : "");
    if (!bootstrap.ok()) return Because("cannot create the first administrator", bootstrap.status());
    if (bootstrap->has_value() && env_password == nullptr) {
      std::fprintf(stderr, "ehr serve: created the administrator 'admin'%s%s with the password %s (shown once; "
                           "log in and enrol a one-time password device)\n",
                   label.empty() ? "" : " of ", label.c_str(), (*bootstrap)->c_str());
    }
    options.identity = identity.identity.get();
    options.smart = identity.smart.get();
    if (!settings.oidc_file.empty()) {
      std::ifstream in(settings.oidc_file, std::ios::binary);
      if (!in) return Status::Invalid("cannot read --oidc " + settings.oidc_file);
      std::ostringstream text;
      text << in.rdbuf();
      EHR_ASSIGN_OR_RETURN(std::vector<security::ExternalIssuer> issuers, security::ParseOidcConfig(text.str()));
      external = std::make_unique<security::ExternalIssuers>(std::move(issuers), Clock::System());
    }
    authn = std::make_unique<security::BearerAuthenticator>(*identity.identity, external.get());
    authz = std::make_unique<security::RolePolicy>(
        security::RolePolicyOptions{.clinicians_reach_all = settings.clinicians_reach_all});
    break_glass = std::make_unique<security::BreakGlass>(*identity.accounts, Clock::System(),
                                                         static_cast<Micros>(settings.break_glass_minutes) * 60 * 1000000);
    options.break_glass = break_glass.get();
    options.self_registration = settings.self_registration;
    limiter = std::make_unique<security::RateLimiter>(Clock::System());
    options.limiter = limiter.get();
    options.user_limit = security::RateLimit{settings.rate_limits[0], 0};
    options.service_limit = security::RateLimit{settings.rate_limits[1], 0};
    options.tenant_limit = security::RateLimit{settings.rate_limits[2], 0};
    options.address_limit = security::RateLimit{settings.rate_limits[3], 0};
  } else {
    authn = std::make_unique<security::NoAuthentication>("default");
    authz = std::make_unique<security::AllowAll>();
  }
  EHR_ASSIGN_OR_RETURN(options.cursor_key, KeyStoreSecret(*store, "cursor", api::CursorSeal::kKeyBytes, data + "/cursor.key"));
  options.region = settings.region;
  // The audit log's tree heads and archived segments are signed with the key store's key.
  auto audit_signer = AuditSigner(*store, data);
  if (!audit_signer.ok()) return Because("cannot read the audit signing key", audit_signer.status());
  // Entries older than the retention move to signed segment files, sealed with the key
  // store's newest archive key, at start and daily; files under an older one (after `ehr keys
  // rotate`) are sealed again then.
  audit::ArchiveOptions archive_options;
  archive_options.retention = static_cast<Micros>(settings.audit_retention_days) * 86'400'000'000LL;
  auto archive_keys = ArchiveKeysOf(*store, true);
  if (!archive_keys.ok()) return Because("cannot read the audit archive key", archive_keys.status());
  archive_options.keys = std::move(*archive_keys);
  archive_options.load_keys = [s = store.get()] { return ArchiveKeysOf(*s, false); };
  archiver = std::make_unique<audit::Archiver>(*store, AuditArchiveDir(data), *audit_signer, Clock::System(), archive_options);
  archiver->Start(86'400'000'000LL);
  heads = std::make_unique<audit::TreeHeadPublisher>(*store, std::move(*audit_signer), Clock::System());
  options.audit = settings.audit;
  options.audit_heads = heads.get();
  // Responses kept for Idempotency-Key (personal data, sealed) go once no retry may replay them.
  // (The job outlives `options` at destruction: it keeps its own copy of the window.)
  idempotency_expiry = std::make_unique<Periodic>(
      std::chrono::minutes(10), [&store = *store, window = options.idempotency_window](const Periodic::Stopping& stopping) {
    auto expired = api::ExpireIdempotency(store, window, Clock::System().Now(), stopping);
    if (!expired.ok()) {
      log::Warn("idempotency.expire_failed", {{"code", static_cast<int>(expired.status().code())}});
    } else if (*expired > 0) {
      log::Info("idempotency.expired", {{"records", *expired}});
    }
  });
  if (settings.audit_head_seconds > 0) heads->Start(static_cast<Micros>(settings.audit_head_seconds) * 1000000);
  auto blind_key = KeyStoreSecret(*store, kBlindIndexSecret, search::IdentifierBlinder::kKeyBytes, "");
  if (!blind_key.ok()) return Because("cannot read the blind index key", blind_key.status());
  blinder = std::make_unique<search::IdentifierBlinder>(std::move(*blind_key));
  options.blinder = blinder.get();
  // A vault answers the federation's gateways (node tokens) beside its own users.
  security::Authorizer* request_authz = authz.get();
  if (fed.role == "vault") {
    if (options.region.empty()) options.region = fed.self->region;
    fed_authn = std::make_unique<federation::FederatedAuthenticator>(*authn, *fed.verifier, fed.config, *store,
                                                                     *fed.pseudonyms, fed.policy);
    fed_authz = std::make_unique<federation::FederatedAuthorizer>(*authz);
    request_authz = fed_authz.get();
    federation::RegistrarOptions ro;
    ro.region = fed.self->region;
    ro.mpi_url = fed.config.Mpi()->url;
    ro.mpi_node = fed.config.Mpi()->name;
    ro.call = fed.config.CallOptions(*fed.config.Mpi(), ro.call.timeout_ms);
    ro.mark_file = data + "/federation-mpi.mark";
    registrar = std::make_unique<federation::MpiRegistrar>(*store, *fed.pseudonyms, *fed.signer, Clock::System(), ro);
    registrar->Start();
  }
  // The audit log's heads go to the federation's witness, the MPI (federation/head_witness.h).
  if ((fed.role == "vault" || fed.role == "gateway") && settings.audit_head_seconds > 0) {
    federation::WitnessOptions wo;
    wo.node = fed.self->name;
    wo.mpi_url = fed.config.Mpi()->url;
    wo.mpi_node = fed.config.Mpi()->name;
    wo.call = fed.config.CallOptions(*fed.config.Mpi(), 5000);
    witness = std::make_unique<federation::HeadWitness>(*store, heads->public_key(), *fed.signer, Clock::System(), wo);
    witnessing = std::make_unique<Periodic>(std::chrono::seconds(settings.audit_head_seconds),
                                            [w = witness.get()](const Periodic::Stopping&) {
      Status st = w->RunOnce();
      if (st.code() == Code::kConflict) {
        log::Error("audit.witness_refused", {{"witnessed_size", static_cast<int64_t>(w->witnessed_size())},
                                             {"reason", st.message()}});
      } else if (!st.ok()) {
        log::Warn("audit.witness_unreachable", {{"error", st.message()}});
      }
    });
  }
  if (fed.role == "gateway") {
    if (options.region.empty()) options.region = fed.self->region;
    gateway = std::make_unique<federation::Gateway>(fed.config, *fed.pseudonyms, *fed.signer, Clock::System(),
                                                    fed.self->region);
  }
  service = std::make_unique<api::FhirService>(*store, RequestAuthenticator(), *request_authz, options);
  return Status::Ok();
}

net::Response ServeNode::Impl::Handle(net::Request& r) {
  if (mpi) return HandleMpi(r);
  if (gateway) return HandleGateway(r);
  return service->Handle(r);
}

net::Response ServeNode::Impl::HandleMpi(net::Request& r) {
  if (r.path == "/healthz") {
    net::Response ok;
    ok.body = "{\"status\":\"ok\"}";
    ok.route = "/healthz";
    return ok;
  }
  if (r.path.rfind("/mpi/", 0) == 0) return mpi->Handle(r);
  return JsonError(404, "not-found", "the MPI answers /mpi/ only", "/*");
}

// The gateway stores nothing clinical: its FHIR API is the federated operations; its own
// server answers only logins, discovery, health and its audit log (AuditEvent).
net::Response ServeNode::Impl::HandleGateway(net::Request& r) {
  if (federation::Gateway::Handles(r)) {
    if (r.on_io_thread) return net::Response::Defer();
    Result<security::Principal> who = authn->Authenticate(r);
    if (!who.ok()) {
      net::Response denied = JsonError(401, "login", "a bearer token is required", r.path);
      denied.SetHeader("WWW-Authenticate", "Bearer");
      return denied;
    }
    // An emergency (X-Break-Glass: the reason) is declared and recorded here, at the
    // clinician's own node, before the vaults are asked with purpose ETREAT.
    if (std::string_view reason = r.GetHeader("X-Break-Glass"); !reason.empty()) {
      Status declared = break_glass != nullptr ? break_glass->Declare(*who, reason).status()
                                               : Status::Invalid("break-glass needs the server's access control (--auth on)");
      if (!declared.ok()) {
        return JsonError(declared.code() == Code::kForbidden ? 403 : 400, "forbidden", declared.message(), r.path);
      }
      who->emergency = true;
    }
    federation::GatewayRecord record;
    net::Response answer = gateway->Handle(r, *who, record);
    // Recorded in the gateway's own audit log before the answer leaves (no identifier in clear).
    Status recorded = service->RecordOperation(r, *who, record.subtype, answer.status, record.query, record.entities);
    if (!recorded.ok() && answer.status < 400) {
      log::Error("audit.record_failed", {{"error", recorded.message()}});
      net::Response withheld = JsonError(503, "transient", "the audit log could not record this; retry later", answer.route);
      withheld.SetHeader("Retry-After", "5");
      return withheld;
    }
    return answer;
  }
  const bool own = r.path.rfind("/auth/", 0) == 0 || r.path == "/healthz" || r.path == "/readyz" ||
                   r.path == "/fhir/metadata" || r.path.rfind("/fhir/AuditEvent", 0) == 0 ||
                   r.path.rfind("/.well-known/", 0) == 0 || r.path.rfind("/fhir/", 0) != 0;
  if (own) return service->Handle(r);
  return JsonError(404, "not-found",
                   "a gateway holds no clinical data: use Patient/$locate, $federated-everything or "
                   "$federated-timeline, or the home vault",
                   "/fhir/*");
}

}  // namespace ehr::cli
