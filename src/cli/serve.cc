// ehr serve: the FHIR server.
#include <signal.h>

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
#include "core/secrets.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "core/log.h"
#include "fhir/json/value.h"
#include "net/server.h"
#include "cli/identity_setup.h"
#include "cli/key_store.h"
#include "cli/federation_setup.h"
#include "federation/gateway.h"
#include "federation/registrar.h"
#include "federation/vault_access.h"
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

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "ehr serve: %s\n", message.c_str());
  return 2;
}

// An OperationOutcome of one error issue (json::Write escapes the text: a status message
// may hold quotes).
net::Response JsonError(int status, const std::string& code, const std::string& text) {
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
  return r;
}

// The gateway stores nothing clinical: its FHIR API is the federated operations; its own
// server answers only logins, discovery, health and its audit log (AuditEvent).
net::Response GatewayHandle(federation::Gateway& gateway, security::Authenticator& authn, api::FhirService& service,
                            security::BreakGlass* break_glass, net::Request& r) {
  if (federation::Gateway::Handles(r)) {
    if (r.on_io_thread) return net::Response::Defer();
    Result<security::Principal> who = authn.Authenticate(r);
    if (!who.ok()) {
      net::Response denied = JsonError(401, "login", "a bearer token is required");
      denied.SetHeader("WWW-Authenticate", "Bearer");
      denied.route = r.path;
      return denied;
    }
    // An emergency (X-Break-Glass: the reason) is declared and recorded here, at the
    // clinician's own node, before the vaults are asked with purpose ETREAT.
    if (std::string_view reason = r.GetHeader("X-Break-Glass"); !reason.empty()) {
      Status declared = break_glass != nullptr ? break_glass->Declare(*who, reason).status()
                                               : Status::Invalid("break-glass needs the server's access control (--auth on)");
      if (!declared.ok()) {
        net::Response refused = JsonError(declared.code() == Code::kForbidden ? 403 : 400, "forbidden", declared.message());
        refused.route = r.path;
        return refused;
      }
      who->emergency = true;
    }
    federation::GatewayRecord record;
    net::Response answer = gateway.Handle(r, *who, record);
    // Recorded in the gateway's own audit log before the answer leaves (no identifier in clear).
    Status recorded = service.RecordOperation(r, *who, record.subtype, answer.status, record.query, record.entities);
    if (!recorded.ok() && answer.status < 400) {
      log::Error("audit.record_failed", {{"error", recorded.message()}});
      net::Response withheld = JsonError(503, "transient", "the audit log could not record this; retry later");
      withheld.SetHeader("Retry-After", "5");
      withheld.route = answer.route;
      return withheld;
    }
    return answer;
  }
  const bool own = r.path.rfind("/auth/", 0) == 0 || r.path == "/healthz" || r.path == "/readyz" ||
                   r.path == "/fhir/metadata" || r.path.rfind("/fhir/AuditEvent", 0) == 0 ||
                   r.path.rfind("/.well-known/", 0) == 0 || r.path.rfind("/fhir/", 0) != 0;
  if (own) return service.Handle(r);
  net::Response none = JsonError(404, "not-found",
                                 "a gateway holds no clinical data: use Patient/$locate, $federated-everything or "
                                 "$federated-timeline, or the home vault");
  none.route = "/fhir/*";
  return none;
}

// Serves until SIGTERM or SIGINT (blocked in `signals` by the caller).
int RunUntilSignalled(net::HttpServer& server, const sigset_t& signals) {
  std::thread signal_thread([&server, signals] {
    int sig = 0;
    sigset_t set = signals;
    sigwait(&set, &sig);
    log::Info("shutdown_requested", {{"signal", sig}});
    server.Stop();
  });
  log::Info("server_started", {{"port", static_cast<int>(server.port())}});
  server.Run();
  pthread_kill(signal_thread.native_handle(), SIGTERM);
  signal_thread.join();
  log::Info("server_stopped");
  log::Flush();
  return 0;
}

// `--role mpi`: the Master Patient Index alone (mpi/mpi_service.h) over DATA/mpi.db.
int ServeMpi(const FederationNode& fed, const std::string& data, const std::string& host, uint16_t port,
             const net::TlsOptions& tls, const sigset_t& signals) {
  auto index = mpi::OpenIndexStore(data + "/mpi.db", Clock::System());
  if (!index.ok()) return Fail("cannot open the MPI database: " + index.status().message());
  std::map<std::string, mpi::MpiService::NodeRole, std::less<>> roles;
  for (const federation::Node& n : fed.config.nodes) roles[n.name] = {n.role, n.region};
  mpi::MpiService service(**index, *fed.verifier, std::move(roles));
  net::ServerOptions so;
  so.host = host;
  so.port = port;
  so.tls = tls;
  net::HttpServer server(so, [&service](net::Request& r) {
    if (r.path == "/healthz") {
      net::Response ok;
      ok.body = "{\"status\":\"ok\"}";
      ok.route = "/healthz";
      return ok;
    }
    if (r.path.rfind("/mpi/", 0) == 0) return service.Handle(r);
    net::Response none = JsonError(404, "not-found", "the MPI answers /mpi/ only");
    none.route = "/*";
    return none;
  });
  if (Status st = server.Start(); !st.ok()) return Fail(st.message());
  std::fprintf(stderr, "ehr serve: Master Patient Index at %s://%s:%d/mpi (node %s)\n", tls.enabled() ? "https" : "http",
               host.c_str(), server.port(), fed.self->name.c_str());
  std::fflush(stderr);
  return RunUntilSignalled(server, signals);
}

}  // namespace

int Serve(int argc, char** argv) {
  auto args = ParseArgs(argc, argv, 2,
                        WithKeyStoreFlags({"data", "listen", "auth", "region", "base-url", "workers", "io-threads", "durable",
                         "access-log", "max-body-mb", "readers", "token-ttl-seconds", "clinician-reach",
                         "break-glass-minutes", "rate-limit-user", "rate-limit-service", "rate-limit-tenant",
                         "rate-limit-address", "self-registration", "oidc", "tls-cert", "tls-key", "tls-client-ca", "audit",
                         "audit-head-seconds", "audit-retention-days", "reencrypt-seconds", "role", "federation", "node",
                         "federation-pepper-file", "federation-allow", "federation-emergency"}));
  if (!args.ok()) return Fail(args.status().message());
  std::string data = args->Get("data", "data");
  std::string listen = args->Get("listen", "127.0.0.1:8080");
  std::string auth = args->Get("auth", "on");
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return Fail("--listen must be HOST:PORT");
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  auto port = ParseInt("listen", listen.substr(colon + 1), 0, 65535);
  if (!port.ok()) return Fail(port.status().message());
  if (auth != "on" && auth != "off") return Fail("--auth must be on or off");
  if (auth == "off") {
    if (!IsLoopback(host)) return Fail("--auth off refuses to listen on a non-loopback address (" + host + ")");
    std::fprintf(stderr, "ehr serve: WARNING: authentication is OFF (development only); anyone on this machine "
                         "can read and write all data\n");
  }
  auto token_ttl = ParseInt("token-ttl-seconds", args->Get("token-ttl-seconds", "900"), 60, 3600);
  auto break_glass_minutes = ParseInt("break-glass-minutes", args->Get("break-glass-minutes", "60"), 1, 24 * 60);
  if (!break_glass_minutes.ok()) return Fail(break_glass_minutes.status().message());
  // Rate limits, requests per second (bursts of twice as many); 0 turns one off.
  security::RateLimit limits[4];
  const char* limit_flags[4][2] = {{"rate-limit-user", "50"}, {"rate-limit-service", "1000"},
                                   {"rate-limit-tenant", "2000"}, {"rate-limit-address", "5"}};
  for (int i = 0; i < 4; ++i) {
    auto rate = ParseInt(limit_flags[i][0], args->Get(limit_flags[i][0], limit_flags[i][1]), 0, 10000000);
    if (!rate.ok()) return Fail(rate.status().message());
    limits[i] = security::RateLimit{static_cast<double>(*rate), 0};
  }
  const std::string clinician_reach = args->Get("clinician-reach", "assigned");
  if (clinician_reach != "assigned" && clinician_reach != "all") return Fail("--clinician-reach must be assigned or all");
  if (!token_ttl.ok()) return Fail(token_ttl.status().message());
  net::TlsOptions tls{args->Get("tls-cert"), args->Get("tls-key"), args->Get("tls-client-ca")};
  if (tls.cert_file.empty() != tls.key_file.empty()) return Fail("--tls-cert and --tls-key go together");
  if (!tls.client_ca_file.empty() && !tls.enabled()) return Fail("--tls-client-ca needs --tls-cert and --tls-key");

  const std::string audit = args->Get("audit", "on");
  if (audit != "on" && audit != "off") return Fail("--audit must be on or off");
  auto head_seconds = ParseInt("audit-head-seconds", args->Get("audit-head-seconds", "60"), 0, 24 * 3600);
  if (!head_seconds.ok()) return Fail(head_seconds.status().message());
  auto retention_days = ParseInt("audit-retention-days",
                                 args->Get("audit-retention-days", std::to_string(audit::kDefaultRetentionDays)), 1,
                                 100 * 366);
  if (!retention_days.ok()) return Fail(retention_days.status().message());
  if (audit == "off") {
    std::fprintf(stderr, "ehr serve: WARNING: the audit log is OFF (for measuring its cost only); accesses to "
                         "health data are not recorded\n");
  }

  auto workers = ParseInt("workers", args->Get("workers", "64"), 1, 1024);
  auto io_threads = ParseInt("io-threads", args->Get("io-threads", "0"), 0, 256);
  auto readers = ParseInt("readers", args->Get("readers", "16"), 1, 256);
  auto max_body = ParseInt("max-body-mb", args->Get("max-body-mb", "64"), 1, 4096);
  for (auto* r : {&workers, &io_threads, &readers, &max_body}) {
    if (!r->ok()) return Fail(r->status().message());
  }

  std::error_code ec;
  std::filesystem::create_directories(data, ec);
  if (ec) return Fail("cannot create data directory " + data + ": " + ec.message());

  // Signals are handled by one thread with sigwait, so block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto reencrypt_seconds = ParseInt("reencrypt-seconds", args->Get("reencrypt-seconds", "10"), 1, 24 * 3600);
  if (!reencrypt_seconds.ok()) return Fail(reencrypt_seconds.status().message());
  auto keys = OpenKeyStore(*args, data);
  if (!keys.ok()) return Fail("cannot open the key store: " + keys.status().message());
  store::SqliteOptions so;
  so.path = data + "/ehr.db";
  so.readers = *readers;
  so.durable = args->Get("durable", "on") != "off";
  keys->Configure(so);
  auto store = store::OpenSqliteStore(so);
  if (!store.ok()) return Fail("cannot open the database: " + store.status().message());
  log::Info("keys.opened", {{"key_store", keys->description}, {"encrypt_bodies", keys->encrypt_bodies ? "on" : "off"}});
  // Bodies move onto their tenant's newest data key in the background (after a rotation,
  // or once encryption is turned on for a database that was written without it).
  ReencryptJob reencrypt(**store, std::chrono::seconds(*reencrypt_seconds));
  auto fed = OpenFederation(*args, **store);
  if (!fed.ok()) return Fail(fed.status().message());
  if (fed->role == "mpi") return ServeMpi(*fed, data, host, static_cast<uint16_t>(*port), tls, signals);

  api::ServiceOptions options;
  options.base_url = args->Get("base-url");
  IdentityHandle identity;
  std::unique_ptr<security::Authenticator> authn;
  std::unique_ptr<security::Authorizer> authz;
  std::unique_ptr<security::BreakGlass> break_glass;
  std::unique_ptr<security::RateLimiter> limiter;
  std::unique_ptr<security::ExternalIssuers> external;
  if (auth == "on") {
    auto opened = OpenIdentity(data, options.base_url, *token_ttl, keys->kek.get());
    if (!opened.ok()) return Fail("cannot open the account database: " + opened.status().message());
    identity = std::move(*opened);
    const char* env_password = std::getenv("EHR_ADMIN_PASSWORD");
    auto bootstrap = identity.identity->Bootstrap(env_password ? env_password : "");
    if (!bootstrap.ok()) return Fail("cannot create the first administrator: " + bootstrap.status().message());
    if (bootstrap->has_value() && env_password == nullptr) {
      std::fprintf(stderr, "ehr serve: created the administrator 'admin' with the password %s (shown once; "
                           "log in and enrol a one-time password device)\n", (*bootstrap)->c_str());
    }
    options.identity = identity.identity.get();
    options.smart = identity.smart.get();
    const std::string oidc_file = args->Get("oidc");
    if (!oidc_file.empty()) {
      std::ifstream in(oidc_file, std::ios::binary);
      if (!in) return Fail("cannot read --oidc " + oidc_file);
      std::ostringstream text;
      text << in.rdbuf();
      auto issuers = security::ParseOidcConfig(text.str());
      if (!issuers.ok()) return Fail(issuers.status().message());
      external = std::make_unique<security::ExternalIssuers>(std::move(*issuers), Clock::System());
    }
    authn = std::make_unique<security::BearerAuthenticator>(*identity.identity, external.get());
    authz = std::make_unique<security::RolePolicy>(
        security::RolePolicyOptions{.clinicians_reach_all = clinician_reach == "all"});
    break_glass = std::make_unique<security::BreakGlass>(*identity.accounts, Clock::System(),
                                                         static_cast<Micros>(*break_glass_minutes) * 60 * 1000000);
    options.break_glass = break_glass.get();
    options.self_registration = args->Get("self-registration", "off") == "on";
    limiter = std::make_unique<security::RateLimiter>(Clock::System());
    options.limiter = limiter.get();
    options.user_limit = limits[0];
    options.service_limit = limits[1];
    options.tenant_limit = limits[2];
    options.address_limit = limits[3];
  } else {
    authn = std::make_unique<security::NoAuthentication>("default");
    authz = std::make_unique<security::AllowAll>();
  }
  auto cursor_key = KeyStoreSecret(**store, "cursor", api::CursorSeal::kKeyBytes, data + "/cursor.key");
  if (!cursor_key.ok()) return Fail(cursor_key.status().message());
  options.cursor_key = std::move(*cursor_key);
  options.region = args->Get("region");
  // The audit log's tree heads, signed with a key kept beside the data until the key
  // management work moves it into the key store (README: not done yet).
  auto audit_seed = KeyStoreSecret(**store, kAuditSigningSecret, 32, data + "/audit-signing.key");
  if (!audit_seed.ok()) return Fail("cannot read the audit signing key: " + audit_seed.status().message());
  auto audit_signer = audit::TreeSigner::FromSeed(*audit_seed);
  if (!audit_signer.ok()) return Fail(audit_signer.status().message());
  // Entries older than the retention move to signed segment files, at start and daily.
  audit::ArchiveOptions archive_options;
  archive_options.retention = static_cast<Micros>(*retention_days) * 86'400'000'000LL;
  audit::Archiver archiver(**store, data + "/audit-archive", *audit_signer, Clock::System(), archive_options);
  archiver.Start(86'400'000'000LL);
  audit::TreeHeadPublisher heads(**store, std::move(*audit_signer), Clock::System());
  options.audit = audit == "on";
  options.audit_heads = &heads;
  if (*head_seconds > 0) heads.Start(static_cast<Micros>(*head_seconds) * 1000000);
  auto blind_key = KeyStoreSecret(**store, kBlindIndexSecret, search::IdentifierBlinder::kKeyBytes, "");
  if (!blind_key.ok()) return Fail("cannot read the blind index key: " + blind_key.status().message());
  search::IdentifierBlinder blinder(std::move(*blind_key));
  options.blinder = &blinder;
  // A vault answers the federation's gateways (node tokens) beside its own users.
  std::unique_ptr<federation::FederatedAuthenticator> fed_authn;
  std::unique_ptr<federation::FederatedAuthorizer> fed_authz;
  std::unique_ptr<federation::MpiRegistrar> registrar;
  if (fed->role == "vault") {
    if (options.region.empty()) options.region = fed->self->region;
    fed_authn = std::make_unique<federation::FederatedAuthenticator>(*authn, *fed->verifier, fed->config,
                                                                     fed->allowed_regions, "default",
                                                                     fed->allow_emergency);
    fed_authz = std::make_unique<federation::FederatedAuthorizer>(*authz);
    federation::RegistrarOptions ro;
    ro.region = fed->self->region;
    ro.mpi_url = fed->config.Mpi()->url;
    ro.mpi_node = fed->config.Mpi()->name;
    ro.mark_file = data + "/federation-mpi.mark";
    registrar = std::make_unique<federation::MpiRegistrar>(**store, *fed->pseudonyms, *fed->signer, Clock::System(), ro);
    registrar->Start();
  }
  std::unique_ptr<federation::Gateway> gateway;
  if (fed->role == "gateway") {
    if (options.region.empty()) options.region = fed->self->region;
    gateway = std::make_unique<federation::Gateway>(fed->config, *fed->pseudonyms, *fed->signer, Clock::System(),
                                                    fed->self->region);
  }
  security::Authenticator& request_authn = fed_authn ? static_cast<security::Authenticator&>(*fed_authn) : *authn;
  security::Authorizer& request_authz = fed_authz ? static_cast<security::Authorizer&>(*fed_authz) : *authz;
  api::FhirService service(**store, request_authn, request_authz, options);

  net::ServerOptions so_net;
  so_net.host = host;
  so_net.port = static_cast<uint16_t>(*port);
  so_net.worker_threads = *workers;
  so_net.io_threads = *io_threads;
  so_net.max_body_bytes = static_cast<size_t>(*max_body) * 1024 * 1024;
  so_net.access_log = args->Get("access-log", "on") != "off";
  so_net.run_inline = &api::FhirService::RunsOnIoThread;
  so_net.tls = tls;
  net::HttpServer server(so_net, [&](net::Request& r) {
    if (gateway) return GatewayHandle(*gateway, request_authn, service, break_glass.get(), r);
    return service.Handle(r);
  });
  if (Status st = server.Start(); !st.ok()) return Fail(st.message());

  std::string url = (tls.enabled() ? "https://" : "http://") +
                    (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
                    std::to_string(server.port()) + "/fhir";
  std::fprintf(stderr, "ehr serve: FHIR R4 %s at %s (data %s%s)\n",
               fed->role.empty() ? "server" : fed->role.c_str(), url.c_str(), data.c_str(),
               options.region.empty() ? "" : (", region " + options.region).c_str());
  std::fflush(stderr);
  const int code = RunUntilSignalled(server, signals);
  if (registrar) registrar->Stop();
  return code;
}

}  // namespace ehr::cli
