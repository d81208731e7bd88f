// A vault's checks of gateways' calls (federation/vault_access.h) against a real store: a
// token must name a patient who holds the identifier whose pseudonym it carries, reaches
// that patient only, and writes only with access "write", only what is about that patient
// (or, naming no patient, a Patient record holding just the identifier), only where the
// vault accepts writes.
#include "federation/vault_access.h"

#include <gtest/gtest.h>

#include "core/clock.h"
#include "fhir/json/value.h"
#include "mpi/pseudonym.h"
#include "support/http_client.h"
#include "support/test_server.h"

namespace ehr::testing {
namespace {

constexpr char kNhsSystem[] = "https://fhir.nhs.uk/Id/nhs-number";

class VaultAccessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto [name, role, region, seed] : {std::tuple{"mpi", "mpi", "", 'm'}, std::tuple{"vault-uk", "vault", "uk", 'u'},
                                            std::tuple{"gateway-fr", "gateway", "fr", 'g'}}) {
      auto signer = security::NodeSigner::FromSeed(name, std::string(32, seed));
      ASSERT_TRUE(signer.ok());
      config_.nodes.push_back({name, role, region, "http://127.0.0.1:1", signer->public_key()});
      if (std::string(name) == "gateway-fr") gateway_ = std::make_unique<security::NodeSigner>(std::move(*signer));
    }
    verifier_ = std::make_unique<security::NodeVerifier>("vault-uk", config_.Keys(), Clock::System());
    ada_ = Create(R"({"resourceType":"Patient","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919"}]})");
    // Bob also has an SSN that is no valid one (as Synthea writes them): it does not matter.
    bob_ = Create(R"({"resourceType":"Patient","identifier":[{"system":"http://hl7.org/fhir/sid/us-ssn","value":"999-12-3456"},)"
                  R"({"system":"https://fhir.nhs.uk/Id/nhs-number","value":"4010232137"}]})");
    ada_pseudonym_ = pseudonyms_.Pseudonym(kNhsSystem, "9434765919")->pseudonym;
  }

  std::string Create(const std::string& body) {
    HttpResult r = server_.Client().Send("POST", "/fhir/Patient", body, {{"Content-Type", "application/fhir+json"}});
    EXPECT_EQ(r.status, 201) << r.body;
    auto v = json::Parse(r.body);
    return v.ok() ? std::string(v->GetString("id")) : "";
  }

  // A token's claims as the FR gateway's clinician, about `patient`.
  static security::NodeClaims Claims(const std::string& patient, const std::string& pseudonym, const std::string& access) {
    security::NodeClaims claims;
    claims.audience = "vault-uk";
    claims.user = "dr-fr";
    claims.roles = {"DOCTOR"};
    claims.region = "fr";
    claims.purpose = "TREAT";
    claims.patient = patient;
    claims.pseudonym = pseudonym;
    claims.access = access;
    return claims;
  }

  Result<security::Principal> Call(federation::FederatedAuthenticator& authn, const std::string& patient,
                                   const std::string& pseudonym, const std::string& access, std::string method = "GET",
                                   std::string path = "/fhir/Patient", std::string body = "") {
    const security::NodeClaims claims = Claims(patient, pseudonym, access);
    net::Request r;
    r.method = std::move(method);
    r.path = std::move(path);
    r.body = std::move(body);
    r.headers.push_back({"Authorization", "Node " + gateway_->Sign(claims, Clock::System().Now())});
    return authn.Authenticate(r);
  }

  federation::FederatedAuthenticator Authenticator(bool accept_writes = true) {
    federation::VaultPolicy policy;
    policy.accept_writes = accept_writes;
    return federation::FederatedAuthenticator(local_authn_, *verifier_, config_, server_.store(), pseudonyms_, policy);
  }

  TestServer server_;
  security::NoAuthentication local_authn_{"default"};
  security::AllowAll local_authz_;
  mpi::Pseudonymizer pseudonyms_{std::string(32, 'p')};
  federation::FederationConfig config_;
  std::unique_ptr<security::NodeSigner> gateway_;
  std::unique_ptr<security::NodeVerifier> verifier_;
  std::string ada_, bob_, ada_pseudonym_;
};

TEST_F(VaultAccessTest, AGatewayReachesOnlyThePatientHoldingTheIdentifierEntered) {
  auto authn = Authenticator();
  federation::FederatedAuthorizer authz(local_authz_);
  Result<security::Principal> who = Call(authn, ada_, ada_pseudonym_, "");
  ASSERT_TRUE(who.ok()) << who.status().message();
  EXPECT_EQ(who->patient, ada_);
  EXPECT_TRUE(authz.Authorize(*who, {"operation", "Patient", ada_, ada_, {}}).ok());
  EXPECT_EQ(authz.ReachOf(*who, {"operation", "Patient", ada_, ada_, {}}).only, ada_);
  // Another patient's compartment, or a write without access "write": refused.
  EXPECT_EQ(authz.Authorize(*who, {"operation", "Patient", bob_, bob_, {}}).code(), Code::kForbidden);
  EXPECT_EQ(authz.Authorize(*who, {"create", "Observation", "", "", {}}).code(), Code::kForbidden);
  EXPECT_EQ(authz.Authorize(*who, {"search-type", "Patient", "", "", {}}).code(), Code::kForbidden);

  // A token naming Bob with Ada's pseudonym: the gateway cannot pick the patient.
  Result<security::Principal> swapped = Call(authn, bob_, ada_pseudonym_, "");
  EXPECT_EQ(swapped.status().code(), Code::kForbidden);
  EXPECT_NE(swapped.status().message().find("does not hold the identifier"), std::string::npos);
  EXPECT_EQ(Call(authn, ada_, "", "").status().code(), Code::kForbidden);
  EXPECT_EQ(Call(authn, "", ada_pseudonym_, "").status().code(), Code::kForbidden);
  EXPECT_EQ(Call(authn, "no-such-patient", ada_pseudonym_, "").status().code(), Code::kForbidden);
  const std::string bob_pseudonym = pseudonyms_.Pseudonym(kNhsSystem, "4010232137")->pseudonym;
  Result<security::Principal> bob = Call(authn, bob_, bob_pseudonym, "");
  EXPECT_TRUE(bob.ok()) << bob.status().message();
  EXPECT_EQ(Call(authn, ada_, ada_pseudonym_, "admin").status().code(), Code::kForbidden);
}

TEST_F(VaultAccessTest, WritesAreAboutThatPatientOnlyAndOnlyWhereTheVaultAcceptsThem) {
  auto authn = Authenticator();
  federation::FederatedAuthorizer authz(local_authz_);
  Result<security::Principal> writer = Call(authn, ada_, ada_pseudonym_, "write", "POST", "/fhir/Observation");
  ASSERT_TRUE(writer.ok()) << writer.status().message();
  EXPECT_TRUE(authz.Authorize(*writer, {"create", "Observation", "", "", {}}).ok());
  EXPECT_EQ(authz.ReachOf(*writer, {"create", "Observation", "", "", {}}).only, ada_);
  for (const char* type : {"Patient", "Practitioner", "Organization"}) {
    EXPECT_EQ(authz.Authorize(*writer, {"create", type, "", "", {}}).code(), Code::kForbidden) << type;
  }
  EXPECT_EQ(authz.Authorize(*writer, {"update", "Observation", "o1", "", {}}).code(), Code::kForbidden);
  EXPECT_EQ(authz.Authorize(*writer, {"delete", "Observation", "o1", "", {}}).code(), Code::kForbidden);

  // A visitor's record: a Patient holding the identifier entered and nothing else.
  const std::string visitor = R"({"resourceType":"Patient","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"943 476 5919"}]})";
  Result<security::Principal> registrar = Call(authn, "", ada_pseudonym_, "write", "POST", "/fhir/Patient", visitor);
  ASSERT_TRUE(registrar.ok()) << registrar.status().message();
  EXPECT_TRUE(authz.Authorize(*registrar, {"create", "Patient", "", "", {}}).ok());
  EXPECT_EQ(authz.Authorize(*registrar, {"create", "Observation", "", "", {}}).code(), Code::kForbidden);
  // Its conditional create looks for the record by the identifier entered, and nothing else.
  EXPECT_TRUE(authz.Authorize(*registrar, {"search-type", "Patient", "", "", {"Patient"}}).ok());
  EXPECT_EQ(authz.Authorize(*registrar, {"search-type", "Observation", "", "", {}}).code(), Code::kForbidden);
  EXPECT_EQ(authz.Authorize(*writer, {"search-type", "Patient", "", "", {"Patient"}}).code(), Code::kForbidden);
  auto conditional = [&](const std::string& criteria) {
    security::NodeClaims claims = Claims("", ada_pseudonym_, "write");
    claims.purpose.clear();
    net::Request r;
    r.method = "POST";
    r.path = "/fhir/Patient";
    r.body = visitor;
    r.headers.push_back({"Authorization", "Node " + gateway_->Sign(claims, Clock::System().Now())});
    r.headers.push_back({"If-None-Exist", criteria});
    return authn.Authenticate(r).status().code();
  };
  EXPECT_EQ(conditional("identifier=https%3A%2F%2Ffhir.nhs.uk%2FId%2Fnhs-number|9434765919"), Code::kOk);
  EXPECT_EQ(conditional("identifier=https://fhir.nhs.uk/Id/nhs-number|4010232137"), Code::kForbidden);
  EXPECT_EQ(conditional("name=Smith"), Code::kForbidden);
  EXPECT_EQ(conditional("identifier=https://fhir.nhs.uk/Id/nhs-number|9434765919&name=Smith"), Code::kForbidden);
  const std::string named = R"({"resourceType":"Patient","name":[{"family":"X"}],"identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919"}]})";
  EXPECT_EQ(Call(authn, "", ada_pseudonym_, "write", "POST", "/fhir/Patient", named).status().code(), Code::kForbidden);
  const std::string other = R"({"resourceType":"Patient","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"4010232137"}]})";
  EXPECT_EQ(Call(authn, "", ada_pseudonym_, "write", "POST", "/fhir/Patient", other).status().code(), Code::kForbidden);
  EXPECT_EQ(Call(authn, "", ada_pseudonym_, "write", "POST", "/fhir/Observation", visitor).status().code(), Code::kForbidden);

  // A vault that does not accept writes from other regions.
  auto closed = Authenticator(false);
  Result<security::Principal> refused = Call(closed, ada_, ada_pseudonym_, "write", "POST", "/fhir/Observation");
  EXPECT_EQ(refused.status().code(), Code::kForbidden);
  EXPECT_TRUE(Call(closed, ada_, ada_pseudonym_, "").ok());
}

// Where the federation file pins the gateway's certificate, its token counts only over a
// connection on which it presented it (net::Request::client_certificate).
TEST_F(VaultAccessTest, APinnedGatewaysTokenNeedsItsCertificate) {
  const std::string pin = "sha256:" + std::string(64, 'c');
  security::NodeVerifier pinned("vault-uk", config_.Keys(), Clock::System(), {{"gateway-fr", {pin}}});
  federation::FederatedAuthenticator authn(local_authn_, pinned, config_, server_.store(), pseudonyms_, {});
  const security::NodeClaims claims = Claims(ada_, ada_pseudonym_, "");
  for (const std::string& certificate : {std::string(), "sha256:" + std::string(64, 'd'), pin}) {
    net::Request r;
    r.method = "GET";
    r.path = "/fhir/Patient/" + ada_ + "/$everything";
    r.client_certificate = certificate;
    r.headers.push_back({"Authorization", "Node " + gateway_->Sign(claims, Clock::System().Now())});
    Result<security::Principal> who = authn.Authenticate(r);
    if (certificate == pin) {
      EXPECT_TRUE(who.ok()) << who.status().message();
    } else {
      EXPECT_EQ(who.status().code(), Code::kUnauthorized) << certificate;
    }
  }
}

}  // namespace
}  // namespace ehr::testing
