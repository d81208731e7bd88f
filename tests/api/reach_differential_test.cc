// A differential test of the reach (api/patient_reach.h) and of consent (api/consent.h):
// for a random population of patients, clinicians, care teams, encounters, guardians,
// observations (some labelled restricted) and privacy consents, and for every
// caller (one with SMART granular scopes) and query, the filtered search returns exactly the matches of the unrestricted
// search (a doctor who broke the glass) that the caller may read one by one (GET by id answers 200), its total counts
// them, and nothing it includes is unreadable. Searches with chains or _has are bounded
// more tightly (they test no record out of reach), so there only "nothing unreadable" holds.
// The seed is fixed (EHR_REACH_SEED overrides it) and printed on failure.
#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>
#include <map>
#include <random>
#include <set>

#include "support/test_server.h"

namespace ehr::testing {
namespace {

constexpr char kPassword[] = "Tulip-Harbour-42";

class ReachDifferential : public ::testing::Test {
 protected:
  ReachDifferential() : server_(Options()) {}
  static TestServerOptions Options() {
    TestServerOptions o;
    o.auth = true;
    return o;
  }
  HttpResult As(const std::string& token, const std::string& method, const std::string& path,
                const std::string& body = "") {
    return c_.Send(method, path, body, {{"Content-Type", "application/fhir+json"}, {"Authorization", "Bearer " + token}});
  }
  std::string Create(const std::string& type, const std::string& body) {
    auto r = As(service_, "POST", "/fhir/" + type, body);
    EXPECT_EQ(r.status, 201) << r.body;
    return std::string(ParseBody(r.body).GetString("id"));
  }
  std::string Add(const std::string& name, const std::string& role, const std::string& fhir_user) {
    EXPECT_TRUE(server_.identity()->AddUser({name, kPassword, {role}, {}, fhir_user}).ok());
    return server_.identity()->MintTokens(name, "", "")->access_token;
  }
  // Every page of a search: match and include references ("Type/id"), and the total.
  struct Found {
    std::set<std::string> matches, included;
    int64_t total = -1;
    int status = 0;
  };
  Found Search(const std::string& token, const std::string& query) {
    Found f;
    std::string next = "/fhir/" + query + (query.find('?') == std::string::npos ? "?" : "&") + "_total=accurate&_count=7";
    while (!next.empty()) {
      auto r = As(token, "GET", next);
      f.status = r.status;
      if (r.status != 200) return f;
      const json::Value page = ParseBody(r.body);
      if (f.total < 0 && page.Find("total")) f.total = *page.Find("total")->as_int64();
      next.clear();
      if (const json::Value* links = page.Find("link")) {
        for (const auto& l : links->as_array()) {
          if (l.GetString("relation") == "next") {
            std::string url(l.GetString("url"));
            next = url.substr(url.find("/fhir/"));
          }
        }
      }
      if (const json::Value* entries = page.Find("entry")) {
        for (const auto& e : entries->as_array()) {
          const json::Value* res = e.Find("resource");
          const json::Value* search = e.Find("search");
          if (!res || !search) continue;
          const std::string ref = std::string(res->GetString("resourceType")) + "/" + std::string(res->GetString("id"));
          (search->GetString("mode") == "include" ? f.included : f.matches).insert(ref);
        }
      }
    }
    return f;
  }

  TestServer server_;
  HttpClient c_ = server_.Client();
  std::string service_;
};

TEST_F(ReachDifferential, FilteredSearchEqualsPerResourceChecks) {
  const char* env = std::getenv("EHR_REACH_SEED");
  const unsigned seed = env ? static_cast<unsigned>(std::strtoul(env, nullptr, 10)) : 20261123u;
  SCOPED_TRACE("EHR_REACH_SEED=" + std::to_string(seed));
  std::mt19937 rng(seed);
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  auto chance = [&](int percent) { return static_cast<int>(rng() % 100) < percent; };

  ASSERT_TRUE(server_.identity()->AddUser({"seed", kPassword, {"SERVICE"}, {}, ""}).ok());
  service_ = server_.identity()->MintTokens("seed", "", "")->access_token;
  std::vector<std::string> practitioners, patients, observations;
  for (int i = 0; i < 3; ++i) practitioners.push_back(Create("Practitioner", R"({"resourceType":"Practitioner"})"));
  const char* families[] = {"Ash", "Birch", "Cedar"};
  const char* genders[] = {"female", "male"};
  for (int i = 0; i < 12; ++i) {
    std::string gp = chance(40) ? R"(,"generalPractitioner":[{"reference":"Practitioner/)" + practitioners[pick(3)] + "\"}]" : "";
    patients.push_back(Create("Patient", std::string(R"({"resourceType":"Patient","gender":")") + genders[pick(2)] +
                                             R"(","name":[{"family":")" + families[pick(3)] + "\"}]" + gp + "}"));
  }
  auto ref = [](const std::string& type, const std::string& id) { return R"({"reference":")" + type + "/" + id + "\"}"; };
  for (int i = 0; i < 8; ++i) {
    const char* status = chance(70) ? "active" : "inactive";
    Create("CareTeam", std::string(R"({"resourceType":"CareTeam","status":")") + status + R"(","subject":)" +
                           ref("Patient", patients[pick(12)]) + R"(,"participant":[{"member":)" +
                           ref("Practitioner", practitioners[pick(3)]) + "}]}");
  }
  for (int i = 0; i < 8; ++i) {
    const char* statuses[] = {"in-progress", "arrived", "finished", "planned"};
    Create("Encounter", std::string(R"({"resourceType":"Encounter","status":")") + statuses[pick(4)] +
                            R"(","class":{"code":"AMB"},"subject":)" + ref("Patient", patients[pick(12)]) +
                            R"(,"participant":[{"individual":)" + ref("Practitioner", practitioners[pick(3)]) + "}]}");
  }
  for (int i = 0; i < 40; ++i) {
    std::string extra, performers;
    if (chance(25)) performers += ref("Patient", patients[pick(12)]);  // another compartment
    if (chance(15)) performers += (performers.empty() ? "" : ",") + ref("Practitioner", practitioners[pick(3)]);
    if (!performers.empty()) extra += R"(,"performer":[)" + performers + "]";
    if (chance(25)) extra += R"(,"focus":[)" + ref("Patient", patients[pick(12)]) + "]";  // not a compartment link
    const std::string subject = chance(90) ? R"(,"subject":)" + ref("Patient", patients[pick(12)]) : "";
    if (chance(30)) extra += R"(,"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}]})";
    observations.push_back(Create("Observation", R"({"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"c)" +
                              std::to_string(pick(3)) + "\"}]}" + subject + extra + "}"));
  }
  // Privacy consents of random shapes on random patients.
  auto actor = [&](const std::string& practitioner) { return R"(,"actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"PRCP"}]},"reference":)" +
           ref("Practitioner", practitioner) + "}]";
  };
  const std::string label = R"(,"securityLabel":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}])";
  const std::string observation_class = R"(,"class":[{"system":"http://hl7.org/fhir/resource-types","code":"Observation"}])";
  const std::vector<std::function<std::string()>> shapes = {
      [&] { return std::string(R"({"type":"deny"})"); },
      [&] { return R"({"type":"deny")" + actor(practitioners[pick(3)]) + "}"; },
      [&] { return R"({"type":"permit","provision":[{"type":"deny")" + label + "}]}"; },
      [&] { return R"({"type":"deny","provision":[{"type":"permit")" + observation_class + "}]}"; },
      [&] {
        return R"({"type":"permit","provision":[{"type":"deny")" + observation_class + R"(,"provision":[{"type":"permit")" +
               actor(practitioners[pick(3)]) + "}]}]}";
      },
      [&] { return std::string(R"({"type":"deny","purpose":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"TREAT"}]})"); },
      [&] {
        return R"({"type":"deny","data":[{"meaning":"instance","reference":)" + ref("Observation", observations[pick(observations.size())]) + "}]}";
      },
      [&] { return std::string(R"({"type":"deny","period":{"end":"2001-01-01"}})"); },
      [&] { return R"({"type":"deny","provision":[{"type":"permit")" + actor(practitioners[pick(3)]) + label + "}]}"; },
  };
  for (int i = 0; i < 6; ++i) {
    Create("Consent", R"({"resourceType":"Consent","status":"active","scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},"category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],"patient":)" +
                          ref("Patient", patients[pick(12)]) + R"(,"policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTIN"}]},"provision":)" +
                          shapes[pick(shapes.size())]() + "}");
  }
  // The unrestricted view: a doctor who broke the glass reaches every record, consents lifted.
  const std::string er = Add("emergency", "DOCTOR", "Practitioner/" + practitioners[0]);
  ASSERT_EQ(As(er, "POST", "/auth/break-glass", R"({"reason":"differential reference view"})").status, 200);
  // Callers: each practitioner as a doctor, the service, three patients, two guardians.
  std::vector<std::pair<std::string, std::string>> callers;
  for (size_t i = 0; i < practitioners.size(); ++i) {
    callers.emplace_back("doctor" + std::to_string(i), Add("doc" + std::to_string(i), "DOCTOR", "Practitioner/" + practitioners[i]));
  }
  callers.emplace_back("service", service_);
  // A doctor whose token has granular scopes (SMART v2): two alternatives for observations.
  ASSERT_TRUE(server_.identity()->AddUser({"granular", kPassword, {"DOCTOR"}, {}, "Practitioner/" + practitioners[1]}).ok());
  callers.emplace_back(
      "granular", server_.identity()
                      ->MintTokens("granular",
                                   "user/Observation.rs?code=c1,c2 user/Observation.rs?subject:Patient.gender=female "
                                   "user/Patient.rs?gender=female user/Encounter.rs user/CareTeam.rs user/Practitioner.rs",
                                   "")
                      ->access_token);
  for (int i = 0; i < 3; ++i) {
    callers.emplace_back("patient" + std::to_string(i), Add("pat" + std::to_string(i), "PATIENT", "Patient/" + patients[pick(12)]));
  }
  for (int i = 0; i < 2; ++i) {
    const std::string rp = Create("RelatedPerson", R"({"resourceType":"RelatedPerson","patient":)" + ref("Patient", patients[pick(12)]) + "}");
    callers.emplace_back("guardian" + std::to_string(i), Add("guard" + std::to_string(i), "GUARDIAN", "RelatedPerson/" + rp));
  }
  const std::vector<std::string> plain = {
      "Observation", "Observation?code=c1", "Patient", "Patient?gender=female", "Encounter", "CareTeam",
      "Observation?subject=Patient/" + patients[pick(12)], "Observation?performer=Patient/" + patients[pick(12)],
      "Observation?focus=Patient/" + patients[pick(12)], "Observation?code=c0,c2&_sort=-_lastUpdated",
      "Patient?_id=" + patients[0] + "," + patients[1] + "," + patients[2],
      "Observation?_include=Observation:subject&_include=Observation:focus",
      "Patient?_revinclude=Observation:subject&_revinclude=Observation:focus", "Practitioner",
      "Observation?_security=http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R"};
  const std::vector<std::string> chained = {
      "Observation?subject:Patient.gender=female", "Observation?focus:Patient.family=Ash",
      "Patient?_has:Observation:subject:code=c2", "Patient?_has:Observation:focus:code=c1",
      "Practitioner?_has:CareTeam:participant:status=active"};
  std::map<std::string, int> readable_cache;
  int compared = 0;
  size_t withheld = 0;  // from the service (which reaches everyone): what consents hide
  for (const auto& [who, token] : callers) {
    SCOPED_TRACE(who);
    auto readable = [&, &token = token](const std::string& r) {
      auto [it, fresh] = readable_cache.try_emplace(token + " " + r, 0);
      if (fresh) it->second = As(token, "GET", "/fhir/" + r).status;
      return it->second == 200;
    };
    for (const std::string& q : plain) {
      SCOPED_TRACE(q);
      const Found all = Search(er, q);
      ASSERT_EQ(all.status, 200);
      const Found mine = Search(token, q);
      ASSERT_EQ(mine.status, 200);
      std::set<std::string> expected;
      for (const std::string& r : all.matches) {
        if (readable(r)) expected.insert(r);
      }
      EXPECT_EQ(mine.matches, expected);
      if (who == "service") withheld += all.matches.size() - mine.matches.size();
      EXPECT_EQ(mine.total, static_cast<int64_t>(mine.matches.size()));
      for (const std::string& r : mine.included) EXPECT_TRUE(readable(r)) << "included " << r;
      ++compared;
    }
    for (const std::string& q : chained) {
      SCOPED_TRACE(q);
      const Found mine = Search(token, q);
      if (mine.status == 403) continue;  // a type the role may not test
      ASSERT_EQ(mine.status, 200);
      const Found all = Search(er, q);
      for (const std::string& r : mine.matches) {
        EXPECT_TRUE(readable(r)) << r;
        EXPECT_TRUE(all.matches.count(r)) << r;
      }
      EXPECT_EQ(mine.total, static_cast<int64_t>(mine.matches.size()));
    }
  }
  EXPECT_EQ(compared, static_cast<int>(callers.size() * plain.size()));
  EXPECT_GT(withheld, 0u) << "the consents of this population hide nothing: the test compares nothing of consent";
}

}  // namespace
}  // namespace ehr::testing
