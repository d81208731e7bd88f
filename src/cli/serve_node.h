// One node of `ehr serve`: a vault (stand-alone, or federated), a gateway or the Master
// Patient Index, with its own data directory, key store, database, audit log, accounts and
// HTTP server. `ehr serve --role R` runs one node; without a role, a whole federation of
// them runs in one process (cli/all_in_one.h).
#pragma once

#include <cstdint>
#include <signal.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/store_choice.h"
#include "cli/federation_setup.h"
#include "core/status.h"
#include "net/server.h"
#include "store/store.h"

namespace ehr::cli {

// The flags every node of one `ehr serve` shares (README "Configuration").
struct ServeSettings {
  bool auth = true;
  int token_ttl_seconds = 900;
  int break_glass_minutes = 60;
  double rate_limits[4] = {50, 1000, 2000, 5};  // per user, service, tenant, address (0: off)
  bool clinicians_reach_all = false;
  bool audit = true;
  int audit_head_seconds = 60;
  int audit_retention_days = 0;
  int reencrypt_seconds = 10;
  int workers = 64;
  int io_threads = 0;
  int readers = 16;
  int max_body_mb = 64;
  bool durable = true;
  bool access_log = true;
  bool self_registration = false;
  std::string base_url;
  std::string region;
  std::string oidc_file;
  StoreChoice store;  // where the clinical data lives (cli/store_choice.h)
};

// kInvalid naming the flag at fault. Warns on stderr when authentication or the audit log
// is off.
Result<ServeSettings> ParseServeSettings(const Args& args);

// The flags `ehr serve` knows.
std::set<std::string> ServeFlags();

class ServeNode;
// Runs the nodes, each on its own thread, until SIGTERM or SIGINT (blocked in `signals`
// by the caller before any thread started); then stops them all. The exit code. SIGHUP
// (when in `signals`) makes every node load its TLS files again.
int ServeUntilSignalled(const std::vector<ServeNode*>& nodes, const sigset_t& signals);

class ServeNode {
 public:
  // The key store (the key store flags of `args`) and database of `data`, made when new.
  static Result<std::unique_ptr<ServeNode>> Open(const Args& args, const ServeSettings& settings, std::string data);
  ~ServeNode();
  ServeNode(const ServeNode&) = delete;
  ServeNode& operator=(const ServeNode&) = delete;

  store::Store& store();
  // Binds host:port (0: any free port) before the node is prepared, so that a federation in
  // one process learns every node's address first; requests wait until Run.
  Status Listen(const std::string& host, uint16_t port, const net::TlsOptions& tls);
  uint16_t port() const;
  // "http(s)://host:port".
  std::string Origin() const;
  // Builds the node's services for its place in the federation (`fed.role` empty: a
  // stand-alone vault). `label` names it in messages ("vault-uk"; empty for a lone node).
  Status Prepare(FederationNode fed, const std::string& label);
  // Its start-up line: "FHIR R4 vault at http://127.0.0.1:8081/fhir (data D, region uk)".
  std::string Banner() const;
  // Serves until Stop (call from its own thread when several nodes run).
  void Run();
  void Stop();
  // HttpServer::ReloadTls (the node also does it by itself when the files change).
  Status ReloadTls();

 private:
  struct Impl;
  explicit ServeNode(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ehr::cli
