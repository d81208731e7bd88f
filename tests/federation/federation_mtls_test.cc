// Mutual TLS between a federation's nodes, as separate processes on loopback (issues 7 and
// 9): the MPI, the UK vault and the FR gateway each serve HTTPS with a certificate of their
// own, pinned in the federation file by its digest (`ehr federation certificate`), and
// present it on their calls to each other. A clinician's lookup works end to end with
// every node-to-node call over mutual TLS and the vault's log names the gateway's
// certificate; a node whose certificate is not the pinned one does not start; the
// gateway's key (its node tokens) without its certificate gets nothing from the MPI; and a
// gateway that pins another certificate for the vault does not talk to it.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "fhir/json/value.h"
#include "support/ehr_process.h"
#include "support/free_port.h"
#include "support/http_client.h"
#include "support/test_server.h"
#include "support/tls_fixture.h"

namespace ehr::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kNhs[] = "9434765919";  // valid (mod 11)
constexpr char kNhsSystem[] = "https://fhir.nhs.uk/Id/nhs-number";

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

json::Value ParseOrDie(const std::string& text) {
  auto v = json::Parse(text);
  if (!v.ok()) throw std::runtime_error("not JSON: " + text.substr(0, 200));
  return std::move(*v);
}

enum Node { kMpi, kUk, kGw };
constexpr const char* kDirs[] = {"mpi", "uk", "gw"};
constexpr const char* kNames[] = {"mpi", "vault-uk", "gateway-fr"};

class FederationMtlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(dir_.path());
    for (const char* d : kDirs) fs::create_directories(root_ / d);
    fs::create_directories(root_ / "tls");
    authority_ = std::make_unique<TestAuthority>((root_ / "tls").string(), "federation test authority");
    while (ports_.size() < 3) {
      const uint16_t port = FreePort();
      if (std::find(ports_.begin(), ports_.end(), port) == ports_.end()) ports_.push_back(port);
    }
    for (int i = 0; i < 3; ++i) {
      certs_[i] = authority_->IssueServer(kDirs[i]);
      auto [pinned, pin] = RunEhr("federation certificate " + certs_[i].cert);
      ASSERT_EQ(pinned, 0) << pin;
      pins_[i] = LastLine(pin);
      keys_[i] = NodeKey((root_ / kDirs[i]).string());
    }
    stranger_ = authority_->IssueServer("stranger");
    WritePepper((root_ / "pepper").string());
    WriteFederation("federation.json", pins_);
    auto [added, added_out] = RunCommand("EHR_USER_PASSWORD='Correct-Horse-Battery-9' " + std::string(std::getenv("EHR_BINARY")) +
                                         " user add --data " + (root_ / "gw").string() + " --user dr-fr --roles DOCTOR 2>&1");
    ASSERT_EQ(added, 0) << added_out;
    auto [minted, token] = RunEhr("token --data " + (root_ / "gw").string() + " --user dr-fr 2>/dev/null");
    ASSERT_EQ(minted, 0) << token;
    token_ = LastLine(token);
  }

  void TearDown() override {
    for (EhrProcess* p : {&gw_, &uk_, &mpi_}) {
      if (p->port != 0 && p->pid > 0) p->Stop(SIGTERM);
    }
  }

  // A federation file whose nodes are pinned to `pins` ("" leaves a node unpinned).
  void WriteFederation(const std::string& file, const std::string (&pins)[3]) {
    std::ofstream out(root_ / file);
    out << R"({"deadlineMs": 3000, "nodes": [)";
    for (int i = 0; i < 3; ++i) {
      out << (i ? "," : "") << R"({"name":")" << kNames[i] << R"(","role":")"
          << (i == kMpi ? "mpi" : i == kUk ? "vault" : "gateway") << '"'
          << (i == kUk ? R"(,"region":"uk")" : i == kGw ? R"(,"region":"fr")" : "") << R"(,"url":"https://127.0.0.1:)"
          << ports_[i] << R"(","key":")" << keys_[i] << '"';
      if (!pins[i].empty()) out << R"(,"certificates":[")" << pins[i] << R"("])";
      out << "}";
    }
    out << "]}";
  }

  std::vector<std::string> Args(int i, const std::string& federation, const CertFiles& cert) {
    std::vector<std::string> args = {"--listen",     "127.0.0.1:" + std::to_string(ports_[i]),
                                     "--data",       (root_ / kDirs[i]).string(),
                                     "--federation", (root_ / federation).string(),
                                     "--role",       i == kMpi ? "mpi" : i == kUk ? "vault" : "gateway",
                                     "--node",       kNames[i],
                                     "--tls-cert",   cert.cert,
                                     "--tls-key",    cert.key};
    if (i != kMpi) {
      args.push_back("--federation-pepper-file");
      args.push_back((root_ / "pepper").string());
    }
    if (i == kUk) {
      args.push_back("--auth");
      args.push_back("off");
    }
    return args;
  }

  EhrProcess Start(int i, const std::string& federation = "federation.json") {
    EhrProcess p = EhrProcess::Serve(Args(i, federation, certs_[i]), {}, (root_ / (std::string(kDirs[i]) + ".log")).string());
    EXPECT_NE(p.port, 0) << p.output;
    return p;
  }

  TlsClientOptions Trusting() const {
    TlsClientOptions o;
    o.ca_file = authority_->cert_file();
    return o;
  }

  HttpResult Gateway(const std::string& target) {
    HttpsClient c(gw_.port, Trusting());
    if (!c.Connect()) throw std::runtime_error("gateway: " + c.error());
    return c.Send("GET", target, "", {{"Authorization", "Bearer " + token_}});
  }

  // $locate until it names a region (the vault registers its patients in the background).
  HttpResult LocateUntilFound() {
    HttpResult r;
    for (int i = 0; i < 100; ++i) {
      r = Gateway("/fhir/Patient/$locate?identifier=" + UrlEncode(std::string(kNhsSystem) + "|" + kNhs));
      if (r.status == 200 && r.body.find("\"uk\"") != std::string::npos) return r;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return r;
  }

  TempDir dir_;
  fs::path root_;
  std::unique_ptr<TestAuthority> authority_;
  std::vector<uint16_t> ports_;
  CertFiles certs_[3], stranger_;
  std::string pins_[3], keys_[3], token_;
  EhrProcess mpi_, uk_, gw_;
};

TEST_F(FederationMtlsTest, ALookupCrossesTheBorderWithEveryCallOverMutualTls) {
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(pins_[i].starts_with("sha256:") && pins_[i].size() == 71) << pins_[i];
  mpi_ = Start(kMpi);
  uk_ = Start(kUk);
  gw_ = Start(kGw);
  ASSERT_NE(gw_.port, 0);
  HttpsClient vault(uk_.port, Trusting());
  ASSERT_TRUE(vault.Connect()) << vault.error() << " (a vault that asks for certificates serves clients without one)";
  HttpResult created = vault.Send("POST", "/fhir/Patient",
                                  R"({"resourceType":"Patient","name":[{"family":"Quellbrunnen"}],"identifier":[{"system":")" +
                                      std::string(kNhsSystem) + R"(","value":")" + kNhs + R"("}]})",
                                  {{"Content-Type", "application/fhir+json"}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string patient(ParseOrDie(created.body).GetString("id"));

  // The vault registered the pseudonym at the MPI (vault -> MPI), the gateway found it there
  // (gateway -> MPI) and read the record from the vault (gateway -> vault).
  HttpResult located = LocateUntilFound();
  ASSERT_EQ(located.status, 200) << located.body;
  HttpResult all = Gateway("/fhir/Patient/$federated-everything?identifier=" + UrlEncode(std::string(kNhsSystem) + "|" + kNhs));
  ASSERT_EQ(all.status, 200) << all.body;
  json::Value bundle = ParseOrDie(all.body);
  ASSERT_NE(bundle.Find("entry"), nullptr) << all.body;
  ASSERT_EQ(bundle.Find("entry")->as_array().size(), 1u) << all.body;
  EXPECT_EQ(bundle.Find("entry")->as_array()[0].Find("resource")->GetString("id"), patient);

  // Each side named the other's certificate: the vault's and the MPI's access logs carry
  // the gateway's, the MPI's the vault's (read once they stopped: logs are buffered).
  EXPECT_EQ(uk_.Stop(SIGTERM), 0);
  EXPECT_EQ(mpi_.Stop(SIGTERM), 0);
  const std::string uk_log = ReadFile(root_ / "uk.log"), mpi_log = ReadFile(root_ / "mpi.log");
  EXPECT_NE(uk_log.find("\"client_certificate\":\"" + pins_[kGw] + "\""), std::string::npos) << uk_log;
  EXPECT_NE(mpi_log.find("\"client_certificate\":\"" + pins_[kGw] + "\""), std::string::npos);
  EXPECT_NE(mpi_log.find("\"client_certificate\":\"" + pins_[kUk] + "\""), std::string::npos);
}

TEST_F(FederationMtlsTest, ANodeWithAnotherCertificateThanItsPinDoesNotStart) {
  auto [code, out] = RunCommand([&] {
    std::string command = std::getenv("EHR_BINARY") + std::string(" serve");
    for (const std::string& a : Args(kGw, "federation.json", stranger_)) command += " '" + a + "'";
    return command + " 2>&1";
  }());
  EXPECT_NE(code, 0);
  EXPECT_NE(out.find("is not one the federation file pins for gateway-fr"), std::string::npos) << out;
}

// The gateway's own key and data directory under a federation file that does not pin it
// (so it starts), with another certificate: its node tokens are genuine, yet the MPI, whose
// file pins the gateway's certificate, answers none of its calls.
TEST_F(FederationMtlsTest, AGatewaysTokensWithoutItsCertificateGetNothing) {
  const std::string unpinned_gateway[3] = {pins_[kMpi], pins_[kUk], ""};
  WriteFederation("impostor.json", unpinned_gateway);
  mpi_ = Start(kMpi);
  gw_ = EhrProcess::Serve(Args(kGw, "impostor.json", stranger_), {}, (root_ / "gw.log").string());
  ASSERT_NE(gw_.port, 0) << gw_.output;
  HttpResult refused = Gateway("/fhir/Patient/$locate?identifier=" + UrlEncode(std::string(kNhsSystem) + "|" + kNhs));
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(mpi_.Stop(SIGTERM), 0);
  const std::string mpi_log = ReadFile(root_ / "mpi.log");
  EXPECT_NE(mpi_log.find("\"status\":401"), std::string::npos) << mpi_log;
  const std::string shown = LastLine(RunEhr("federation certificate " + stranger_.cert).second);
  EXPECT_NE(mpi_log.find("\"client_certificate\":\"" + shown + "\""), std::string::npos) << "the MPI names what it was shown";
}

// A gateway whose file pins another certificate for the vault than the one it serves:
// the vault's region is missing from the answer, named in a warning.
TEST_F(FederationMtlsTest, AVaultWhoseCertificateIsNotThePinnedOneIsNotRead) {
  const std::string wrong_vault[3] = {pins_[kMpi], LastLine(RunEhr("federation certificate " + stranger_.cert).second),
                                      pins_[kGw]};
  WriteFederation("wrong-vault.json", wrong_vault);
  mpi_ = Start(kMpi);
  uk_ = Start(kUk);
  gw_ = Start(kGw, "wrong-vault.json");
  ASSERT_NE(gw_.port, 0);
  HttpsClient vault(uk_.port, Trusting());
  ASSERT_TRUE(vault.Connect()) << vault.error();
  ASSERT_EQ(vault.Send("POST", "/fhir/Patient",
                       R"({"resourceType":"Patient","identifier":[{"system":")" + std::string(kNhsSystem) +
                           R"(","value":")" + kNhs + R"("}]})",
                       {{"Content-Type", "application/fhir+json"}})
                .status,
            201);
  ASSERT_EQ(LocateUntilFound().status, 200) << "the MPI is still reached";
  HttpResult all = Gateway("/fhir/Patient/$federated-everything?identifier=" + UrlEncode(std::string(kNhsSystem) + "|" + kNhs));
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_EQ(all.body.find("\"resourceType\":\"Patient\""), std::string::npos) << all.body;
  EXPECT_NE(all.body.find("uk"), std::string::npos) << "the warning names the region missing: " << all.body;
  EXPECT_EQ(uk_.Stop(SIGTERM), 0);
  EXPECT_EQ(ReadFile(root_ / "uk.log").find("everything"), std::string::npos) << "no request reached the vault";
}

}  // namespace
}  // namespace ehr::testing
