// Every official R4 example round-trips through the server: created, read back, and equal
// to what was sent apart from id and meta.versionId/lastUpdated. The examples the
// validator lists as wrong in the spec itself (src/fhir/validate/known_bad_examples.txt)
// must be refused with a 400 instead.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "fhir/json/value.h"
#include "support/test_server.h"

namespace ehr::testing {
namespace {

std::set<std::string> KnownBad() {
  std::set<std::string> out;
  const char* src = std::getenv("EHR_SOURCE_DIR");
  std::ifstream in(std::string(src ? src : ".") + "/src/fhir/validate/known_bad_examples.txt");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    out.insert(line.substr(0, line.find_first_of(" \t:")));
  }
  return out;
}

// The resource as the server should keep it: meta.versionId and meta.lastUpdated are the
// server's; an emptied meta disappears.
json::Value Normalise(json::Value v) {
  v.Remove("id");
  if (json::Value* meta = v.Find("meta")) {
    meta->Remove("versionId");
    meta->Remove("lastUpdated");
    if (meta->as_object().empty()) v.Remove("meta");
  }
  return v;
}

TEST(Examples, EveryOfficialExampleRoundTrips) {
  TestServer server;
  HttpClient c = server.Client();
  std::set<std::string> known_bad = KnownBad();
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(SharedData() + "/fhir-examples")) {
    if (e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  ASSERT_GE(files.size(), 700u);
  int round_tripped = 0, refused = 0, audit_events = 0;
  for (const auto& file : files) {
    std::string name = file.filename().string();
    std::string text = ReadFile(file.string());
    auto sent = json::Parse(text);
    std::string type = sent.ok() ? std::string(sent->GetString("resourceType")) : "Basic";
    auto created = c.Send("POST", "/fhir/" + type, text, {{"Content-Type", "application/fhir+json"}});
    if (type == "AuditEvent") {  // the server writes the audit log itself; no one else may
      EXPECT_EQ(created.status, 405) << name;
      ++audit_events;
      continue;
    }
    if (known_bad.count(name)) {
      EXPECT_EQ(created.status, 400) << name << " is listed as known bad but was accepted";
      ++refused;
      continue;
    }
    ASSERT_TRUE(sent.ok()) << name;
    ASSERT_EQ(created.status, 201) << name << ": " << created.body.substr(0, 600);
    std::string location = created.Header("Location");
    std::string path = location.substr(location.find("/fhir/"));
    path = path.substr(0, path.find("/_history"));
    auto read = c.Get(path);
    ASSERT_EQ(read.status, 200) << name;
    auto got = json::Parse(read.body);
    ASSERT_TRUE(got.ok()) << name;
    EXPECT_TRUE(Normalise(std::move(*got)) == Normalise(std::move(*sent))) << name;
    ++round_tripped;
  }
  std::printf("round-tripped %d examples, refused %d known-bad ones\n", round_tripped, refused);
  EXPECT_EQ(refused, static_cast<int>(known_bad.size()));
  EXPECT_GT(audit_events, 0);
}

}  // namespace
}  // namespace ehr::testing
