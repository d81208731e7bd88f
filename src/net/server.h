// HttpServer: HTTP/1.1 over TCP, or over TLS (ServerOptions::tls), with keep-alive, built on
// Boost.Beast with C++20 coroutines.
//
// IO threads parse and write; the handler runs on a worker pool (it may block on storage)
// unless `run_inline` says the request is trivial (e.g. /healthz); an inline handler that
// finds it would block after all answers Response::Defer() and runs again on a worker. The
// server applies, for
// every request: body size limit (413), header and idle timeouts, X-Request-Id, CORS,
// security headers (HSTS over TLS; nosniff, frame and referrer denial, a Content-Security-
// Policy and Cache-Control: no-store where the handler set none), gzip when accepted, and
// one JSON access log line (route template only, never the path).
// Thread-safe: Start/Stop may be called from any thread; Run blocks the caller.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/status.h"
#include "net/http.h"

namespace ehr::net {

struct TlsOptions {
  std::string cert_file;       // PEM: the server's certificate, then any intermediates
  std::string key_file;        // PEM: its private key
  std::string client_ca_file;  // PEM authorities; non-empty: clients must present a certificate they signed
  // Without client_ca_file: ask every client for a certificate, accept any it proves it holds
  // (self-signed included) and none at all; Request::client_certificate names it and the
  // handlers decide (a federation's vaults and MPI check their peers' pinned certificates).
  bool request_client_certificate = false;
  // How often the three files are looked at: when one changed (a renewed certificate), they
  // are loaded again (HttpServer::ReloadTls). 0: only on ReloadTls.
  std::chrono::milliseconds reload_check{60000};
  bool enabled() const { return !cert_file.empty(); }
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0: pick a free port (see HttpServer::port())
  int io_threads = 0;  // 0: hardware concurrency
  int worker_threads = 64;
  size_t max_body_bytes = 16 * 1024 * 1024;
  std::chrono::milliseconds header_timeout{10000};
  std::chrono::milliseconds body_timeout{60000};
  std::chrono::milliseconds idle_timeout{60000};
  std::chrono::milliseconds shutdown_grace{15000};
  size_t gzip_min_bytes = 1024;
  std::string cors_allow_origin = "*";  // empty: no CORS headers
  bool access_log = true;
  std::function<bool(const Request&)> run_inline;  // null: everything on the worker pool
  TlsOptions tls;  // no cert_file: plain HTTP (see net/tls_context.h for the TLS settings)
};

using Handler = std::function<Response(Request&)>;

class HttpServer {
 public:
  HttpServer(ServerOptions options, Handler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Loads the TLS files (Invalid when they are unusable), binds and listens. After OK,
  // port() is the bound port.
  Status Start();
  uint16_t port() const;
  // Serves until Stop(); returns when in-flight requests have finished (or the grace ran out).
  void Run();
  // Graceful: stop accepting, finish in-flight requests, close idle connections.
  void Stop();
  // Loads the TLS files again (a renewed certificate, key or client authorities): new
  // connections use them, open ones keep what they began with. When they are unusable
  // (Invalid, naming the file), the server goes on with the ones it has. OK without TLS.
  Status ReloadTls();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// gzip-compresses `data` (used by the server; exposed for tests).
std::string GzipCompress(std::string_view data);

}  // namespace ehr::net
