// Whose records a caller reaches (api/patient_reach.h), over a real socket with --auth on:
// a clinician reaches the patients assigned to them (GP through a PractitionerRole, an
// active CareTeam, an encounter in progress) on every path, reads, searches, chains, _has,
// includes, $everything, history and writes, and nothing else until they break the glass;
// a guardian reaches their ward through a RelatedPerson; assignments take effect at once.
#include <gtest/gtest.h>

#include "support/auth_fixture.h"

namespace ehr::testing {
namespace {

class ReachTest : public AuthFixture {
 protected:
  void SetUp() override {
    SetUpService();
    dr_ = Create("Practitioner", R"({"resourceType":"Practitioner","name":[{"family":"House"}]})");
    const std::string role = Create("PractitionerRole", R"({"resourceType":"PractitionerRole","practitioner":{"reference":"Practitioner/)" + dr_ + R"("}})");
    gp_patient_ = NewPatient("Gee", R"(,"generalPractitioner":[{"reference":"PractitionerRole/)" + role + R"("}])");
    team_patient_ = NewPatient("Teams");
    enc_patient_ = NewPatient("Ward");
    finished_patient_ = NewPatient("Gone");
    stranger_ = NewPatient("Stranger");
    Create("CareTeam", CareTeam(team_patient_, "active"));
    Create("Encounter", Encounter(enc_patient_, "in-progress"));
    Create("Encounter", Encounter(finished_patient_, "finished"));
    for (const std::string* p : {&gp_patient_, &team_patient_, &enc_patient_, &finished_patient_, &stranger_}) {
      observations_.push_back(Create("Observation", Observation(*p)));
    }
    Add("house", {"DOCTOR"}, "Practitioner/" + dr_);
    doctor_ = Token("house");
  }
  std::string NewPatient(const std::string& family, const std::string& extra = "") {
    return Create("Patient", R"({"resourceType":"Patient","name":[{"family":")" + family + "\"}]" + extra + "}");
  }
  std::string CareTeam(const std::string& patient, const std::string& status) const {
    return R"({"resourceType":"CareTeam","status":")" + status + R"(","subject":{"reference":"Patient/)" + patient +
           R"("},"participant":[{"member":{"reference":"Practitioner/)" + dr_ + R"("}}]})";
  }
  std::string Encounter(const std::string& patient, const std::string& status) const {
    return R"({"resourceType":"Encounter","status":")" + status + R"(","class":{"code":"EMER"},"subject":{"reference":"Patient/)" +
           patient + R"("},"participant":[{"individual":{"reference":"Practitioner/)" + dr_ + R"("}}]})";
  }
  static std::string Observation(const std::string& patient, const std::string& extra = "") {
    return R"({"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"subject":{"reference":"Patient/)" +
           patient + "\"}" + extra + "}";
  }

  std::string dr_, doctor_;
  std::string gp_patient_, team_patient_, enc_patient_, finished_patient_, stranger_;
  std::vector<std::string> observations_;  // one per patient, in the order above
};

TEST_F(ReachTest, AClinicianReachesAssignedPatientsOnEveryPath) {
  // Reads by id: the three assigned patients (GP through a role, care team, encounter in
  // progress), not the one whose encounter is finished nor the stranger.
  for (size_t i = 0; i < observations_.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(Status(doctor_, "/fhir/Observation/" + observations_[i]), i < 3 ? 200 : 403);
    EXPECT_EQ(Status(doctor_, "/fhir/Observation/" + observations_[i] + "/_history/1"), i < 3 ? 200 : 403);
    EXPECT_EQ(Status(doctor_, "/fhir/Observation/" + observations_[i] + "/_history"), i < 3 ? 200 : 403);
  }
  EXPECT_EQ(Status(doctor_, "/fhir/Patient/" + stranger_), 403);
  EXPECT_EQ(Status(doctor_, "/fhir/Patient/" + stranger_ + "/$everything"), 403);
  EXPECT_EQ(Status(doctor_, "/fhir/Patient/" + stranger_ + "/Observation"), 403);
  EXPECT_EQ(Status(doctor_, "/fhir/Patient/" + team_patient_ + "/$everything"), 200);
  EXPECT_EQ(Status(doctor_, "/fhir/Observation/_history"), 403);
  // Searches count and return only what is reached; the totals say nothing of the rest.
  EXPECT_EQ(Total(doctor_, "/fhir/Observation?code=8867-4"), 3);
  EXPECT_EQ(Total(doctor_, "/fhir/Patient"), 3);
  EXPECT_EQ(Total(doctor_, "/fhir/Observation?subject=Patient/" + stranger_), 0);
  EXPECT_EQ(Total(doctor_, "/fhir/Observation?subject:Patient.name=Stranger"), 0) << "a chain tests no stranger";
  EXPECT_EQ(Total(doctor_, "/fhir/Observation?subject:Patient.name=Teams"), 1);
  EXPECT_EQ(Total(doctor_, "/fhir/Patient?_has:Observation:subject:code=8867-4"), 3);
  EXPECT_EQ(Total(doctor_, "/fhir/Practitioner?_has:Encounter:participant:status=finished"), 0)
      << "_has tests no record out of reach";
  EXPECT_EQ(Total(doctor_, "/fhir/Practitioner"), 1) << "types in no compartment are not bounded";
  // Includes out of reach are left out: the observation of a reached patient that focuses on
  // the stranger brings the reached patient, not the stranger.
  Create("Observation", Observation(team_patient_, R"(,"focus":[{"reference":"Patient/)" + stranger_ + R"("}])"));
  // A chain from a reached record into a stranger's tests nothing there.
  EXPECT_EQ(Total(service_, "/fhir/Observation?focus:Patient.name=Stranger"), 1);
  EXPECT_EQ(Total(doctor_, "/fhir/Observation?focus:Patient.name=Stranger"), 0);
  EXPECT_EQ(Total(doctor_, "/fhir/Observation?focus:Patient.name=Teams"), 0);
  auto included = As(doctor_, "GET", "/fhir/Observation?subject=Patient/" + team_patient_ +
                                         "&_include=Observation:focus&_include=Observation:subject");
  ASSERT_EQ(included.status, 200) << included.body;
  EXPECT_EQ(Ids(included, "Patient"), std::vector<std::string>{team_patient_});
}

TEST_F(ReachTest, AClinicianWritesOnlyIntoReachedRecords) {
  const std::string& theirs = observations_[4];
  EXPECT_EQ(As(doctor_, "POST", "/fhir/Observation", Observation(stranger_)).status, 403);
  EXPECT_EQ(As(doctor_, "POST", "/fhir/Observation", Observation(team_patient_)).status, 201);
  EXPECT_EQ(As(doctor_, "POST", "/fhir/Observation", R"({"resourceType":"Observation","status":"final","code":{"text":"x"}})").status,
            403) << "in no patient's record";
  EXPECT_EQ(As(doctor_, "PUT", "/fhir/Observation/" + theirs,
               R"({"resourceType":"Observation","id":")" + theirs + R"(","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/)" +
                   team_patient_ + R"("}})")
                .status,
            403) << "moving a record out of another's";
  EXPECT_EQ(As(doctor_, "DELETE", "/fhir/Observation/" + theirs).status, 403);
  EXPECT_EQ(As(doctor_, "PATCH", "/fhir/Observation/" + theirs, R"([{"op":"replace","path":"/status","value":"amended"}])",
               {{"Content-Type", "application/json-patch+json"}})
                .status,
            403);
  // Moving a reached record into a stranger's is refused too.
  const std::string& mine = observations_[1];
  EXPECT_EQ(As(doctor_, "PUT", "/fhir/Observation/" + mine,
               R"({"resourceType":"Observation","id":")" + mine + R"(","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/)" +
                   stranger_ + R"("}})")
                .status,
            403);
  // No self-assignment: a care team for a patient out of reach is a write into their record.
  EXPECT_EQ(As(doctor_, "POST", "/fhir/CareTeam", CareTeam(stranger_, "active")).status, 403);
  // A transaction with one entry out of reach fails as a whole.
  auto txn = As(doctor_, "POST", "/fhir",
                R"({"resourceType":"Bundle","type":"transaction","entry":[{"resource":)" + Observation(team_patient_) +
                    R"(,"request":{"method":"POST","url":"Observation"}},{"resource":)" + Observation(stranger_) +
                    R"(,"request":{"method":"POST","url":"Observation"}}]})");
  EXPECT_EQ(txn.status, 403) << txn.body;
  EXPECT_EQ(Total(service_, "/fhir/Observation?subject=Patient/" + team_patient_), 2) << "nothing of it was written";
  // Registering a new patient writes into nobody's record.
  EXPECT_EQ(As(doctor_, "POST", "/fhir/Patient", R"({"resourceType":"Patient"})").status, 201);
  EXPECT_EQ(Status(doctor_, "/fhir/Observation/" + theirs), 403) << "nothing changed";
}

TEST_F(ReachTest, AssignmentsTakeEffectAtOnce) {
  const std::string& theirs = observations_[4];
  EXPECT_EQ(Status(doctor_, "/fhir/Observation/" + theirs), 403);
  const std::string team = Create("CareTeam", CareTeam(stranger_, "active"));
  EXPECT_EQ(Status(doctor_, "/fhir/Observation/" + theirs), 200);
  EXPECT_EQ(Total(doctor_, "/fhir/Observation"), 4);
  auto ended = As(service_, "PUT", "/fhir/CareTeam/" + team,
                  R"({"resourceType":"CareTeam","id":")" + team + R"(","status":"inactive","subject":{"reference":"Patient/)" +
                      stranger_ + R"("},"participant":[{"member":{"reference":"Practitioner/)" + dr_ + R"("}}]})");
  ASSERT_EQ(ended.status, 200) << ended.body;
  EXPECT_EQ(Status(doctor_, "/fhir/Observation/" + theirs), 403);
}

TEST_F(ReachTest, BreakingTheGlassReachesEveryPatientForTheSession) {
  const std::string& theirs = observations_[4];
  EXPECT_EQ(As(doctor_, "GET", "/fhir/Observation/" + theirs, "", {{"X-Break-Glass", "no"}}).status, 400);
  Add("clerk", {"CLERK"});
  EXPECT_EQ(As(Token("clerk"), "GET", "/fhir/Patient/" + stranger_, "", {{"X-Break-Glass", "just looking"}}).status,
            403);
  auto broke = As(doctor_, "GET", "/fhir/Observation/" + theirs, "", {{"X-Break-Glass", "unconscious, no history"}});
  EXPECT_EQ(broke.status, 200) << broke.body;
  EXPECT_EQ(Status(doctor_, "/fhir/Patient/" + stranger_ + "/$everything"), 200) << "the rest of the session";
  EXPECT_EQ(Total(doctor_, "/fhir/Observation"), 5);
  EXPECT_EQ(Status(Token("house"), "/fhir/Observation/" + theirs), 403) << "another login has not broken it";
  // The privacy officers see who, when and why; others may not.
  Add("root", {"ADMIN"});
  auto review = As(Token("root"), "GET", "/auth/break-glass");
  ASSERT_EQ(review.status, 200) << review.body;
  const json::Value list = ParseBody(review.body);
  ASSERT_EQ(list.as_array().size(), 1u);
  EXPECT_EQ(list.as_array()[0].GetString("user"), "house");
  EXPECT_EQ(list.as_array()[0].GetString("reason"), "unconscious, no history");
  EXPECT_EQ(As(doctor_, "GET", "/auth/break-glass").status, 403);
  EXPECT_EQ(As(Token("root"), "GET", "/auth/break-glass?since=yesterday").status, 400);
  // The endpoint form, for a client that declares before it reads.
  const std::string nurse = (Add("nurse", {"NURSE"}, "Practitioner/" + dr_), Token("nurse"));
  EXPECT_EQ(Status(nurse, "/fhir/Observation/" + theirs), 403);
  auto declared = c_.Send("POST", "/auth/break-glass", R"({"reason":"cardiac arrest on the ward"})",
                          {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + nurse}});
  EXPECT_EQ(declared.status, 200) << declared.body;
  EXPECT_EQ(Status(nurse, "/fhir/Observation/" + theirs), 200);
}

TEST_F(ReachTest, AGuardianReachesTheirWard) {
  const std::string rp = Create("RelatedPerson", R"({"resourceType":"RelatedPerson","active":true,"patient":{"reference":"Patient/)" +
                                                     stranger_ + R"("},"relationship":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-RoleCode","code":"GUARD"}]}]})");
  Add("mum", {"GUARDIAN"}, "RelatedPerson/" + rp);
  const std::string mum = Token("mum");
  EXPECT_EQ(Status(mum, "/fhir/Observation/" + observations_[4]), 200);
  EXPECT_EQ(Status(mum, "/fhir/Patient/" + stranger_), 200);
  EXPECT_EQ(Status(mum, "/fhir/Observation/" + observations_[0]), 404) << "another patient's: as if absent";
  EXPECT_EQ(Total(mum, "/fhir/Observation"), 1);
  EXPECT_EQ(Total(mum, "/fhir/Patient"), 1);
  EXPECT_EQ(Status(mum, "/fhir/Patient/" + gp_patient_ + "/$everything"), 403);
  EXPECT_EQ(As(mum, "POST", "/fhir/Observation", Observation(stranger_)).status, 403);
  // An ended relationship reaches nobody.
  auto ended = As(service_, "PUT", "/fhir/RelatedPerson/" + rp,
                  R"({"resourceType":"RelatedPerson","id":")" + rp + R"(","active":false,"patient":{"reference":"Patient/)" +
                      stranger_ + R"("}})");
  ASSERT_EQ(ended.status, 200) << ended.body;
  EXPECT_EQ(Status(mum, "/fhir/Observation/" + observations_[4]), 404);
  EXPECT_EQ(Total(mum, "/fhir/Observation"), 0);
}

// Reads by id run on the IO thread; one whose reach or consents are not cached yet would
// wait for the store there, so it is deferred to a worker (net::Response::Defer).
TEST_F(ReachTest, AColdReadOnAnIoThreadGoesToAWorker) {
  net::Request req;
  req.method = "GET";
  req.path = req.target = "/fhir/Observation/" + observations_[0];
  req.request_id = "io-thread-test";
  req.headers = {{"Authorization", "Bearer " + doctor_}};
  auto inline_call = [&] {
    req.on_io_thread = true;
    return server_.service().Handle(req);
  };
  EXPECT_TRUE(inline_call().deferred) << "nothing cached for this doctor yet";
  req.on_io_thread = false;
  net::Response on_worker = server_.service().Handle(req);
  EXPECT_FALSE(on_worker.deferred);
  EXPECT_EQ(on_worker.status, 200);
  net::Response warm = inline_call();
  EXPECT_FALSE(warm.deferred) << "cached now";
  EXPECT_EQ(warm.status, 200);
  // Writing a care team drops the cached reach: deferred again.
  Create("CareTeam", CareTeam(stranger_, "active"));
  EXPECT_TRUE(inline_call().deferred);
  // A break-glass declaration writes to the account store: never on the IO thread.
  req.headers.push_back({"X-Break-Glass", "patient collapsed in the waiting room"});
  req.on_io_thread = false;
  (void)server_.service().Handle(req);  // warms the reach again
  EXPECT_TRUE(inline_call().deferred);
}

TEST(ReachOption, ClinicianReachAllLiftsTheAssignmentRule) {
  TestServerOptions o;
  o.auth = true;
  o.clinicians_reach_all = true;
  TestServer server(o);
  ASSERT_TRUE(server.identity()->AddUser({"doc", AuthFixture::kPassword, {"DOCTOR"}, {}, ""}).ok());
  const std::string token = server.identity()->MintTokens("doc", "", "")->access_token;
  auto created = server.Client().Send("POST", "/fhir/Patient", R"({"resourceType":"Patient"})",
                                      {{"Content-Type", "application/fhir+json"}, {"Authorization", "Bearer " + token}});
  ASSERT_EQ(created.status, 201);
  auto read = server.Client().Send("GET", "/fhir/Patient/" + std::string(ParseBody(created.body).GetString("id")), "",
                                   {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(read.status, 200);
}

}  // namespace
}  // namespace ehr::testing
