// `ehr serve --store postgres://...` (issue 8): the server on PostgreSQL over HTTP, its schema
// migrated with the owner's connection. PostgreSQL crashing under load (an immediate stop,
// as `pg_ctl stop -m immediate`) fails requests cleanly, 503 with an OperationOutcome and
// Retry-After; the server recovers by itself once PostgreSQL is back, without a restart and
// without losing an acknowledged write; and everything is there after ehr restarts.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include "fhir/json/value.h"
#include "support/ehr_process.h"
#include "support/http_client.h"
#include "support/postgres_server.h"
#include "support/test_server.h"

namespace ehr::testing {
namespace {

const std::vector<std::pair<std::string, std::string>> kJson = {{"Content-Type", "application/fhir+json"}};

std::string Patient(int i) {
  return R"({"resourceType":"Patient","identifier":[{"system":"urn:test:mrn","value":"mrn-)" + std::to_string(i) +
         R"("}],"name":[{"family":"Postgres","given":["P)" + std::to_string(i) + R"("]}]})";
}

std::string IdOf(const std::string& body) {
  auto v = json::Parse(body);
  return v.ok() ? std::string(v->GetString("id")) : "";
}

bool WaitReady(uint16_t port, int seconds) {
  for (int i = 0; i < seconds * 10; ++i) {
    HttpClient c("127.0.0.1", port);
    if (c.Get("/readyz").status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

TEST(ServePostgres, ServesFailsCleanlyWhilePostgresIsDownAndRecoversWithoutLosingAWrite) {
  PostgresServer pg;
  pg.CreateAppDatabase("ehr");
  TempDir dir;
  const std::vector<std::string> args = {
      "--data", dir.path() + "/data", "--auth", "off", "--access-log", "off", "--store",
      pg.AppUrl("ehr") + "?connect_timeout=2",
      "--store-migrate", pg.ConnectionString("postgres", "ehr")};
  EhrProcess server = EhrProcess::Serve(args);
  ASSERT_NE(server.port, 0) << server.output;
  EXPECT_EQ(server.output.find("app-secret-1"), std::string::npos) << "the password is never printed";
  HttpClient c("127.0.0.1", server.port);
  std::map<std::string, std::string> acknowledged;  // id -> body as created
  for (int i = 0; i < 10; ++i) {
    HttpResult created = c.Send("POST", "/fhir/Patient", Patient(i), kJson);
    ASSERT_EQ(created.status, 201) << created.body;
    acknowledged[IdOf(created.body)] = created.body;
  }
  HttpResult found = c.Get("/fhir/Patient?identifier=urn:test:mrn|mrn-3");
  ASSERT_EQ(found.status, 200) << found.body;
  EXPECT_NE(found.body.find("mrn-3"), std::string::npos);
  EXPECT_NE(found.body.find(R"("total":1)"), std::string::npos) << found.body;
  EXPECT_EQ(c.Get("/readyz").status, 200);

  // Writers go on while PostgreSQL crashes and comes back.
  std::mutex mu;
  std::atomic<bool> stop{false};
  std::atomic<int> unavailable{0}, unexpected{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      HttpClient client("127.0.0.1", server.port);
      for (int n = 0; !stop; ++n) {
        HttpResult r = client.Send("POST", "/fhir/Patient", Patient(1000 * (w + 1) + n), kJson);
        if (r.status == 201) {
          std::lock_guard lock(mu);
          acknowledged[IdOf(r.body)] = r.body;
        } else if (r.status == 503) {
          ++unavailable;
          if (r.body.find("OperationOutcome") == std::string::npos || r.Header("Retry-After").empty()) ++unexpected;
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        } else {
          ++unexpected;
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  pg.Crash();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  HttpResult down = c.Get("/fhir/Patient/" + acknowledged.begin()->first);
  EXPECT_EQ(down.status, 503) << down.body;
  EXPECT_NE(down.body.find("OperationOutcome"), std::string::npos);
  EXPECT_EQ(down.Header("Retry-After"), "1");
  EXPECT_EQ(down.body.find("app-secret-1"), std::string::npos);
  EXPECT_EQ(c.Get("/readyz").status, 503);
  pg.Restart();
  EXPECT_TRUE(WaitReady(server.port, 20)) << "the server recovers by itself";
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  stop = true;
  for (auto& t : writers) t.join();
  EXPECT_GT(unavailable.load(), 0) << "the crash was seen";
  EXPECT_EQ(unexpected.load(), 0) << "only 201 or a clean 503";

  auto expect_all = [&](HttpClient& client) {
    for (const auto& [id, body] : acknowledged) {
      HttpResult read = client.Get("/fhir/Patient/" + id);
      ASSERT_EQ(read.status, 200) << "acknowledged write lost: " << id;
      EXPECT_EQ(read.body, body);
    }
  };
  expect_all(c);
  // And after ehr restarts, on the same database.
  EXPECT_EQ(server.Stop(SIGTERM), 0);
  EhrProcess again = EhrProcess::Serve(args);
  ASSERT_NE(again.port, 0) << again.output;
  HttpClient c2("127.0.0.1", again.port);
  expect_all(c2);
  again.Stop(SIGTERM);
}

// `ehr import --store postgres://` loads Synthea Bundles (conditional references between
// files included) into PostgreSQL, and the server finds them there.
TEST(ServePostgres, ImportsIntoPostgres) {
  PostgresServer pg;
  pg.CreateAppDatabase("ehr");
  const char* shared = std::getenv("EHR_SHARED_DATA");
  const std::string synthea = std::string(shared != nullptr ? shared : "../shared/data") + "/synthea";
  TempDir dir;
  const std::string url = pg.AppUrl("ehr");
  const std::string migrate = pg.ConnectionString("postgres", "ehr");
  const std::string files = "'" + synthea + "/0-hospitalInformation1625911868739.json.bz2' '" + synthea +
                            "/0-practitionerInformation1625911868739.json.bz2' '" + synthea +
                            "/057aa36e-b892-9964-75b9-ffb46b097e34.json.bz2'";
  auto [code, out] = RunEhr("import --data '" + dir.path() + "/data' --store '" + url + "' --store-migrate '" + migrate +
                            "' " + files);
  ASSERT_EQ(code, 0) << out;
  EXPECT_EQ(out.find("app-secret-1"), std::string::npos);
  EhrProcess server = EhrProcess::Serve({"--data", dir.path() + "/data", "--auth", "off", "--access-log", "off",
                                         "--store", url});
  ASSERT_NE(server.port, 0) << server.output;
  HttpClient c("127.0.0.1", server.port);
  HttpResult patients = c.Get("/fhir/Patient?_summary=count");
  ASSERT_EQ(patients.status, 200) << patients.body;
  EXPECT_NE(patients.body.find(R"("total":1)"), std::string::npos) << patients.body;
  HttpResult encounters = c.Get("/fhir/Encounter?_summary=count&service-provider:missing=false");
  ASSERT_EQ(encounters.status, 200) << encounters.body;
  EXPECT_EQ(encounters.body.find(R"("total":0)"), std::string::npos) << "references resolved: " << encounters.body;
  server.Stop(SIGTERM);
}

TEST(ServePostgres, RefusesAnUnknownStoreAndStoreFlagsWithoutIt) {
  TempDir dir;
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--data", dir.path(), "--auth", "off", "--store", "mysql://x"},
        std::vector<std::string>{"--data", dir.path(), "--auth", "off", "--store-migrate", "host=x"}}) {
    EhrProcess server = EhrProcess::Serve(args);
    EXPECT_EQ(server.port, 0);
    EXPECT_NE(server.Wait(), 0);
    EXPECT_NE(server.output.find("--store"), std::string::npos) << server.output;
  }
}

}  // namespace
}  // namespace ehr::testing
