// An outbound HTTP GET for the few things this server fetches itself (the key sets of
// configured OpenID Connect issuers), and the calls between a federation's nodes: HTTPS
// verified against the system's certificate authorities (or a given CA file) with the host
// name checked, or against pinned certificates, or plain HTTP to a loopback address only.
// Bounded in time (FetchOptions::timeout_ms covers the connection, the handshake, and the
// request and its answer: a server that accepts and never answers cannot hold the caller)
// and size; no redirects followed. Blocking: call it from worker threads or at start-up.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace ehr::net {

struct FetchOptions {
  int timeout_ms = 5000;
  size_t max_bytes = 1 << 20;
  std::string ca_file;  // PEM; empty: the system's certificate authorities
  // HTTPS only: when not empty, the server's certificate must be one of these
  // (net/certificate.h digests), and neither the authorities nor the host name are consulted:
  // a federation pins its nodes' certificates (self-signed ones included) in its file.
  std::vector<std::string> pinned_certificates;
  // HTTPS only: a certificate (PEM, then any intermediates) and its key presented to the
  // server (mutual TLS: a federation node's own). Empty: none.
  std::string client_cert_file;
  std::string client_key_file;
};

struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;
  std::string port;
  std::string target;  // path and query, "/" at least
};

// kInvalid for anything but http(s)://host[:port][/path].
Result<Url> ParseUrl(const std::string& url);

// The body of a 200 answer to GET `url`; kUnavailable when it cannot be had.
Result<std::string> HttpGet(const std::string& url, const FetchOptions& options = {});

// Calls between the nodes of a federation (federation/, mpi/): any method, the answer
// whatever its status. kUnavailable only when no answer came (refused, timed out, too
// large, not HTTP); kInvalid for a bad URL. Same transport rules as HttpGet. A GET's
// connection is kept for the next GET to the same place made the same way (keep-alive,
// up to 16 idle per place, 20 s each): no new TCP connection or TLS handshake; a kept
// connection the server closed meanwhile is replaced and the GET sent again. Other methods
// use a connection of their own (a request sent twice could be done twice).
struct HttpReply {
  int status = 0;
  std::string content_type;
  std::string body;
};
Result<HttpReply> HttpCall(std::string_view method, const std::string& url,
                           const std::vector<std::pair<std::string, std::string>>& headers, std::string body,
                           const FetchOptions& options = {});

// Connections HttpCall made and calls that went on a kept one, since the process started.
struct FetchCounters {
  uint64_t made = 0;
  uint64_t reused = 0;
};
FetchCounters ConnectionCounters();

}  // namespace ehr::net
