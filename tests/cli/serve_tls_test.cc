// `ehr serve --tls-cert --tls-key` as a real process: it serves HTTPS (and says so in its
// start-up line) with HSTS, and loads renewed files on SIGHUP; either flag alone, or
// --tls-client-ca without them, stops the start with a message.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "support/ehr_process.h"
#include "support/tls_fixture.h"

namespace ehr::testing {
namespace {

TEST(ServeTls, ServesHttpsWithHsts) {
  ScratchDir dir;
  TestAuthority ca(dir.path(), "demo");
  CertFiles cert = ca.IssueServer("server");
  EhrProcess server = EhrProcess::Serve({"--data", dir.path() + "/data", "--auth", "off", "--access-log", "off",
                                         "--tls-cert", cert.cert, "--tls-key", cert.key});
  ASSERT_NE(server.port, 0) << server.output;
  EXPECT_NE(server.output.find("https://127.0.0.1:"), std::string::npos) << server.output;
  TlsClientOptions options;
  options.ca_file = ca.cert_file();
  HttpsClient c(server.port, options);
  ASSERT_TRUE(c.Connect()) << c.error();
  auto metadata = c.Get("/fhir/metadata");
  EXPECT_EQ(metadata.status, 200);
  EXPECT_EQ(metadata.Header("Strict-Transport-Security"), "max-age=31536000; includeSubDomains");
  auto search = c.Get("/fhir/Patient");
  EXPECT_EQ(search.status, 200) << search.body;
  EXPECT_EQ(search.Header("Cache-Control"), "no-store");
  EXPECT_EQ(server.Stop(SIGTERM), 0);
}

// A renewed certificate copied over the files, then SIGHUP: the next connection gets it,
// and the server goes on (SIGHUP is not a stop).
TEST(ServeTls, SighupLoadsARenewedCertificate) {
  ScratchDir dir;
  TestAuthority ca(dir.path(), "demo");
  const CertFiles first = ca.IssueServer("first"), renewed = ca.IssueServer("renewed");
  const CertFiles live{dir.path() + "/live.pem", dir.path() + "/live.key"};
  auto install = [&](const CertFiles& from) {
    std::filesystem::copy_file(from.cert, live.cert, std::filesystem::copy_options::overwrite_existing);
    std::filesystem::copy_file(from.key, live.key, std::filesystem::copy_options::overwrite_existing);
  };
  install(first);
  EhrProcess server = EhrProcess::Serve({"--data", dir.path() + "/data", "--auth", "off", "--access-log", "off",
                                         "--tls-cert", live.cert, "--tls-key", live.key});
  ASSERT_NE(server.port, 0) << server.output;
  TlsClientOptions options;
  options.ca_file = ca.cert_file();
  auto name = [&] {
    HttpsClient c(server.port, options);
    return c.Connect() && c.Get("/healthz").status == 200 ? c.server_name() : "(failed: " + c.error() + ")";
  };
  EXPECT_EQ(name(), "first");
  install(renewed);
  ASSERT_EQ(::kill(server.pid, SIGHUP), 0);
  std::string now;
  for (int i = 0; i < 100 && (now = name()) != "renewed"; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(now, "renewed");
  EXPECT_EQ(server.Stop(SIGTERM), 0);
}

// Mutual TLS: the client machine's certificate (its SHA-256) is in the access log line and
// in the audit entry of what it did, as the client agent of the AuditEvent.
TEST(ServeTls, TheClientCertificateIsLoggedAndAudited) {
  ScratchDir dir;
  TestAuthority ca(dir.path(), "demo");
  const CertFiles cert = ca.IssueServer("server"), node = ca.IssueClient("node-uk");
  const std::string log = dir.path() + "/ehr.log";
  EhrProcess server = EhrProcess::Serve({"--data", dir.path() + "/data", "--auth", "off", "--tls-cert", cert.cert,
                                         "--tls-key", cert.key, "--tls-client-ca", ca.cert_file()},
                                        {}, log);
  ASSERT_NE(server.port, 0) << server.output;
  TlsClientOptions options;
  options.ca_file = ca.cert_file();
  options.client = node;
  HttpsClient c(server.port, options);
  ASSERT_TRUE(c.Connect()) << c.error();
  ASSERT_EQ(c.Get("/fhir/Patient?gender=female").status, 200);
  auto events = c.Get("/fhir/AuditEvent?_count=100");
  ASSERT_EQ(events.status, 200) << events.body;
  const size_t at = events.body.find("TLS client certificate sha256:");
  ASSERT_NE(at, std::string::npos) << events.body.substr(0, 2000);
  const std::string digest = events.body.substr(at + 23, 7 + 64);  // "sha256:" and 64 hex digits
  EXPECT_EQ(server.Stop(SIGTERM), 0);
  std::ifstream in(log);
  const std::string lines((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(lines.find("\"client_certificate\":\"" + digest + "\""), std::string::npos) << lines;
}

TEST(ServeTls, IncompleteTlsFlagsStopTheStart) {
  ScratchDir dir;
  TestAuthority ca(dir.path(), "demo");
  CertFiles cert = ca.IssueServer("server");
  const std::vector<std::vector<std::string>> incomplete = {
      {"--tls-cert", cert.cert}, {"--tls-key", cert.key}, {"--tls-client-ca", ca.cert_file()}};
  for (const auto& flags : incomplete) {
    std::vector<std::string> args = {"--data", dir.path() + "/data", "--auth", "off"};
    args.insert(args.end(), flags.begin(), flags.end());
    EhrProcess server = EhrProcess::Serve(args);
    ASSERT_EQ(server.port, 0) << flags[0] << " alone must not start";
    EXPECT_EQ(server.Wait(), 2);
    EXPECT_NE(server.output.find("--tls-"), std::string::npos) << server.output;
  }
  EhrProcess bad_key = EhrProcess::Serve(
      {"--data", dir.path() + "/data", "--auth", "off", "--tls-cert", cert.cert, "--tls-key", ca.cert_file()});
  ASSERT_EQ(bad_key.port, 0) << "a certificate is not a key";
  EXPECT_EQ(bad_key.Wait(), 2);
  EXPECT_NE(bad_key.output.find("private key"), std::string::npos) << bad_key.output;
}

}  // namespace
}  // namespace ehr::testing
