// Kills a writing process with SIGKILL and checks that every write it acknowledged is in
// the reopened database, complete, and that no transaction is half visible.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite/sqlite_store.h"
#include "store/sqlite/test_util.h"

namespace ehr::store {
namespace {

using testing::OpenOrDie;
using testing::TempDir;
using testing::Version;

// A body that names its resource and is long enough to span SQLite pages when batched.
std::string BodyFor(const std::string& id) {
  std::string body = R"({"resourceType":"Basic","id":")" + id + R"(","text":")";
  for (int i = 0; body.size() < 1500; ++i) body += id[i % id.size()];
  return body + "\"}";
}

// Child process: writes pairs of resources from several threads and reports each pair on
// `fd` once its Write() has returned OK. Never returns.
[[noreturn]] void RunWriter(const std::string& path, int fd, int round) {
  SqliteOptions options;
  options.path = path;
  options.readers = 1;
  auto opened = OpenSqliteStore(options);
  if (!opened.ok()) _exit(2);
  std::unique_ptr<Store> store = std::move(opened).value();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int n = 0;; ++n) {
        const std::string pair = std::to_string(round) + "-" + std::to_string(t) + "-" + std::to_string(n);
        Status st = store->Write([&](WriteTxn& txn) -> Status {
          for (const char* half : {"a", "b"}) {
            NewVersion v = Version("t", "Basic", pair + half, 1, BodyFor(pair + half), txn.Now());
            v.index.tokens = {{"pair", "", pair, {}}};
            EHR_RETURN_IF_ERROR(txn.Put(v));
          }
          return Status::Ok();
        });
        if (!st.ok()) _exit(3);
        const std::string line = pair + "\n";  // shorter than PIPE_BUF: written atomically
        if (write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(4);
      }
    });
  }
  for (auto& t : threads) t.join();
  _exit(0);
}

// The child re-executes this test binary (a fresh process: a child that only forked would
// inherit the locks other threads of the test process held at fork time, malloc's and the
// sanitizers' among them, and could hang before writing anything). This runs before
// main() in that process and never returns there.
const bool kIsWriterChild = [] {
  const char* spec = std::getenv("EHR_CRASH_WRITER");  // "round fd path"
  if (spec == nullptr) return false;
  int round = 0;
  int fd = -1;
  int consumed = 0;
  if (std::sscanf(spec, "%d %d %n", &round, &fd, &consumed) != 2) _exit(6);
  RunWriter(spec + consumed, fd, round);
}();

// Reads newline-terminated pair names from `fd` into `out` until `deadline` (or EOF when
// no deadline is given).
void ReadAcks(int fd, std::set<std::string>& out, std::string& partial,
              std::optional<std::chrono::steady_clock::time_point> deadline) {
  char buf[4096];
  while (true) {
    int timeout_ms = -1;
    if (deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return;
      timeout_ms = static_cast<int>(left.count());
    }
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) continue;
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) return;
    partial.append(buf, static_cast<size_t>(n));
    size_t nl;
    while ((nl = partial.find('\n')) != std::string::npos) {
      out.insert(partial.substr(0, nl));
      partial.erase(0, nl + 1);
    }
  }
}

TEST(SqliteCrash, AcknowledgedWritesSurviveSigkill) {
  TempDir dir;
  const std::string path = dir.File("crash.db");
  std::set<std::string> acked;
  constexpr int kRounds = 3;
  for (int round = 0; round < kRounds; ++round) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    // Everything the child needs is prepared before fork(): after it, only exec.
    std::string env = "EHR_CRASH_WRITER=" + std::to_string(round) + " " + std::to_string(fds[1]) + " " + path;
    char* child_env[] = {env.data(), nullptr};
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      execle("/proc/self/exe", "crash_writer", static_cast<char*>(nullptr), child_env);
      _exit(5);
    }
    close(fds[1]);
    const size_t before = acked.size();
    std::string partial;
    ReadAcks(fds[0], acked, partial, std::chrono::steady_clock::now() + std::chrono::milliseconds(1000));
    // On a loaded machine (the sanitizer pass runs tests in parallel) the writer may not
    // have committed anything within that second: the kill must still come mid-stream,
    // after some acknowledged writes, so wait for the first one (bounded).
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (acked.size() == before && std::chrono::steady_clock::now() < give_up) {
      ReadAcks(fds[0], acked, partial, std::chrono::steady_clock::now() + std::chrono::milliseconds(200));
    }
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(status)) << "writer exited early with " << WEXITSTATUS(status);
    ReadAcks(fds[0], acked, partial, std::nullopt);  // acks still in the pipe count too
    close(fds[0]);
    EXPECT_GT(acked.size(), before) << "round " << round << " acknowledged nothing";
    std::printf("round %d: %zu transactions acknowledged before SIGKILL\n", round, acked.size() - before);
  }

  SqliteOptions options;
  options.path = path;
  auto store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  for (const std::string& pair : acked) {
    for (const char* half : {"a", "b"}) {
      auto rec = store->ReadCurrent("t", "Basic", pair + half);
      ASSERT_TRUE(rec.ok()) << rec.status().message();
      ASSERT_TRUE(rec->has_value()) << "acknowledged write lost: " << pair << half;
      EXPECT_EQ((*rec)->body, BodyFor(pair + half));
    }
  }
  // Everything in the database (acknowledged or not) is whole: both halves of every pair,
  // each body complete, and the index rows with them.
  HistoryQuery q;
  q.tenant = "t";
  q.count = 500;
  std::set<std::string> seen;
  while (true) {
    auto page = store->History(q);
    ASSERT_TRUE(page.ok());
    for (const auto& e : page->entries) {
      EXPECT_EQ(e.body, BodyFor(e.id));
      seen.insert(e.id);
    }
    if (!page->more) break;
    q.before_seq = page->entries.back().seq;
  }
  ASSERT_EQ(seen.size() % 2, 0u);
  for (const std::string& id : seen) {
    const std::string pair = id.substr(0, id.size() - 1);
    EXPECT_TRUE(seen.count(pair + "a") && seen.count(pair + "b")) << "half a transaction visible: " << pair;
    TokenQuery tq{"t", "Basic", "pair", "", pair, 10};
    EXPECT_EQ(store->FindIdsByToken(tq)->size(), 2u) << pair;
  }
  EXPECT_GE(seen.size(), 2 * acked.size());
  EXPECT_EQ(*store->CountCurrent("t", "Basic"), static_cast<int64_t>(seen.size()));
}

}  // namespace
}  // namespace ehr::store
