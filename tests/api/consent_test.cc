// Patient privacy consents (api/consent.h) over a real socket with --auth on: an active
// Consent of scope patient-privacy hides what it denies from staff on every read path
// (read, search and totals, chains, _has, includes, $everything, history) and takes
// effect, and ends, at once; it names requesters by practitioner, role or organization and
// by purpose of use, and data by type and security label; what it cannot evaluate fails
// closed; the patient always reads their own record, and break-glass overrides it.
#include <gtest/gtest.h>

#include "support/auth_fixture.h"

namespace ehr::testing {
namespace {

constexpr char kRestricted[] =
    R"(,"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}]})";

class ConsentTest : public AuthFixture {
 protected:
  void SetUp() override {
    SetUpService();
    org_ = Create("Organization", R"({"resourceType":"Organization","name":"St Elsewhere"})");
    house_ = Create("Practitioner", R"({"resourceType":"Practitioner","name":[{"family":"House"}]})");
    wilson_ = Create("Practitioner", R"({"resourceType":"Practitioner","name":[{"family":"Wilson"}]})");
    role_ = Create("PractitionerRole", R"({"resourceType":"PractitionerRole","practitioner":{"reference":"Practitioner/)" +
                                           house_ + R"("},"organization":{"reference":"Organization/)" + org_ + R"("}})");
    patient_ = Create("Patient", R"({"resourceType":"Patient","name":[{"family":"Gee"}],"generalPractitioner":[{"reference":"Practitioner/)" +
                                     house_ + R"("},{"reference":"Practitioner/)" + wilson_ + R"("}]})");
    plain_ = Create("Observation", Observation(""));
    restricted_ = Create("Observation", Observation(kRestricted));
    coverage_ = Create("Coverage", R"({"resourceType":"Coverage","status":"active","beneficiary":{"reference":"Patient/)" +
                                       patient_ + R"("},"payor":[{"reference":"Organization/)" + org_ + R"("}]})");
    Add("house", {"DOCTOR"}, "Practitioner/" + house_);
    Add("wilson", {"DOCTOR"}, "Practitioner/" + wilson_);
    Add("biller", {"BILLING"});
    Add("clerk", {"CLERK"});
    Add("gee", {"PATIENT"}, "Patient/" + patient_);
    house_token_ = Token("house");
    wilson_token_ = Token("wilson");
    billing_ = Token("biller");
    clerk_ = Token("clerk");
    self_ = Token("gee");
  }
  std::string Observation(const std::string& extra) const {
    return R"({"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"subject":{"reference":"Patient/)" +
           patient_ + "\"}" + extra + "}";
  }
  // A Consent of the patient with this provision (and these replacements of its defaults).
  std::string Consent(const std::string& provision, const std::string& status = "active",
                      const std::string& scope = "patient-privacy") const {
    return R"({"resourceType":"Consent","status":")" + status +
           R"(","scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":")" + scope +
           R"("}]},"category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],"patient":{"reference":"Patient/)" +
           patient_ + R"("},"policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTIN"}]},"provision":)" +
           provision + "}";
  }
  static std::string Actor(const std::string& reference) {
    return R"(,"actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"PRCP"}]},"reference":{"reference":")" +
           reference + "\"}}]";
  }
  std::string ObservationPath(const std::string& id) const { return "/fhir/Observation/" + id; }

  std::string org_, house_, wilson_, role_, patient_, plain_, restricted_, coverage_;
  std::string house_token_, wilson_token_, billing_, clerk_, self_;
};

TEST_F(ConsentTest, AnOptOutHidesTheRecordFromStaffOnEveryReadPath) {
  ASSERT_EQ(Status(house_token_, ObservationPath(plain_)), 200);
  ASSERT_EQ(Total(house_token_, "/fhir/Observation?subject=Patient/" + patient_), 2);
  const std::string consent = Create("Consent", Consent(R"({"type":"deny"})"));

  // Reads: 403 with the reason and the way out.
  auto denied = As(house_token_, "GET", ObservationPath(plain_));
  EXPECT_EQ(denied.status, 403);
  EXPECT_NE(denied.body.find("withheld by the patient's consent"), std::string::npos) << denied.body;
  EXPECT_NE(denied.body.find("X-Break-Glass"), std::string::npos) << denied.body;
  EXPECT_EQ(Status(house_token_, "/fhir/Patient/" + patient_), 403);
  EXPECT_EQ(Status(house_token_, ObservationPath(plain_) + "/_history/1"), 403);
  EXPECT_EQ(Status(house_token_, ObservationPath(plain_) + "/_history"), 403);
  EXPECT_EQ(Status(clerk_, "/fhir/Patient/" + patient_), 403) << "demographics too";
  EXPECT_EQ(Status(billing_, "/fhir/Coverage/" + coverage_), 403);
  // Searches: no match, no count, no answer through a chain or _has.
  EXPECT_EQ(Total(house_token_, "/fhir/Observation?subject=Patient/" + patient_), 0);
  EXPECT_EQ(Total(house_token_, "/fhir/Observation"), 0);
  EXPECT_EQ(Total(house_token_, "/fhir/Observation?subject:Patient.family=Gee"), 0);
  EXPECT_EQ(Total(house_token_, "/fhir/Practitioner?_has:Patient:general-practitioner:family=Gee"), 0);
  EXPECT_EQ(Total(clerk_, "/fhir/Patient?family=Gee"), 0);
  EXPECT_EQ(Total(clerk_, "/fhir/Patient?family=Gee&_summary=count"), 0);
  auto everything = As(house_token_, "GET", "/fhir/Patient/" + patient_ + "/$everything");
  EXPECT_EQ(everything.status, 200) << everything.body;
  EXPECT_EQ(Ids(everything, "Observation"), std::vector<std::string>{});
  EXPECT_EQ(Ids(everything, "Patient"), std::vector<std::string>{});
  auto included = As(house_token_, "GET", "/fhir/Practitioner?_id=" + house_ + "&_revinclude=Patient:general-practitioner");
  EXPECT_EQ(Ids(included, "Practitioner"), std::vector<std::string>{house_});
  EXPECT_EQ(Ids(included, "Patient"), std::vector<std::string>{}) << "not included either";
  // The patient reads their own record; a declared emergency reads it too.
  EXPECT_EQ(Status(self_, ObservationPath(plain_)), 200);
  EXPECT_EQ(Total(self_, "/fhir/Observation"), 2);
  EXPECT_EQ(Status(house_token_, ObservationPath(plain_), {{"X-Break-Glass", "unconscious in the emergency room"}}), 200);
  EXPECT_EQ(Status(wilson_token_, ObservationPath(plain_)), 403) << "break-glass is one clinician's";

  // Withdrawn (no longer active): visible again at once.
  auto withdrawn = As(service_, "PUT", "/fhir/Consent/" + consent,
                      Consent(R"({"type":"deny"})", "inactive").insert(1, R"("id":")" + consent + "\","));
  ASSERT_EQ(withdrawn.status, 200) << withdrawn.body;
  EXPECT_EQ(Status(wilson_token_, ObservationPath(plain_)), 200);
  EXPECT_EQ(Total(clerk_, "/fhir/Patient?family=Gee"), 1);
}

TEST_F(ConsentTest, ADenialNamesPractitionersRolesOrganizationsAndPurposes) {
  // Everyone working for the organization: House (through his role), not Wilson.
  Create("Consent", Consent(R"({"type":"deny")" + Actor("Organization/" + org_) + "}"));
  EXPECT_EQ(Status(house_token_, ObservationPath(plain_)), 403);
  EXPECT_EQ(Status(wilson_token_, ObservationPath(plain_)), 200);
  EXPECT_EQ(Total(house_token_, "/fhir/Observation"), 0);
  EXPECT_EQ(Total(wilson_token_, "/fhir/Observation"), 2);
  EXPECT_EQ(Status(billing_, "/fhir/Coverage/" + coverage_), 200) << "no actor of this consent";
  // A purpose: payment. Billing is refused; treatment goes on.
  Create("Consent", Consent(
                        R"({"type":"deny","purpose":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"HPAYMT"}]})"));
  EXPECT_EQ(Status(billing_, "/fhir/Coverage/" + coverage_), 403);
  EXPECT_EQ(Total(billing_, "/fhir/Coverage"), 0);
  EXPECT_EQ(Status(wilson_token_, ObservationPath(plain_)), 200);
}

TEST_F(ConsentTest, ExceptionsByLabelTypeAndActor) {
  // Permit all, except what is labelled restricted.
  const std::string label_consent = Create("Consent", Consent(
      R"({"type":"permit","provision":[{"type":"deny","securityLabel":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}]}]})"));
  EXPECT_EQ(Status(house_token_, ObservationPath(plain_)), 200);
  EXPECT_EQ(Status(house_token_, ObservationPath(restricted_)), 403);
  auto found = As(house_token_, "GET", "/fhir/Observation?_total=accurate");
  EXPECT_EQ(Ids(found, "Observation"), std::vector<std::string>{plain_});
  EXPECT_EQ(ParseBody(found.body).Find("total")->as_int64(), 1);
  auto charted = As(house_token_, "GET", "/fhir/Patient?_id=" + patient_ + "&_revinclude=Observation:subject");
  EXPECT_EQ(Ids(charted, "Observation"), std::vector<std::string>{plain_}) << "includes leave it out too";
  EXPECT_EQ(Total(house_token_, "/fhir/Observation?_security=R"), 0);
  ASSERT_EQ(As(service_, "DELETE", "/fhir/Consent/" + label_consent).status, 204);
  EXPECT_EQ(Status(house_token_, ObservationPath(restricted_)), 200) << "deleted: no longer in force";

  // Deny all but observations, and those to Wilson alone.
  Create("Consent", Consent(R"({"type":"deny","provision":[{"type":"permit","class":[{"system":"http://hl7.org/fhir/resource-types","code":"Observation"}])" +
                            Actor("Practitioner/" + wilson_) + "}]}"));
  EXPECT_EQ(Status(wilson_token_, ObservationPath(plain_)), 200);
  EXPECT_EQ(Status(wilson_token_, "/fhir/Patient/" + patient_), 403);
  EXPECT_EQ(Total(wilson_token_, "/fhir/Observation"), 2);
  EXPECT_EQ(Total(wilson_token_, "/fhir/Patient"), 0);
  EXPECT_EQ(Status(house_token_, ObservationPath(plain_)), 403);
}

TEST_F(ConsentTest, AConditionalWriteDoesNotTakeAHiddenMatchForNone) {
  const std::string tagged = Observation(R"(,"identifier":[{"system":"urn:lab","value":"A-1"}])");
  ASSERT_EQ(As(service_, "POST", "/fhir/Observation", tagged).status, 201);
  Create("Consent", Consent(R"({"type":"deny")" + Actor("Practitioner/" + wilson_) + "}"));
  // Wilson cannot see A-1: creating it "if none exists" must not make a second one.
  auto create = As(wilson_token_, "POST", "/fhir/Observation", tagged, {{"If-None-Exist", "identifier=urn:lab|A-1"}});
  EXPECT_EQ(create.status, 403) << create.body;
  EXPECT_NE(create.body.find("withheld"), std::string::npos) << create.body;
  EXPECT_EQ(Total(service_, "/fhir/Observation?identifier=urn:lab|A-1"), 1);
  // House sees it: the same request finds it and creates nothing.
  auto found = As(house_token_, "POST", "/fhir/Observation", tagged, {{"If-None-Exist", "identifier=urn:lab|A-1"}});
  EXPECT_EQ(found.status, 200) << found.body;
  // A criterion that matches nothing at all still creates.
  const std::string other = Observation(R"(,"identifier":[{"system":"urn:lab","value":"B-2"}])");
  EXPECT_EQ(As(wilson_token_, "POST", "/fhir/Observation", other, {{"If-None-Exist", "identifier=urn:lab|B-2"}}).status, 201);
}

TEST_F(ConsentTest, WhatCannotBeEvaluatedFailsClosedAndOtherConsentsAreIgnored) {
  // Not privacy consents, or not in force: nothing changes.
  Create("Consent", Consent(R"({"type":"deny"})", "active", "treatment"));
  Create("Consent", Consent(R"({"type":"deny"})", "proposed"));
  Create("Consent", Consent(R"({"type":"deny","period":{"end":"2001-01-01"}})"));
  Create("Consent", Consent(R"({"type":"deny","action":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentaction","code":"collect"}]}]})"));
  EXPECT_EQ(Status(house_token_, ObservationPath(plain_)), 200);
  EXPECT_EQ(Total(house_token_, "/fhir/Observation"), 2);
  // A class of another code system: the denial covers every type rather than none.
  const std::string unknown_class = Create("Consent", Consent(
      R"({"type":"permit","provision":[{"type":"deny","class":[{"system":"http://loinc.org","code":"11369-6"}]}]})"));
  EXPECT_EQ(Status(house_token_, ObservationPath(plain_)), 403);
  EXPECT_EQ(Total(house_token_, "/fhir/Observation"), 0);
  ASSERT_EQ(As(service_, "DELETE", "/fhir/Consent/" + unknown_class).status, 204);
  // An exception for a care team: we cannot tell who is in it, so nobody gets it.
  Create("Consent", Consent(R"({"type":"deny","provision":[{"type":"permit")" + Actor("CareTeam/unknown") + "}]}"));
  EXPECT_EQ(Status(house_token_, ObservationPath(plain_)), 403);
  EXPECT_EQ(Status(self_, ObservationPath(plain_)), 200);
}

}  // namespace
}  // namespace ehr::testing
