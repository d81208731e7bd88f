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
#include "support/test_server.h"

namespace ehr::testing {
namespace {

struct Child {
  pid_t pid = -1;
  uint16_t port = 0;
};

// Starts `ehr serve` on a free port and reads the port from its start-up line.
Child StartServer(const std::string& data) {
  const char* binary = std::getenv("EHR_BINARY");
  if (!binary) throw std::runtime_error("EHR_BINARY not set");
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe");
  Child c;
  c.pid = fork();
  if (c.pid == 0) {
    dup2(fds[1], 2);
    close(fds[0]);
    execl(binary, binary, "serve", "--data", data.c_str(), "--listen", "127.0.0.1:0", "--auth", "off",
          "--access-log", "off", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  FILE* err = fdopen(fds[0], "r");
  char line[512];
  while (fgets(line, sizeof line, err)) {
    std::string s(line);
    size_t at = s.find("http://127.0.0.1:");
    if (at != std::string::npos) {
      c.port = static_cast<uint16_t>(std::stoi(s.substr(at + 17)));
      break;
    }
  }
  // Keep draining stderr so the child never blocks on a full pipe.
  std::thread([err] {
    char buf[512];
    while (fgets(buf, sizeof buf, err)) {
    }
    fclose(err);
  }).detach();
  if (c.port == 0) throw std::runtime_error("server did not start");
  return c;
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
    Child server = StartServer(dir.path());
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

    Child again = StartServer(dir.path());
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
    kill(again.pid, SIGTERM);
    waitpid(again.pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "graceful stop on SIGTERM";
  }
}

}  // namespace
}  // namespace ehr::testing
