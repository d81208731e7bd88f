// The federation end to end, as separate processes on loopback (issue 9): a Master Patient
// Index, two regional vaults (UK, DE) and a gateway (FR), each `ehr serve` with its own data
// directory and key store, tied together by a federation file of their public keys. A
// traveller has records in both vaults under the same NHS number; the vaults register their
// patients' pseudonyms at the MPI by themselves; a clinician at the gateway finds and reads
// the merged record; a vault killed mid-way gives a partial answer within the deadline; and
// neither the MPI's nor the gateway's files hold an identifier or a name.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <random>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "fhir/json/value.h"
#include "support/ehr_process.h"
#include "support/free_port.h"
#include "support/http_client.h"
#include "support/test_server.h"

namespace ehr::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kNhs[] = "9434765919";     // valid (mod 11)
constexpr char kNhsWritten[] = "943 476 5919";
constexpr char kFamily[] = "Quellbrunnen";  // a name to look for in files
constexpr char kNhsSystem[] = "https://fhir.nhs.uk/Id/nhs-number";

// The last line a command printed (its answer; log lines come before it).
// Every byte of every file under `dir`.
bool AnyFileHolds(const fs::path& dir, const std::string& needle) {
  for (const auto& f : fs::recursive_directory_iterator(dir)) {
    if (!f.is_regular_file()) continue;
    std::ifstream in(f.path(), std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    if (bytes.str().find(needle) != std::string::npos) return true;
  }
  return false;
}

json::Value ParseOrDie(const std::string& text) {
  auto v = json::Parse(text);
  if (!v.ok()) throw std::runtime_error("not JSON: " + text.substr(0, 200));
  return std::move(*v);
}

std::string PatientJson(const std::string& given, const std::string& nhs, const std::string& extra_identifier = "") {
  return R"({"resourceType":"Patient","name":[{"family":")" + std::string(kFamily) + R"(","given":[")" + given +
         R"("]}],"identifier":[{"system":")" + kNhsSystem + R"(","value":")" + nhs + R"("})" + extra_identifier + "]}";
}

class FederationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(dir_.path());
    for (const char* node : {"mpi", "uk", "de", "gw"}) fs::create_directories(root_ / node);
    while (ports_.size() < 4) {
      const uint16_t port = FreePort();
      if (std::find(ports_.begin(), ports_.end(), port) == ports_.end()) ports_.push_back(port);
    }
    std::string keys[4];
    const char* nodes[4] = {"mpi", "uk", "de", "gw"};
    for (int i = 0; i < 4; ++i) keys[i] = NodeKey((root_ / nodes[i]).string());
    WritePepper((root_ / "pepper").string());
    auto url = [&](int i) { return "http://127.0.0.1:" + std::to_string(ports_[i]); };
    std::ofstream(root_ / "federation.json")
        << R"({"deadlineMs": 2000, "nodes": [)"
        << R"({"name":"mpi","role":"mpi","url":")" << url(0) << R"(","key":")" << keys[0] << R"("},)"
        << R"({"name":"vault-uk","role":"vault","region":"uk","url":")" << url(1) << R"(","key":")" << keys[1] << R"("},)"
        << R"({"name":"vault-de","role":"vault","region":"de","url":")" << url(2) << R"(","key":")" << keys[2] << R"("},)"
        << R"({"name":"gateway-fr","role":"gateway","region":"fr","url":")" << url(3) << R"(","key":")" << keys[3]
        << R"("}]})";
    // The gateway's clinician.
    auto [added, added_out] = RunCommand("EHR_USER_PASSWORD='Correct-Horse-Battery-9' " + Ehr() +
                                         " user add --data " + (root_ / "gw").string() + " --user dr-fr --roles DOCTOR 2>&1");
    ASSERT_EQ(added, 0) << added_out;
    auto [minted, token] = RunEhr("token --data " + (root_ / "gw").string() + " --user dr-fr 2>/dev/null");
    ASSERT_EQ(minted, 0) << token;
    token_ = LastLine(token);
    auto [auditor, auditor_out] = RunCommand("EHR_USER_PASSWORD='Correct-Horse-Battery-9' " + Ehr() + " user add --data " +
                                             (root_ / "gw").string() + " --user aud-fr --roles AUDITOR 2>&1");
    ASSERT_EQ(auditor, 0) << auditor_out;
    auto [minted_aud, aud_token] = RunEhr("token --data " + (root_ / "gw").string() + " --user aud-fr");
    ASSERT_EQ(minted_aud, 0) << aud_token;
    auditor_token_ = LastLine(aud_token);

    mpi_ = Start(0, {"--role", "mpi", "--node", "mpi"});
    uk_ = Start(1, {"--role", "vault", "--node", "vault-uk", "--auth", "off"});
    de_ = Start(2, {"--role", "vault", "--node", "vault-de", "--auth", "off"});
    gw_ = Start(3, {"--role", "gateway", "--node", "gateway-fr"});
  }

  void TearDown() override {
    for (EhrProcess* p : {&gw_, &de_, &uk_, &mpi_}) {
      if (p->port != 0 && p->pid > 0) p->Stop(SIGTERM);
    }
  }

  static std::string Ehr() { return std::getenv("EHR_BINARY"); }

  EhrProcess Start(int i, std::vector<std::string> args) {
    const char* nodes[4] = {"mpi", "uk", "de", "gw"};
    std::vector<std::string> all = {"--listen", "127.0.0.1:" + std::to_string(ports_[i]), "--data",
                                    (root_ / nodes[i]).string(), "--federation", (root_ / "federation.json").string()};
    if (i != 0) {
      all.push_back("--federation-pepper-file");
      all.push_back((root_ / "pepper").string());
    }
    all.insert(all.end(), args.begin(), args.end());
    EhrProcess p = EhrProcess::Serve(all, {}, (root_ / (std::string(nodes[i]) + ".log")).string());
    EXPECT_NE(p.port, 0) << p.output;
    return p;
  }

  HttpResult Gateway(const std::string& target, bool with_token = true) {
    HttpClient c("127.0.0.1", gw_.port);
    std::vector<std::pair<std::string, std::string>> headers;
    if (with_token) headers.push_back({"Authorization", "Bearer " + token_});
    return c.Get(target, headers);
  }

  std::string Create(EhrProcess& vault, const std::string& type, const std::string& body) {
    HttpClient c("127.0.0.1", vault.port);
    HttpResult r = c.Send("POST", "/fhir/" + type, body, {{"Content-Type", "application/fhir+json"}});
    EXPECT_EQ(r.status, 201) << r.body;
    return std::string(ParseOrDie(r.body).GetString("id"));
  }

  // $locate until it finds `regions` matches (the vaults register in the background).
  json::Value LocateUntil(const std::string& identifier, size_t regions) {
    json::Value last;
    for (int i = 0; i < 100; ++i) {
      HttpResult r = Gateway("/fhir/Patient/$locate?identifier=" + UrlEncode(identifier));
      if (r.status == 200) {
        last = ParseOrDie(r.body);
        const json::Value* p = last.Find("parameter");
        if (p != nullptr && p->is_array() && p->as_array().size() >= regions) return last;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return last;
  }

  TempDir dir_;
  fs::path root_;
  std::vector<uint16_t> ports_;
  std::string token_, auditor_token_;
  EhrProcess mpi_, uk_, de_, gw_;
};

std::vector<std::string> RegionsOf(const json::Value& parameters) {
  std::vector<std::string> out;
  for (const json::Value& m : parameters.Find("parameter")->as_array()) {
    for (const json::Value& part : m.Find("part")->as_array()) {
      if (part.GetString("name") == "region") out.emplace_back(part.GetString("valueCode"));
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST_F(FederationTest, AClinicianAbroadFindsAndReadsATravellersRecordFromBothHomeVaults) {
  ASSERT_NE(gw_.port, 0);
  const std::string uk_patient = Create(uk_, "Patient", PatientJson("Ada", kNhs));
  const std::string de_patient = Create(
      de_, "Patient",
      PatientJson("Ada", kNhsWritten,
                  R"(,{"system":"http://fhir.de/sid/gkv/kvid-10","value":"A123456780"})"
                  R"(,{"system":"http://hl7.org/fhir/sid/passport-GBR","value":"123 456 789"})"));
  Create(uk_, "Observation",
         R"({"resourceType":"Observation","status":"final","code":{"text":"Body weight"},"subject":{"reference":"Patient/)" +
             uk_patient + R"("},"effectiveDateTime":"2024-03-01","valueQuantity":{"value":72,"unit":"kg"}})");
  Create(de_, "Condition",
         R"({"resourceType":"Condition","code":{"text":"Asthma"},"subject":{"reference":"Patient/)" + de_patient +
             R"("},"onsetDateTime":"2019-06-01"})");
  Create(uk_, "Patient", PatientJson("Other", "4010232137"));

  // $locate: both regions, whichever way the number is written; nothing clinical.
  json::Value located = LocateUntil(std::string(kNhsSystem) + "|" + kNhs, 2);
  ASSERT_TRUE(located.is_object());
  EXPECT_EQ(RegionsOf(located), (std::vector<std::string>{"de", "uk"}));
  HttpResult written = Gateway("/fhir/Patient/$locate?identifier=" + UrlEncode(std::string(kNhsSystem) + "|" + kNhsWritten));
  ASSERT_EQ(written.status, 200) << written.body;
  EXPECT_EQ(RegionsOf(ParseOrDie(written.body)), (std::vector<std::string>{"de", "uk"}));
  EXPECT_EQ(written.body.find(kFamily), std::string::npos);
  EXPECT_EQ(written.body.find(uk_patient), std::string::npos) << "the locate answer names regions, not records";
  // A passport (issuing country and number) finds the record that holds it.
  HttpResult by_passport = Gateway("/fhir/Patient/$locate?identifier=" +
                                   UrlEncode("http://hl7.org/fhir/sid/passport-GBR|123456789"));
  ASSERT_EQ(by_passport.status, 200) << by_passport.body;
  EXPECT_EQ(RegionsOf(ParseOrDie(by_passport.body)), (std::vector<std::string>{"de"}));

  // $federated-everything: one Bundle, each entry tagged with its home region.
  HttpResult all = Gateway("/fhir/Patient/$federated-everything?identifier=" + UrlEncode(std::string(kNhsSystem) + "|" + kNhs));
  ASSERT_EQ(all.status, 200) << all.body;
  json::Value bundle = ParseOrDie(all.body);
  EXPECT_EQ(bundle.GetString("type"), "searchset");
  std::map<std::string, int> by_region_type;
  for (const json::Value& e : bundle.Find("entry")->as_array()) {
    const json::Value& r = *e.Find("resource");
    const std::string source(r.Find("meta")->GetString("source"));
    by_region_type[source + " " + std::string(r.GetString("resourceType"))]++;
  }
  EXPECT_EQ(by_region_type["urn:ehr:region:uk Patient"], 1) << all.body;
  EXPECT_EQ(by_region_type["urn:ehr:region:de Patient"], 1);
  EXPECT_EQ(by_region_type["urn:ehr:region:uk Observation"], 1);
  EXPECT_EQ(by_region_type["urn:ehr:region:de Condition"], 1);
  EXPECT_EQ(all.body.find("Other"), std::string::npos) << "another patient of the same vault";

  HttpResult timeline = Gateway("/fhir/Patient/$federated-timeline?identifier=" + UrlEncode(std::string(kNhsSystem) + "|" + kNhs));
  ASSERT_EQ(timeline.status, 200) << timeline.body;
  json::Value rows = ParseOrDie(timeline.body);
  ASSERT_EQ(rows.Find("rows")->as_array().size(), 2u) << timeline.body;
  EXPECT_EQ(rows.Find("rows")->as_array()[0].GetString("region"), "uk");  // 2024 before 2019

  // A vault that hangs (stopped: the kernel still accepts its connections): the answer
  // comes at the deadline (2 s) with what the other vault gave.
  ASSERT_EQ(::kill(de_.pid, SIGSTOP), 0);
  const auto s0 = std::chrono::steady_clock::now();
  HttpResult slow = Gateway("/fhir/Patient/$federated-everything?identifier=" + UrlEncode(std::string(kNhsSystem) + "|" + kNhs));
  const auto slow_took = std::chrono::steady_clock::now() - s0;
  ::kill(de_.pid, SIGCONT);
  ASSERT_EQ(slow.status, 200) << slow.body;
  EXPECT_GE(slow_took, std::chrono::milliseconds(1900));
  EXPECT_LT(slow_took, std::chrono::milliseconds(4000));
  EXPECT_NE(slow.body.find("region de did not answer"), std::string::npos) << slow.body;
  EXPECT_NE(slow.body.find(R"("source":"urn:ehr:region:uk")"), std::string::npos) << slow.body;

  // A vault down: a partial answer within the deadline, naming the missing region.
  de_.Stop(SIGKILL);
  de_.port = 0;
  const auto t0 = std::chrono::steady_clock::now();
  HttpResult partial = Gateway("/fhir/Patient/$federated-everything?identifier=" + UrlEncode(std::string(kNhsSystem) + "|" + kNhs));
  const auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_EQ(partial.status, 200) << partial.body;
  EXPECT_LT(took, std::chrono::milliseconds(3000));
  EXPECT_NE(partial.body.find("region de did not answer"), std::string::npos) << partial.body;
  EXPECT_NE(partial.body.find("urn:ehr:region:uk"), std::string::npos);
  // Three failures in a row (the hang, the refusal, one more): the region is not called
  // for a while, and says so.
  const std::string everything =
      "/fhir/Patient/$federated-everything?identifier=" + UrlEncode(std::string(kNhsSystem) + "|" + kNhs);
  ASSERT_EQ(Gateway(everything).status, 200);
  HttpResult open = Gateway(everything);
  ASSERT_EQ(open.status, 200);
  EXPECT_NE(open.body.find("region de did not answer: not called: 3 failures in a row"), std::string::npos) << open.body;
  EXPECT_NE(open.body.find(R"("source":"urn:ehr:region:uk")"), std::string::npos);

  // The gateway's own audit log has each lookup, with the pseudonym, not the number.
  HttpClient audit_client("127.0.0.1", gw_.port);
  HttpResult audit = audit_client.Get("/fhir/AuditEvent?_count=100", {{"Authorization", "Bearer " + auditor_token_}});
  ASSERT_EQ(audit.status, 200) << audit.body;
  EXPECT_NE(audit.body.find("$federated-everything"), std::string::npos) << audit.body.substr(0, 2000);
  EXPECT_NE(audit.body.find("$locate"), std::string::npos);
  EXPECT_EQ(audit.body.find(kNhs), std::string::npos);
  EXPECT_NE(audit.body.find("uk:Patient/" + uk_patient), std::string::npos);

  // The MPI holds pseudonyms only; the gateway stored nothing clinical.
  EXPECT_FALSE(AnyFileHolds(root_ / "mpi", kNhs));
  EXPECT_FALSE(AnyFileHolds(root_ / "mpi", kFamily));
  EXPECT_FALSE(AnyFileHolds(root_ / "gw", kNhs));
  EXPECT_FALSE(AnyFileHolds(root_ / "gw", kFamily));
  EXPECT_FALSE(AnyFileHolds(root_ / "gw", "Body weight"));
}

// A clinician abroad records something about a visitor: it goes to the home vault (the
// region that issued the NHS number, though DE holds a record too) under the patient's record
// there, never to the gateway; the vault checks that the patient holds the number entered.
TEST_F(FederationTest, AVisitorsNewObservationIsWrittenToTheirHomeVaultOnly) {
  ASSERT_NE(gw_.port, 0);
  const std::string uk_patient = Create(uk_, "Patient", PatientJson("Ada", kNhs));
  const std::string de_patient = Create(de_, "Patient", PatientJson("Ada", kNhs));
  ASSERT_TRUE(LocateUntil(std::string(kNhsSystem) + "|" + kNhs, 2).is_object());
  auto post = [&](const std::string& identifier, const std::string& body) {
    HttpClient c("127.0.0.1", gw_.port);
    return c.Send("POST", "/fhir/Patient/$federated-write?identifier=" + UrlEncode(identifier), body,
                  {{"Authorization", "Bearer " + token_}, {"Content-Type", "application/fhir+json"}});
  };
  const std::string observation =
      R"({"resourceType":"Observation","status":"final","code":{"text":"Heart rate seen abroad"},)"
      R"("effectiveDateTime":"2026-11-20","valueQuantity":{"value":88,"unit":"/min"}})";
  HttpResult made = post(std::string(kNhsSystem) + "|" + kNhsWritten, observation);
  ASSERT_EQ(made.status, 201) << made.body;
  json::Value created = ParseOrDie(made.body);
  EXPECT_EQ(created.Find("meta")->GetString("source"), "urn:ehr:region:uk");
  EXPECT_EQ(created.Find("subject")->GetString("reference"), "Patient/" + uk_patient);
  HttpClient uk("127.0.0.1", uk_.port);
  HttpResult at_home = uk.Get("/fhir/Observation?subject=Patient/" + uk_patient);
  ASSERT_EQ(at_home.status, 200);
  EXPECT_NE(at_home.body.find("Heart rate seen abroad"), std::string::npos) << at_home.body;
  HttpClient de("127.0.0.1", de_.port);
  EXPECT_EQ(de.Get("/fhir/Observation?subject=Patient/" + de_patient).body.find("Heart rate seen abroad"), std::string::npos);
  // It is part of the record read across the border, tagged with its region.
  HttpResult all = Gateway("/fhir/Patient/$federated-timeline?identifier=" + UrlEncode(std::string(kNhsSystem) + "|" + kNhs));
  EXPECT_NE(all.body.find("Heart rate seen abroad"), std::string::npos) << all.body;

  // The gateway sets the subject; a body naming one is refused, as is what is not about a
  // patient, and a number that is no valid NHS number; none of it reaches a vault.
  HttpResult named = post(std::string(kNhsSystem) + "|" + kNhs,
                          R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/)" +
                              de_patient + R"("}})");
  EXPECT_EQ(named.status, 422) << named.body;
  EXPECT_NE(named.body.find("Observation.subject"), std::string::npos) << named.body;
  EXPECT_EQ(post(std::string(kNhsSystem) + "|" + kNhs, R"({"resourceType":"Practitioner"})").status, 422);
  EXPECT_EQ(post(std::string(kNhsSystem) + "|" + kNhs, "not json").status, 400);
  EXPECT_EQ(post(std::string(kNhsSystem) + "|1234567890", observation).status, 400);
  // Nobody holds this (valid) number: there is no home vault to write to.
  HttpResult nobody = post(std::string(kNhsSystem) + "|4010232137", observation);
  EXPECT_EQ(nobody.status, 404) << nobody.body;
  // A vault refuses a write from a gateway's clinician that breaks its rules: an invalid
  // Observation comes back with the vault's own OperationOutcome.
  HttpResult invalid = post(std::string(kNhsSystem) + "|" + kNhs, R"({"resourceType":"Observation","status":"bogus","code":{"text":"x"}})");
  EXPECT_EQ(invalid.status, 400) << invalid.body;
  EXPECT_NE(invalid.body.find("OperationOutcome"), std::string::npos);
  // GET is not how one writes.
  EXPECT_EQ(Gateway("/fhir/Patient/$federated-write?identifier=" + UrlEncode(std::string(kNhsSystem) + "|" + kNhs)).status, 405);

  EXPECT_FALSE(AnyFileHolds(root_ / "gw", "Heart rate seen abroad"));
}

// A patient who opted out of cross-border sharing in their home vault (a Consent denying
// the actor Organization/federation): the gateway gets nothing of that record; the other
// region's record still comes, and the home vault's own users still see it.
TEST_F(FederationTest, AConsentOptOutKeepsARecordFromOtherRegions) {
  ASSERT_NE(gw_.port, 0);
  const std::string uk_patient = Create(uk_, "Patient", PatientJson("Ada", kNhs));
  const std::string de_patient = Create(de_, "Patient", PatientJson("Ada", kNhs));
  Create(de_, "Condition",
         R"({"resourceType":"Condition","code":{"text":"Asthma"},"subject":{"reference":"Patient/)" + de_patient +
             R"("},"onsetDateTime":"2019-06-01"})");
  Create(de_, "Consent",
         R"({"resourceType":"Consent","status":"active",)"
         R"("scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},)"
         R"("category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],)"
         R"("patient":{"reference":"Patient/)" + de_patient + R"("},)"
         R"("policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTOUT"}]},)"
         R"("provision":{"type":"permit","provision":[{"type":"deny","actor":[{"role":{"coding":[{"system":)"
         R"("http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},)"
         R"("reference":{"reference":"Organization/federation"}}]}]}})");
  ASSERT_TRUE(LocateUntil(std::string(kNhsSystem) + "|" + kNhs, 2).is_object());
  HttpResult all = Gateway("/fhir/Patient/$federated-everything?identifier=" + UrlEncode(std::string(kNhsSystem) + "|" + kNhs));
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_EQ(all.body.find("Asthma"), std::string::npos) << all.body;
  EXPECT_EQ(all.body.find(R"("source":"urn:ehr:region:de")"), std::string::npos) << all.body;
  EXPECT_NE(all.body.find(R"("source":"urn:ehr:region:uk")"), std::string::npos) << all.body;
  // An emergency declared at the gateway (break-glass, with a reason) overrides the opt-out
  // at home, which records the disclosure as emergency treatment (ETREAT).
  HttpClient gw("127.0.0.1", gw_.port);
  HttpResult emergency = gw.Get("/fhir/Patient/$federated-everything?identifier=" + UrlEncode(std::string(kNhsSystem) + "|" + kNhs),
                                {{"Authorization", "Bearer " + token_}, {"X-Break-Glass", "unconscious in A&E, no next of kin"}});
  ASSERT_EQ(emergency.status, 200) << emergency.body;
  EXPECT_NE(emergency.body.find("Asthma"), std::string::npos) << emergency.body;
  HttpClient de("127.0.0.1", de_.port);
  HttpResult audit = de.Get("/fhir/AuditEvent?patient=" + de_patient + "&_count=50");
  ASSERT_EQ(audit.status, 200) << audit.body;
  EXPECT_NE(audit.body.find("ETREAT"), std::string::npos) << audit.body.substr(0, 3000);
  EXPECT_NE(audit.body.find("dr-fr@gateway-fr"), std::string::npos);
  // Without a reason, no emergency.
  HttpResult blank = gw.Get("/fhir/Patient/$federated-everything?identifier=" + UrlEncode(std::string(kNhsSystem) + "|" + kNhs),
                            {{"Authorization", "Bearer " + token_}, {"X-Break-Glass", " "}});
  EXPECT_EQ(blank.body.find("Asthma"), std::string::npos) << blank.status << " " << blank.body;

  // At home, the record is there.
  HttpResult home = de.Get("/fhir/Patient/" + de_patient + "/$everything");
  ASSERT_EQ(home.status, 200);
  EXPECT_NE(home.body.find("Asthma"), std::string::npos);
}

// The MPI lost a link and holds one the vault never made (restored from an old backup, a
// hand edit): `ehr federation reconcile` names both, and with --repair sets them right.
TEST_F(FederationTest, ReconcileFindsAndMendsWhatTheMpiLost) {
  ASSERT_NE(gw_.port, 0);
  Create(uk_, "Patient", PatientJson("Ada", kNhs));
  Create(uk_, "Patient", PatientJson("Bea", "4010232137"));
  ASSERT_TRUE(LocateUntil(std::string(kNhsSystem) + "|" + kNhs, 1).is_object());
  ASSERT_TRUE(LocateUntil(std::string(kNhsSystem) + "|4010232137", 1).is_object());
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((root_ / "mpi" / "mpi.db").string().c_str(), &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    const std::string ghost(64, 'a');
    const std::string sql = "DELETE FROM link WHERE patient = (SELECT patient FROM link WHERE region = 'uk' LIMIT 1); "
                            "INSERT INTO link VALUES ('" + ghost + "', 'uk', 'ghost', 'nhs', 0);";
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK) << (error ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
  }
  const std::string reconcile = "federation reconcile --data " + (root_ / "uk").string() + " --federation " +
                                (root_ / "federation.json").string() + " --node vault-uk --federation-pepper-file " +
                                (root_ / "pepper").string();
  auto [found, report] = RunEhr(reconcile);
  EXPECT_EQ(found, 3) << report;
  EXPECT_NE(report.find("patients with a national id: 2"), std::string::npos) << report;
  EXPECT_NE(report.find("missing or different at the MPI: 1"), std::string::npos) << report;
  EXPECT_NE(report.find("at the MPI only: 1"), std::string::npos) << report;
  auto [mended, repaired] = RunEhr(reconcile + " --repair yes");
  EXPECT_EQ(mended, 0) << repaired;
  EXPECT_NE(repaired.find("repaired: 2"), std::string::npos) << repaired;
  auto [again, clean] = RunEhr(reconcile);
  EXPECT_EQ(again, 0) << clean;
  EXPECT_NE(clean.find("missing or different at the MPI: 0"), std::string::npos) << clean;
  EXPECT_NE(clean.find("at the MPI only: 0"), std::string::npos) << clean;
  EXPECT_EQ(RegionsOf(LocateUntil(std::string(kNhsSystem) + "|" + kNhs, 1)), (std::vector<std::string>{"uk"}));
}

// Rotating the federation's pepper: the vaults, then the gateway, get a file of the new
// pepper and the old one; the vaults register every patient again under both, lookups go on
// throughout; then the gateway, then the vaults, get the new one alone, and the old
// pseudonyms leave the MPI. A key store that knows none of a file's peppers refuses it.
TEST_F(FederationTest, ThePepperIsRotatedWithLookupsWorkingThroughout) {
  ASSERT_NE(gw_.port, 0);
  Create(uk_, "Patient", PatientJson("Ada", kNhs));
  Create(de_, "Patient", PatientJson("Ada", kNhs));
  const std::string identifier = std::string(kNhsSystem) + "|" + kNhs;
  ASSERT_EQ(RegionsOf(LocateUntil(identifier, 2)), (std::vector<std::string>{"de", "uk"}));
  auto links = [&] {
    sqlite3* db = nullptr;
    int n = -1;
    if (sqlite3_open_v2((root_ / "mpi" / "mpi.db").string().c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
      sqlite3_busy_timeout(db, 5000);
      sqlite3_stmt* st = nullptr;
      if (sqlite3_prepare_v2(db, "SELECT count(*) FROM link", -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        n = sqlite3_column_int(st, 0);
      }
      sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return n;
  };
  auto links_until = [&](int want) {
    for (int i = 0; i < 100 && links() != want; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return links();
  };
  EXPECT_EQ(links(), 2);
  std::string old_pepper;
  std::getline(std::ifstream(root_ / "pepper"), old_pepper);
  auto [made, fresh] = RunEhr("federation pepper");
  ASSERT_EQ(made, 0);
  const std::string new_pepper = LastLine(fresh);
  auto restart = [&](EhrProcess& node, int i, std::vector<std::string> args) {
    node.Stop(SIGTERM);
    node = Start(i, std::move(args));
  };
  const std::vector<std::string> uk_args = {"--role", "vault", "--node", "vault-uk", "--auth", "off"};
  const std::vector<std::string> de_args = {"--role", "vault", "--node", "vault-de", "--auth", "off"};
  const std::vector<std::string> gw_args = {"--role", "gateway", "--node", "gateway-fr"};

  // Begin: the new pepper first, the old one beside it.
  std::ofstream(root_ / "pepper", std::ios::trunc) << new_pepper << "\n" << old_pepper << "\n";
  restart(uk_, 1, uk_args);
  restart(de_, 2, de_args);
  EXPECT_EQ(links_until(4), 4) << "each patient under both peppers";
  EXPECT_EQ(RegionsOf(LocateUntil(identifier, 2)), (std::vector<std::string>{"de", "uk"})) << "the gateway, old pepper only";
  restart(gw_, 3, gw_args);
  EXPECT_EQ(RegionsOf(LocateUntil(identifier, 2)), (std::vector<std::string>{"de", "uk"}));
  HttpResult read = Gateway("/fhir/Patient/$federated-everything?identifier=" + UrlEncode(identifier));
  EXPECT_EQ(read.status, 200);
  EXPECT_EQ(read.body.find("did not answer"), std::string::npos) << read.body;

  // End: the gateway, then the vaults, hold the new pepper alone.
  std::ofstream(root_ / "pepper", std::ios::trunc) << new_pepper << "\n";
  restart(gw_, 3, gw_args);
  EXPECT_EQ(RegionsOf(LocateUntil(identifier, 2)), (std::vector<std::string>{"de", "uk"}));
  restart(uk_, 1, uk_args);
  restart(de_, 2, de_args);
  EXPECT_EQ(links_until(2), 2) << "the old pseudonyms are gone";
  EXPECT_EQ(RegionsOf(LocateUntil(identifier, 2)), (std::vector<std::string>{"de", "uk"}));
  read = Gateway("/fhir/Patient/$federated-everything?identifier=" + UrlEncode(identifier));
  EXPECT_EQ(read.status, 200);
  EXPECT_EQ(read.body.find("did not answer"), std::string::npos) << read.body;

  // Another federation's pepper (or the old one, once dropped, alone with a stranger): refused.
  auto [made_other, other] = RunEhr("federation pepper");
  ASSERT_EQ(made_other, 0);
  std::ofstream(root_ / "pepper", std::ios::trunc) << LastLine(other) << "\n";
  uk_.Stop(SIGTERM);
  uk_ = {};
  std::vector<std::string> all = {"--listen", "127.0.0.1:" + std::to_string(ports_[1]), "--data", (root_ / "uk").string(),
                                  "--federation", (root_ / "federation.json").string(), "--federation-pepper-file",
                                  (root_ / "pepper").string()};
  all.insert(all.end(), uk_args.begin(), uk_args.end());
  EhrProcess refused = EhrProcess::Serve(all);
  ASSERT_EQ(refused.port, 0) << (refused.Stop(SIGKILL), "it started with a stranger's pepper");
  EXPECT_NE(refused.Wait(), 0);
  EXPECT_NE(refused.output.find("another federation pepper"), std::string::npos) << refused.output;
}

TEST_F(FederationTest, RefusalsAreClearAndTheGatewayHoldsNoClinicalData) {
  ASSERT_NE(gw_.port, 0);
  // An identifier that is not a valid NHS number: 400 naming the parameter.
  HttpResult bad = Gateway("/fhir/Patient/$locate?identifier=" + UrlEncode(std::string(kNhsSystem) + "|9434765918"));
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_NE(bad.body.find("identifier"), std::string::npos);
  EXPECT_EQ(bad.body.find("9434765918"), std::string::npos) << "never echoed";
  EXPECT_EQ(Gateway("/fhir/Patient/$locate?identifier=nonsense").status, 400);
  // No clinician, no lookup.
  EXPECT_EQ(Gateway("/fhir/Patient/$locate?identifier=" + UrlEncode(std::string(kNhsSystem) + "|" + kNhs), false).status, 401);
  // The gateway's own FHIR API stores nothing.
  HttpClient c("127.0.0.1", gw_.port);
  HttpResult post = c.Send("POST", "/fhir/Patient", PatientJson("Ada", kNhs),
                           {{"Content-Type", "application/fhir+json"}, {"Authorization", "Bearer " + token_}});
  EXPECT_EQ(post.status, 404) << post.body;
  // A vault refuses a node token it cannot verify, and a gateway's token used for writing.
  HttpClient v("127.0.0.1", uk_.port);
  HttpResult forged = v.Get("/fhir/Patient/x/$everything", {{"Authorization", "Node e30.AAAA"}});
  EXPECT_EQ(forged.status, 401) << forged.body;
}

}  // namespace
}  // namespace ehr::testing
