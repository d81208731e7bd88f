// `ehr synth` end to end: the real binary's arguments, its NDJSON loaded by `ehr import`,
// and its transaction Bundles posted to a real server over HTTP and searched.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <filesystem>
#include <map>
#include <sstream>

#include "store/sqlite/sqlite_store.h"
#include "support/test_server.h"

namespace ehr::testing {
namespace {

int RunEhr(const std::string& args, std::string* output) {
  const std::string cmd = std::string(std::getenv("EHR_BINARY")) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int status = pclose(p);
  *output = out;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The per-type counts `ehr synth` prints ("  Patient   62").
std::map<std::string, int64_t> Counts(const std::string& output) {
  std::map<std::string, int64_t> counts;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string type;
    int64_t n;
    if (line.rfind("  ", 0) == 0 && words >> type >> n && type.find('/') == std::string::npos) counts[type] = n;
  }
  return counts;
}

TEST(SynthCli, RejectsBadArguments) {
  TempDir dir;
  std::string out;
  EXPECT_EQ(RunEhr("synth --region xx --patients 10 --out " + dir.path() + "/a", &out), 2);
  EXPECT_NE(out.find("--region must be uk, de, fr or us"), std::string::npos) << out;
  EXPECT_EQ(RunEhr("synth --region uk --patients 0 --out " + dir.path() + "/a", &out), 2);
  EXPECT_EQ(RunEhr("synth --region uk --patients 10 --part 3/3 --out " + dir.path() + "/a", &out), 2);
  EXPECT_NE(out.find("--part must be K/N"), std::string::npos) << out;
  EXPECT_EQ(RunEhr("synth --region uk --patients 10 --format xml --out " + dir.path() + "/a", &out), 2);
  EXPECT_EQ(RunEhr("synth --region uk --patients 10 --end 2026-13-01 --out " + dir.path() + "/a", &out), 2);
  EXPECT_EQ(RunEhr("synth --region uk --patients 10 --colour red --out " + dir.path() + "/a", &out), 2);
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/a"));
}

TEST(SynthCli, NdjsonLoadsWithImport) {
  TempDir dir;
  std::string out;
  ASSERT_EQ(RunEhr("synth --region de --patients 80 --seed 3 --out " + dir.path() + "/gen", &out), 0) << out;
  EXPECT_NE(out.find("wrote 80 patients"), std::string::npos) << out;
  const std::map<std::string, int64_t> counts = Counts(out);
  ASSERT_EQ(counts.size(), 18u) << out;
  ASSERT_EQ(RunEhr("import --data " + dir.path() + "/data " + dir.path() + "/gen", &out), 0) << out;
  store::SqliteOptions o;
  o.path = dir.path() + "/data/ehr.db";
  auto store = store::OpenSqliteStore(o);
  ASSERT_TRUE(store.ok());
  for (const auto& [type, n] : counts) {
    auto stored = (*store)->CountCurrent("default", type);
    ASSERT_TRUE(stored.ok());
    EXPECT_EQ(*stored, n) << type;
  }
}

TEST(SynthCli, BundlesPostToTheServerAndSearch) {
  TempDir dir;
  std::string out;
  ASSERT_EQ(RunEhr("synth --region fr --patients 40 --format bundle --out " + dir.path(), &out), 0) << out;
  TestServer server;
  HttpClient client = server.Client();
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    if (e.path().extension() == ".json") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  ASSERT_EQ(files.size(), 41u);
  std::string patient_id;
  std::string nir;
  for (const std::string& f : files) {
    HttpResult r = client.Send("POST", "/fhir", ReadFile(f), kFhirJson);
    ASSERT_EQ(r.status, 200) << f << ": " << r.body.substr(0, 400);
    if (!patient_id.empty()) continue;
    json::Value bundle = ParseBody(ReadFile(f));
    for (const json::Value& entry : bundle.Find("entry")->as_array()) {
      const json::Value& res = *entry.Find("resource");
      if (res.GetString("resourceType") != "Patient" || !res.Find("identifier")) continue;
      const json::Value& id = res.Find("identifier")->as_array()[0];
      if (id.GetString("system") != "urn:oid:1.2.250.1.213.1.4.8") continue;
      patient_id = res.GetString("id");
      nir = id.GetString("value");
    }
  }
  ASSERT_FALSE(patient_id.empty());
  json::Value found = ParseBody(client.Get("/fhir/Patient?identifier=" + UrlEncode("urn:oid:1.2.250.1.213.1.4.8|" + nir)).body);
  EXPECT_EQ(*found.Find("total")->as_int64(), 1);
  json::Value chart = ParseBody(client.Get("/fhir/Patient/" + patient_id + "/$everything?_count=1000").body);
  std::map<std::string, int> types;
  for (const json::Value& e : chart.Find("entry")->as_array()) {
    types[std::string(e.Find("resource")->GetString("resourceType"))]++;
  }
  EXPECT_GT(types["Encounter"], 0);
  EXPECT_EQ(types["Encounter"], types["Claim"]);
  EXPECT_GT(types["Observation"], 0);
  // Laboratory results are linked to their orders and reports.
  json::Value labs = ParseBody(client.Get("/fhir/Observation?category=laboratory&_count=1").body);
  ASSERT_GT(*labs.Find("total")->as_int64(), 0);
  const json::Value& lab = *labs.Find("entry")->as_array()[0].Find("resource");
  const std::string order(lab.Find("basedOn")->as_array()[0].GetString("reference"));
  json::Value reports = ParseBody(client.Get("/fhir/DiagnosticReport?based-on=" + UrlEncode(order)).body);
  EXPECT_EQ(*reports.Find("total")->as_int64(), 1);
  // Diagnoses are searchable by their ICD-10 code.
  json::Value conditions = ParseBody(client.Get("/fhir/Condition?_count=1").body);
  ASSERT_GT(*conditions.Find("total")->as_int64(), 0);
  const json::Value& condition = *conditions.Find("entry")->as_array()[0].Find("resource");
  const json::Value& icd = condition.Find("code")->Find("coding")->as_array()[1];
  json::Value by_icd = ParseBody(
      client.Get("/fhir/Condition?code=" + std::string(icd.GetString("system")) + "|" + std::string(icd.GetString("code")))
          .body);
  EXPECT_GE(*by_icd.Find("total")->as_int64(), 1);
}

}  // namespace
}  // namespace ehr::testing
