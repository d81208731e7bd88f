#include "net/server.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <boost/asio.hpp>
#include <map>
#include <thread>

#include "support/http_client.h"

namespace ehr::net {
namespace {

using testing::HttpClient;

class ServerTest : public ::testing::Test {
 protected:
  void StartServer(ServerOptions options = {}) {
    options.port = 0;
    options.io_threads = 2;
    options.worker_threads = 4;
    options.access_log = false;
    options.run_inline = [](const Request& r) { return r.path == "/healthz" || r.path == "/maybe"; };
    server_ = std::make_unique<HttpServer>(options, [this](Request& req) { return Handle(req); });
    ASSERT_TRUE(server_->Start().ok());
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
      // Inline first; "defer" sends it to a worker, which answers where it ran.
      if (req.on_io_thread && req.query == "defer") return Response::Defer();
      r.body = std::string(req.on_io_thread ? "io" : "worker") + " " + std::to_string(calls_[req.query]++);
      return r;
    }
    if (req.path == "/page") {
      r.SetHeader("Content-Security-Policy", "default-src 'none'; form-action 'self'");
      r.SetHeader("Cache-Control", "private, max-age=60");
    }
    if (req.path == "/big") {
      r.body = "{\"x\":\"" + std::string(5000, 'a') + "\"}";
      return r;
    }
    r.body = req.method + " " + req.path + " ?" + req.query + " body=" + req.body;
    return r;
  }

  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
  std::map<std::string, int> calls_;  // answered calls per query (one client at a time)
};

TEST_F(ServerTest, AnInlineHandlerThatWouldBlockDefersToAWorker) {
  StartServer();
  HttpClient c("127.0.0.1", server_->port());
  EXPECT_EQ(c.Get("/maybe?stay").body, "io 0");
  EXPECT_EQ(c.Get("/maybe?defer").body, "worker 0") << "run again, once, on a worker";
  EXPECT_EQ(c.Get("/maybe?defer").body, "worker 1");
  EXPECT_EQ(c.Get("/echo").body, "GET /echo ? body=") << "other requests as before";
}

TEST_F(ServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  StartServer();
  HttpClient c("127.0.0.1", server_->port());
  auto a = c.Get("/a?x=1");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, "GET /a ?x=1 body=");
  auto b = c.Send("POST", "/b", "hello", {{"Content-Type", "text/plain"}});
  EXPECT_EQ(b.body, "POST /b ? body=hello");
  EXPECT_EQ(a.Header("X-Request-Id").size(), 16u);
}

TEST_F(ServerTest, EchoesValidRequestIdAndReplacesInvalidOne) {
  StartServer();
  HttpClient c("127.0.0.1", server_->port());
  EXPECT_EQ(c.Get("/x", {{"X-Request-Id", "abc-123"}}).Header("X-Request-Id"), "abc-123");
  EXPECT_NE(c.Get("/x", {{"X-Request-Id", "bad id\"<>"}}).Header("X-Request-Id"), "bad id\"<>");
}

TEST_F(ServerTest, RejectsOversizedBodyWith413) {
  ServerOptions o;
  o.max_body_bytes = 1000;
  StartServer(o);
  HttpClient c("127.0.0.1", server_->port());
  auto r = c.Send("POST", "/b", std::string(5000, 'x'));
  EXPECT_EQ(r.status, 413);
  EXPECT_NE(r.body.find("OperationOutcome"), std::string::npos);
}

TEST_F(ServerTest, GzipWhenAccepted) {
  StartServer();
  HttpClient c("127.0.0.1", server_->port());
  auto plain = c.Get("/big");
  EXPECT_EQ(plain.Header("Content-Encoding"), "");
  auto gz = c.Get("/big", {{"Accept-Encoding", "gzip, deflate"}});
  EXPECT_EQ(gz.Header("Content-Encoding"), "gzip");
  EXPECT_LT(gz.body.size(), plain.body.size());
  // Decompress and compare.
  z_stream zs{};
  ASSERT_EQ(inflateInit2(&zs, 15 + 16), Z_OK);
  std::string out(plain.body.size() + 10, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(gz.body.data());
  zs.avail_in = static_cast<uInt>(gz.body.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  inflateEnd(&zs);
  EXPECT_EQ(out, plain.body);
}

TEST_F(ServerTest, CorsPreflightAndHeaders) {
  StartServer();
  HttpClient c("127.0.0.1", server_->port());
  auto pre = c.Send("OPTIONS", "/fhir/Patient", "",
                    {{"Origin", "https://app.example"}, {"Access-Control-Request-Method", "POST"},
                     {"Access-Control-Request-Headers", "content-type,authorization"}});
  EXPECT_EQ(pre.status, 204);
  EXPECT_EQ(pre.Header("Access-Control-Allow-Origin"), "*");
  EXPECT_EQ(pre.Header("Access-Control-Allow-Headers"), "content-type,authorization");
  auto r = c.Get("/x", {{"Origin", "https://app.example"}});
  EXPECT_EQ(r.Header("Access-Control-Allow-Origin"), "*");
  EXPECT_NE(r.Header("Access-Control-Expose-Headers").find("ETag"), std::string::npos);
}

TEST_F(ServerTest, SecurityHeadersOnEveryResponseAndNoHstsOverPlainHttp) {
  StartServer();
  HttpClient c("127.0.0.1", server_->port());
  for (const auto& r : {c.Get("/fhir/Patient"), c.Send("POST", "/x", std::string(5000, 'x'), {}),
                        c.Send("OPTIONS", "/fhir/Patient", "",
                               {{"Origin", "https://app.example"}, {"Access-Control-Request-Method", "GET"}})}) {
    EXPECT_EQ(r.Header("X-Content-Type-Options"), "nosniff");
    EXPECT_EQ(r.Header("X-Frame-Options"), "DENY");
    EXPECT_EQ(r.Header("Referrer-Policy"), "no-referrer");
    EXPECT_EQ(r.Header("Content-Security-Policy"),
              "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
    EXPECT_EQ(r.Header("Cache-Control"), "no-store");
    EXPECT_EQ(r.Header("Strict-Transport-Security"), "") << "HSTS over plain HTTP would mean nothing";
  }
  auto page = c.Get("/page");
  EXPECT_EQ(page.Header("Content-Security-Policy"), "default-src 'none'; form-action 'self'") << "the handler's own";
  EXPECT_EQ(page.Header("Cache-Control"), "private, max-age=60") << "the handler's own";
}

TEST_F(ServerTest, HeadHasNoBodyButLength) {
  StartServer();
  HttpClient c("127.0.0.1", server_->port());
  auto r = c.Send("HEAD", "/big");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(r.Header("Content-Length"), "5008");
  EXPECT_EQ(c.Get("/a").status, 200);  // connection still usable
}

TEST_F(ServerTest, MalformedRequestClosesConnectionWithoutCrash) {
  StartServer();
  HttpClient c("127.0.0.1", server_->port());
  EXPECT_THROW(c.SendRaw("NOT HTTP AT ALL\r\n\r\n"), std::exception);
  HttpClient d("127.0.0.1", server_->port());
  EXPECT_EQ(d.Get("/ok").status, 200);
}

TEST_F(ServerTest, GracefulShutdownFinishesInFlightRequest) {
  StartServer();
  HttpClient c("127.0.0.1", server_->port());
  HttpClient idle("127.0.0.1", server_->port());
  EXPECT_EQ(idle.Get("/warm").status, 200);  // an idle keep-alive connection
  std::thread stopper([this] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    server_->Stop();
  });
  auto r = c.Get("/slow");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("Connection"), "close");
  stopper.join();
  thread_.join();  // Run() returned: idle connection was closed, in-flight one finished
}

TEST_F(ServerTest, SlowHeadersTimeOut) {
  ServerOptions o;
  o.header_timeout = std::chrono::milliseconds(300);
  StartServer(o);
  namespace asio = boost::asio;
  asio::io_context ioc;
  asio::ip::tcp::socket s(ioc);
  s.connect({asio::ip::make_address("127.0.0.1"), server_->port()});
  asio::write(s, asio::buffer(std::string("GET /a HTTP/1.1\r\nHost: x\r\n")));  // never finished
  auto start = std::chrono::steady_clock::now();
  char buf[64];
  boost::system::error_code ec;
  s.read_some(asio::buffer(buf), ec);  // returns when the server closes the connection
  auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
  EXPECT_LT(waited, std::chrono::seconds(5));
}

}  // namespace
}  // namespace ehr::net
