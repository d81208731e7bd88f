// HttpServer over TLS, over real sockets with certificates made here: which protocol versions
// and cipher suites it accepts (each refusal checked against a permissive server that
// accepts the same client, so that a client unable to offer them could not pass the test),
// that plaintext gets no answer, that keep-alive, deferral, limits, timeouts and graceful
// shutdown behave as over plain HTTP, the security headers, and client certificates.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstdio>

#include <atomic>
#include <filesystem>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <map>
#include <thread>

#include "net/server.h"
#include "support/tls_fixture.h"

namespace ehr::net {
namespace {

namespace asio = boost::asio;
using testing::CertFiles;
using testing::HttpsClient;
using testing::KeyType;
using testing::TestAuthority;
using testing::TlsClientOptions;

// Completes a TLS handshake with whatever a client offers (TLS 1.0 up, every suite OpenSSL
// has, RSA key exchange, DHE, CBC), then closes: the control for each refusal below.
class PermissiveTlsServer {
 public:
  explicit PermissiveTlsServer(const CertFiles& cert)
      : context_(asio::ssl::context::tls_server), acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    SSL_CTX* ctx = context_.native_handle();
    SSL_CTX_set_security_level(ctx, 0);
    SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
    SSL_CTX_set_cipher_list(ctx, "ALL:@SECLEVEL=0");
    SSL_CTX_set_dh_auto(ctx, 1);
    context_.use_certificate_chain_file(cert.cert);
    context_.use_private_key_file(cert.key, asio::ssl::context::pem);
    thread_ = std::thread([this] {
      while (!stop_) {
        asio::ssl::stream<asio::ip::tcp::socket> s(io_, context_);
        boost::system::error_code ec;
        acceptor_.accept(s.next_layer(), ec);
        if (ec || stop_) continue;
        s.handshake(asio::ssl::stream_base::server, ec);
      }
    });
  }
  ~PermissiveTlsServer() {
    stop_ = true;
    asio::ip::tcp::socket wake(io_);
    boost::system::error_code ec;
    wake.connect(acceptor_.local_endpoint(), ec);
    thread_.join();
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  asio::io_context io_;
  asio::ssl::context context_;
  asio::ip::tcp::acceptor acceptor_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// "sha256:<hex>" of the certificate in a PEM file, as the server names a client machine.
std::string Sha256Of(const std::string& pem_file) {
  FILE* f = std::fopen(pem_file.c_str(), "r");
  if (f == nullptr) return "(unreadable)";
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (cert == nullptr) return "(not a certificate)";
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  X509_digest(cert, EVP_sha256(), digest, &length);
  X509_free(cert);
  std::string out = "sha256:";
  char hex[3];
  for (unsigned int i = 0; i < length; ++i) {
    std::snprintf(hex, sizeof hex, "%02x", digest[i]);
    out += hex;
  }
  return out;
}

class TlsServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::ScratchDir;
    ca_ = new TestAuthority(dir_->path(), "test");
    other_ca_ = new TestAuthority(dir_->path(), "other");
    // RSA: so that a client offering only RSA key exchange could use this certificate, and
    // only the server's configuration stands in its way.
    rsa_server_ = new CertFiles(ca_->IssueServer("server-rsa", KeyType::kRsa2048));
    ec_server_ = new CertFiles(ca_->IssueServer("server-ec", KeyType::kEcP256));
  }
  static void TearDownTestSuite() {
    delete rsa_server_;
    delete ec_server_;
    delete other_ca_;
    delete ca_;
    delete dir_;
  }

  void StartServer(ServerOptions options = {}, const CertFiles* cert = rsa_server_) {
    options.port = 0;
    options.io_threads = 2;
    options.worker_threads = 4;
    options.access_log = false;
    options.tls.cert_file = cert->cert;
    options.tls.key_file = cert->key;
    options.run_inline = [](const Request& r) { return r.path == "/maybe"; };
    server_ = std::make_unique<HttpServer>(options, [this](Request& req) { return Handle(req); });
    Status started = server_->Start();
    ASSERT_TRUE(started.ok()) << started.message();
    thread_ = std::thread([this] { server_->Run(); });
  }
  void TearDown() override {
    if (server_) server_->Stop();
    if (thread_.joinable()) thread_.join();
  }
  Response Handle(Request& req) {
    Response r;
    r.route = "/echo";
    r.SetHeader("Content-Type", "application/fhir+json");
    if (req.path == "/slow") std::this_thread::sleep_for(std::chrono::milliseconds(400));
    if (req.path == "/maybe") {
      if (req.on_io_thread && req.query == "defer") return Response::Defer();
      r.body = std::string(req.on_io_thread ? "io" : "worker") + " " + std::to_string(calls_[req.query]++);
      return r;
    }
    if (req.path == "/keys") r.SetHeader("Cache-Control", "max-age=300");
    if (req.path == "/whoami") {
      r.body = "certificate=" + req.client_certificate;
      return r;
    }
    r.body = req.method + " " + req.path + " body=" + req.body;
    return r;
  }
  TlsClientOptions Trusting() const {
    TlsClientOptions o;
    o.ca_file = ca_->cert_file();
    return o;
  }
  uint16_t port() const { return server_->port(); }

  static testing::ScratchDir* dir_;
  static TestAuthority* ca_;
  static TestAuthority* other_ca_;
  static CertFiles* rsa_server_;
  static CertFiles* ec_server_;
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
  std::map<std::string, int> calls_;  // answered calls per query (one client at a time)
};

testing::ScratchDir* TlsServerTest::dir_ = nullptr;
TestAuthority* TlsServerTest::ca_ = nullptr;
TestAuthority* TlsServerTest::other_ca_ = nullptr;
CertFiles* TlsServerTest::rsa_server_ = nullptr;
CertFiles* TlsServerTest::ec_server_ = nullptr;

TEST_F(TlsServerTest, ServesTls12AndTls13WithForwardSecretAeadSuites) {
  for (const CertFiles* cert : {rsa_server_, ec_server_}) {
    StartServer({}, cert);
    for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
      TlsClientOptions o = Trusting();
      o.min_version = o.max_version = version;
      HttpsClient c(port(), o);
      ASSERT_TRUE(c.Connect()) << c.error();
      EXPECT_EQ(c.version(), version == TLS1_2_VERSION ? "TLSv1.2" : "TLSv1.3");
      if (version == TLS1_2_VERSION) {
        EXPECT_EQ(c.cipher().rfind("ECDHE-", 0), 0u) << c.cipher();
        EXPECT_TRUE(c.cipher().find("GCM") != std::string::npos || c.cipher().find("CHACHA20") != std::string::npos)
            << c.cipher();
      }
      auto r = c.Get("/echo");
      EXPECT_EQ(r.status, 200);
      EXPECT_EQ(r.body, "GET /echo body=");
    }
    TearDown();
  }
}

TEST_F(TlsServerTest, TheServerChoosesTheSuiteByItsOwnOrder) {
  StartServer();
  TlsClientOptions o = Trusting();
  o.max_version = TLS1_2_VERSION;
  o.tls12_ciphers = "ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256";
  HttpsClient c(port(), o);
  ASSERT_TRUE(c.Connect()) << c.error();
  EXPECT_EQ(c.cipher(), "ECDHE-RSA-AES128-GCM-SHA256") << "the client's first choice comes later in the server's list";
}

TEST_F(TlsServerTest, RefusesTls10AndTls11) {
  StartServer();
  PermissiveTlsServer control(*rsa_server_);
  for (int version : {TLS1_VERSION, TLS1_1_VERSION}) {
    TlsClientOptions o;
    o.legacy = true;
    o.min_version = o.max_version = version;
    HttpsClient to_control(control.port(), o);
    ASSERT_TRUE(to_control.Connect()) << "the client must be able to speak it: " << to_control.error();
    HttpsClient c(port(), o);
    EXPECT_FALSE(c.Connect()) << "version " << std::hex << version << " accepted";
  }
}

TEST_F(TlsServerTest, RefusesCbcSuitesRsaAndFiniteFieldKeyExchange) {
  StartServer();
  PermissiveTlsServer control(*rsa_server_);
  for (const char* suite : {"ECDHE-RSA-AES128-SHA256", "ECDHE-RSA-AES256-SHA", "AES128-GCM-SHA256",
                            "AES256-SHA256", "DHE-RSA-AES128-GCM-SHA256"}) {
    TlsClientOptions o;
    o.legacy = true;
    o.max_version = TLS1_2_VERSION;
    o.tls12_ciphers = suite;
    HttpsClient to_control(control.port(), o);
    ASSERT_TRUE(to_control.Connect()) << suite << " must be offered: " << to_control.error();
    HttpsClient c(port(), o);
    EXPECT_FALSE(c.Connect()) << suite << " accepted";
  }
}

TEST_F(TlsServerTest, RefusesRenegotiation) {
  StartServer();
  TlsClientOptions o = Trusting();
  o.max_version = TLS1_2_VERSION;
  HttpsClient c(port(), o);
  ASSERT_TRUE(c.Connect()) << c.error();
  EXPECT_EQ(c.Get("/a").status, 200);
  EXPECT_FALSE(c.Renegotiate());
}

TEST_F(TlsServerTest, PlaintextHttpGetsNoAnswer) {
  StartServer();
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  s.connect({asio::ip::make_address("127.0.0.1"), port()});
  asio::write(s, asio::buffer(std::string("GET /echo HTTP/1.1\r\nHost: localhost\r\n\r\n")));
  std::string reply;
  boost::system::error_code ec;
  asio::read(s, asio::dynamic_buffer(reply), ec);  // until the server closes
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
  EXPECT_EQ(reply.find("HTTP/"), std::string::npos) << reply;
  EXPECT_EQ(reply.find("echo"), std::string::npos) << reply;
  HttpsClient c(port(), Trusting());
  ASSERT_TRUE(c.Connect()) << c.error();
  EXPECT_EQ(c.Get("/after").status, 200) << "the server is unharmed";
}

TEST_F(TlsServerTest, KeepAliveAndDeferralOnOneConnection) {
  StartServer();
  HttpsClient c(port(), Trusting());
  ASSERT_TRUE(c.Connect()) << c.error();
  EXPECT_EQ(c.Get("/maybe?stay").body, "io 0");
  EXPECT_EQ(c.Get("/maybe?defer").body, "worker 0") << "deferred from the IO thread to a worker";
  EXPECT_EQ(c.Send("POST", "/b", "hello", {{"Content-Type", "text/plain"}}).body, "POST /b body=hello");
  for (int i = 0; i < 5; ++i) EXPECT_EQ(c.Get("/n").status, 200);  // a closed connection would throw
  EXPECT_EQ(c.Send("HEAD", "/h").status, 200);
  auto last = c.Send("GET", "/last", "", {{"Connection", "close"}});
  EXPECT_EQ(last.body, "GET /last body=");
  EXPECT_EQ(last.Header("Connection"), "close");
  EXPECT_TRUE(c.ClosedWithNotify()) << c.error();
}

TEST_F(TlsServerTest, OversizedBodyGets413) {
  ServerOptions o;
  o.max_body_bytes = 1000;
  StartServer(o);
  HttpsClient c(port(), Trusting());
  ASSERT_TRUE(c.Connect()) << c.error();
  auto r = c.Send("POST", "/b", std::string(5000, 'x'));
  EXPECT_EQ(r.status, 413);
  EXPECT_NE(r.body.find("OperationOutcome"), std::string::npos);
}

TEST_F(TlsServerTest, AClientThatNeverHandshakesTimesOut) {
  ServerOptions o;
  o.header_timeout = std::chrono::milliseconds(300);
  StartServer(o);
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  s.connect({asio::ip::make_address("127.0.0.1"), port()});
  auto start = std::chrono::steady_clock::now();
  char buf[64];
  boost::system::error_code ec;
  s.read_some(asio::buffer(buf), ec);
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(TlsServerTest, GracefulShutdownFinishesInFlightRequest) {
  StartServer();
  HttpsClient busy(port(), Trusting());
  HttpsClient idle(port(), Trusting());
  HttpsClient handshaken(port(), Trusting());
  ASSERT_TRUE(busy.Connect() && idle.Connect() && handshaken.Connect());
  EXPECT_EQ(idle.Get("/warm").status, 200);  // an idle keep-alive connection
  std::thread stopper([this] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    server_->Stop();
  });
  auto start = std::chrono::steady_clock::now();
  auto r = busy.Get("/slow");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("Connection"), "close");
  stopper.join();
  thread_.join();  // Run() returned: idle connections closed, the in-flight one finished
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3)) << "no wait for idle clients";
}

TEST_F(TlsServerTest, SecurityHeadersIncludeHsts) {
  StartServer();
  HttpsClient c(port(), Trusting());
  ASSERT_TRUE(c.Connect()) << c.error();
  auto r = c.Get("/fhir/Patient");
  EXPECT_EQ(r.Header("Strict-Transport-Security"), "max-age=31536000; includeSubDomains");
  EXPECT_EQ(r.Header("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(r.Header("X-Frame-Options"), "DENY");
  EXPECT_EQ(r.Header("Referrer-Policy"), "no-referrer");
  EXPECT_NE(r.Header("Content-Security-Policy").find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_EQ(r.Header("Cache-Control"), "no-store");
  EXPECT_EQ(c.Get("/keys").Header("Cache-Control"), "max-age=300") << "a handler's own Cache-Control is kept";
}

TEST_F(TlsServerTest, ClientCertificatesWhenRequired) {
  ServerOptions options;
  options.tls.client_ca_file = ca_->cert_file();
  StartServer(options);
  const CertFiles good = ca_->IssueClient("node-a");
  const CertFiles stranger = other_ca_->IssueClient("node-b");
  for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    TlsClientOptions none = Trusting();
    none.max_version = version;
    auto [status, error] = HttpsClient(port(), none).TryGet("/fhir/metadata");
    EXPECT_EQ(status, 0) << "no client certificate";
    TlsClientOptions foreign = none;
    foreign.client = stranger;
    std::tie(status, error) = HttpsClient(port(), foreign).TryGet("/fhir/metadata");
    EXPECT_EQ(status, 0) << "a certificate of another authority";
    TlsClientOptions member = none;
    member.client = good;
    std::tie(status, error) = HttpsClient(port(), member).TryGet("/fhir/metadata");
    EXPECT_EQ(status, 200) << error;
    // The handler sees which machine it is: the digest of its certificate.
    HttpsClient c(port(), member);
    ASSERT_TRUE(c.Connect()) << c.error();
    EXPECT_EQ(c.Get("/whoami").body, "certificate=" + Sha256Of(good.cert));
  }
}

// Asked for, not required: a client without a certificate is served and one with any
// certificate (another authority's, so nothing here could chain it) is named to the
// handlers; they decide (a federation's vault compares it with its peers' pins).
TEST_F(TlsServerTest, ClientCertificatesWhenRequestedAreNamedWhateverSignedThem) {
  ServerOptions options;
  options.tls.request_client_certificate = true;
  StartServer(options);
  const CertFiles stranger = other_ca_->IssueClient("node-b");
  for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    TlsClientOptions none = Trusting();
    none.max_version = version;
    HttpsClient anonymous(port(), none);
    ASSERT_TRUE(anonymous.Connect()) << anonymous.error();
    EXPECT_EQ(anonymous.Get("/whoami").body, "certificate=");
    TlsClientOptions foreign = none;
    foreign.client = stranger;
    HttpsClient c(port(), foreign);
    ASSERT_TRUE(c.Connect()) << c.error();
    EXPECT_EQ(c.Get("/whoami").body, "certificate=" + Sha256Of(stranger.cert));
  }
}

TEST_F(TlsServerTest, WithoutMutualTlsHandlersSeeNoCertificate) {
  StartServer();
  TlsClientOptions member = Trusting();
  member.client = ca_->IssueClient("node-c");  // offered, but not asked for
  HttpsClient c(port(), member);
  ASSERT_TRUE(c.Connect()) << c.error();
  EXPECT_EQ(c.Get("/whoami").body, "certificate=");
}

// A renewed certificate written over the files is taken up without a restart: new
// connections get it, an open one goes on with the old; files that do not load leave the
// server with what it has.
TEST_F(TlsServerTest, ARenewedCertificateIsLoadedWithoutARestart) {
  const std::string dir = dir_->path() + "/live";
  std::filesystem::create_directories(dir);
  const CertFiles live{dir + "/server.pem", dir + "/server.key"};
  auto install = [&](const CertFiles& from) {  // as a renewal tool does: new files renamed over the old
    std::filesystem::copy_file(from.cert, live.cert + ".new", std::filesystem::copy_options::overwrite_existing);
    std::filesystem::copy_file(from.key, live.key + ".new", std::filesystem::copy_options::overwrite_existing);
    std::filesystem::rename(live.key + ".new", live.key);
    std::filesystem::rename(live.cert + ".new", live.cert);
  };
  install(*rsa_server_);
  ServerOptions options;
  options.tls.reload_check = std::chrono::milliseconds(50);
  StartServer(options, &live);
  auto name_of_a_new_connection = [&] {
    HttpsClient c(port(), Trusting());
    return c.Connect() && c.Get("/x").status == 200 ? c.server_name() : "(failed: " + c.error() + ")";
  };
  EXPECT_EQ(name_of_a_new_connection(), "server-rsa");
  HttpsClient open(port(), Trusting());
  ASSERT_TRUE(open.Connect()) << open.error();
  EXPECT_EQ(open.Get("/x").status, 200);

  install(*ec_server_);
  std::string now;
  for (int i = 0; i < 200 && (now = name_of_a_new_connection()) != "server-ec"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(now, "server-ec") << "the renewed certificate within 4 s";
  EXPECT_EQ(open.Get("/x").status, 200) << "the open connection goes on";
  EXPECT_EQ(open.server_name(), "server-rsa");

  // A key that is not the certificate's: refused, and the server keeps the last good pair.
  std::filesystem::copy_file(rsa_server_->key, live.key, std::filesystem::copy_options::overwrite_existing);
  Status reloaded = server_->ReloadTls();
  EXPECT_EQ(reloaded.code(), Code::kInvalid) << reloaded.message();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the watcher saw it too
  EXPECT_EQ(name_of_a_new_connection(), "server-ec");
  // Put right: taken up on demand.
  std::filesystem::copy_file(ec_server_->key, live.key, std::filesystem::copy_options::overwrite_existing);
  EXPECT_TRUE(server_->ReloadTls().ok());
  EXPECT_EQ(name_of_a_new_connection(), "server-ec");
}

TEST_F(TlsServerTest, UnusableFilesStopTheStart) {
  auto start = [](TlsOptions tls) {
    ServerOptions o;
    o.tls = std::move(tls);
    HttpServer server(o, [](Request&) { return Response{}; });
    return server.Start();
  };
  Status missing = start({dir_->path() + "/absent.pem", rsa_server_->key, ""});
  EXPECT_EQ(missing.code(), Code::kInvalid);
  EXPECT_NE(missing.message().find("absent.pem"), std::string::npos) << missing.message();
  EXPECT_EQ(start({rsa_server_->cert, ec_server_->key, ""}).code(), Code::kInvalid) << "key of another certificate";
  EXPECT_EQ(start({rsa_server_->cert, rsa_server_->key, dir_->path() + "/absent-ca.pem"}).code(), Code::kInvalid);
  EXPECT_TRUE(start({rsa_server_->cert, rsa_server_->key, ca_->cert_file()}).ok());
}

}  // namespace
}  // namespace ehr::net
