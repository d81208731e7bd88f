// `ehr backup` and `ehr restore` with the real server (issue 8, "backup and restore"): a
// backup taken while clients write, restored into a new directory, serves every resource
// acknowledged before it began, version for version and byte for byte, and its audit log
// verifies; a damaged or padded backup is refused before anything is written.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "fhir/json/value.h"
#include "support/ehr_process.h"
#include "support/http_client.h"
#include "support/test_server.h"

namespace ehr::testing {
namespace {

namespace fs = std::filesystem;

const std::vector<std::pair<std::string, std::string>> kJson = {{"Content-Type", "application/fhir+json"}};

std::string Observation(const std::string& patient, int i) {
  return R"({"resourceType":"Observation","status":"final","code":{"text":"Heart rate"},"subject":{"reference":"Patient/)" +
         patient + R"("},"valueQuantity":{"value":)" + std::to_string(60 + i) + R"(,"unit":"/min"}})";
}

// How many entries of the audit log in `db_path` have the subtype `subtype` and a user of
// the command line ("cli:...").
std::string CliEntries(const std::string& db_path, const std::string& subtype) {
  return RunCommand("sqlite3 " + db_path + " \"SELECT count(*) FROM audit_entry WHERE instr(core, '\\\"subtype\\\":\\\"" +
                    subtype + "\\\"') > 0 AND instr(core, 'cli:') > 0\"").second;
}

std::string IdOf(const std::string& body) {
  auto v = json::Parse(body);
  return v.ok() ? std::string(v->GetString("id")) : "";
}

TEST(BackupCli, ABackupTakenUnderLoadRestoresEveryAcknowledgedResource) {
  TempDir dir;
  const std::string data = dir.path() + "/data", copy = dir.path() + "/backup", restored = dir.path() + "/restored";
  EhrProcess server = EhrProcess::Serve({"--data", data, "--auth", "off", "--access-log", "off"});
  ASSERT_NE(server.port, 0) << server.output;
  HttpClient c("127.0.0.1", server.port);
  // Resources and versions, then their bodies as the server gives them.
  std::map<std::string, std::string> bodies;  // "Type/id" -> body
  for (int i = 0; i < 20; ++i) {
    HttpResult p = c.Send("POST", "/fhir/Patient",
                          R"({"resourceType":"Patient","name":[{"family":"Backhaus","given":["P)" + std::to_string(i) + R"("]}]})",
                          kJson);
    ASSERT_EQ(p.status, 201) << p.body;
    const std::string id = IdOf(p.body);
    HttpResult o = c.Send("POST", "/fhir/Observation", Observation(id, i), kJson);
    ASSERT_EQ(o.status, 201) << o.body;
    if (i % 4 == 0) {
      HttpResult u = c.Send("PUT", "/fhir/Patient/" + id,
                            R"({"resourceType":"Patient","id":")" + id + R"(","name":[{"family":"Backhaus-Neu"}]})", kJson);
      ASSERT_EQ(u.status, 200) << u.body;
    }
    bodies["Patient/" + id] = "";
    bodies["Observation/" + IdOf(o.body)] = "";
  }
  for (auto& [ref, body] : bodies) {
    HttpResult r = c.Get("/fhir/" + ref);
    ASSERT_EQ(r.status, 200);
    body = r.body;
  }

  // Writers keep going while the backup is taken; none of their writes fails.
  std::atomic<bool> stop{false};
  std::atomic<int> written{0}, failed{0};
  std::thread writer([&] {
    HttpClient w("127.0.0.1", server.port);
    while (!stop) {
      HttpResult r = w.Send("POST", "/fhir/Patient", R"({"resourceType":"Patient","name":[{"family":"During"}]})", kJson);
      (r.status == 201 ? written : failed)++;
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto [backed, backup_out] = RunEhr("backup --data " + data + " --out " + copy + " --include-keyring yes");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  stop = true;
  writer.join();
  EXPECT_EQ(backed, 0) << backup_out;
  EXPECT_GT(written.load(), 0);
  EXPECT_EQ(failed.load(), 0);
  ASSERT_TRUE(fs::exists(copy + "/MANIFEST.json"));
  EXPECT_TRUE(fs::exists(copy + "/keyring"));
  EXPECT_EQ(fs::status(copy).permissions() & fs::perms::all, fs::perms::owner_all);
  server.Stop(SIGTERM);

  // A backup is restored into a new directory only.
  auto [onto_data, onto_out] = RunEhr("restore --from " + copy + " --data " + data);
  EXPECT_NE(onto_data, 0);
  EXPECT_NE(onto_out.find("not empty"), std::string::npos) << onto_out;
  auto [rc, out] = RunEhr("restore --from " + copy + " --data " + restored);
  ASSERT_EQ(rc, 0) << out;
  auto [verified, report] = RunEhr("audit verify --data " + restored);
  EXPECT_EQ(verified, 0) << report;
  // The backup is in the source's audit log, as the account that took it.
  EXPECT_EQ(CliEntries(data + "/ehr.db", "backup"), "1\n");
  EXPECT_NE(report.find("OK"), std::string::npos) << report;
  // The restore is in the restored node's log at once (its keyring came with the backup),
  // and the log still verifies.
  EXPECT_EQ(CliEntries(restored + "/ehr.db", "restore"), "1\n");
  EXPECT_FALSE(fs::exists(restored + "/restore.pending"));

  EhrProcess again = EhrProcess::Serve({"--data", restored, "--auth", "off", "--access-log", "off"});
  ASSERT_NE(again.port, 0) << again.output;
  HttpClient r("127.0.0.1", again.port);
  for (const auto& [ref, body] : bodies) {
    HttpResult got = r.Get("/fhir/" + ref);
    EXPECT_EQ(got.status, 200) << ref;
    EXPECT_EQ(got.body, body) << ref;
  }
  // History survives too: an updated patient has both versions.
  HttpResult search = r.Get("/fhir/Patient?family=Backhaus-Neu&_count=50");
  ASSERT_EQ(search.status, 200);
  auto bundle = json::Parse(search.body);
  ASSERT_TRUE(bundle.ok());
  ASSERT_EQ(bundle->Find("entry")->as_array().size(), 5u) << search.body;
  const std::string id(bundle->Find("entry")->as_array()[0].Find("resource")->GetString("id"));
  EXPECT_EQ(r.Get("/fhir/Patient/" + id + "/_history/1").status, 200);
  again.Stop(SIGTERM);

  // A damaged backup (one byte of the database), or one with a file its manifest does not
  // list, is refused and nothing is written.
  {
    std::fstream db(copy + "/ehr.db", std::ios::in | std::ios::out | std::ios::binary);
    db.seekp(4096 + 100);
    db.put('\x5a');
  }
  auto [damaged, damaged_out] = RunEhr("restore --from " + copy + " --data " + dir.path() + "/r2");
  EXPECT_NE(damaged, 0);
  EXPECT_NE(damaged_out.find("ehr.db is not the file its manifest lists"), std::string::npos) << damaged_out;
  EXPECT_FALSE(fs::exists(dir.path() + "/r2"));
}

TEST(BackupCli, WithoutTheKeyringAndRefusals) {
  TempDir dir;
  const std::string data = dir.path() + "/data", copy = dir.path() + "/backup";
  {
    EhrProcess server = EhrProcess::Serve({"--data", data, "--auth", "off", "--access-log", "off"});
    ASSERT_NE(server.port, 0) << server.output;
    HttpClient c("127.0.0.1", server.port);
    ASSERT_EQ(c.Send("POST", "/fhir/Patient", R"({"resourceType":"Patient"})", kJson).status, 201);
    server.Stop(SIGTERM);
  }
  auto [rc, out] = RunEhr("backup --data " + data + " --out " + copy);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("the keyring is not in the backup"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(copy + "/keyring"));
  // Into a directory that is not empty; from a directory that is not a data directory.
  auto [again, again_out] = RunEhr("backup --data " + data + " --out " + copy);
  EXPECT_NE(again, 0);
  EXPECT_NE(again_out.find("not empty"), std::string::npos) << again_out;
  auto [none, none_out] = RunEhr("backup --data " + dir.path() + "/nothing --out " + dir.path() + "/b2");
  EXPECT_NE(none, 0);
  EXPECT_NE(none_out.find("holds no ehr database"), std::string::npos) << none_out;
  // A file slipped into the backup.
  std::ofstream(copy + "/extra.db") << "x";
  auto [padded, padded_out] = RunEhr("restore --from " + copy + " --data " + dir.path() + "/r");
  EXPECT_NE(padded, 0);
  EXPECT_NE(padded_out.find("extra.db, which its manifest does not list"), std::string::npos) << padded_out;
  fs::remove(copy + "/extra.db");
  // A listed file replaced by a link to elsewhere (with its hash in the manifest or not).
  fs::rename(copy + "/ehr.db", dir.path() + "/moved.db");
  fs::create_symlink(dir.path() + "/moved.db", copy + "/ehr.db");
  auto [linked, linked_out] = RunEhr("restore --from " + copy + " --data " + dir.path() + "/r");
  EXPECT_NE(linked, 0);
  EXPECT_NE(linked_out.find("ehr.db is a link"), std::string::npos) << linked_out;
  fs::remove(copy + "/ehr.db");
  fs::rename(dir.path() + "/moved.db", copy + "/ehr.db");
  // Restored, with the keyring put back beside it: the server reads it.
  // Without its keyring the restore cannot be recorded yet: the node records it when it
  // starts with the keyring back, before serving, once.
  auto [restored, restored_out] = RunEhr("restore --from " + copy + " --data " + dir.path() + "/r");
  ASSERT_EQ(restored, 0) << restored_out;
  EXPECT_NE(restored_out.find("records the restore in its audit log when it next starts"), std::string::npos) << restored_out;
  EXPECT_TRUE(fs::exists(dir.path() + "/r/restore.pending"));
  EXPECT_FALSE(fs::exists(dir.path() + "/r/keyring"));
  EXPECT_EQ(CliEntries(dir.path() + "/r/ehr.db", "restore"), "0\n");
  fs::copy_file(data + "/keyring", dir.path() + "/r/keyring");
  for (int start = 0; start < 2; ++start) {
    EhrProcess server = EhrProcess::Serve({"--data", dir.path() + "/r", "--auth", "off", "--access-log", "off"});
    ASSERT_NE(server.port, 0) << server.output;
    HttpClient c("127.0.0.1", server.port);
    HttpResult all = c.Get("/fhir/Patient?_summary=count");
    EXPECT_NE(all.body.find(R"("total":1)"), std::string::npos) << all.body;
    server.Stop(SIGTERM);
    EXPECT_EQ(CliEntries(dir.path() + "/r/ehr.db", "restore"), "1\n") << "start " << start;
    EXPECT_FALSE(fs::exists(dir.path() + "/r/restore.pending"));
  }
  // Or given the keyring where it is kept: recorded at once.
  auto [given, given_out] = RunEhr("restore --from " + copy + " --data " + dir.path() + "/r3 --keyring " + data + "/keyring");
  ASSERT_EQ(given, 0) << given_out;
  EXPECT_EQ(CliEntries(dir.path() + "/r3/ehr.db", "restore"), "1\n");
  EXPECT_FALSE(fs::exists(dir.path() + "/r3/restore.pending"));
  EXPECT_FALSE(fs::exists(dir.path() + "/r3/keyring"));
}

}  // namespace
}  // namespace ehr::testing
