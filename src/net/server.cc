#include "net/server.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <zlib.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <unordered_set>

#include "core/ids.h"
#include "core/log.h"
#include "core/periodic.h"
#include "net/certificate.h"
#include "net/tls_context.h"

namespace ehr::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

using TlsStream = beast::ssl_stream<beast::tcp_stream>;

struct Conn {
  // `tls_context` null: plain HTTP. The connection keeps the context it began with (a
  // reload may replace the server's meanwhile).
  Conn(tcp::socket s, std::shared_ptr<asio::ssl::context> tls_context) : context(std::move(tls_context)) {
    beast::error_code ec;
    tcp::endpoint remote = s.remote_endpoint(ec);
    if (!ec) peer = remote.address().to_string();
    if (context != nullptr) {
      tls.emplace(std::move(s), *context);
    } else {
      plain.emplace(std::move(s));
    }
  }
  // The TCP layer, for timeouts, cancellation and closing, whichever stream is in use.
  beast::tcp_stream& tcp_layer() { return tls ? tls->next_layer() : *plain; }

  std::shared_ptr<asio::ssl::context> context;  // before the stream: it outlives it
  std::optional<beast::tcp_stream> plain;  // exactly one of `plain` and `tls` is set
  std::optional<TlsStream> tls;
  std::string peer;  // the client's IP address
  std::string client_certificate;  // Request::client_certificate, set after the handshake
  bool idle = true;  // only touched on the connection's strand; true during the TLS handshake too
};

// net/certificate.h's name of the certificate the client presented: when it chained to the
// client authorities, or (`any`: TlsOptions::request_client_certificate) whatever it was;
// else "". The handshake has proved the client holds its key either way.
std::string ClientCertificate(SSL* ssl, bool any) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr || (!any && SSL_get_verify_result(ssl) != X509_V_OK)) return "";
  return CertificateDigest(cert);
}

// For writing the close_notify alert to a client that does not read.
constexpr std::chrono::seconds kTlsCloseTimeout{1};

void SetIfAbsent(Response& resp, std::string_view name, std::string value) {
  if (resp.GetHeader(name).empty()) resp.SetHeader(name, std::move(value));
}

bool ValidRequestId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
              c == '.';
    if (!ok) return false;
  }
  return true;
}

bool AcceptsGzip(std::string_view accept_encoding) {
  // Good enough for real clients: "gzip" listed and not explicitly refused with q=0.
  size_t pos = accept_encoding.find("gzip");
  if (pos == std::string_view::npos) return false;
  std::string_view rest = accept_encoding.substr(pos + 4);
  size_t comma = rest.find(',');
  std::string_view params = rest.substr(0, comma);
  return params.find("q=0") == std::string_view::npos || params.find("q=0.") != std::string_view::npos;
}

bool Compressible(std::string_view content_type) {
  return content_type.find("json") != std::string_view::npos || content_type.find("text") != std::string_view::npos ||
         content_type.find("xml") != std::string_view::npos || content_type.find("javascript") != std::string_view::npos;
}

Response PlainError(int status, std::string_view diagnostics) {
  Response r;
  r.status = status;
  r.route = "(rejected)";
  r.SetHeader("Content-Type", "application/fhir+json");
  r.body = R"({"resourceType":"OperationOutcome","issue":[{"severity":"error","code":")";
  r.body += status == 413 ? "too-long" : "structure";
  r.body += R"(","diagnostics":")";
  log::AppendJsonEscaped(r.body, diagnostics);
  r.body += "\"}]}";
  return r;
}

}  // namespace

std::string GzipCompress(std::string_view data) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return {};
  std::string out;
  out.resize(deflateBound(&zs, data.size()) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return rc == Z_STREAM_END ? out : std::string();
}

struct HttpServer::Impl {
  Impl(ServerOptions o, Handler h)
      : options(std::move(o)),
        handler(std::move(h)),
        contexts(MakeContexts(options.io_threads)),
        ioc(*contexts[0]),
        workers(static_cast<size_t>(options.worker_threads > 0 ? options.worker_threads : 1)),
        acceptor(ioc) {}

  // One single-threaded io_context per IO thread: connections are spread over them and
  // never share a scheduler queue (far fewer wake-ups than one context run by N threads).
  static std::vector<std::unique_ptr<asio::io_context>> MakeContexts(int io_threads) {
    int n = io_threads > 0 ? io_threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    std::vector<std::unique_ptr<asio::io_context>> out;
    for (int i = 0; i < n; ++i) out.push_back(std::make_unique<asio::io_context>(1));
    return out;
  }

  void StopAll() {
    for (auto& c : contexts) c->stop();
  }

  ServerOptions options;
  Handler handler;
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  asio::io_context& ioc;  // contexts[0]: the acceptor and shutdown control run here
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> idle_guards;  // keep contexts 1.. running
  size_t next_context = 0;  // only touched by the acceptor coroutine
  asio::thread_pool workers;
  std::mutex tls_mu;
  std::shared_ptr<asio::ssl::context> tls_context;  // GUARDED_BY(tls_mu); null: plain HTTP; set by Start()
  std::string tls_files_seen;                        // GUARDED_BY(tls_mu): FilesStamp at the last load
  std::unique_ptr<Periodic> tls_watch;               // looks at the files (TlsOptions::reload_check)

  std::shared_ptr<asio::ssl::context> CurrentTls() {
    std::lock_guard lock(tls_mu);
    return tls_context;
  }
  tcp::acceptor acceptor;
  uint16_t bound_port = 0;
  std::atomic<bool> stopping{false};
  std::mutex conns_mu;
  std::unordered_set<std::shared_ptr<Conn>> conns;  // GUARDED_BY(conns_mu)

  // Runs the handler on the worker pool and resumes the coroutine on its own executor.
  asio::awaitable<Response> RunHandler(Request& req) {
    auto token = asio::use_awaitable;
    return asio::async_initiate<decltype(token), void(Response)>(
        [this, &req](auto completion) {
          auto ex = asio::get_associated_executor(completion);
          auto work = asio::make_work_guard(ex);
          asio::post(workers, [this, &req, completion = std::move(completion), work = std::move(work)]() mutable {
            Response resp = CallHandler(req);
            auto ex2 = work.get_executor();
            asio::post(ex2, [completion = std::move(completion), resp = std::move(resp)]() mutable {
              std::move(completion)(std::move(resp));
            });
          });
        },
        token);
  }

  // Waits, without holding a thread, until the handler's hold releases the response;
  // returns the response to send instead, if any.
  asio::awaitable<std::optional<Response>> AwaitHold(std::function<void(Response::Release)> hold) {
    auto token = asio::use_awaitable;
    return asio::async_initiate<decltype(token), void(std::optional<Response>)>(
        [hold = std::move(hold)](auto completion) mutable {
          auto ex = asio::get_associated_executor(completion);
          struct State {
            decltype(completion) done;
            decltype(asio::make_work_guard(ex)) work;
          };
          auto state = std::make_shared<State>(State{std::move(completion), asio::make_work_guard(ex)});
          // The releasing thread gives up its reference as it posts: the state (and its work
          // guard) must end on the IO thread, never after the server that owns it is gone.
          hold([state](std::optional<Response> instead) mutable {
            std::shared_ptr<State> mine = std::move(state);
            if (!mine) return;  // released twice: the first one counted
            auto resume = mine->work.get_executor();
            asio::post(resume, [mine = std::move(mine), instead = std::move(instead)]() mutable {
              std::move(mine->done)(std::move(instead));
            });
          });
        },
        token);
  }

  Response CallHandler(Request& req) {
    try {
      return handler(req);
    } catch (const std::exception&) {
      // A bug, not a user error: answer 500 with the request id, log without details (no PHI).
      log::Error("handler_exception", {{"request_id", req.request_id}});
      Response r = PlainError(500, "Internal error; request id " + req.request_id);
      r.route = "(exception)";
      return r;
    }
  }

  // Browser-facing defaults. Responses are FHIR JSON and an occasional HTML page whose
  // handler sets its own policy, so the default policy allows nothing to load; and nothing
  // is cacheable unless the handler says so (responses carry PHI and tokens).
  void AddSecurityHeaders(Response& resp) {
    if (tls_context) SetIfAbsent(resp, "Strict-Transport-Security", "max-age=31536000; includeSubDomains");
    SetIfAbsent(resp, "X-Content-Type-Options", "nosniff");
    SetIfAbsent(resp, "X-Frame-Options", "DENY");
    SetIfAbsent(resp, "Content-Security-Policy",
                "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
    SetIfAbsent(resp, "Referrer-Policy", "no-referrer");
    SetIfAbsent(resp, "Cache-Control", "no-store");
  }

  void Decorate(const Request& req, Response& resp) {
    resp.SetHeader("X-Request-Id", req.request_id);
    AddSecurityHeaders(resp);
    if (!options.cors_allow_origin.empty() && req.HasHeader("Origin")) {
      resp.SetHeader("Access-Control-Allow-Origin", options.cors_allow_origin);
      resp.SetHeader("Access-Control-Expose-Headers",
                     "Location, Content-Location, ETag, Last-Modified, X-Request-Id, Retry-After");
      if (options.cors_allow_origin != "*") resp.SetHeader("Vary", "Origin");
    }
    if (resp.body.size() >= options.gzip_min_bytes && resp.GetHeader("Content-Encoding").empty() &&
        Compressible(resp.GetHeader("Content-Type")) && AcceptsGzip(req.GetHeader("Accept-Encoding"))) {
      std::string gz = GzipCompress(resp.body);
      if (!gz.empty()) {
        resp.body = std::move(gz);
        resp.SetHeader("Content-Encoding", "gzip");
        resp.SetHeader("Vary", "Accept-Encoding");
      }
    }
  }

  std::optional<Response> Preflight(const Request& req) {
    if (req.method != "OPTIONS" || options.cors_allow_origin.empty() || !req.HasHeader("Origin") ||
        !req.HasHeader("Access-Control-Request-Method"))
      return std::nullopt;
    Response r;
    r.status = 204;
    r.route = "(cors-preflight)";
    r.SetHeader("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
    std::string_view asked = req.GetHeader("Access-Control-Request-Headers");
    r.SetHeader("Access-Control-Allow-Headers",
                asked.empty() ? std::string("Authorization, Content-Type, If-Match, If-None-Match, Prefer")
                              : std::string(asked));
    r.SetHeader("Access-Control-Max-Age", "600");
    return r;
  }

  template <class Stream>
  asio::awaitable<void> WriteResponse(Conn& conn, Stream& stream, const Request& req, Response& resp, bool keep_alive,
                                      beast::error_code& ec) {
    http::response<http::string_body> out{static_cast<http::status>(resp.status), 11};
    for (auto& h : resp.headers) out.set(h.name, h.value);
    out.keep_alive(keep_alive);
    size_t length = resp.body.size();
    out.body() = std::move(resp.body);
    out.prepare_payload();
    if (req.method == "HEAD") out.content_length(length);
    if (resp.status == 204 || resp.status == 304) {
      out.body().clear();
      out.content_length(boost::none);
      out.erase(http::field::content_length);
    }
    conn.tcp_layer().expires_after(options.body_timeout);
    if (req.method == "HEAD") {
      http::response_serializer<http::string_body> sr{out};
      co_await http::async_write_header(stream, sr, asio::redirect_error(asio::use_awaitable, ec));
    } else {
      co_await http::async_write(stream, out, asio::redirect_error(asio::use_awaitable, ec));
    }
  }

  asio::awaitable<void> Session(std::shared_ptr<Conn> conn) {
    if (conn->tls) {
      beast::error_code ec;
      conn->tcp_layer().expires_after(options.header_timeout);  // a handshake is the start of a request
      co_await conn->tls->async_handshake(asio::ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, ec));
      if (!ec) {
        const bool any = options.tls.client_ca_file.empty() && options.tls.request_client_certificate;
        conn->client_certificate = ClientCertificate(conn->tls->native_handle(), any);
      }
      if (!ec) {
        co_await Exchange(conn, *conn->tls);
        // A close_notify alert tells the client the last response was not truncated. The
        // client's own alert is not awaited (RFC 8446 6.1 and RFC 5246 7.2.1 let the closing
        // side stop reading): an idle client would otherwise hold up a graceful shutdown.
        // Marking it as received makes OpenSSL send ours and finish.
        SSL* ssl = conn->tls->native_handle();
        SSL_set_shutdown(ssl, SSL_get_shutdown(ssl) | SSL_RECEIVED_SHUTDOWN);
        conn->tcp_layer().expires_after(kTlsCloseTimeout);
        co_await conn->tls->async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
      }
    } else {
      co_await Exchange(conn, *conn->plain);
    }
    beast::error_code ignored;
    conn->tcp_layer().socket().shutdown(tcp::socket::shutdown_send, ignored);
    conn->tcp_layer().socket().close(ignored);
    std::lock_guard<std::mutex> lock(conns_mu);
    conns.erase(conn);
  }

  // Requests and responses on one connection until it closes, times out, fails or the
  // server stops. `stream` is the connection's plain or TLS stream.
  template <class Stream>
  asio::awaitable<void> Exchange(std::shared_ptr<Conn> conn, Stream& stream) {
    beast::flat_buffer buffer;
    beast::error_code ec;
    bool first = true;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(options.max_body_bytes);
      parser.header_limit(64 * 1024);
      conn->idle = true;
      if (stopping) break;
      conn->tcp_layer().expires_after(first || buffer.size() > 0 ? options.header_timeout : options.idle_timeout);
      first = false;
      co_await http::async_read_header(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
      conn->idle = false;
      auto started = std::chrono::steady_clock::now();
      if (ec) {
        if (ec == http::error::header_limit || ec == http::error::body_limit) {
          Request req;
          req.method = ec == http::error::body_limit ? std::string(parser.get().method_string()) : "GET";
          req.request_id = NewRequestId();
          co_await RejectAndClose(*conn, stream, req, ec == http::error::body_limit ? 413 : 431, started);
        }
        break;
      }
      auto& header = parser.get();
      if (beast::iequals(header[http::field::expect], "100-continue")) {
        http::response<http::empty_body> cont{http::status::continue_, 11};
        co_await http::async_write(stream, cont, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) break;
      }
      conn->tcp_layer().expires_after(options.body_timeout);
      co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
      Request req;
      std::string_view incoming_id = parser.get()["X-Request-Id"];
      req.request_id = ValidRequestId(incoming_id) ? std::string(incoming_id) : NewRequestId();
      if (ec) {
        if (ec == http::error::body_limit) {
          req.method = std::string(parser.get().method_string());
          co_await RejectAndClose(*conn, stream, req, 413, started);
        }
        break;
      }
      auto msg = parser.release();
      bool keep_alive = msg.keep_alive();
      req.method = std::string(msg.method_string());
      req.peer = conn->peer;
      req.client_certificate = conn->client_certificate;
      req.target = std::string(msg.target());
      size_t q = req.target.find('?');
      req.path = req.target.substr(0, q);
      if (q != std::string::npos) req.query = req.target.substr(q + 1);
      for (const auto& field : msg) {
        req.headers.push_back({std::string(field.name_string()), std::string(field.value())});
      }
      req.body = std::move(msg.body());

      Response resp;
      if (auto pre = Preflight(req)) {
        resp = std::move(*pre);
      } else if (options.run_inline && options.run_inline(req)) {
        req.on_io_thread = true;
        resp = CallHandler(req);
        if (resp.deferred) {
          req.on_io_thread = false;
          resp = co_await RunHandler(req);
        }
      } else {
        resp = co_await RunHandler(req);
      }
      if (resp.hold) {
        std::optional<Response> instead = co_await AwaitHold(std::move(resp.hold));
        if (instead) resp = std::move(*instead);
      }
      Decorate(req, resp);
      if (stopping) keep_alive = false;
      int status = resp.status;
      std::string route = resp.route;
      size_t bytes = resp.body.size();
      co_await WriteResponse(*conn, stream, req, resp, keep_alive, ec);
      LogAccess(req, route, status, bytes, started);
      if (ec || !keep_alive) break;
    }
  }

  // Answers 413/431 and closes, reading (and discarding) what the client still sends for a
  // moment so that the answer is not lost to a TCP reset. Over TLS the TCP connection is
  // not half-closed (the close_notify comes after): the client ends the drain by closing.
  template <class Stream>
  asio::awaitable<void> RejectAndClose(Conn& conn, Stream& stream, const Request& req, int status,
                                       std::chrono::steady_clock::time_point started) {
    Response r = status == 413 ? PlainError(413, "Request body exceeds the limit of " +
                                                     std::to_string(options.max_body_bytes) + " bytes")
                               : PlainError(431, "Request headers too large");
    Decorate(req, r);
    beast::error_code ec;
    co_await WriteResponse(conn, stream, req, r, false, ec);
    LogAccess(req, r.route, r.status, r.body.size(), started);
    if (ec) co_return;
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      conn.tcp_layer().socket().shutdown(tcp::socket::shutdown_send, ec);
    }
    conn.tcp_layer().expires_after(std::chrono::seconds(1));
    std::array<char, 16384> sink;
    size_t drained = 0;
    while (!ec && drained < 8 * 1024 * 1024) {
      drained += co_await stream.async_read_some(asio::buffer(sink), asio::redirect_error(asio::use_awaitable, ec));
    }
  }

  // One access log line: the route template, never the concrete path or query (PHI).
  void LogAccess(const Request& req, const std::string& route, int status, size_t bytes,
                 std::chrono::steady_clock::time_point started) {
    if (!options.access_log) return;
    auto micros =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count();
    const std::string shown_route = route.empty() ? std::string("(unrouted)") : route;
    const double latency_ms = static_cast<double>(micros) / 1000.0;
    if (req.client_certificate.empty()) {
      log::Info("http_request", {{"request_id", req.request_id},
                                 {"method", req.method},
                                 {"route", shown_route},
                                 {"status", status},
                                 {"bytes", static_cast<uint64_t>(bytes)},
                                 {"latency_ms", latency_ms}});
    } else {  // which machine (mutual TLS): its certificate's digest, no personal data
      log::Info("http_request", {{"request_id", req.request_id},
                                 {"method", req.method},
                                 {"route", shown_route},
                                 {"status", status},
                                 {"bytes", static_cast<uint64_t>(bytes)},
                                 {"latency_ms", latency_ms},
                                 {"client_certificate", req.client_certificate}});
    }
  }

  asio::awaitable<void> Accept() {
    for (;;) {
      beast::error_code ec;
      asio::io_context& target = *contexts[next_context++ % contexts.size()];
      tcp::socket socket = co_await acceptor.async_accept(target, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (stopping || ec == asio::error::operation_aborted) co_return;
        continue;  // e.g. EMFILE: keep serving existing connections
      }
      socket.set_option(tcp::no_delay(true), ec);
      auto conn = std::make_shared<Conn>(std::move(socket), CurrentTls());
      {
        std::lock_guard<std::mutex> lock(conns_mu);
        conns.insert(conn);
      }
      auto ex = conn->tcp_layer().get_executor();
      asio::co_spawn(ex, Session(conn), asio::detached);
    }
  }
};

HttpServer::HttpServer(ServerOptions options, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

HttpServer::~HttpServer() {
  Stop();
  impl_->workers.join();
}

namespace {

// What changes when a file is replaced or rewritten: its size and modification time, for
// each of the TLS files.
std::string FilesStamp(const TlsOptions& tls) {
  std::string stamp;
  for (const std::string& file : {tls.cert_file, tls.key_file, tls.client_ca_file}) {
    struct stat st {};
    if (!file.empty() && ::stat(file.c_str(), &st) == 0) {
      stamp += std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
               std::to_string(st.st_mtim.tv_nsec) + ":" + std::to_string(st.st_ino);
    }
    stamp += ";";
  }
  return stamp;
}

}  // namespace

Status HttpServer::ReloadTls() {
  const TlsOptions& tls = impl_->options.tls;
  if (!tls.enabled()) return Status::Ok();
  const std::string stamp = FilesStamp(tls);
  auto context = MakeServerTlsContext(tls);
  std::lock_guard lock(impl_->tls_mu);
  impl_->tls_files_seen = stamp;  // a failure is not retried until the files change again
  if (!context.ok()) return context.status();
  impl_->tls_context = std::shared_ptr<asio::ssl::context>(std::move(*context));
  return Status::Ok();
}

Status HttpServer::Start() {
  const TlsOptions& tls = impl_->options.tls;
  if (tls.enabled()) {
    EHR_RETURN_IF_ERROR(ReloadTls());
    if (tls.reload_check.count() > 0) {
      Impl* impl = impl_.get();
      impl_->tls_watch = std::make_unique<Periodic>(tls.reload_check, [this, impl](const Periodic::Stopping&) {
        std::string seen;
        {
          std::lock_guard lock(impl->tls_mu);
          seen = impl->tls_files_seen;
        }
        if (FilesStamp(impl->options.tls) == seen) return;
        if (Status st = ReloadTls(); st.ok()) {
          log::Info("tls.reloaded");
        } else {
          log::Warn("tls.reload_failed", {{"error", st.message()}});
        }
      });
    }
  }
  beast::error_code ec;
  auto address = asio::ip::make_address(impl_->options.host, ec);
  if (ec) return Status::Invalid("Invalid listen address: " + impl_->options.host);
  tcp::endpoint endpoint(address, impl_->options.port);
  auto& acc = impl_->acceptor;
  acc.open(endpoint.protocol(), ec);
  if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(endpoint, ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status::Unavailable("Cannot listen on " + impl_->options.host + ":" +
                                     std::to_string(impl_->options.port) + ": " + ec.message());
  impl_->bound_port = acc.local_endpoint().port();
  asio::co_spawn(impl_->ioc, impl_->Accept(), asio::detached);
  return Status::Ok();
}

uint16_t HttpServer::port() const { return impl_->bound_port; }

void HttpServer::Run() {
  std::vector<std::thread> threads;
  for (size_t i = 1; i < impl_->contexts.size(); ++i) {
    impl_->idle_guards.push_back(asio::make_work_guard(*impl_->contexts[i]));
  }
  for (size_t i = 1; i < impl_->contexts.size(); ++i) {
    threads.emplace_back([this, i] { impl_->contexts[i]->run(); });
  }
  impl_->ioc.run();
  impl_->StopAll();  // context 0 finished: shutdown is complete (or the grace ran out)
  for (auto& t : threads) t.join();
}

void HttpServer::Stop() {
  if (impl_->stopping.exchange(true)) return;
  impl_->tls_watch.reset();
  Impl* impl = impl_.get();
  asio::post(impl->ioc, [impl] {
    beast::error_code ec;
    impl->acceptor.close(ec);
    std::vector<std::shared_ptr<Conn>> snapshot;
    {
      std::lock_guard<std::mutex> lock(impl->conns_mu);
      snapshot.assign(impl->conns.begin(), impl->conns.end());
    }
    for (auto& c : snapshot) {
      asio::post(c->tcp_layer().get_executor(), [c] {
        beast::error_code ignored;
        if (c->idle) c->tcp_layer().socket().cancel(ignored);  // may already be closed
      });
    }
    // In-flight requests get the grace period; then everything stops.
    auto timer = std::make_shared<asio::steady_timer>(impl->ioc, impl->options.shutdown_grace);
    timer->async_wait([impl, timer](beast::error_code wait_ec) {
      if (!wait_ec) impl->StopAll();
    });
    // When all connections are gone before the grace ends, cancel the timer so run() returns.
    auto poll = std::make_shared<asio::steady_timer>(impl->ioc);
    auto check = std::make_shared<std::function<void()>>();
    *check = [impl, timer, poll, check] {
      bool empty;
      {
        std::lock_guard<std::mutex> lock(impl->conns_mu);
        empty = impl->conns.empty();
      }
      if (empty) {
        timer->cancel();
        impl->idle_guards.clear();
        *check = nullptr;  // break the self-reference
        return;
      }
      poll->expires_after(std::chrono::milliseconds(20));
      poll->async_wait([check](beast::error_code) {
        if (*check) (*check)();
      });
    };
    (*check)();
  });
}

}  // namespace ehr::net
