#include "mpi/pseudonym.h"

#include <gtest/gtest.h>

#include "mpi/national_id.h"

namespace ehr::mpi {
namespace {

const std::string kPepper(Pseudonymizer::kPepperBytes, 'p');
constexpr std::string_view kNhsSystem = "https://fhir.nhs.uk/Id/nhs-number";
constexpr std::string_view kKvnrSystem = "http://fhir.de/sid/gkv/kvid-10";

// A valid NHS number other than the documented example, from its check digit.
std::string MadeNhsNumber() {
  const std::string nine = "401023213";
  std::optional<int> check = NhsCheckDigit(nine);
  EXPECT_TRUE(check.has_value());
  return nine + std::to_string(check.value_or(0));
}

std::string PseudonymOf(const Pseudonymizer& p, std::string_view system, std::string_view value) {
  Result<PatientPseudonym> r = p.Pseudonym(system, value);
  EXPECT_TRUE(r.ok()) << value << ": " << r.status().message();
  return r.ok() ? r->pseudonym : "";
}

json::Value Identifier(std::string_view system, std::string_view value) {
  json::Value id = json::Value::MakeObject();
  id.Set("system", json::Value(std::string(system)));
  id.Set("value", json::Value(std::string(value)));
  return id;
}

json::Value PatientWith(json::Array identifiers) {
  json::Value patient = json::Value::MakeObject();
  patient.Set("resourceType", json::Value("Patient"));
  patient.Set("id", json::Value("p1"));
  patient.Set("identifier", json::Value(std::move(identifiers)));
  return patient;
}

// Vaults built at different times must agree: the MAC input is "system|canonical",
// checked against `openssl dgst -sha256 -hmac pppp...`.
TEST(Pseudonym, KnownAnswer) {
  Pseudonymizer p(kPepper);
  Result<PatientPseudonym> nhs = p.Pseudonym(kNhsSystem, "9434765919");
  ASSERT_TRUE(nhs.ok()) << nhs.status().message();
  EXPECT_EQ(nhs->type, "nhs");
  EXPECT_EQ(nhs->pseudonym, "d4af1ad39c4faaad0a5e8c5f00835218162a325733537ba0922ca8d2e51c35e7");
  Result<PatientPseudonym> kvnr = p.Pseudonym(kKvnrSystem, "a 123 456 780");
  ASSERT_TRUE(kvnr.ok()) << kvnr.status().message();
  EXPECT_EQ(kvnr->type, "kvnr");
  EXPECT_EQ(kvnr->pseudonym, "3351c7c61577bacfb50774abb9815dfaf9d4524b2be523605a4ce67cf3b46d57");
}

TEST(Pseudonym, FormattingVariantsAgree) {
  Pseudonymizer p(kPepper);
  const std::string plain = PseudonymOf(p, kNhsSystem, "9434765919");
  EXPECT_EQ(PseudonymOf(p, kNhsSystem, "943 476 5919"), plain);
  EXPECT_EQ(PseudonymOf(p, kNhsSystem, "943-476-5919"), plain);
  EXPECT_EQ(PseudonymOf(p, kKvnrSystem, "A123456780"), PseudonymOf(p, kKvnrSystem, "a123 456-780"));
  EXPECT_EQ(PseudonymOf(p, SystemOf(NationalIdKind::kNir), "1 84 12 76 451 089 46"),
            PseudonymOf(p, SystemOf(NationalIdKind::kNir), "184127645108946"));
  Result<PatientPseudonym> ssn = p.Pseudonym(SystemOf(NationalIdKind::kSsn), "123-45-6789");
  ASSERT_TRUE(ssn.ok());
  EXPECT_EQ(ssn->type, "ssn");
  EXPECT_EQ(ssn->pseudonym, PseudonymOf(p, SystemOf(NationalIdKind::kSsn), "123456789"));
  EXPECT_EQ(p.Pseudonym(SystemOf(NationalIdKind::kNir), "184127645108946")->type, "nir");
  // Another number, another pseudonym.
  EXPECT_NE(PseudonymOf(p, kNhsSystem, MadeNhsNumber()), plain);
}

TEST(Pseudonym, PepperMatters) {
  Pseudonymizer a(kPepper);
  Pseudonymizer b(std::string(Pseudonymizer::kPepperBytes, 'q'));
  EXPECT_NE(PseudonymOf(a, kNhsSystem, "9434765919"), PseudonymOf(b, kNhsSystem, "9434765919"));
  EXPECT_THROW(Pseudonymizer(std::string(16, 'p')), std::invalid_argument);
}

// While the pepper is rotated: the newest first for lookups, both for registration.
TEST(Pseudonym, TwoPeppersWhileRotating) {
  const std::string next(Pseudonymizer::kPepperBytes, 'q');
  const Pseudonymizer old_only(kPepper), both(std::vector<std::string>{next, kPepper}), new_only(next);
  EXPECT_EQ(PseudonymOf(both, kNhsSystem, "9434765919"), PseudonymOf(new_only, kNhsSystem, "9434765919"));
  auto all = both.All(kNhsSystem, "943 476 5919");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].pseudonym, PseudonymOf(new_only, kNhsSystem, "9434765919"));
  EXPECT_EQ((*all)[1].pseudonym, PseudonymOf(old_only, kNhsSystem, "9434765919"));
  EXPECT_FALSE(both.All(kNhsSystem, "9434765918").ok());
  auto of_patient = both.OfPatient(PatientWith({Identifier(kNhsSystem, "9434765919")}));
  ASSERT_TRUE(of_patient.ok());
  EXPECT_EQ(of_patient->size(), 2u);
  // Fingerprints name the set, newest first, and reveal nothing of a pepper.
  EXPECT_NE(both.Fingerprint(), old_only.Fingerprint());
  EXPECT_EQ(both.Fingerprint(), new_only.Fingerprint() + "," + old_only.Fingerprint());
  EXPECT_EQ(PepperId(kPepper).size(), 16u);
  EXPECT_EQ(old_only.Fingerprint().find("7070"), std::string::npos);  // hex of 'p'
  EXPECT_THROW(Pseudonymizer(std::vector<std::string>{}), std::invalid_argument);
  EXPECT_THROW(Pseudonymizer(std::vector<std::string>{kPepper, next, kPepper}), std::invalid_argument);
}

// What a vault registers: an invalid identifier beside a valid one is skipped and counted,
// where OfPatient refuses the whole Patient.
TEST(Pseudonym, LinkableSkipsAndCountsInvalidIdentifiers) {
  const Pseudonymizer p(kPepper);
  const json::Value patient = PatientWith({Identifier("http://hl7.org/fhir/sid/us-ssn", "999-12-3456"),
                                           Identifier(kNhsSystem, "943 476 5919"), Identifier("urn:other", "x"),
                                           Identifier(kNhsSystem, "9434765919")});
  EXPECT_FALSE(p.OfPatient(patient).ok());
  int invalid = 0;
  const std::vector<PatientPseudonym> links = p.Linkable(patient, &invalid);
  EXPECT_EQ(invalid, 1);
  ASSERT_EQ(links.size(), 1u);
  EXPECT_EQ(links[0].pseudonym, PseudonymOf(p, kNhsSystem, "9434765919"));
  const Pseudonymizer both(std::vector<std::string>{std::string(Pseudonymizer::kPepperBytes, 'q'), kPepper});
  EXPECT_EQ(both.Linkable(patient).size(), 2u);
}

TEST(Pseudonym, InvalidNeverEchoesTheValue) {
  Pseudonymizer p(kPepper);
  Result<PatientPseudonym> bad = p.Pseudonym(kNhsSystem, "9434765918");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kInvalid);
  EXPECT_NE(bad.status().message().find("check digit"), std::string::npos) << bad.status().message();
  EXPECT_EQ(bad.status().message().find("9434765918"), std::string::npos) << bad.status().message();
  EXPECT_EQ(bad.status().message().find("943476591"), std::string::npos) << bad.status().message();

  Result<PatientPseudonym> other = p.Pseudonym("urn:mrn", "12345");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), Code::kInvalid);
  EXPECT_EQ(other.status().message().find("12345"), std::string::npos);
}

TEST(Pseudonym, OfPatientSortedWithoutRepeats) {
  Pseudonymizer p(kPepper);
  json::Array ids;
  ids.push_back(Identifier(kNhsSystem, "943 476 5919"));
  ids.push_back(Identifier(kKvnrSystem, "A123456780"));
  ids.push_back(Identifier("urn:oid:1.2.36.146.595.217.0.1", "MRN-0001"));  // a hospital MRN: skipped
  ids.push_back(Identifier(kNhsSystem, "9434765919"));                      // the same NHS number again
  Result<std::vector<PatientPseudonym>> r = p.OfPatient(PatientWith(std::move(ids)));
  ASSERT_TRUE(r.ok()) << r.status().message();
  const std::vector<PatientPseudonym> want = {
      {"kvnr", PseudonymOf(p, kKvnrSystem, "A123456780")},
      {"nhs", PseudonymOf(p, kNhsSystem, "9434765919")},
  };
  EXPECT_EQ(*r, want);
}

TEST(Pseudonym, OfPatientWithoutNationalIdentifiers) {
  Pseudonymizer p(kPepper);
  json::Value patient = json::Value::MakeObject();
  patient.Set("resourceType", json::Value("Patient"));
  Result<std::vector<PatientPseudonym>> none = p.OfPatient(patient);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());

  json::Array ids;
  json::Value no_value = json::Value::MakeObject();
  no_value.Set("system", json::Value(std::string(kNhsSystem)));
  ids.push_back(std::move(no_value));
  Result<std::vector<PatientPseudonym>> absent = p.OfPatient(PatientWith(std::move(ids)));
  ASSERT_TRUE(absent.ok()) << absent.status().message();
  EXPECT_TRUE(absent->empty());

  json::Value observation = json::Value::MakeObject();
  observation.Set("resourceType", json::Value("Observation"));
  EXPECT_EQ(p.OfPatient(observation).status().code(), Code::kInvalid);
}

TEST(Pseudonym, OfPatientNamesTheInvalidIdentifier) {
  Pseudonymizer p(kPepper);
  json::Array ids;
  ids.push_back(Identifier(kNhsSystem, "9434765919"));
  ids.push_back(Identifier(kKvnrSystem, "A123456781"));  // wrong check digit
  Result<std::vector<PatientPseudonym>> r = p.OfPatient(PatientWith(std::move(ids)));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalid);
  ASSERT_EQ(r.status().issues().size(), 1u);
  EXPECT_EQ(r.status().issues()[0].expression, "Patient.identifier[1]");
  EXPECT_NE(r.status().message().find("KVNR"), std::string::npos) << r.status().message();
  EXPECT_EQ(r.status().message().find("A123456781"), std::string::npos) << r.status().message();

  json::Array numeric;
  json::Value id = json::Value::MakeObject();
  id.Set("system", json::Value(std::string(kNhsSystem)));
  id.Set("value", json::Value::MakeInt(9434765919));
  numeric.push_back(std::move(id));
  Result<std::vector<PatientPseudonym>> n = p.OfPatient(PatientWith(std::move(numeric)));
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().issues()[0].expression, "Patient.identifier[0].value");
}

}  // namespace
}  // namespace ehr::mpi

namespace ehr::mpi {
namespace {

// Passports (emergencies): the issuing country is in the system, so the same number of two
// countries differs; spaces, hyphens and case do not matter; the rest is refused.
TEST(Pseudonym, PassportsByIssuingCountry) {
  const Pseudonymizer p(std::string(Pseudonymizer::kPepperBytes, 'p'));
  const std::string gbr = std::string(kPassportSystemPrefix) + "GBR";
  auto a = p.Pseudonym(gbr, "123 456 789");
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(a->type, "passport");
  auto b = p.Pseudonym(gbr, "123456789");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->pseudonym, b->pseudonym);
  auto letters = p.Pseudonym(gbr, "c01x00t47");
  auto upper = p.Pseudonym(gbr, "C01X00T47");
  ASSERT_TRUE(letters.ok() && upper.ok());
  EXPECT_EQ(letters->pseudonym, upper->pseudonym);
  auto fra = p.Pseudonym(std::string(kPassportSystemPrefix) + "FRA", "123456789");
  ASSERT_TRUE(fra.ok());
  EXPECT_NE(fra->pseudonym, a->pseudonym);
  for (const char* bad : {"1234", "1234567890", "12345/789", ""}) {
    auto refused = p.Pseudonym(gbr, bad);
    EXPECT_EQ(refused.status().code(), Code::kInvalid) << bad;
    if (*bad != '\0') EXPECT_EQ(refused.status().message().find(bad), std::string::npos);
  }
  for (const char* system : {"http://hl7.org/fhir/sid/passport-gbr", "http://hl7.org/fhir/sid/passport-GB",
                             "http://hl7.org/fhir/sid/passport-GBRX", "http://hl7.org/fhir/sid/passport-"}) {
    EXPECT_FALSE(IsPassportSystem(system)) << system;
    EXPECT_EQ(p.Pseudonym(system, "123456789").status().code(), Code::kInvalid) << system;
  }
  json::Value patient = *json::Parse(R"({"resourceType":"Patient","identifier":[
      {"system":"http://hl7.org/fhir/sid/passport-DEU","value":"C01X00T47"},
      {"system":"urn:mrn","value":"7"}]})");
  auto links = p.OfPatient(patient);
  ASSERT_TRUE(links.ok());
  ASSERT_EQ(links->size(), 1u);
  EXPECT_EQ((*links)[0].type, "passport");
}

}  // namespace
}  // namespace ehr::mpi
