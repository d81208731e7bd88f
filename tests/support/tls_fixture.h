// TLS for tests: certificate authorities and certificates made in-process with OpenSSL
// (written as PEM files in a temporary directory), and a blocking HTTPS client whose
// protocol versions, cipher suites and client certificate can be chosen, so that a test can
// show what a server accepts and what it refuses.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "support/http_client.h"

namespace ehr::testing {

enum class KeyType { kEcP256, kRsa2048 };

struct CertFiles {
  std::string cert;  // PEM certificate
  std::string key;   // PEM private key (unencrypted)
};

// A self-signed authority and the certificates it signs, all as files under `dir`.
class TestAuthority {
 public:
  TestAuthority(std::string dir, std::string name);
  ~TestAuthority();
  TestAuthority(const TestAuthority&) = delete;
  TestAuthority& operator=(const TestAuthority&) = delete;

  const std::string& cert_file() const { return cert_file_; }
  // A server certificate for localhost and 127.0.0.1 (files <name>.pem and <name>.key).
  CertFiles IssueServer(const std::string& name, KeyType key = KeyType::kEcP256) const;
  // A client certificate with common name `name`.
  CertFiles IssueClient(const std::string& name) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string cert_file_;
};

// A fresh directory, removed with everything in it.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct TlsClientOptions {
  int min_version = 0;  // OpenSSL version constants (TLS1_2_VERSION...); 0: library default
  int max_version = 0;
  std::string tls12_ciphers;  // OpenSSL cipher list for TLS 1.2 and older; empty: default
  std::string ca_file;        // the server's certificate must chain to it; empty: not verified
  CertFiles client;           // a client certificate to present; empty: none
  // OpenSSL's security level 0, so that the client offers what OpenSSL 3 otherwise refuses
  // to (TLS 1.0/1.1, SHA-1 signatures): to test that the server refuses them.
  bool legacy = false;
};

// One TLS connection to 127.0.0.1:port, HTTP/1.1 with keep-alive over it.
class HttpsClient {
 public:
  HttpsClient(uint16_t port, TlsClientOptions options = {});
  ~HttpsClient();

  // TCP connect and TLS handshake. False (and error() says why) when the handshake fails.
  bool Connect();
  const std::string& error() const { return error_; }
  std::string version() const;  // "TLSv1.3"
  std::string cipher() const;   // OpenSSL's name of the negotiated suite
  std::string server_name() const;  // the common name of the certificate the server presented

  // One request on the connection (Connect() first). Throws std::runtime_error on failure,
  // e.g. when the server ends the TLS session instead of answering.
  HttpResult Send(const std::string& method, const std::string& target, const std::string& body = "",
                  const std::vector<std::pair<std::string, std::string>>& headers = {});
  HttpResult Get(const std::string& target) { return Send("GET", target); }
  // Reads on after the server ended the connection: true when it ended the TLS session with a
  // close_notify alert (not merely closing TCP, which looks like truncation).
  bool ClosedWithNotify();
  // Asks for a TLS 1.2 renegotiation; false (and error() says why) when the server refuses.
  bool Renegotiate();
  // Connect() and one GET, or the error message: for tests that expect a refusal at any
  // point (TLS 1.3 reports a refused client certificate only after the handshake).
  std::pair<int, std::string> TryGet(const std::string& target);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string error_;
};

}  // namespace ehr::testing
