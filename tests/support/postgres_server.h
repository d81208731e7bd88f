// A real PostgreSQL server for a test, never assumed running (issue 8): a throwaway cluster
// made with `initdb` in a temporary directory, started with `postgres` on a free port below
// the ephemeral range (loopback and a socket in the directory), and stopped and removed at
// the end. As root, the server runs as the `postgres` user (PostgreSQL refuses root).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

namespace ehr::testing {

class PostgresServer {
 public:
  // `durable`: fsync on, as in production (benchmarks); off by default (tests: a crash of
  // the process loses nothing either way, only a crash of the machine would).
  explicit PostgresServer(bool durable = false);  // throws std::runtime_error when it cannot be had
  // A streaming replica of `primary` (hot standby: it serves reads), made with pg_basebackup.
  static std::unique_ptr<PostgresServer> ReplicaOf(const PostgresServer& primary);
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  uint16_t port() const { return port_; }
  // Stops the server at once, as a crash would (no checkpoint; the next start recovers
  // from the write-ahead log), and starts it again on the same port and data.
  void Crash();
  void Restart();
  // A libpq connection string for `user` (the superuser is "postgres") and `database`.
  std::string ConnectionString(const std::string& user = "postgres", const std::string& database = "postgres",
                               const std::string& password = "") const;
  // An empty database `name` for a server to run on as the application role `ehr_app`
  // (password "app-secret-1"; made once per server: neither a superuser nor bypassing
  // row-level security); throws std::runtime_error when it cannot. AppUrl: that role's URL
  // of the database, for `--store`.
  void CreateAppDatabase(const std::string& name) const;
  std::string AppUrl(const std::string& name) const;

 private:
  PostgresServer(const PostgresServer* primary, bool durable);
  bool Launch();  // starts postgres on port_; false when it did not come up
  std::string dir_;
  uint16_t port_ = 0;
  bool durable_ = false;
  pid_t pid_ = -1;
};

}  // namespace ehr::testing
