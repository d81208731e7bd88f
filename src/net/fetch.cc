#include "net/fetch.h"

#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "net/certificate.h"

namespace ehr::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

// One connection to a server: its own io_context (the calls are blocking), its TLS context
// when it is https, and the stream. Kept after a GET whose answer allows it, for the next
// GET to the same place (keep-alive): no new TCP connection, no new TLS handshake.
struct Connection {
  asio::io_context io;
  std::unique_ptr<asio::ssl::context> tls;  // https only
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  std::chrono::steady_clock::time_point idle_since;

  beast::tcp_stream& tcp() { return plain ? *plain : beast::get_lowest_layer(*secure); }
};

// Idle connections by where they go and how they were made (a connection made with other
// pins or another client certificate is not another call's).
class Pool {
 public:
  static constexpr size_t kMaxIdle = 16;                          // per place
  static constexpr std::chrono::seconds kMaxIdleTime{20};         // servers close idle ones after 60 s

  std::unique_ptr<Connection> Take(const std::string& key) {
    std::lock_guard lock(mu_);
    auto it = idle_.find(key);
    const auto now = std::chrono::steady_clock::now();
    while (it != idle_.end() && !it->second.empty()) {
      std::unique_ptr<Connection> c = std::move(it->second.back());
      it->second.pop_back();
      if (now - c->idle_since < kMaxIdleTime) return c;
    }
    return nullptr;
  }
  void Put(const std::string& key, std::unique_ptr<Connection> c) {
    c->idle_since = std::chrono::steady_clock::now();
    std::lock_guard lock(mu_);
    std::vector<std::unique_ptr<Connection>>& list = idle_[key];
    if (list.size() < kMaxIdle) list.push_back(std::move(c));
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::vector<std::unique_ptr<Connection>>> idle_;
};

Pool& ThePool() {
  static Pool* pool = new Pool;  // never destroyed: calls may run while the process exits
  return *pool;
}

std::atomic<uint64_t> connections_made{0}, connections_reused{0};

std::string PoolKey(const Url& url, const FetchOptions& o) {
  std::string key = url.scheme + "://" + url.host + ":" + url.port + "\n" + o.ca_file + "\n" + o.client_cert_file + "\n" +
                    o.client_key_file;
  for (const std::string& pin : o.pinned_certificates) key += "\n" + pin;
  return key;
}

// Runs `start` (which begins one asynchronous operation on `io`'s objects and hands it
// the completion handler it is given) until it completes. Blocking, but bounded: Beast's
// stream timeouts (expires_after) apply to asynchronous operations only, so every step of
// a call is asynchronous, run here on the calling thread.
template <typename Start>
beast::error_code RunToCompletion(asio::io_context& io, Start&& start) {
  beast::error_code result = asio::error::would_block;
  start([&result](beast::error_code ec, auto&&...) { result = ec; });
  io.restart();
  io.run();
  return result;
}

struct Exchanged {
  HttpReply reply;
  bool keep_alive = false;
};

template <typename Stream>
Result<Exchanged> Exchange(asio::io_context& io, Stream& stream, const Url& url, std::string_view method,
                           const std::vector<std::pair<std::string, std::string>>& headers, std::string body,
                           const FetchOptions& o) {
  http::request<http::string_body> req{http::string_to_verb(method), url.target, 11};
  req.set(http::field::host, url.host);
  req.set(http::field::user_agent, "ehr");
  req.set(http::field::accept, "application/json");
  for (const auto& [name, value] : headers) req.set(name, value);
  if (!body.empty() || method == "POST" || method == "PUT") {
    req.body() = std::move(body);
    req.prepare_payload();
  }
  req.keep_alive(method == "GET");  // only GETs are sent again on a kept connection
  beast::error_code ec = RunToCompletion(io, [&](auto done) { http::async_write(stream, req, std::move(done)); });
  if (ec) return Status::Unavailable("calling " + url.host + ": " + ec.message());
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(o.max_bytes);
  ec = RunToCompletion(io, [&](auto done) { http::async_read(stream, buffer, parser, std::move(done)); });
  if (ec) return Status::Unavailable("calling " + url.host + ": " + ec.message());
  Exchanged out;
  out.reply.status = parser.get().result_int();
  out.reply.content_type = std::string(parser.get()[http::field::content_type]);
  out.reply.body = std::move(parser.get().body());
  out.keep_alive = parser.get().keep_alive() && buffer.size() == 0;
  return out;
}

Result<Exchanged> ExchangeOn(Connection& c, const Url& url, std::string_view method,
                             const std::vector<std::pair<std::string, std::string>>& headers, std::string body,
                             const FetchOptions& o) {
  // One deadline for the whole exchange (the stream's timer covers every operation until reset).
  c.tcp().expires_after(std::chrono::milliseconds(o.timeout_ms));
  if (c.plain) return Exchange(c.io, *c.plain, url, method, headers, std::move(body), o);
  return Exchange(c.io, *c.secure, url, method, headers, std::move(body), o);
}

// A new connection to `url`: TCP, and for https the handshake and the checks of the
// server's certificate (pins, or authorities and host name).
Result<std::unique_ptr<Connection>> Connect(const Url& url, const FetchOptions& o) {
  auto c = std::make_unique<Connection>();
  asio::ip::tcp::resolver resolver(c->io);
  beast::error_code ec;
  std::string host = url.host;
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  const auto endpoints = resolver.resolve(host, url.port, ec);
  if (ec) return Status::Unavailable("resolving " + url.host + ": " + ec.message());
  const auto timeout = std::chrono::milliseconds(o.timeout_ms);
  if (url.scheme == "http") {
    c->plain.emplace(c->io);
    c->plain->expires_after(timeout);
    ec = RunToCompletion(c->io, [&](auto done) { c->plain->async_connect(endpoints, std::move(done)); });
    if (ec) return Status::Unavailable("connecting to " + url.host + ": " + ec.message());
    ++connections_made;
    return c;
  }
  c->tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
  asio::ssl::context& tls = *c->tls;
  tls.set_options(asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
  tls.set_verify_mode(asio::ssl::verify_peer);
  const bool pinned = !o.pinned_certificates.empty();
  if (pinned) {
    // Checked after the handshake: the exact certificate, not its chain.
  } else if (o.ca_file.empty()) {
    tls.set_default_verify_paths(ec);
  } else {
    tls.load_verify_file(o.ca_file, ec);
  }
  if (ec) return Status::Unavailable("loading certificate authorities: " + ec.message());
  if (!o.client_cert_file.empty()) {
    tls.use_certificate_chain_file(o.client_cert_file, ec);
    if (!ec) tls.use_private_key_file(o.client_key_file, asio::ssl::context::pem, ec);
    if (ec) return Status::Unavailable("loading this node's certificate " + o.client_cert_file + ": " + ec.message());
  }
  c->secure.emplace(c->io, tls);
  auto& stream = *c->secure;
  if (!SSL_set_tlsext_host_name(stream.native_handle(), host.c_str())) {
    return Status::Unavailable("TLS: cannot set the server name");
  }
  if (pinned) {
    stream.set_verify_callback([](bool, asio::ssl::verify_context&) { return true; });
  } else {
    stream.set_verify_callback(asio::ssl::host_name_verification(host));
  }
  beast::get_lowest_layer(stream).expires_after(timeout);
  ec = RunToCompletion(c->io, [&](auto done) { beast::get_lowest_layer(stream).async_connect(endpoints, std::move(done)); });
  if (ec) return Status::Unavailable("connecting to " + url.host + ": " + ec.message());
  ec = RunToCompletion(c->io, [&](auto done) { stream.async_handshake(asio::ssl::stream_base::client, std::move(done)); });
  if (ec) return Status::Unavailable("TLS with " + url.host + ": " + ec.message());
  if (pinned) {
    const std::string presented = CertificateDigest(SSL_get0_peer_certificate(stream.native_handle()));
    if (std::find(o.pinned_certificates.begin(), o.pinned_certificates.end(), presented) == o.pinned_certificates.end()) {
      return Status::Unavailable("TLS with " + url.host + ": its certificate is not one of those pinned for it");
    }
  }
  ++connections_made;
  return c;
}

}  // namespace

Result<Url> ParseUrl(const std::string& text) {
  Url url;
  const size_t scheme_end = text.find("://");
  if (scheme_end == std::string::npos) return Status::Invalid("not a URL: " + text);
  url.scheme = text.substr(0, scheme_end);
  if (url.scheme != "http" && url.scheme != "https") return Status::Invalid("only http and https URLs: " + text);
  const size_t host_start = scheme_end + 3;
  const size_t path_start = text.find('/', host_start);
  std::string authority = text.substr(host_start, path_start == std::string::npos ? std::string::npos : path_start - host_start);
  url.target = path_start == std::string::npos ? "/" : text.substr(path_start);
  if (authority.empty() || authority.find('@') != std::string::npos) return Status::Invalid("a URL without a plain host: " + text);
  const size_t colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']', colon) == std::string::npos) {
    url.port = authority.substr(colon + 1);
    authority.resize(colon);
    if (url.port.empty() || url.port.find_first_not_of("0123456789") != std::string::npos) {
      return Status::Invalid("a URL with a bad port: " + text);
    }
  } else {
    url.port = url.scheme == "https" ? "443" : "80";
  }
  url.host = authority;
  if (url.host.empty()) return Status::Invalid("a URL without a host: " + text);
  return url;
}

Result<HttpReply> HttpCall(std::string_view method, const std::string& text,
                           const std::vector<std::pair<std::string, std::string>>& headers, std::string body,
                           const FetchOptions& o) {
  EHR_ASSIGN_OR_RETURN(Url url, ParseUrl(text));
  if (url.scheme == "http" && !IsLoopback(url.host)) {
    return Status::Invalid("plain http only to a loopback address (use https): " + text);
  }
  if (http::string_to_verb(method) == http::verb::unknown) return Status::Invalid("not an HTTP method");
  // A GET may go on a kept connection; one the server has closed meanwhile fails before any
  // answer, and the GET (idempotent) is sent again on a new one. Other methods always get a
  // new connection: a request sent twice could be done twice.
  const bool get = method == "GET";
  const std::string key = PoolKey(url, o);
  if (get) {
    if (std::unique_ptr<Connection> kept = ThePool().Take(key)) {
      Result<Exchanged> done = ExchangeOn(*kept, url, method, headers, body, o);
      if (done.ok()) {
        ++connections_reused;
        if (done->keep_alive) ThePool().Put(key, std::move(kept));
        return std::move(done->reply);
      }
    }
  }
  EHR_ASSIGN_OR_RETURN(std::unique_ptr<Connection> fresh, Connect(url, o));
  EHR_ASSIGN_OR_RETURN(Exchanged done, ExchangeOn(*fresh, url, method, headers, std::move(body), o));
  if (get && done.keep_alive) ThePool().Put(key, std::move(fresh));
  return std::move(done.reply);
}

FetchCounters ConnectionCounters() { return {connections_made.load(), connections_reused.load()}; }

Result<std::string> HttpGet(const std::string& text, const FetchOptions& o) {
  EHR_ASSIGN_OR_RETURN(HttpReply reply, HttpCall("GET", text, {}, {}, o));
  if (reply.status != 200) {
    EHR_ASSIGN_OR_RETURN(Url url, ParseUrl(text));
    return Status::Unavailable("fetching " + url.host + ": HTTP " + std::to_string(reply.status));
  }
  return std::move(reply.body);
}

}  // namespace ehr::net
