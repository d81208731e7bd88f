#include "net/fetch.h"

#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <algorithm>
#include <chrono>

#include "net/certificate.h"

namespace ehr::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

template <typename Stream>
Result<HttpReply> Exchange(Stream& stream, const Url& url, std::string_view method,
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
  beast::error_code ec;
  http::write(stream, req, ec);
  if (ec) return Status::Unavailable("calling " + url.host + ": " + ec.message());
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(o.max_bytes);
  http::read(stream, buffer, parser, ec);
  if (ec) return Status::Unavailable("calling " + url.host + ": " + ec.message());
  HttpReply reply;
  reply.status = parser.get().result_int();
  reply.content_type = std::string(parser.get()[http::field::content_type]);
  reply.body = std::move(parser.get().body());
  return reply;
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
  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  beast::error_code ec;
  std::string host = url.host;
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  const auto endpoints = resolver.resolve(host, url.port, ec);
  if (ec) return Status::Unavailable("resolving " + url.host + ": " + ec.message());
  const auto timeout = std::chrono::milliseconds(o.timeout_ms);
  if (url.scheme == "http") {
    beast::tcp_stream stream(io);
    stream.expires_after(timeout);
    stream.connect(endpoints, ec);
    if (ec) return Status::Unavailable("connecting to " + url.host + ": " + ec.message());
    return Exchange(stream, url, method, headers, std::move(body), o);
  }
  asio::ssl::context tls(asio::ssl::context::tls_client);
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
  beast::ssl_stream<beast::tcp_stream> stream(io, tls);
  if (!SSL_set_tlsext_host_name(stream.native_handle(), host.c_str())) {
    return Status::Unavailable("TLS: cannot set the server name");
  }
  if (pinned) {
    stream.set_verify_callback([](bool, asio::ssl::verify_context&) { return true; });
  } else {
    stream.set_verify_callback(asio::ssl::host_name_verification(host));
  }
  beast::get_lowest_layer(stream).expires_after(timeout);
  beast::get_lowest_layer(stream).connect(endpoints, ec);
  if (ec) return Status::Unavailable("connecting to " + url.host + ": " + ec.message());
  stream.handshake(asio::ssl::stream_base::client, ec);
  if (ec) return Status::Unavailable("TLS with " + url.host + ": " + ec.message());
  if (pinned) {
    const std::string presented = CertificateDigest(SSL_get0_peer_certificate(stream.native_handle()));
    if (std::find(o.pinned_certificates.begin(), o.pinned_certificates.end(), presented) == o.pinned_certificates.end()) {
      return Status::Unavailable("TLS with " + url.host + ": its certificate is not one of those pinned for it");
    }
  }
  return Exchange(stream, url, method, headers, std::move(body), o);
}

Result<std::string> HttpGet(const std::string& text, const FetchOptions& o) {
  EHR_ASSIGN_OR_RETURN(HttpReply reply, HttpCall("GET", text, {}, {}, o));
  if (reply.status != 200) {
    EHR_ASSIGN_OR_RETURN(Url url, ParseUrl(text));
    return Status::Unavailable("fetching " + url.host + ": HTTP " + std::to_string(reply.status));
  }
  return std::move(reply.body);
}

}  // namespace ehr::net
