// A real ehr FHIR server for integration tests: SQLite in a fresh temporary directory (or
// PostgreSQL: EHR_TEST_STORE=postgres), HttpServer on a free loopback port, served from a
// background thread.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "api/service.h"
#include "audit/log.h"
#include "fhir/json/value.h"
#include "net/server.h"
#include "security/break_glass.h"
#include "security/identity.h"
#include "security/oidc.h"
#include "security/smart.h"
#include "security/pipeline.h"
#include "store/store.h"
#include "support/http_client.h"
#include "support/store_backends.h"

namespace ehr::testing {

// A fresh directory under $TMPDIR, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct TestServerOptions {
  int log_fd = -1;  // where access logs go; -1: discarded
  size_t max_body_bytes = 16 * 1024 * 1024;
  Clock* clock = nullptr;  // store and service clock; nullptr: the system clock
  // --auth on: accounts in the temporary directory, bearer tokens, the role policy.
  bool auth = false;
  bool clinicians_reach_all = false;  // RolePolicyOptions
  bool rate_limits = false;           // ServiceOptions' default limits (off: none)
  bool self_registration = false;     // POST /auth/register
  std::string oidc_config = {};       // external OpenID Connect issuers (security/oidc.h); empty: none
  bool audit = true;                  // ServiceOptions::audit
  // ServiceOptions' recording of unauthenticated requests (api/denial_tally.h).
  int unauthenticated_individually = 10;
  int64_t unauthenticated_window_ms = 60'000;
  int64_t unauthenticated_flush_ms = 10'000;
};

class TestServer {
 public:
  explicit TestServer(TestServerOptions options = {});
  ~TestServer();
  uint16_t port() const { return http_->port(); }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port()) + "/fhir"; }
  HttpClient Client() const { return HttpClient("127.0.0.1", port()); }
  api::FhirService& service() { return *service_; }
  store::Store& store() { return *store_; }
  // With auth: the accounts and tokens (nullptr without).
  security::Identity* identity() { return identity_.get(); }
  security::Smart* smart() { return smart_.get(); }
  // Signs the audit log's tree heads (with a fixed test key).
  audit::TreeHeadPublisher& audit_heads() { return *heads_; }
  const std::string& dir() const { return dir_.path(); }

 private:
  TempDir dir_;
  std::unique_ptr<StoreBackend> backend_;  // PostgreSQL: the database, dropped after the store
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::AccountStore> accounts_;
  std::unique_ptr<security::Identity> identity_;
  std::unique_ptr<security::Smart> smart_;
  std::unique_ptr<security::BreakGlass> break_glass_;
  std::unique_ptr<security::RateLimiter> limiter_;
  std::unique_ptr<security::ExternalIssuers> external_;
  std::unique_ptr<security::Authenticator> authn_;
  std::unique_ptr<security::Authorizer> authz_;
  std::unique_ptr<audit::TreeHeadPublisher> heads_;
  std::unique_ptr<api::FhirService> service_;
  std::unique_ptr<net::HttpServer> http_;
  std::thread thread_;
};

using Headers = std::vector<std::pair<std::string, std::string>>;
inline const Headers kFhirJson = {{"Content-Type", "application/fhir+json"}};

// Parses a response body; a test failure (and null) when it is not JSON.
json::Value ParseBody(const std::string& text);

// Reads a whole file; throws on failure.
std::string ReadFile(const std::string& path);
// $EHR_SHARED_DATA (the shared test data directory).
std::string SharedData();

}  // namespace ehr::testing
