// Audit entries: the core commits to the detail; erasing the detail keeps the core (and so
// the leaf) valid; the AuditEvent rendering follows BALP's shape.
#include "audit/entry.h"

#include <gtest/gtest.h>

#include <set>

#include "fhir/validate/validate.h"

namespace ehr::audit {
namespace {

Event Read() {
  Event e;
  e.subtype = "read";
  e.action = "R";
  e.recorded = 1'700'000'000'000'000;
  e.tenant = "default";
  e.user = "u-42";
  e.roles = {"DOCTOR"};
  e.client_id = "app";
  e.purpose = "TREAT";
  e.address = "10.0.0.9";
  e.request_id = "req-1";
  e.server = "eu-north";
  e.patient = "p-7";
  e.entities = {"Observation/5/_history/2"};
  e.query = "code=1234-5&name=Ada";
  e.fhir_user = "Practitioner/9";
  return e;
}

TEST(AuditEntry, CoreHoldsNoPersonalDataAndCommitsToTheDetail) {
  const Encoded enc = Encode(Read());
  for (const char* personal : {"p-7", "Observation/5", "Ada", "Practitioner/9"}) {
    EXPECT_EQ(enc.core.find(personal), std::string::npos) << personal;
    EXPECT_NE(enc.detail.find(personal), std::string::npos) << personal;
  }
  auto back = Decode(enc.core, enc.detail);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->patient, "p-7");
  EXPECT_EQ(back->entities, Read().entities);
  EXPECT_EQ(back->query, Read().query);
  EXPECT_EQ(back->roles, Read().roles);
  EXPECT_EQ(back->recorded, Read().recorded);
  EXPECT_EQ(back->user, "u-42");

  std::string altered = enc.detail;
  altered[altered.find("p-7") + 2] = '8';
  EXPECT_FALSE(Decode(enc.core, altered).ok()) << "a changed detail no longer matches its digest";
  auto erased = Decode(enc.core, std::nullopt);
  ASSERT_TRUE(erased.ok());
  EXPECT_EQ(erased->patient, "");
  EXPECT_EQ(erased->user, "u-42");
  EXPECT_FALSE(Decode("{\"v\":2}", std::nullopt).ok());
  EXPECT_FALSE(Decode("not json", std::nullopt).ok());

  // Random salt: the same event encodes to another detail, so a digest says nothing of who.
  EXPECT_NE(Encode(Read()).detail, enc.detail);
  EXPECT_EQ(Encode(Read(), "0123456789abcdef").core, Encode(Read(), "0123456789abcdef").core);
}

// The parts are written directly (not through json::Value): they must still be the compact
// JSON json::Write gives, whatever the strings hold.
TEST(AuditEntry, PartsAreCompactJsonForAnyText) {
  Event e = Read();
  e.query = "name=\"Ad\\a\"\n\t\x01&x=\xc3\xa9\xe2\x82\xac";
  e.roles = {"DOCTOR", "A\"B", ""};
  e.entities = {};
  e.user = "\x7f</script>";
  e.recorded = -5;
  const Encoded enc = Encode(e, "0123456789abcdef");
  for (const std::string* part : {&enc.core, &enc.detail}) {
    auto parsed = json::Parse(*part);
    ASSERT_TRUE(parsed.ok()) << *part;
    EXPECT_EQ(json::Write(*parsed), *part);
  }
  const std::string start = R"({"salt":"30313233343536373839616263646566","patient":"p-7","entities":[],"query":")";
  EXPECT_EQ(enc.detail.rfind(start, 0), 0u) << enc.detail;
  auto back = Decode(enc.core, enc.detail);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->query, e.query);
  EXPECT_EQ(back->roles, e.roles);
  EXPECT_EQ(back->user, e.user);
  EXPECT_EQ(back->recorded, -5);
  EXPECT_TRUE(back->entities.empty());
}

// Salts come from a block fetched at once: still never the same twice.
TEST(AuditEntry, SaltsDoNotRepeat) {
  std::set<std::string> details;
  for (int i = 0; i < 300; ++i) {
    auto parsed = json::Parse(Encode(Read()).detail);
    ASSERT_TRUE(parsed.ok());
    EXPECT_TRUE(details.insert(parsed->Find("salt")->as_string()).second) << i;
  }
}

// A request over mutual TLS: the core names the machine by its certificate's digest (not
// personal data), and the AuditEvent's client agent shows it. Without one the core has no
// such member, so entries written before it existed keep their bytes and leaves.
TEST(AuditEntry, TheClientMachinesCertificateIsInTheCore) {
  Event e = Read();
  const std::string plain_core = Encode(e, "0123456789abcdef").core;
  EXPECT_EQ(plain_core.find("certificate"), std::string::npos);
  e.certificate = "sha256:" + std::string(64, 'a');
  const Encoded enc = Encode(e, "0123456789abcdef");
  EXPECT_NE(enc.core.find(e.certificate), std::string::npos);
  EXPECT_EQ(enc.detail.find(e.certificate), std::string::npos);
  auto back = Decode(enc.core, enc.detail);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->certificate, e.certificate);
  EXPECT_EQ(Decode(plain_core, std::nullopt)->certificate, "");
  std::string empty = enc.core;
  empty.replace(empty.find(e.certificate), e.certificate.size(), "");
  EXPECT_FALSE(Decode(empty, std::nullopt).ok()) << "an empty certificate member is not one this server writes";
  const json::Value ae = ToAuditEvent(e, 3, false);
  const json::Value& client = ae.Find("agent")->as_array()[1];
  EXPECT_EQ(client.Find("who")->GetString("display"), "TLS client certificate " + e.certificate);
  EXPECT_EQ(client.Find("who")->Find("identifier")->GetString("value"), "app");
  Status valid = fhir::ValidateResource(ae);
  EXPECT_TRUE(valid.ok()) << valid.message();
}

TEST(AuditEntry, RendersAsBalpAuditEvent) {
  const json::Value ae = ToAuditEvent(Read(), 12, false);
  EXPECT_EQ(ae.GetString("resourceType"), "AuditEvent");
  EXPECT_EQ(ae.GetString("id"), "12");
  EXPECT_EQ(ae.GetString("action"), "R");
  EXPECT_EQ(ae.GetString("outcome"), "0");
  EXPECT_EQ(ae.Find("type")->GetString("code"), "rest");
  EXPECT_EQ(ae.Find("subtype")->as_array()[0].GetString("code"), "read");
  const auto& agents = ae.Find("agent")->as_array();
  ASSERT_EQ(agents.size(), 3u);
  EXPECT_TRUE(agents[0].Find("requestor")->as_bool());
  EXPECT_EQ(agents[0].Find("who")->GetString("reference"), "Practitioner/9");
  EXPECT_EQ(agents[0].Find("purposeOfUse")->as_array()[0].Find("coding")->as_array()[0].GetString("code"), "TREAT");
  EXPECT_EQ(agents[1].Find("network")->GetString("address"), "10.0.0.9");
  EXPECT_NE(ae.Find("source")->Find("observer"), nullptr);
  const auto& entities = ae.Find("entity")->as_array();
  ASSERT_EQ(entities.size(), 4u);
  EXPECT_EQ(entities[0].Find("what")->GetString("reference"), "Patient/p-7");
  EXPECT_EQ(entities[0].Find("role")->GetString("code"), "1");
  EXPECT_EQ(entities[1].Find("what")->GetString("reference"), "Observation/5/_history/2");
  EXPECT_EQ(entities[2].Find("role")->GetString("code"), "24");
  EXPECT_EQ(entities[2].GetString("query"), "Y29kZT0xMjM0LTUmbmFtZT1BZGE=");
  EXPECT_EQ(entities[3].Find("type")->GetString("code"), "XrequestId");

  Event login;
  login.type = "login";
  login.subtype = "login";
  login.action = "E";
  login.outcome = 4;
  login.outcome_text = "wrong password";
  const json::Value failed = ToAuditEvent(login, 1, true);
  EXPECT_EQ(failed.Find("type")->GetString("code"), "110114");
  EXPECT_EQ(failed.Find("subtype")->as_array()[0].GetString("code"), "110122");
  EXPECT_EQ(failed.GetString("outcome"), "4");
  EXPECT_EQ(failed.Find("agent")->as_array()[0].Find("who")->Find("identifier")->GetString("value"), "anonymous");
  EXPECT_NE(json::Write(failed).find("erased"), std::string::npos);

  // Both are valid R4 AuditEvents (cardinalities, bindings, types).
  for (const json::Value* one : {&ae, &failed}) {
    Status valid = fhir::ValidateResource(*one);
    EXPECT_TRUE(valid.ok()) << valid.message() << "\n" << json::Write(*one);
  }
}

}  // namespace
}  // namespace ehr::audit
