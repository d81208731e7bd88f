// HTTP request and response values exchanged between the network layer and the router.
// Deliberately free of Boost types so that the api layer compiles fast and is testable
// without sockets.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ehr::net {

struct Header {
  std::string name;
  std::string value;
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b);

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as received: path and query
  std::string path;    // target up to '?', percent-encoded as received
  std::string query;   // after '?', without it
  std::vector<Header> headers;
  std::string body;
  std::string request_id;  // X-Request-Id (validated) or generated
  std::string peer;        // the client's IP address (of the TCP connection); empty when unknown
  // Mutual TLS: the certificate the client presented (net/certificate.h: "sha256:" and the
  // hex SHA-256 of its DER), the machine's identity; chained to TlsOptions::client_ca_file,
  // or any with TlsOptions::request_client_certificate; empty otherwise.
  std::string client_certificate;
  // Being handled on an IO thread (ServerOptions::run_inline): the handler must not block;
  // when it finds it would, it answers Response::Defer() and runs again on a worker.
  bool on_io_thread = false;

  // Case-insensitive lookup; empty when absent.
  std::string_view GetHeader(std::string_view name) const;
  bool HasHeader(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::vector<Header> headers;
  std::string body;
  // Route template for the access log ("/fhir/{type}/{id}"): never the concrete path.
  std::string route;
  bool deferred = false;  // see Defer()
  // Set by a handler whose answer may leave only once something it started has finished
  // (the audit entry of a disclosure is durable: api/audit_record.cc). The server calls
  // `hold` with a function the handler calls once, from any thread, with nothing to send
  // this response, or with the response to send instead (made only when it is needed: a
  // read that could not be recorded); no thread waits meanwhile. A caller of the handler
  // other than the server must do the same.
  using Release = std::function<void(std::optional<Response>)>;
  std::function<void(Release)> hold;

  // The answer of a handler running on an IO thread that would block: the server runs the
  // request again on the worker pool (Request::on_io_thread false).
  static Response Defer() {
    Response r;
    r.deferred = true;
    return r;
  }

  void SetHeader(std::string_view name, std::string value);
  std::string_view GetHeader(std::string_view name) const;
};

// Percent-encodes every byte but ASCII letters, digits and the characters of `keep`
// (default: RFC 3986's other unreserved characters), for a URL component.
std::string PercentEncode(std::string_view s, std::string_view keep = "-._~");

// Decodes %XX escapes (and '+' as space when `plus_as_space`). Invalid escapes are kept.
std::string PercentDecode(std::string_view s, bool plus_as_space);

// Splits an application/x-www-form-urlencoded string into decoded name/value pairs.
std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query);
// The value of the first pair named `name` of ParseQuery's result; empty when absent.
std::string_view FindParam(const std::vector<std::pair<std::string, std::string>>& params, std::string_view name);

}  // namespace ehr::net
