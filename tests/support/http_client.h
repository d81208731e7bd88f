// A small blocking HTTP/1.1 client for tests and tools: one keep-alive connection.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ehr::testing {

struct HttpResult {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string Header(const std::string& name) const;  // case-insensitive, "" when absent
};

// Percent-encodes `s` for a URL, leaving ASCII letters, digits and the characters of
// `keep` as they are (the default: RFC 3986's unreserved characters, for a query value).
std::string UrlEncode(std::string_view s, std::string_view keep = "-._~");

class HttpClient {
 public:
  HttpClient(std::string host, uint16_t port);
  ~HttpClient();
  // Sends one request on the kept-alive connection (reconnecting when the server closed it).
  // Throws std::runtime_error on network failure.
  HttpResult Send(const std::string& method, const std::string& target, const std::string& body = "",
                  const std::vector<std::pair<std::string, std::string>>& headers = {});
  HttpResult Get(const std::string& target, const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    return Send("GET", target, "", headers);
  }
  // Writes raw bytes and reads one response (for malformed-request tests).
  HttpResult SendRaw(const std::string& bytes);
  void Close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ehr::testing
