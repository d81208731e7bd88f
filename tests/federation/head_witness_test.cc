// The MPI as the witness of a vault's audit log (issue 7, tamper evidence; separate
// processes on loopback): the vault hands in its signed heads as its log grows and `ehr
// audit witness` finds the log extends the witnessed head. Then the vault is rolled back to
// an earlier backup of itself (keys and all: what someone holding its database and keys can
// do) and writes on: its log verifies alone (`ehr audit verify`), but the witness refuses
// its heads, the vault says so in its log, and `ehr audit witness` fails naming both, until
// the MPI's operator acknowledges the restore (`ehr federation witness-reset`).
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "support/ehr_process.h"
#include "support/free_port.h"
#include "support/http_client.h"
#include "support/test_server.h"

namespace ehr::testing {
namespace {

namespace fs = std::filesystem;

class HeadWitnessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(dir_.path());
    while (ports_.size() < 2) {
      const uint16_t port = FreePort();
      if (std::find(ports_.begin(), ports_.end(), port) == ports_.end()) ports_.push_back(port);
    }
    std::string keys[2];
    for (int i = 0; i < 2; ++i) keys[i] = NodeKey((root_ / kDirs[i]).string());
    WritePepper((root_ / "pepper").string());
    std::ofstream(root_ / "federation.json")
        << R"({"nodes": [{"name":"mpi","role":"mpi","url":"http://127.0.0.1:)" << ports_[0] << R"(","key":")" << keys[0]
        << R"("},{"name":"vault-uk","role":"vault","region":"uk","url":"http://127.0.0.1:)" << ports_[1]
        << R"(","key":")" << keys[1] << R"("}]})";
  }

  void TearDown() override {
    for (EhrProcess* p : {&uk_, &mpi_}) {
      if (p->port != 0 && p->pid > 0) p->Stop(SIGTERM);
    }
  }

  EhrProcess StartMpi() {
    EhrProcess p = EhrProcess::Serve({"--listen", "127.0.0.1:" + std::to_string(ports_[0]), "--data",
                                      (root_ / "mpi").string(), "--federation", (root_ / "federation.json").string(),
                                      "--role", "mpi", "--node", "mpi"});
    EXPECT_NE(p.port, 0) << p.output;
    return p;
  }

  // The vault on `data`, handing in its heads every second.
  EhrProcess StartVault(const fs::path& data, const std::string& log) {
    EhrProcess p = EhrProcess::Serve(
        {"--listen", "127.0.0.1:" + std::to_string(ports_[1]), "--data", data.string(), "--federation",
         (root_ / "federation.json").string(), "--role", "vault", "--node", "vault-uk", "--federation-pepper-file",
         (root_ / "pepper").string(), "--auth", "off", "--audit-head-seconds", "1"},
        {}, (root_ / log).string());
    EXPECT_NE(p.port, 0) << p.output;
    return p;
  }

  void Write(int patients) {
    HttpClient c("127.0.0.1", uk_.port);
    for (int i = 0; i < patients; ++i) {
      ASSERT_EQ(c.Send("POST", "/fhir/Patient", R"({"resourceType":"Patient","name":[{"family":"Zeugin"}]})",
                       {{"Content-Type", "application/fhir+json"}})
                    .status,
                201);
    }
  }

  std::pair<int, std::string> AskWitness(const fs::path& data) {
    return RunEhr("audit witness --data " + data.string() + " --federation " + (root_ / "federation.json").string() +
                  " --node vault-uk");
  }

  // The size of the head the witness holds, as `ehr audit witness` reports it (0: none).
  uint64_t Witnessed(const fs::path& data) {
    std::smatch m;
    const std::string out = AskWitness(data).second;
    return std::regex_search(out, m, std::regex("holds a head of vault-uk: ([0-9]+) entries")) ? std::stoull(m[1]) : 0;
  }

  // Waits until the witness holds a head of at least `size` entries.
  uint64_t WitnessedAtLeast(const fs::path& data, uint64_t size) {
    for (int i = 0; i < 100; ++i) {
      const uint64_t held = Witnessed(data);
      if (held >= size) return held;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return Witnessed(data);
  }

  static constexpr const char* kDirs[] = {"mpi", "uk"};
  TempDir dir_;
  fs::path root_;
  std::vector<uint16_t> ports_;
  EhrProcess mpi_, uk_;
};

TEST_F(HeadWitnessTest, ARolledBackVaultVerifiesAloneButNotAgainstItsWitness) {
  mpi_ = StartMpi();
  uk_ = StartVault(root_ / "uk", "uk.log");
  ASSERT_NE(uk_.port, 0);
  Write(5);
  const uint64_t first = WitnessedAtLeast(root_ / "uk", 5);
  ASSERT_GE(first, 5u) << AskWitness(root_ / "uk").second;
  auto [backed, backup_out] = RunEhr("backup --data " + (root_ / "uk").string() + " --out " +
                                     (root_ / "backup").string() + " --include-keyring yes");
  ASSERT_EQ(backed, 0) << backup_out;
  Write(10);
  const uint64_t second = WitnessedAtLeast(root_ / "uk", first + 10);
  ASSERT_GE(second, first + 10) << AskWitness(root_ / "uk").second;
  EXPECT_EQ(uk_.Stop(SIGTERM), 0);
  auto [whole, whole_out] = AskWitness(root_ / "uk");
  EXPECT_EQ(whole, 0) << whole_out;
  EXPECT_NE(whole_out.find("OK: this log of"), std::string::npos) << whole_out;

  // The earlier copy, keys and all, put in the vault's place; it writes on past the size
  // witnessed, so that its log is not merely shorter but another history.
  auto [restored, restore_out] = RunEhr("restore --from " + (root_ / "backup").string() + " --data " +
                                        (root_ / "uk-rolled-back").string());
  ASSERT_EQ(restored, 0) << restore_out;
  uk_ = StartVault(root_ / "uk-rolled-back", "rolled-back.log");
  ASSERT_NE(uk_.port, 0);
  Write(15);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // two passes of the witness job
  EXPECT_EQ(uk_.Stop(SIGTERM), 0);
  const std::string log = ReadFile((root_ / "rolled-back.log").string());
  EXPECT_NE(log.find("audit.witness_refused"), std::string::npos) << log.substr(0, 3000);
  EXPECT_EQ(Witnessed(root_ / "uk-rolled-back"), second) << "the witness keeps the head it held";

  auto [alone, alone_out] = RunEhr("audit verify --data " + (root_ / "uk-rolled-back").string());
  EXPECT_EQ(alone, 0) << alone_out;  // consistent in itself: only the witness can tell
  auto [checked, checked_out] = AskWitness(root_ / "uk-rolled-back");
  EXPECT_EQ(checked, 1) << checked_out;
  EXPECT_NE(checked_out.find("PROBLEM: the log's first " + std::to_string(second) + " entries are not those witnessed"),
            std::string::npos)
      << checked_out;
  EXPECT_NE(checked_out.find("PROBLEM: the witness refused"), std::string::npos) << checked_out;
  // The MPI's operator acknowledges the restore (recorded in the MPI's own log): the
  // vault's next head starts again and the check passes.
  EXPECT_EQ(mpi_.Stop(SIGTERM), 0);
  auto [reset, reset_out] = RunEhr("federation witness-reset --data " + (root_ / "mpi").string() + " --node vault-uk");
  ASSERT_EQ(reset, 0) << reset_out;
  EXPECT_NE(reset_out.find("it held a head of " + std::to_string(second) + " entries"), std::string::npos) << reset_out;
  auto [recorded, count] = RunCommand("sqlite3 " + (root_ / "mpi" / "ehr.db").string() +
                                      " \"SELECT count(*) FROM audit_entry WHERE instr(core, 'witness-reset') > 0\"");
  EXPECT_EQ(count, "1\n");
  mpi_ = StartMpi();
  uk_ = StartVault(root_ / "uk-rolled-back", "rolled-back-2.log");
  ASSERT_NE(uk_.port, 0);
  Write(1);
  EXPECT_GT(WitnessedAtLeast(root_ / "uk-rolled-back", second + 1), second);
  EXPECT_EQ(uk_.Stop(SIGTERM), 0);
  auto [again, again_out] = AskWitness(root_ / "uk-rolled-back");
  EXPECT_EQ(again, 0) << again_out;
  EXPECT_NE(again_out.find("the witness was reset by its operator at "), std::string::npos) << again_out;
  // Bad usage.
  auto [usage, usage_out] = RunEhr("audit witness --data " + (root_ / "uk").string());
  EXPECT_EQ(usage, 2) << usage_out;
}

}  // namespace
}  // namespace ehr::testing
