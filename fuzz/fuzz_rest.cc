// Whole requests through the FHIR API (routing, query parsing, conditional headers,
// Bundles, patches) against a real SQLite store in a temporary directory. Nothing may crash
// and nothing may answer 5xx: bad input is always the client's 4xx.
//
// Input format: first line "METHOD TARGET", then "Name: value" header lines, an empty line,
// and the body.
#include <openssl/crypto.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "api/service.h"
#include "core/log.h"
#include "security/pipeline.h"
#include "store/sqlite/sqlite_store.h"

namespace {

struct Fixture {
  Fixture() {
    char dir[] = "/tmp/ehr-fuzz-rest-XXXXXX";
    if (!mkdtemp(dir)) std::abort();
    path = dir;
    ehr::log::SetMinLevel(ehr::log::Level::kError);
    ehr::store::SqliteOptions so;
    so.path = path + "/ehr.db";
    so.durable = false;
    auto s = ehr::store::OpenSqliteStore(so);
    if (!s.ok()) std::abort();
    store = std::move(*s);
    service = std::make_unique<ehr::api::FhirService>(*store, authn, authz, ehr::api::ServiceOptions{});
  }
  ~Fixture() {
    service.reset();
    store.reset();
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string path;
  std::unique_ptr<ehr::store::Store> store;
  ehr::security::NoAuthentication authn{"default"};
  ehr::security::AllowAll authz;
  std::unique_ptr<ehr::api::FhirService> service;
};

Fixture& Shared() {
  // OpenSSL registers its exit handler on first use; doing that before the fixture's own
  // makes OpenSSL clean up after the store's writer thread has been joined (otherwise
  // LeakSanitizer reports that thread's OpenSSL state at exit).
  static const bool openssl_ready = OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, nullptr) == 1;
  (void)openssl_ready;
  static Fixture f;
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  ehr::net::Request req;
  size_t eol = in.find('\n');
  std::string_view first = in.substr(0, eol);
  size_t space = first.find(' ');
  if (space == std::string_view::npos) return 0;
  req.method = std::string(first.substr(0, space));
  req.target = std::string(first.substr(space + 1));
  size_t q = req.target.find('?');
  req.path = req.target.substr(0, q);
  if (q != std::string::npos) req.query = req.target.substr(q + 1);
  size_t pos = eol == std::string_view::npos ? in.size() : eol + 1;
  while (pos < in.size()) {
    size_t end = in.find('\n', pos);
    if (end == std::string_view::npos) end = in.size();
    std::string_view line = in.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty()) break;
    size_t colon = line.find(": ");
    if (colon != std::string_view::npos) {
      req.headers.push_back({std::string(line.substr(0, colon)), std::string(line.substr(colon + 2))});
    }
  }
  if (pos < in.size()) req.body = std::string(in.substr(pos));
  req.request_id = "fuzz";
  ehr::net::Response r = Shared().service->Handle(req);
  if (r.status >= 500) {
    std::fprintf(stderr, "fuzz_rest: %d for %s %s: %s\n", r.status, req.method.c_str(), req.target.c_str(),
                 r.body.substr(0, 500).c_str());
    std::abort();
  }
  return 0;
}
