// Sensitive identifiers: which are, the blind values, the rows of real resources as the
// indexer makes them rewritten, and the query values the parser makes of them.
#include "search/sensitive_ids.h"

#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "fhir/json/value.h"
#include "search/indexer.h"
#include "search/query_parser.h"

namespace ehr::search {
namespace {

constexpr std::string_view kSsnSystem = "http://hl7.org/fhir/sid/us-ssn";
constexpr std::string_view kV2 = "http://terminology.hl7.org/CodeSystem/v2-0203";

json::Value ParseJson(std::string_view text) {
  Result<json::Value> parsed = json::Parse(text);
  EXPECT_TRUE(parsed.ok()) << parsed.status().message();
  return parsed.ok() ? std::move(parsed).value() : json::Value();
}

IdentifierBlinder MakeBlinder(char fill = 'k') { return IdentifierBlinder(std::string(IdentifierBlinder::kKeyBytes, fill)); }

// Whether any token row, string row or full text holds `text`.
bool RowsContain(const store::IndexRows& rows, std::string_view text) {
  for (const store::TokenRow& r : rows.tokens) {
    if (r.code.find(text) != std::string::npos || r.text.find(text) != std::string::npos) return true;
  }
  for (const store::StringRow& r : rows.strings) {
    if (r.exact.find(text) != std::string::npos || r.normalized.find(text) != std::string::npos) return true;
  }
  return rows.content.find(text) != std::string::npos || rows.narrative.find(text) != std::string::npos;
}

const store::TokenRow* FindToken(const store::IndexRows& rows, std::string_view param, std::string_view system) {
  for (const store::TokenRow& r : rows.tokens) {
    if (r.param == param && r.system == system) return &r;
  }
  return nullptr;
}

TEST(SensitiveIds, SystemsAndTypes) {
  EXPECT_TRUE(IsSensitiveSystem(kSsnSystem));
  EXPECT_TRUE(IsSensitiveSystem("https://fhir.nhs.uk/Id/nhs-number"));
  EXPECT_TRUE(IsSensitiveSystem("http://hl7.org/fhir/sid/us-mbi"));
  EXPECT_TRUE(IsSensitiveSystem("http://hl7.org/fhir/sid/passport-GBR")) << "an identity document";
  EXPECT_FALSE(IsSensitiveSystem("http://hl7.org/fhir/sid/passport-"));
  EXPECT_FALSE(IsSensitiveSystem("http://hl7.org/fhir/sid/us-npi")) << "a provider's number";
  EXPECT_FALSE(IsSensitiveSystem("http://hospital.example/mrn"));
  EXPECT_FALSE(IsSensitiveSystem(""));

  EXPECT_TRUE(IsSensitiveIdentifierType(kV2, "SS"));
  EXPECT_TRUE(IsSensitiveIdentifierType(kV2, "JHN"));
  EXPECT_TRUE(IsSensitiveIdentifierType(kV2, "NNGBR"));
  EXPECT_TRUE(IsSensitiveIdentifierType(kV2, "PPN"));
  EXPECT_TRUE(IsSensitiveIdentifierType("http://hl7.org/fhir/v2/0203", "SB")) << "the system before R4";
  EXPECT_FALSE(IsSensitiveIdentifierType(kV2, "MR"));
  EXPECT_FALSE(IsSensitiveIdentifierType(kV2, "NNgbr"));
  EXPECT_FALSE(IsSensitiveIdentifierType(kV2, "NNGB"));
  EXPECT_FALSE(IsSensitiveIdentifierType("http://example.org/types", "SS")) << "SS of another code system";

  EXPECT_TRUE(IsSensitiveIdentifier(ParseJson(R"({"system":"http://hl7.org/fhir/sid/us-ssn","value":"1"})")));
  EXPECT_TRUE(IsSensitiveIdentifier(ParseJson(
      R"({"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"SS"}]},"value":"1"})")));
  EXPECT_FALSE(IsSensitiveIdentifier(ParseJson(R"({"system":"http://hospital.example/mrn","value":"1"})")));
}

TEST(SensitiveIds, IdentifierParameters) {
  auto indexes = [](std::string_view type, std::string_view code) {
    const fhir::SearchParamDef* def = fhir::FindSearchParam(type, code);
    EXPECT_NE(def, nullptr) << type << "." << code;
    return def != nullptr && IndexesIdentifiers(*def);
  };
  EXPECT_TRUE(indexes("Patient", "identifier"));
  EXPECT_TRUE(indexes("Coverage", "identifier"));
  EXPECT_TRUE(indexes("Observation", "identifier")) << "a union over 30 types";
  EXPECT_TRUE(indexes("ServiceRequest", "requisition")) << "an Identifier not named identifier";
  EXPECT_TRUE(indexes("Composition", "related-id")) << "relatesTo.target.ofType(Identifier)";
  EXPECT_FALSE(indexes("Patient", "gender"));
  EXPECT_FALSE(indexes("Observation", "code"));
  EXPECT_FALSE(indexes("Patient", "_id"));
  EXPECT_FALSE(indexes("Patient", "telecom"));
  EXPECT_FALSE(indexes("Patient", "name")) << "not a token parameter";
}

TEST(SensitiveIds, BlindValues) {
  const IdentifierBlinder blinder = MakeBlinder();
  const std::string a = blinder.Blind("default", "123456789");
  EXPECT_TRUE(a.starts_with(kBlindPrefix)) << a;
  EXPECT_EQ(a.size(), kBlindPrefix.size() + 43) << "base64url of 32 bytes, unpadded";
  EXPECT_EQ(a, blinder.Blind("default", "123456789")) << "deterministic: exact search works";
  EXPECT_NE(a, blinder.Blind("other", "123456789")) << "keyed per tenant";
  EXPECT_NE(a, blinder.Blind("default", "123456788"));
  EXPECT_NE(a, MakeBlinder('j').Blind("default", "123456789")) << "keyed";
  EXPECT_NE(blinder.Blind("ab", "c"), blinder.Blind("a", "bc")) << "the tenant is delimited";
  EXPECT_EQ(a.find("123456789"), std::string::npos);

  // mpi's national ids in their canonical form when valid; others as written.
  EXPECT_EQ(blinder.BlindIdentifier("default", kSsnSystem, "123-45-6789"), a);
  EXPECT_EQ(blinder.BlindIdentifier("default", "https://fhir.nhs.uk/Id/nhs-number", "943 476 5919"),
            blinder.BlindIdentifier("default", "https://fhir.nhs.uk/Id/nhs-number", "9434765919"));
  EXPECT_EQ(blinder.BlindIdentifier("default", kSsnSystem, "999-12-3456"), blinder.Blind("default", "999-12-3456"))
      << "an SSN never issued is blinded as written";
  EXPECT_EQ(blinder.BlindIdentifier("default", "http://example.org/ssn", "123-45-6789"),
            blinder.Blind("default", "123-45-6789"));

  EXPECT_THROW(IdentifierBlinder(std::string(16, 'k')), std::invalid_argument);
  EXPECT_NE(IdentifierBlinder::WithRandomKey()->Blind("t", "v"), IdentifierBlinder::WithRandomKey()->Blind("t", "v"));
}

constexpr std::string_view kPatient = R"({
  "resourceType": "Patient",
  "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">Ann Lee, SSN 123 45 6789, MRN 4711</div>"},
  "identifier": [
    {"system": "http://hl7.org/fhir/sid/us-ssn", "value": "123-45-6789",
     "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "SS"}]}},
    {"system": "http://state.example/ssa", "value": "Z-555-01",
     "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "SB"}], "text": "Benefits"}},
    {"system": "http://hospital.example/mrn", "value": "4711",
     "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]}}
  ],
  "name": [{"family": "Lee", "given": ["Ann"]}],
  "generalPractitioner": [{"identifier": {"system": "http://hl7.org/fhir/sid/us-npi", "value": "1982736450"}}]
})";

TEST(SensitiveIds, RowsOfAPatient) {
  const IdentifierBlinder blinder = MakeBlinder();
  const json::Value patient = ParseJson(kPatient);
  store::IndexRows rows = Indexer::Default().Index(patient);
  ASSERT_TRUE(RowsContain(rows, "123-45-6789")) << "the indexer's rows hold it before";
  ASSERT_TRUE(blinder.BlindRows("default", patient, rows));

  const std::string ssn_blind = blinder.Blind("default", "123456789");
  const std::string sb_blind = blinder.Blind("default", "Z-555-01");
  const store::TokenRow* ssn = FindToken(rows, "identifier", kSsnSystem);
  ASSERT_NE(ssn, nullptr);
  EXPECT_EQ(ssn->code, ssn_blind);
  const store::TokenRow* sb = FindToken(rows, "identifier", "http://state.example/ssa");
  ASSERT_NE(sb, nullptr);
  EXPECT_EQ(sb->code, sb_blind) << "sensitive by its type, whatever its system";
  EXPECT_EQ(sb->text, "benefits") << "the type's text stays (it is no identifier)";
  const store::TokenRow* mrn = FindToken(rows, "identifier", "http://hospital.example/mrn");
  ASSERT_NE(mrn, nullptr);
  EXPECT_EQ(mrn->code, "4711") << "an MRN stays plain";

  const store::TokenRow* ss_type = FindToken(rows, "identifier:of-type", std::string(kV2));
  int of_type_rows = 0;
  for (const store::TokenRow& r : rows.tokens) {
    if (r.param != "identifier:of-type") continue;
    ++of_type_rows;
    if (r.code == "SS") {
      EXPECT_EQ(r.text, ssn_blind);
    }
    if (r.code == "SB") {
      EXPECT_EQ(r.text, sb_blind);
    }
    if (r.code == "MR") {
      EXPECT_EQ(r.text, "4711");
    }
  }
  EXPECT_NE(ss_type, nullptr);
  EXPECT_EQ(of_type_rows, 3);
  const store::TokenRow* npi = FindToken(rows, "general-practitioner:identifier", "http://hl7.org/fhir/sid/us-npi");
  ASSERT_NE(npi, nullptr);
  EXPECT_EQ(npi->code, "1982736450");

  for (std::string_view plain : {"123-45-6789", "123456789", "123 45 6789", "Z-555-01"}) {
    EXPECT_FALSE(RowsContain(rows, plain)) << plain;
  }
  EXPECT_NE(rows.content.find("4711"), std::string::npos) << "the rest of the text stays";
  EXPECT_NE(rows.content.find("Lee"), std::string::npos);
  EXPECT_NE(rows.narrative.find("Ann Lee, SSN"), std::string::npos);
  EXPECT_NE(rows.narrative.find("MRN 4711"), std::string::npos);
}

TEST(SensitiveIds, RowsOfReferencesAndCoverage) {
  const IdentifierBlinder blinder = MakeBlinder();
  const json::Value observation = ParseJson(R"({
    "resourceType": "Observation", "status": "final", "code": {"text": "weight"},
    "subject": {"identifier": {"system": "http://hl7.org/fhir/sid/us-ssn", "value": "123456789"}}
  })");
  store::IndexRows rows = Indexer::Default().Index(observation);
  ASSERT_TRUE(blinder.BlindRows("t1", observation, rows));
  const store::TokenRow* subject = FindToken(rows, "subject:identifier", kSsnSystem);
  ASSERT_NE(subject, nullptr);
  EXPECT_EQ(subject->code, blinder.Blind("t1", "123456789"));
  EXPECT_FALSE(RowsContain(rows, "123456789"));

  const json::Value coverage = ParseJson(R"({
    "resourceType": "Coverage", "status": "active", "payor": [{"reference": "Organization/1"}],
    "beneficiary": {"reference": "Patient/1"},
    "identifier": [{"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MB"}]},
                    "value": "MEM-0042"}]
  })");
  rows = Indexer::Default().Index(coverage);
  ASSERT_TRUE(blinder.BlindRows("t1", coverage, rows));
  const store::TokenRow* member = FindToken(rows, "identifier", "");
  ASSERT_NE(member, nullptr);
  EXPECT_EQ(member->code, blinder.Blind("t1", "MEM-0042")) << "a member number without a system";
  EXPECT_FALSE(RowsContain(rows, "MEM-0042"));

  const json::Value plain = ParseJson(
      R"({"resourceType":"Patient","identifier":[{"system":"http://hospital.example/mrn","value":"4711"}]})");
  rows = Indexer::Default().Index(plain);
  const store::IndexRows before = rows;
  EXPECT_FALSE(blinder.BlindRows("t1", plain, rows));
  ASSERT_EQ(rows.tokens.size(), before.tokens.size());
  for (size_t i = 0; i < rows.tokens.size(); ++i) EXPECT_EQ(rows.tokens[i].code, before.tokens[i].code);
  EXPECT_EQ(rows.content, before.content);
}

// The codes a clause searches (TokenValue: system|code; OfTypeValue: type system|code|value).
std::vector<std::string> Searched(const store::Clause& clause) {
  std::vector<std::string> out;
  for (const store::SearchValue& v : clause.values) {
    if (const auto* t = std::get_if<store::TokenValue>(&v)) {
      out.push_back((t->system ? *t->system + "|" : std::string()) + t->code.value_or("*"));
    } else if (const auto* o = std::get_if<store::OfTypeValue>(&v)) {
      out.push_back(o->type_system + "|" + o->type_code + "|" + o->value);
    } else {
      out.push_back("other");
    }
  }
  return out;
}

store::Clause ParseOne(std::string_view type, std::string_view query, const IdentifierBlinder* blinder) {
  ParseOptions options;
  options.strict = true;
  options.blinder = blinder;
  options.tenant = "t1";
  Result<ParsedSearch> parsed = ParseSearch(type, query, options);
  EXPECT_TRUE(parsed.ok()) << query << ": " << (parsed.ok() ? "" : parsed.status().message());
  if (!parsed.ok() || parsed->query.clauses.size() != 1) return {};
  return parsed->query.clauses[0];
}

TEST(SensitiveIds, QueryValues) {
  const IdentifierBlinder blinder = MakeBlinder();
  const std::string ssn = blinder.Blind("t1", "123456789");
  const std::string as_written = blinder.Blind("t1", "123-45-6789");
  const std::string ssn_system(kSsnSystem);

  // A sensitive system: the blind value only, of the canonical form.
  EXPECT_EQ(Searched(ParseOne("Patient", "identifier=http://hl7.org/fhir/sid/us-ssn|123-45-6789", &blinder)),
            (std::vector<std::string>{ssn_system + "|" + ssn}));
  // Another system: plain and blind.
  EXPECT_EQ(Searched(ParseOne("Patient", "identifier=http://state.example/ssa|Z-555-01", &blinder)),
            (std::vector<std::string>{"http://state.example/ssa|Z-555-01",
                                      "http://state.example/ssa|" + blinder.Blind("t1", "Z-555-01")}));
  // No system: plain, as written, and the canonical forms it has as a national id.
  EXPECT_EQ(Searched(ParseOne("Patient", "identifier=123-45-6789", &blinder)),
            (std::vector<std::string>{"123-45-6789", as_written, ssn}));
  EXPECT_EQ(Searched(ParseOne("Patient", "identifier=|MEM-0042", &blinder)),
            (std::vector<std::string>{"|MEM-0042", "|" + blinder.Blind("t1", "MEM-0042")}));
  EXPECT_EQ(Searched(ParseOne("Patient", "identifier=http://hl7.org/fhir/sid/us-ssn|", &blinder)),
            (std::vector<std::string>{ssn_system + "|*"}))
      << "system| has no value to blind";
  // :not excludes both forms; comma-separated values each become theirs.
  store::Clause negated = ParseOne("Patient", "identifier:not=http://hl7.org/fhir/sid/us-ssn|123456789,4711", &blinder);
  EXPECT_EQ(negated.modifier, store::Modifier::kNot);
  EXPECT_EQ(Searched(negated), (std::vector<std::string>{ssn_system + "|" + ssn, "4711", blinder.Blind("t1", "4711")}));

  // :of-type: a sensitive type holds only blind values; another type both.
  EXPECT_EQ(Searched(ParseOne(
                "Patient", "identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|SS|123456789", &blinder)),
            (std::vector<std::string>{std::string(kV2) + "|SS|" + ssn}));
  EXPECT_EQ(Searched(ParseOne("Patient", "identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|4711",
                              &blinder)),
            (std::vector<std::string>{std::string(kV2) + "|MR|4711", std::string(kV2) + "|MR|" + blinder.Blind("t1", "4711")}));

  // Reference :identifier, chains and _has.
  EXPECT_EQ(Searched(ParseOne("Observation", "subject:identifier=http://hl7.org/fhir/sid/us-ssn|123456789", &blinder)),
            (std::vector<std::string>{ssn_system + "|" + ssn}));
  store::Clause chained = ParseOne("Observation", "subject:Patient.identifier=http://hl7.org/fhir/sid/us-ssn|123456789", &blinder);
  ASSERT_EQ(chained.chain.size(), 1u);
  EXPECT_EQ(Searched(chained.chain[0]), (std::vector<std::string>{ssn_system + "|" + ssn}));
  store::Clause has = ParseOne("Patient", "_has:Coverage:beneficiary:identifier=http://hl7.org/fhir/sid/us-mbi|1EG4TE5MK73",
                               &blinder);
  ASSERT_EQ(has.chain.size(), 1u);
  EXPECT_EQ(Searched(has.chain[0]),
            (std::vector<std::string>{"http://hl7.org/fhir/sid/us-mbi|" + blinder.Blind("t1", "1EG4TE5MK73")}));

  // What is no identifier, and the modifiers that take no identifier value, stay.
  EXPECT_EQ(Searched(ParseOne("Patient", "gender=female", &blinder)), (std::vector<std::string>{"female"}));
  EXPECT_EQ(Searched(ParseOne("Patient", "identifier:text=benefits", &blinder)), (std::vector<std::string>{"other"}));
  EXPECT_TRUE(ParseOne("Patient", "identifier:missing=true", &blinder).values.empty());
  // Without a blinder, only the plain value.
  EXPECT_EQ(Searched(ParseOne("Patient", "identifier=http://hl7.org/fhir/sid/us-ssn|123456789", nullptr)),
            (std::vector<std::string>{ssn_system + "|123456789"}));
}

// What a write stores is what a search looks for, for every form of the query.
TEST(SensitiveIds, QueriesFindTheRowsWritten) {
  const IdentifierBlinder blinder = MakeBlinder();
  const json::Value patient = ParseJson(kPatient);
  store::IndexRows rows = Indexer::Default().Index(patient);
  ASSERT_TRUE(blinder.BlindRows("t1", patient, rows));
  auto finds = [&](std::string_view query) {
    const store::Clause clause = ParseOne("Patient", query, &blinder);
    const std::string param = clause.modifier == store::Modifier::kOfType ? clause.param + ":of-type" : clause.param;
    for (const store::SearchValue& v : clause.values) {
      for (const store::TokenRow& r : rows.tokens) {
        if (r.param != param) continue;
        if (const auto* t = std::get_if<store::TokenValue>(&v);
            t != nullptr && (!t->system || *t->system == r.system) && t->code == r.code) {
          return true;
        }
        if (const auto* o = std::get_if<store::OfTypeValue>(&v);
            o != nullptr && o->type_system == r.system && o->type_code == r.code && o->value == r.text) {
          return true;
        }
      }
    }
    return false;
  };
  EXPECT_TRUE(finds("identifier=http://hl7.org/fhir/sid/us-ssn|123-45-6789"));
  EXPECT_TRUE(finds("identifier=http://hl7.org/fhir/sid/us-ssn|123456789"));
  EXPECT_TRUE(finds("identifier=123456789"));
  EXPECT_TRUE(finds("identifier=123-45-6789"));
  EXPECT_TRUE(finds("identifier=http://state.example/ssa|Z-555-01"));
  EXPECT_TRUE(finds("identifier=Z-555-01"));
  EXPECT_TRUE(finds("identifier=4711"));
  EXPECT_TRUE(finds("identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|SS|123-45-6789"));
  EXPECT_TRUE(finds("identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|SB|Z-555-01"));
  EXPECT_TRUE(finds("identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|4711"));
  EXPECT_FALSE(finds("identifier=http://hl7.org/fhir/sid/us-ssn|123456780"));
  EXPECT_FALSE(finds("identifier=http://hospital.example/mrn|123456789"));
  EXPECT_FALSE(finds("identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|123456789"));
}

}  // namespace
}  // namespace ehr::search
