#include "support/test_server.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "core/log.h"
#include "security/role_policy.h"
#include "store/sqlite/sqlite_store.h"

namespace ehr::testing {

TempDir::TempDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/ehr-test-XXXXXX";
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

TestServer::TestServer(TestServerOptions options) {
  static int devnull = open("/dev/null", O_WRONLY);
  log::SetOutputFd(options.log_fd >= 0 ? options.log_fd : devnull);
  // The backend: SQLite in the temporary directory, or a database of its own on a
  // PostgreSQL server the test binary starts, when EHR_TEST_STORE=postgres (ctest runs the
  // REST tests both ways: tests/api/CMakeLists.txt).
  const char* backend = std::getenv("EHR_TEST_STORE");
  if (backend != nullptr && std::string(backend) == "postgres") {
    backend_ = MakeStoreBackend("postgres");
    store_ = backend_->Open(options.clock, 8);
    if (!store_) throw std::runtime_error("cannot open the PostgreSQL store");
  } else {
    store::SqliteOptions so;
    so.path = dir_.path() + "/ehr.db";
    so.clock = options.clock;
    auto store = store::OpenSqliteStore(so);
    if (!store.ok()) throw std::runtime_error("cannot open store: " + store.status().message());
    store_ = std::move(*store);
  }
  api::ServiceOptions service_options;
  service_options.clock = options.clock;
  if (options.auth) {
    accounts_ = std::move(*store::OpenSqliteAccountStore(dir_.path() + "/accounts.db"));
    security::IdentityOptions io;
    io.clock = options.clock;
    io.password_cost = security::PasswordCost{1, 8 * 1024 * 1024};
    auto identity = security::Identity::Open(*accounts_, io);
    if (!identity.ok()) throw std::runtime_error("cannot open identity: " + identity.status().message());
    identity_ = std::move(*identity);
    service_options.identity = identity_.get();
    smart_ = std::make_unique<security::Smart>(*accounts_, *identity_, options.clock);
    service_options.smart = smart_.get();
    if (!options.oidc_config.empty()) {
      auto issuers = security::ParseOidcConfig(options.oidc_config);
      if (!issuers.ok()) throw std::runtime_error("oidc_config: " + issuers.status().message());
      external_ = std::make_unique<security::ExternalIssuers>(std::move(*issuers),
                                                              options.clock ? *options.clock : Clock::System());
    }
    authn_ = std::make_unique<security::BearerAuthenticator>(*identity_, external_.get());
    authz_ = std::make_unique<security::RolePolicy>(
        security::RolePolicyOptions{.clinicians_reach_all = options.clinicians_reach_all});
    break_glass_ = std::make_unique<security::BreakGlass>(*accounts_, options.clock ? *options.clock : Clock::System());
    service_options.break_glass = break_glass_.get();
    service_options.self_registration = options.self_registration;
    if (options.rate_limits) {
      limiter_ = std::make_unique<security::RateLimiter>(options.clock ? *options.clock : Clock::System());
      service_options.limiter = limiter_.get();
    }
  } else {
    authn_ = std::make_unique<security::NoAuthentication>("default");
    authz_ = std::make_unique<security::AllowAll>();
  }
  auto signer = audit::TreeSigner::FromSeed(std::string(32, 'a'));
  if (!signer.ok()) throw std::runtime_error("audit signer: " + signer.status().message());
  heads_ = std::make_unique<audit::TreeHeadPublisher>(*store_, std::move(*signer),
                                                      options.clock ? *options.clock : Clock::System());
  service_options.audit_heads = heads_.get();
  service_options.audit = options.audit;
  service_options.unauthenticated_individually = options.unauthenticated_individually;
  service_options.unauthenticated_window = options.unauthenticated_window_ms * 1000;
  service_options.unauthenticated_flush = options.unauthenticated_flush_ms * 1000;
  service_ = std::make_unique<api::FhirService>(*store_, *authn_, *authz_, service_options);
  net::ServerOptions no;
  no.port = 0;
  no.io_threads = 2;
  no.worker_threads = 16;
  no.max_body_bytes = options.max_body_bytes;
  no.run_inline = &api::FhirService::RunsOnIoThread;
  http_ = std::make_unique<net::HttpServer>(no, [this](net::Request& r) { return service_->Handle(r); });
  Status st = http_->Start();
  if (!st.ok()) throw std::runtime_error("cannot start server: " + st.message());
  thread_ = std::thread([this] { http_->Run(); });
}

TestServer::~TestServer() {
  http_->Stop();
  thread_.join();
  http_.reset();
  service_.reset();
  heads_.reset();
  smart_.reset();
  break_glass_.reset();
  identity_.reset();
  accounts_.reset();
  store_.reset();
}

json::Value ParseBody(const std::string& text) {
  auto v = json::Parse(text);
  EXPECT_TRUE(v.ok()) << text;
  return v.ok() ? std::move(*v) : json::Value();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string SharedData() {
  const char* d = std::getenv("EHR_SHARED_DATA");
  return d ? d : "../shared/data";
}

}  // namespace ehr::testing
