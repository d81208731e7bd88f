// SIGKILL during a write load: the real `ehr serve` process is killed while clients post
// transactions; after a restart every acknowledged write is there and no transaction is
// half visible.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <set>
#include <thread>

#include "fhir/json/value.h"
#include "support/ehr_process.h"
#include "support/test_server.h"

namespace ehr::testing {
namespace {

// `ehr serve` with authentication off, on a free port.
EhrProcess StartServer(const std::string& data) {
  EhrProcess p = EhrProcess::Serve({"--data", data, "--auth", "off", "--access-log", "off"});
  if (p.port == 0) throw std::runtime_error("server did not start: " + p.output);
  return p;
}

std::string Transaction(int n) {
  std::string tag = "T" + std::to_string(n);
  std::string patient = R"({"resourceType":"Patient","identifier":[{"system":"urn:crash","value":")" + tag + R"("}]})";
  return R"({"resourceType":"Bundle","type":"transaction","entry":[{"resource":)" + patient +
         R"(,"request":{"method":"POST","url":"Patient"}},{"resource":)" + patient +
         R"(,"request":{"method":"POST","url":"Patient"}}]})";
}

TEST(Crash, SigkillLosesNoAcknowledgedWriteAndLeavesNoPartialTransaction) {
  TempDir dir;
  for (int round = 0; round < 2; ++round) {
    EhrProcess server = StartServer(dir.path());
    std::atomic<int> next{round * 100000};
    std::atomic<bool> stop{false};
    std::mutex mu;
    std::set<int> acknowledged, attempted;
    std::vector<std::thread> clients;
    for (int t = 0; t < 6; ++t) {
      clients.emplace_back([&] {
        HttpClient c("127.0.0.1", server.port);
        while (!stop) {
          int n = next++;
          {
            std::lock_guard<std::mutex> lock(mu);
            attempted.insert(n);
          }
          try {
            auto r = c.Send("POST", "/fhir", Transaction(n),
                            {{"Content-Type", "application/fhir+json"}, {"Prefer", "return=minimal"}});
            if (r.status == 200) {
              std::lock_guard<std::mutex> lock(mu);
              acknowledged.insert(n);
            }
          } catch (const std::exception&) {
            return;  // the server is gone
          }
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    kill(server.pid, SIGKILL);
    stop = true;
    for (auto& t : clients) t.join();
    int status = 0;
    waitpid(server.pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status));
    ASSERT_GT(acknowledged.size(), 20u) << "the load did not get going";

    EhrProcess again = StartServer(dir.path());
    HttpClient c("127.0.0.1", again.port);
    for (int n : attempted) {
      auto r = c.Get("/fhir/Patient?identifier=urn:crash|T" + std::to_string(n));
      ASSERT_EQ(r.status, 200);
      auto bundle = json::Parse(r.body);
      ASSERT_TRUE(bundle.ok());
      int64_t total = *bundle->Find("total")->as_int64();
      if (acknowledged.count(n)) {
        EXPECT_EQ(total, 2) << "acknowledged transaction " << n << " lost";
      } else {
        EXPECT_TRUE(total == 0 || total == 2) << "transaction " << n << " is half visible";
      }
    }
    std::printf("round %d: %zu acknowledged of %zu attempted, all present\n", round, acknowledged.size(),
                attempted.size());
    status = again.Stop(SIGTERM);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "graceful stop on SIGTERM";
  }
}

}  // namespace
}  // namespace ehr::testing
