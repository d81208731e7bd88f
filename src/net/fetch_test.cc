// net::HttpGet over real sockets: HTTPS to a TLS server with a certificate made here (a
// CA file that signs it is accepted, the system's authorities and a wrong host name are
// not), plain HTTP to loopback only, and URLs that are refused before any connection.
#include "net/fetch.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "net/certificate.h"
#include "net/server.h"

namespace ehr::net {
namespace {

namespace asio = boost::asio;

// A self-signed certificate for DNS:localhost and its key, as PEM files in a fresh directory.
struct TestCertificate {
  std::filesystem::path dir;
  std::string cert, key;

  TestCertificate() {
    static int made = 0;
    dir = std::filesystem::temp_directory_path() /
          ("fetch_test_" + std::to_string(::getpid()) + "_" + std::to_string(made++));
    std::filesystem::create_directories(dir);
    cert = (dir / "cert.pem").string();
    key = (dir / "key.pem").string();
    EVP_PKEY* pkey = EVP_EC_gen("P-256");
    X509* x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, pkey);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
    for (auto [nid, value] : {std::pair{NID_subject_alt_name, "DNS:localhost"}, std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
      X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
      X509_add_ext(x, ext, -1);
      X509_EXTENSION_free(ext);
    }
    X509_sign(x, pkey, EVP_sha256());
    FILE* f = std::fopen(cert.c_str(), "w");
    PEM_write_X509(f, x);
    std::fclose(f);
    f = std::fopen(key.c_str(), "w");
    PEM_write_PrivateKey(f, pkey, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
    X509_free(x);
    EVP_PKEY_free(pkey);
  }
  ~TestCertificate() { std::filesystem::remove_all(dir); }
};

// Answers each TLS connection with 200 and `body`, until stopped.
class TlsServer {
 public:
  TlsServer(const TestCertificate& c, std::string body)
      : tls_(asio::ssl::context::tls_server), acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}), body_(std::move(body)) {
    tls_.use_certificate_chain_file(c.cert);
    tls_.use_private_key_file(c.key, asio::ssl::context::pem);
    thread_ = std::thread([this] { Serve(); });
  }
  ~TlsServer() {
    stop_ = true;
    asio::ip::tcp::socket poke(io_);
    boost::system::error_code ec;
    poke.connect(acceptor_.local_endpoint(), ec);  // wakes the accept
    thread_.join();
  }
  int port() const { return acceptor_.local_endpoint().port(); }

 private:
  void Serve() {
    while (!stop_) {
      asio::ssl::stream<asio::ip::tcp::socket> s(io_, tls_);
      boost::system::error_code ec;
      acceptor_.accept(s.lowest_layer(), ec);
      if (ec || stop_) continue;
      s.handshake(asio::ssl::stream_base::server, ec);
      if (ec) continue;  // the client refused our certificate
      asio::streambuf request;
      asio::read_until(s, request, "\r\n\r\n", ec);
      const std::string response =
          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body_.size()) +
          "\r\nConnection: close\r\n\r\n" + body_;
      asio::write(s, asio::buffer(response), ec);
      s.shutdown(ec);
    }
  }

  asio::io_context io_;
  asio::ssl::context tls_;
  asio::ip::tcp::acceptor acceptor_;
  std::string body_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST(Fetch, HttpsIsVerifiedAgainstTheGivenAuthorityAndHostName) {
  const TestCertificate cert;
  TlsServer server(cert, R"({"keys":[]})");
  const std::string url = "https://localhost:" + std::to_string(server.port()) + "/certs";
  FetchOptions trusted;
  trusted.ca_file = cert.cert;
  auto ok = HttpGet(url, trusted);
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(*ok, R"({"keys":[]})");
  auto unknown_ca = HttpGet(url);
  EXPECT_EQ(unknown_ca.status().code(), Code::kUnavailable) << "a certificate no system authority signed";
  auto wrong_host = HttpGet("https://127.0.0.1:" + std::to_string(server.port()) + "/certs", trusted);
  EXPECT_EQ(wrong_host.status().code(), Code::kUnavailable) << "the certificate is for localhost only";
}

// A federation's calls: the server's certificate is pinned (self-signed, and reached by an
// address its certificate does not name: the pin is what counts), and the caller presents
// its own to a server that asks for one (net::HttpServer, TlsOptions::
// request_client_certificate), which names it to its handler.
TEST(Fetch, PinnedCertificatesStandInForAuthoritiesAndTheCallerPresentsItsOwn) {
  const TestCertificate server_cert, client_cert, stranger;
  ServerOptions options;
  options.tls.cert_file = server_cert.cert;
  options.tls.key_file = server_cert.key;
  options.tls.request_client_certificate = true;
  HttpServer server(options, [](Request& req) {
    Response r;
    r.status = 200;
    r.body = req.client_certificate.empty() ? "none" : req.client_certificate;
    return r;
  });
  ASSERT_TRUE(server.Start().ok());
  std::thread runner([&] { server.Run(); });
  const std::string url = "https://127.0.0.1:" + std::to_string(server.port()) + "/whoami";
  const std::string server_pin = *CertificateFileDigest(server_cert.cert);
  const std::string client_pin = *CertificateFileDigest(client_cert.cert);
  EXPECT_TRUE(IsCertificateDigest(server_pin)) << server_pin;
  EXPECT_NE(server_pin, client_pin);

  FetchOptions pinned;
  pinned.pinned_certificates = {*CertificateFileDigest(stranger.cert), server_pin};
  auto anonymous = HttpCall("GET", url, {}, {}, pinned);
  ASSERT_TRUE(anonymous.ok()) << anonymous.status().message();
  EXPECT_EQ(anonymous->body, "none");

  FetchOptions mutual = pinned;
  mutual.client_cert_file = client_cert.cert;
  mutual.client_key_file = client_cert.key;
  auto named = HttpCall("GET", url, {}, {}, mutual);
  ASSERT_TRUE(named.ok()) << named.status().message();
  EXPECT_EQ(named->body, client_pin);

  FetchOptions other = mutual;
  other.pinned_certificates = {*CertificateFileDigest(stranger.cert)};
  auto refused = HttpCall("GET", url, {}, {}, other);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kUnavailable);
  EXPECT_NE(refused.status().message().find("not one of those pinned"), std::string::npos) << refused.status().message();
  EXPECT_EQ(HttpCall("GET", url, {}, {}, FetchOptions{}).status().code(), Code::kUnavailable)
      << "without the pin, a self-signed certificate is not trusted";

  FetchOptions missing_key = mutual;
  missing_key.client_key_file = client_cert.dir.string() + "/absent.pem";
  EXPECT_EQ(HttpCall("GET", url, {}, {}, missing_key).status().code(), Code::kUnavailable);
  server.Stop();
  runner.join();
}

// GETs to one place go on one kept connection; other methods get their own; a kept
// connection the server closed (it restarted) is replaced and the GET still answered.
TEST(Fetch, GetsGoOnAKeptConnectionAndOneTheServerClosedIsReplaced) {
  auto serve = [](uint16_t port) {
    ServerOptions options;
    options.port = port;
    auto server = std::make_unique<HttpServer>(options, [](Request& req) {
      Response r;
      r.status = 200;
      r.body = req.method;
      return r;
    });
    EXPECT_TRUE(server->Start().ok());
    return server;
  };
  std::unique_ptr<HttpServer> server = serve(0);
  const uint16_t port = server->port();
  std::thread runner([&] { server->Run(); });
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/x";
  const FetchCounters before = ConnectionCounters();
  for (int i = 0; i < 3; ++i) {
    auto got = HttpCall("GET", url, {}, {}, {});
    ASSERT_TRUE(got.ok()) << got.status().message();
    EXPECT_EQ(got->body, "GET");
  }
  FetchCounters after = ConnectionCounters();
  EXPECT_EQ(after.made - before.made, 1u) << "three GETs, one connection";
  EXPECT_EQ(after.reused - before.reused, 2u);
  auto posted = HttpCall("POST", url, {}, "{}", {});
  ASSERT_TRUE(posted.ok()) << posted.status().message();
  EXPECT_EQ(ConnectionCounters().made - after.made, 1u) << "a POST on a connection of its own";

  server->Stop();
  runner.join();
  server = serve(port);  // the same place, restarted: the kept connection is gone
  std::thread again([&] { server->Run(); });
  after = ConnectionCounters();
  auto got = HttpCall("GET", url, {}, {}, {});
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->body, "GET");
  EXPECT_EQ(ConnectionCounters().made - after.made, 1u) << "replaced by a new connection";
  server->Stop();
  again.join();
}

// A server that accepts connections and never answers (a hung node) holds a call no
// longer than its timeout: over plain HTTP, and over TLS where the handshake never comes.
TEST(Fetch, AServerThatNeverAnswersCannotHoldTheCaller) {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  std::vector<asio::ip::tcp::socket> held;
  std::atomic<bool> stop{false};
  std::thread server([&] {
    while (!stop) {
      asio::ip::tcp::socket s(io);
      boost::system::error_code ec;
      acceptor.accept(s, ec);
      if (!ec) held.push_back(std::move(s));  // accepted, never read from or written to
    }
  });
  const std::string port = std::to_string(acceptor.local_endpoint().port());
  FetchOptions quick;
  quick.timeout_ms = 300;
  for (const std::string url : {"http://127.0.0.1:" + port + "/x", "https://127.0.0.1:" + port + "/x"}) {
    const auto start = std::chrono::steady_clock::now();
    auto got = HttpCall("GET", url, {}, {}, quick);
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(got.status().code(), Code::kUnavailable) << url;
    EXPECT_LT(took, std::chrono::seconds(3)) << url << ": the timeout bounds the call";
    EXPECT_GE(took, std::chrono::milliseconds(250)) << url;
  }
  stop = true;
  asio::ip::tcp::socket poke(io);
  boost::system::error_code ec;
  poke.connect(acceptor.local_endpoint(), ec);  // wakes the accept
  server.join();
}

TEST(Fetch, CertificateDigestsAreWrittenOneWay) {
  EXPECT_TRUE(IsCertificateDigest("sha256:" + std::string(64, 'a')));
  EXPECT_FALSE(IsCertificateDigest("sha256:" + std::string(64, 'A'))) << "lower-case hex only";
  EXPECT_FALSE(IsCertificateDigest("sha256:" + std::string(63, 'a')));
  EXPECT_FALSE(IsCertificateDigest("sha1:" + std::string(64, 'a')));
  EXPECT_FALSE(CertificateFileDigest("/nonexistent.pem").ok());
}

TEST(Fetch, UrlsAreCheckedBeforeAnyConnection) {
  EXPECT_EQ(HttpGet("ftp://example.org/x").status().code(), Code::kInvalid);
  EXPECT_EQ(HttpGet("http://example.org/certs").status().code(), Code::kInvalid) << "plain http off loopback";
  EXPECT_EQ(HttpGet("https://user@example.org/").status().code(), Code::kInvalid);
  EXPECT_EQ(HttpGet("https://example.org:x/").status().code(), Code::kInvalid);
  auto url = ParseUrl("https://sso.example.org:8443/realms/h/certs?x=1");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->host, "sso.example.org");
  EXPECT_EQ(url->port, "8443");
  EXPECT_EQ(url->target, "/realms/h/certs?x=1");
  EXPECT_EQ(ParseUrl("https://sso.example.org")->target, "/");
  EXPECT_EQ(HttpGet("http://127.0.0.1:1/").status().code(), Code::kUnavailable) << "nobody listens";
}

}  // namespace
}  // namespace ehr::net
