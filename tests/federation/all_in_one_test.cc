// `ehr serve` without --role (issue 9): the whole federation in one process, as `make run`
// starts it. Three vaults (UK, DE, FR), each loaded with generated patients of its region
// on the first start, the MPI and a gateway, each with its own directory and key store. A
// clinician at the gateway finds a traveller recorded in DE and at home in the UK and reads
// the merged record; the gateway holds none of it; a restart loads nothing twice and keeps
// the keys, so the federation works again at once.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "fhir/json/value.h"
#include "support/ehr_process.h"
#include "support/http_client.h"
#include "support/test_server.h"

namespace ehr::testing {
namespace {

namespace fs = std::filesystem;

constexpr int kPatients = 40;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

bool AnyFileHolds(const fs::path& dir, const std::string& needle) {
  for (const auto& f : fs::recursive_directory_iterator(dir)) {
    if (f.is_regular_file() && ReadFile(f.path()).find(needle) != std::string::npos) return true;
  }
  return false;
}

struct Traveller {
  std::string identifier;  // system|value
  std::string home_region;
  std::string family;
};

// The first traveller recorded in DE whose home is the UK (ground truth of `ehr synth`), with
// the family name their German record gives.
Traveller FindTraveller(const fs::path& synth) {
  std::ifstream csv(synth / "de" / "ground-truth" / "travellers.csv");
  std::string line;
  std::getline(csv, line);  // region,patient_id,home_region,home_patient_id,identifier_system,identifier_value
  while (std::getline(csv, line)) {
    std::vector<std::string> f;
    std::stringstream cells(line);
    for (std::string c; std::getline(cells, c, ',');) f.push_back(c);
    if (f.size() < 6 || f[2] != "uk") continue;
    Traveller t{f[4] + "|" + f[5], f[2], ""};
    std::ifstream patients(synth / "de" / "Patient.ndjson");
    for (std::string p; std::getline(patients, p);) {
      if (p.find(f[1]) == std::string::npos) continue;
      auto v = json::Parse(p);
      if (v.ok()) t.family = std::string((*v).Find("name")->as_array()[0].GetString("family"));
    }
    return t;
  }
  return {};
}

class AllInOneTest : public ::testing::Test {
 protected:
  void SetUp() override { root_ = fs::path(dir_.path()) / "data"; }
  void TearDown() override {
    if (server_.port != 0 && server_.pid > 0) server_.Stop(SIGTERM);
  }

  void Start(std::vector<std::string> more = {}) {
    log_ = fs::path(dir_.path()) / ("serve-" + std::to_string(++starts_) + ".log");
    std::vector<std::string> args = {"--all-in-one", "--data", root_.string(), "--demo-patients", std::to_string(kPatients),
                                     "--access-log", "off", "--rate-limit-user", "0"};
    args.insert(args.end(), more.begin(), more.end());
    server_ = EhrProcess::Serve(args,
                                {{"EHR_ADMIN_PASSWORD", "Keeper-Of-Keys-2026!"}, {"EHR_PASSWORD_COST", "low"}}, log_.string());
    ASSERT_NE(server_.port, 0) << server_.output;
    // Every node's line follows the gateway's.
    std::regex line(R"(FHIR R4 vault at http://127\.0\.0\.1:(\d+)/fhir \(data [^,]*/vault-(\w+), region (\w+)\))");
    for (int i = 0; i < 50 && vaults_.size() < 3; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      const std::string text = ReadFile(log_);
      for (auto m = std::sregex_iterator(text.begin(), text.end(), line); m != std::sregex_iterator(); ++m) {
        vaults_[(*m)[2]] = static_cast<uint16_t>(std::stoi((*m)[1]));
        EXPECT_EQ((*m)[2], (*m)[3]);
      }
    }
    ASSERT_EQ(vaults_.size(), 3u) << ReadFile(log_);
  }

  std::string Token() {
    if (token_.empty()) {
      const std::string gw = (root_ / "gateway").string();
      auto [added, out] = RunCommand("EHR_PASSWORD_COST=low EHR_USER_PASSWORD='Correct-Horse-Battery-9' " +
                                     std::string(std::getenv("EHR_BINARY")) + " user add --data " + gw +
                                     " --user dr-uk --roles DOCTOR 2>&1");
      EXPECT_EQ(added, 0) << out;
      auto [minted, token] = RunEhr("token --data " + gw + " --user dr-uk 2>/dev/null");
      EXPECT_EQ(minted, 0) << token;
      token_ = LastLine(token);
    }
    return token_;
  }

  HttpResult Gateway(const std::string& target) {
    HttpClient c("127.0.0.1", server_.port);
    return c.Get(target, {{"Authorization", "Bearer " + Token()}});
  }

  // The regions $locate names, polled until `want` of them (vaults register in the background).
  std::set<std::string> LocateUntil(const std::string& identifier, size_t want) {
    std::set<std::string> regions;
    for (int i = 0; i < 300 && regions.size() < want; ++i) {
      if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      HttpResult r = Gateway("/fhir/Patient/$locate?identifier=" + UrlEncode(identifier));
      if (r.status != 200) continue;
      auto v = json::Parse(r.body);
      if (!v.ok() || v->Find("parameter") == nullptr) continue;
      regions.clear();
      for (const json::Value& m : v->Find("parameter")->as_array()) {
        for (const json::Value& part : m.Find("part")->as_array()) {
          if (part.GetString("name") == "region") regions.emplace(part.GetString("valueCode"));
        }
      }
    }
    return regions;
  }

  TempDir dir_;
  fs::path root_, log_;
  int starts_ = 0;
  EhrProcess server_;
  std::map<std::string, uint16_t> vaults_;
  std::string token_;
};

TEST_F(AllInOneTest, ATravellerIsFoundAndReadAcrossTheVaultsOfOneProcess) {
  Start();
  // Each node keeps its own directory, database and key store.
  for (const char* node : {"vault-uk", "vault-de", "vault-fr", "mpi", "gateway"}) {
    EXPECT_TRUE(fs::exists(root_ / node / "ehr.db")) << node;
    EXPECT_TRUE(fs::exists(root_ / node / "keyring")) << node;
  }
  EXPECT_NE(ReadFile(root_ / "vault-uk" / "keyring"), ReadFile(root_ / "vault-de" / "keyring"));
  EXPECT_NE(ReadFile(root_ / "vault-de" / "keyring"), ReadFile(root_ / "vault-fr" / "keyring"));

  const Traveller t = FindTraveller(root_ / "demo-synth");
  ASSERT_FALSE(t.identifier.empty()) << "no UK traveller among " << kPatients << " German patients";
  ASSERT_FALSE(t.family.empty());
  EXPECT_EQ(LocateUntil(t.identifier, 2), (std::set<std::string>{"de", "uk"}));

  HttpResult everything = Gateway("/fhir/Patient/$federated-everything?identifier=" + UrlEncode(t.identifier));
  ASSERT_EQ(everything.status, 200) << everything.body;
  auto bundle = json::Parse(everything.body);
  ASSERT_TRUE(bundle.ok());
  std::set<std::string> sources;
  int patients = 0;
  for (const json::Value& e : bundle->Find("entry")->as_array()) {
    const json::Value& r = *e.Find("resource");
    if (r.GetString("resourceType") == "OperationOutcome") continue;
    sources.emplace(r.Find("meta")->GetString("source"));
    if (r.GetString("resourceType") == "Patient") ++patients;
  }
  EXPECT_EQ(sources, (std::set<std::string>{"urn:ehr:region:de", "urn:ehr:region:uk"}));
  EXPECT_EQ(patients, 2);

  // A bad NHS number is refused at the gateway; it holds no clinical data of its own.
  HttpResult bad = Gateway("/fhir/Patient/$locate?identifier=" + UrlEncode("https://fhir.nhs.uk/Id/nhs-number|1234567890"));
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(Gateway("/fhir/Patient").status, 404);

  // The vaults answer their own users only: a gateway token is not theirs.
  HttpClient uk("127.0.0.1", vaults_["uk"]);
  EXPECT_EQ(uk.Get("/fhir/Patient", {{"Authorization", "Bearer " + Token()}}).status, 401);

  server_.Stop(SIGTERM);
  server_ = {};
  // Neither the gateway's nor the MPI's files hold the traveller's name or number.
  const std::string number = t.identifier.substr(t.identifier.find('|') + 1);
  EXPECT_FALSE(AnyFileHolds(root_ / "gateway", t.family));
  EXPECT_FALSE(AnyFileHolds(root_ / "gateway", number));
  EXPECT_FALSE(AnyFileHolds(root_ / "mpi", t.family));
  EXPECT_FALSE(AnyFileHolds(root_ / "mpi", number));

  // A restart loads nothing twice, and the keys and links it made are the ones it finds.
  vaults_.clear();
  Start();
  EXPECT_EQ(ReadFile(log_).find("generating"), std::string::npos) << ReadFile(log_);
  EXPECT_EQ(LocateUntil(t.identifier, 2), (std::set<std::string>{"de", "uk"}));
  HttpResult again = Gateway("/fhir/Patient/$federated-everything?identifier=" + UrlEncode(t.identifier));
  ASSERT_EQ(again.status, 200);
  auto again_bundle = json::Parse(again.body);
  ASSERT_TRUE(again_bundle.ok());
  EXPECT_EQ(again_bundle->Find("entry")->as_array().size(), bundle->Find("entry")->as_array().size());
}

// Writes "local" (--visitor-writes local) at a French gateway: a UK traveller seen in France
// gets a record in the French vault holding only their NHS number, the note goes there, and
// the MPI then links that record with the others.
TEST_F(AllInOneTest, AVisitorsNoteGoesToTheLocalVaultUnderALinkedRecord) {
  Start({"--region", "fr", "--visitor-writes", "local"});
  const Traveller t = FindTraveller(root_ / "demo-synth");
  ASSERT_FALSE(t.identifier.empty());
  ASSERT_EQ(LocateUntil(t.identifier, 2), (std::set<std::string>{"de", "uk"}));
  auto post = [&](const std::string& text) {
    HttpClient c("127.0.0.1", server_.port);
    return c.Send("POST", "/fhir/Patient/$federated-write?identifier=" + UrlEncode(t.identifier),
                  R"({"resourceType":"Observation","status":"final","code":{"text":")" + text + R"("}})",
                  {{"Authorization", "Bearer " + Token()}, {"Content-Type", "application/fhir+json"}});
  };
  HttpResult first = post("Seen in Lyon");
  ASSERT_EQ(first.status, 201) << first.body;
  auto created = json::Parse(first.body);
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(created->Find("meta")->GetString("source"), "urn:ehr:region:fr");
  const std::string local_patient(created->Find("subject")->GetString("reference"));
  // A second note, before or after the MPI knows the record: the same local record.
  HttpResult second = post("Seen again in Lyon");
  ASSERT_EQ(second.status, 201) << second.body;
  EXPECT_EQ(json::Parse(second.body)->Find("subject")->GetString("reference"), local_patient);
  EXPECT_EQ(LocateUntil(t.identifier, 3), (std::set<std::string>{"de", "fr", "uk"}));
  HttpResult timeline = Gateway("/fhir/Patient/$federated-timeline?identifier=" + UrlEncode(t.identifier));
  ASSERT_EQ(timeline.status, 200);
  EXPECT_NE(timeline.body.find("Seen again in Lyon"), std::string::npos) << timeline.body.substr(0, 500);
  server_.Stop(SIGTERM);
  server_ = {};
  EXPECT_FALSE(AnyFileHolds(root_ / "gateway", "Seen in Lyon"));
}

// The whole federation's directory backed up (`ehr backup`, each node's subdirectory) and
// restored elsewhere: it starts without loading anything again, with its keys and links.
TEST_F(AllInOneTest, ItsBackupRestoresElsewhere) {
  Start();
  const Traveller t = FindTraveller(root_ / "demo-synth");
  ASSERT_EQ(LocateUntil(t.identifier, 2), (std::set<std::string>{"de", "uk"}));
  const std::string copy = dir_.path() + "/backup";
  auto [backed, out] = RunEhr("backup --data " + root_.string() + " --out " + copy + " --include-keyring yes");
  ASSERT_EQ(backed, 0) << out;
  server_.Stop(SIGTERM);
  server_ = {};
  for (const char* node : {"vault-uk", "vault-de", "vault-fr", "mpi", "gateway"}) {
    EXPECT_TRUE(fs::exists(fs::path(copy) / node / "ehr.db")) << node;
    EXPECT_TRUE(fs::exists(fs::path(copy) / node / "keyring")) << node;
  }
  const fs::path source = root_;
  root_ = fs::path(dir_.path()) / "restored";
  auto [restored, restored_out] = RunEhr("restore --from " + copy + " --data " + root_.string());
  ASSERT_EQ(restored, 0) << restored_out;
  // The backup is in every node's log, and the restore in every restored node's.
  for (const char* node : {"vault-uk", "vault-de", "vault-fr", "mpi", "gateway"}) {
    for (const char* subtype : {"backup", "restore"}) {
      const fs::path log = (std::string(subtype) == "backup" ? source : root_) / node / "ehr.db";
      auto [rc, count] = RunCommand("sqlite3 " + log.string() +
                                    " \"SELECT count(*) FROM audit_entry WHERE instr(core, '\\\"subtype\\\":\\\"" + subtype +
                                    "\\\"') > 0\"");
      EXPECT_EQ(count, "1\n") << node << " " << subtype;
    }
  }
  fs::create_directories(root_ / "demo-synth");
  vaults_.clear();
  // token_ stays: the restored gateway has the same accounts and signing keys.
  Start();
  EXPECT_EQ(ReadFile(log_).find("generating"), std::string::npos) << ReadFile(log_);
  EXPECT_EQ(LocateUntil(t.identifier, 2), (std::set<std::string>{"de", "uk"}));
  HttpResult read = Gateway("/fhir/Patient/$federated-everything?identifier=" + UrlEncode(t.identifier));
  EXPECT_EQ(read.status, 200);
  EXPECT_EQ(read.body.find("did not answer"), std::string::npos) << read.body.substr(0, 500);
}

TEST_F(AllInOneTest, FlagsForOneNodeAreRefused) {
  for (const char* flag : {"--federation", "--node", "--keyring"}) {
    EhrProcess p = EhrProcess::Serve({"--all-in-one", "--data", root_.string(), flag, "x"});
    ASSERT_EQ(p.port, 0) << (p.Stop(SIGKILL), "it started");
    EXPECT_NE(p.Wait(), 0);
    EXPECT_NE(p.output.find(std::string(flag) + " is for one node"), std::string::npos) << p.output;
  }
}

}  // namespace
}  // namespace ehr::testing
