// The real `ehr serve` under a realistic workload (a Synthea record: real-looking names,
// identifiers, ids), then two checks from outside the process: no name, identifier or id
// of the record appears in any line it logged, and `ehr audit verify` finds its audit log
// whole, then names the entry someone altered in the file.
#include <gtest/gtest.h>
#include <signal.h>

#include <bzlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "support/ehr_process.h"
#include "support/test_server.h"

namespace ehr::testing {
namespace {

std::string ReadBz2(const std::string& path) {
  FILE* f = fopen(path.c_str(), "rb");
  if (f == nullptr) return {};
  int err = 0;
  BZFILE* bz = BZ2_bzReadOpen(&err, f, 0, 0, nullptr, 0);
  std::string out;
  char buf[65536];
  while (err == BZ_OK) {
    int n = BZ2_bzRead(&err, bz, buf, sizeof buf);
    if (n > 0) out.append(buf, static_cast<size_t>(n));
  }
  BZ2_bzReadClose(&err, bz);
  fclose(f);
  return out;
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs `ehr audit ARGS`; its exit code and standard output.
std::pair<int, std::string> Audit(const std::string& args) {
  const std::string cmd = std::string(std::getenv("EHR_BINARY")) + " audit " + args + " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[1024];
  while (fgets(buf, sizeof buf, p)) out += buf;
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

TEST(AuditCli, NoPersonalDataInLogsAndTheLogVerifiesUntilTamperedWith) {
  TempDir dir;
  const std::string data = dir.path() + "/data";
  const std::string log_path = dir.path() + "/server.log";
  // The smallest Synthea record of the shared data: one patient's whole history.
  std::string smallest;
  uintmax_t smallest_size = UINTMAX_MAX;
  for (const auto& e : std::filesystem::directory_iterator(SharedData() + "/synthea")) {
    if (e.path().extension() == ".bz2" && e.path().filename().string().rfind("0-", 0) != 0 &&
        e.file_size() < smallest_size) {
      smallest_size = e.file_size();
      smallest = e.path().string();
    }
  }
  const std::string bundle = ReadBz2(smallest);
  ASSERT_FALSE(bundle.empty()) << smallest;
  json::Value parsed = ParseBody(bundle);
  const json::Value* patient = nullptr;
  for (const json::Value& e : parsed.Find("entry")->as_array()) {
    if (e.Find("resource")->GetString("resourceType") == "Patient") patient = e.Find("resource");
  }
  ASSERT_NE(patient, nullptr);
  std::set<std::string> secrets;  // what must never be logged
  const std::string family(patient->Find("name")->as_array()[0].GetString("family"));
  const std::string given(patient->Find("name")->as_array()[0].Find("given")->as_array()[0].as_string());
  secrets.insert(family);
  secrets.insert(given);
  std::string identifier;
  for (const json::Value& id : patient->Find("identifier")->as_array()) {
    if (id.GetString("value").size() >= 6) {
      secrets.emplace(id.GetString("value"));
      if (identifier.empty()) identifier = std::string(id.GetString("system")) + "|" + std::string(id.GetString("value"));
    }
  }

  EhrProcess server = EhrProcess::Serve({"--data", data, "--auth", "off", "--audit-head-seconds", "1"}, {}, log_path);
  ASSERT_NE(server.port, 0) << server.output;
  HttpClient c("127.0.0.1", server.port);
  const std::vector<std::pair<std::string, std::string>> json = {{"Content-Type", "application/fhir+json"}};
  // The organisations and practitioners the record refers to conditionally, first.
  for (const auto& e : std::filesystem::directory_iterator(SharedData() + "/synthea")) {
    if (e.path().filename().string().rfind("0-", 0) == 0) {
      ASSERT_EQ(c.Send("POST", "/fhir", ReadBz2(e.path().string()), json).status, 200) << e.path();
    }
  }
  auto loaded = c.Send("POST", "/fhir", bundle, json);
  ASSERT_EQ(loaded.status, 200) << loaded.body.substr(0, 400);
  auto found = c.Get("/fhir/Patient?family=" + family + "&given=" + given);
  ASSERT_EQ(found.status, 200);
  const std::string id(ParseBody(found.body).Find("entry")->as_array()[0].Find("resource")->GetString("id"));
  secrets.insert(id);
  // The workload: reads, searches by name and identifier, $everything, an update, and
  // requests that fail with the personal data in their URL or body.
  EXPECT_EQ(c.Get("/fhir/Patient/" + id).status, 200);
  EXPECT_EQ(c.Get("/fhir/Patient?identifier=" + identifier).status, 200);
  EXPECT_EQ(c.Get("/fhir/Patient/" + id + "/$everything").status, 200);
  EXPECT_EQ(c.Get("/fhir/Observation?subject=Patient/" + id + "&_count=5").status, 200);
  json::Value changed = *patient;
  changed.Set("id", json::Value(id));
  changed.Set("gender", json::Value("unknown"));
  EXPECT_EQ(c.Send("PUT", "/fhir/Patient/" + id, json::Write(changed), json).status, 200);
  EXPECT_EQ(c.Get("/fhir/Patient/" + family + given).status, 404);
  EXPECT_EQ(c.Get("/fhir/Patient?birthdate=" + family).status, 400);
  EXPECT_EQ(c.Send("POST", "/fhir/Patient", R"({"resourceType":"Patient","name":[{"family":")" + family +
                                                R"("}],"birthDate":")" + given + "\"}", json)
                .status,
            400);
  EXPECT_EQ(c.Send("PUT", "/fhir/Patient/" + id, R"({"resourceType":"Patient","id":"other"})", json).status, 400);
  // The tree head of the interval is written to the log too.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  server.Stop(SIGTERM);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the drain thread writes the last lines

  const std::string logged = ReadText(log_path);
  ASSERT_NE(logged.find("\"route\":\"/fhir/{type}/{id}\""), std::string::npos) << "the access log was captured";
  ASSERT_NE(logged.find("audit.tree_head"), std::string::npos);
  int lines = 0;
  std::istringstream in(logged);
  for (std::string line; std::getline(in, line); ++lines) {
    for (const std::string& s : secrets) EXPECT_EQ(line.find(s), std::string::npos) << s << " in: " << line;
  }
  EXPECT_GT(lines, 10);

  // The audit log of all that is whole...
  auto [ok_code, ok_out] = Audit("verify --data " + data);
  EXPECT_EQ(ok_code, 0) << ok_out;
  EXPECT_NE(ok_out.find("OK"), std::string::npos) << ok_out;
  // ...until an entry is changed in the file (the triggers dropped, as an intruder would).
  const std::string sql = "sqlite3 " + data +
                          "/ehr.db \"DROP TRIGGER audit_entry_no_update; UPDATE audit_entry SET "
                          "core = replace(core, '\\\"outcome\\\":0', '\\\"outcome\\\":4') WHERE seq = 5\"";
  ASSERT_EQ(std::system(sql.c_str()), 0);
  auto [bad_code, bad_out] = Audit("verify --data " + data);
  EXPECT_EQ(bad_code, 1) << bad_out;
  EXPECT_NE(bad_out.find("TAMPERED: entry 4 was altered"), std::string::npos) << bad_out;
  EXPECT_EQ(Audit("verify").first, 2) << "no database here";
}

}  // namespace
}  // namespace ehr::testing
