#include "support/postgres_server.h"

#include "support/free_port.h"

#include <glob.h>
#include <grp.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <thread>
#include <vector>

namespace ehr::testing {
namespace {

// The newest installed server's bin directory (/usr/lib/postgresql/15/bin).
std::string BinDir() {
  glob_t g{};
  std::string found;
  if (::glob("/usr/lib/postgresql/*/bin/postgres", 0, nullptr, &g) == 0 && g.gl_pathc > 0) {
    found = std::filesystem::path(g.gl_pathv[g.gl_pathc - 1]).parent_path().string();
  }
  ::globfree(&g);
  if (found.empty()) throw std::runtime_error("PostgreSQL is not installed (scripts/install-deps.sh installs it)");
  return found;
}

// Runs `argv` as the postgres user when we are root; its pid. The process gets SIGQUIT
// (PostgreSQL's immediate shutdown) when the thread that spawned it ends: a test binary
// that is killed or crashes leaves no server running behind it.
pid_t Spawn(const std::vector<std::string>& argv, const std::string& log) {
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  if (::getuid() == 0) {
    const passwd* pw = ::getpwnam("postgres");
    if (pw == nullptr || ::initgroups("postgres", pw->pw_gid) != 0 || ::setgid(pw->pw_gid) != 0 || ::setuid(pw->pw_uid) != 0) {
      ::_exit(126);
    }
  }
  // After the change of user, which clears the setting; and the parent may be gone already.
  if (::prctl(PR_SET_PDEATHSIG, SIGQUIT) != 0 || ::getppid() != parent) ::_exit(125);
  if (!log.empty()) {
    FILE* out = std::freopen(log.c_str(), "a", stderr);
    if (out != nullptr) ::dup2(::fileno(stderr), 1);
  }
  std::vector<char*> raw;
  for (const std::string& a : argv) raw.push_back(const_cast<char*>(a.c_str()));
  raw.push_back(nullptr);
  ::execv(raw[0], raw.data());
  ::_exit(127);
}

}  // namespace

PostgresServer::PostgresServer(bool durable) : PostgresServer(nullptr, durable) {}

PostgresServer::PostgresServer(const PostgresServer* primary, bool durable) : durable_(durable) {
  const std::string bin = BinDir();
  char templ[] = "/tmp/ehr-pg-XXXXXX";
  if (::mkdtemp(templ) == nullptr) throw std::runtime_error("mkdtemp");
  dir_ = templ;
  if (::getuid() == 0) {
    const passwd* pw = ::getpwnam("postgres");
    if (pw == nullptr || ::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) throw std::runtime_error("no postgres user");
  }
  const std::string data = dir_ + "/data", log = dir_ + "/server.log";
  int status = 0;
  // A new cluster: the superuser over the socket in the directory (trust: only this user
  // can reach it); every connection over TCP gives a password. A replica: a base backup of
  // the primary over its socket, set up to follow it (-R: standby.signal, primary_conninfo).
  const pid_t init =
      primary == nullptr
          ? Spawn({bin + "/initdb", "-D", data, "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256",
                   "-E", "UTF8", "--locale=C", "--no-sync"},
                  log)
          : Spawn({bin + "/pg_basebackup", "-D", data, "-R", "-X", "stream", "-h", primary->dir_, "-p",
                   std::to_string(primary->port_), "-U", "postgres", "--no-sync", "--checkpoint=fast"},
                  log);
  ::waitpid(init, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error(std::string(primary == nullptr ? "initdb" : "pg_basebackup") + " failed: see " + log);
  }
  for (int attempt = 0; attempt < 5 && pid_ < 0; ++attempt) {
    port_ = FreePort();
    if (Launch()) return;
  }
  throw std::runtime_error("PostgreSQL did not start: see " + log);
}

std::unique_ptr<PostgresServer> PostgresServer::ReplicaOf(const PostgresServer& primary) {
  return std::unique_ptr<PostgresServer>(new PostgresServer(&primary, false));
}

bool PostgresServer::Launch() {
  const std::string data = dir_ + "/data", log = dir_ + "/server.log";
  pid_ = Spawn({BinDir() + "/postgres", "-D", data, "-p", std::to_string(port_), "-k", dir_, "-c",
                "listen_addresses=127.0.0.1", "-c", durable_ ? "fsync=on" : "fsync=off", "-c", "max_connections=50"},
               log);
  const std::string conninfo = "host=" + dir_ + " port=" + std::to_string(port_) + " user=postgres dbname=postgres";
  int status = 0;
  for (int i = 0; i < 300; ++i) {
    if (::PQping(conninfo.c_str()) == PQPING_OK) return true;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) break;  // e.g. the port was taken meanwhile
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return false;
}

void PostgresServer::Crash() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGQUIT);  // what `pg_ctl stop -m immediate` sends: no checkpoint, recovery at the next start
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

void PostgresServer::Restart() {
  if (pid_ > 0) return;
  for (int attempt = 0; attempt < 20; ++attempt) {  // the port may linger a moment
    if (Launch()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  throw std::runtime_error("PostgreSQL did not restart: see " + dir_ + "/server.log");
}

PostgresServer::~PostgresServer() {
  if (pid_ > 0) {
    ::kill(pid_, SIGQUIT);  // immediate shutdown: the cluster is thrown away
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string PostgresServer::ConnectionString(const std::string& user, const std::string& database,
                                             const std::string& password) const {
  // The superuser over the socket (trust there); others over TCP with a password.
  if (password.empty()) return "host=" + dir_ + " port=" + std::to_string(port_) + " user=" + user + " dbname=" + database;
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=" + user + " dbname=" + database +
         " password=" + password;
}

void PostgresServer::CreateAppDatabase(const std::string& name) const {
  PGconn* conn = ::PQconnectdb(ConnectionString().c_str());
  auto run = [&](const std::string& sql) {
    PGresult* r = ::PQexec(conn, sql.c_str());
    const bool ok = ::PQresultStatus(r) == PGRES_COMMAND_OK;
    const std::string error = ok ? "" : ::PQresultErrorMessage(r);
    ::PQclear(r);
    if (!ok) {
      ::PQfinish(conn);
      throw std::runtime_error("postgres: " + error);
    }
  };
  if (::PQstatus(conn) != CONNECTION_OK) {
    ::PQfinish(conn);
    throw std::runtime_error("postgres: cannot connect as the superuser");
  }
  run("DO $$ BEGIN CREATE ROLE ehr_app LOGIN PASSWORD 'app-secret-1'; EXCEPTION WHEN duplicate_object THEN NULL; "
      "END $$");
  run("CREATE DATABASE " + name);
  ::PQfinish(conn);
}

std::string PostgresServer::AppUrl(const std::string& name) const {
  return "postgresql://ehr_app:app-secret-1@127.0.0.1:" + std::to_string(port_) + "/" + name;
}

}  // namespace ehr::testing
