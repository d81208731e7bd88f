#include "search/query_parser.h"

#include <gtest/gtest.h>

#include <string>

#include "search/query_syntax.h"

namespace ehr::search {
namespace {

using store::Clause;
using store::Modifier;
using store::ParamKind;
using store::Prefix;

constexpr Micros kSecond = 1000000;
constexpr Micros k2013 = 1356998400 * kSecond;     // 2013-01-01T00:00:00Z
constexpr Micros k2013Feb = 1359676800 * kSecond;  // 2013-02-01T00:00:00Z
constexpr Micros k2014 = 1388534400 * kSecond;     // 2014-01-01T00:00:00Z
constexpr Micros kDay = 86400 * kSecond;

ParsedSearch Parse(std::string_view type, std::string_view query, ParseOptions options = {}) {
  Result<ParsedSearch> r = ParseSearch(type, query, options);
  EXPECT_TRUE(r.ok()) << type << "?" << query << ": " << r.status().message();
  return r.ok() ? std::move(r).value() : ParsedSearch{};
}

// The one clause of a query that must parse to exactly one.
Clause OnlyClause(std::string_view type, std::string_view query) {
  ParsedSearch p = Parse(type, query);
  EXPECT_EQ(p.query.clauses.size(), 1u) << query;
  EXPECT_TRUE(p.warnings.empty()) << query << ": " << (p.warnings.empty() ? "" : p.warnings[0].diagnostics);
  return p.query.clauses.empty() ? Clause{} : p.query.clauses[0];
}

// Expects kInvalid with one issue naming `expression`, of `issue_code`, whose diagnostics
// contain `says`.
void ExpectError(std::string_view type, std::string_view query, std::string_view expression, std::string_view says,
                 std::string_view issue_code = "invalid", ParseOptions options = {}) {
  Result<ParsedSearch> r = ParseSearch(type, query, options);
  ASSERT_FALSE(r.ok()) << type << "?" << query << " was accepted";
  EXPECT_EQ(r.status().code(), Code::kInvalid) << query;
  ASSERT_EQ(r.status().issues().size(), 1u) << query;
  const Issue& issue = r.status().issues()[0];
  EXPECT_EQ(issue.severity, "error") << query;
  EXPECT_EQ(issue.code, issue_code) << query << ": " << issue.diagnostics;
  EXPECT_EQ(issue.expression, expression) << query << ": " << issue.diagnostics;
  EXPECT_NE(issue.diagnostics.find(says), std::string::npos) << query << ": " << issue.diagnostics;
}

const store::StringValue& Str(const Clause& c, size_t i = 0) { return std::get<store::StringValue>(c.values.at(i)); }
const store::TokenValue& Tok(const Clause& c, size_t i = 0) { return std::get<store::TokenValue>(c.values.at(i)); }
const store::DateValue& Date(const Clause& c, size_t i = 0) { return std::get<store::DateValue>(c.values.at(i)); }
const store::NumberValue& Num(const Clause& c, size_t i = 0) { return std::get<store::NumberValue>(c.values.at(i)); }
const store::QuantityValue& Qty(const Clause& c, size_t i = 0) {
  return std::get<store::QuantityValue>(c.values.at(i));
}
const store::ReferenceValue& Ref(const Clause& c, size_t i = 0) {
  return std::get<store::ReferenceValue>(c.values.at(i));
}

// ---- Parameters, AND/OR, decoding, escaping -----------------------------------------------

TEST(QueryParser, StringParameterIsNormalisedAndKeptAsWritten) {
  Clause c = OnlyClause("Patient", "name=M%C3%BCller");
  EXPECT_EQ(c.param, "name");
  EXPECT_EQ(c.kind, ParamKind::kString);
  EXPECT_EQ(c.modifier, Modifier::kNone);
  ASSERT_EQ(c.values.size(), 1u);
  EXPECT_EQ(Str(c).exact, "Müller");
  EXPECT_EQ(Str(c).normalized, "muller");
}

TEST(QueryParser, FormDecodingTurnsPlusIntoSpace) {
  Clause c = OnlyClause("Patient", "name=Jean+Paul");
  EXPECT_EQ(Str(c).exact, "Jean Paul");
  EXPECT_EQ(Str(c).normalized, "jean paul");
}

TEST(QueryParser, RepeatedParametersAreAndedCommasOred) {
  ParsedSearch p = Parse("Patient", "given=a&given=b,c&&");
  ASSERT_EQ(p.query.clauses.size(), 2u);
  ASSERT_EQ(p.query.clauses[0].values.size(), 1u);
  ASSERT_EQ(p.query.clauses[1].values.size(), 2u);
  EXPECT_EQ(Str(p.query.clauses[1], 0).exact, "b");
  EXPECT_EQ(Str(p.query.clauses[1], 1).exact, "c");
  EXPECT_EQ(p.query.types, std::vector<std::string>{"Patient"});
}

TEST(QueryParser, EscapedSeparatorsAreLiteral) {
  Clause c = OnlyClause("Patient", "name=a\\,b");
  ASSERT_EQ(c.values.size(), 1u);
  EXPECT_EQ(Str(c).exact, "a,b");

  c = OnlyClause("Patient", "name=a%5C%2Cb,c");  // the same, percent-encoded, then a real comma
  ASSERT_EQ(c.values.size(), 2u);
  EXPECT_EQ(Str(c, 0).exact, "a,b");
  EXPECT_EQ(Str(c, 1).exact, "c");

  c = OnlyClause("Patient", "name=a\\\\,b");  // an escaped backslash does not escape the comma
  ASSERT_EQ(c.values.size(), 2u);
  EXPECT_EQ(Str(c, 0).exact, "a\\");
  EXPECT_EQ(Str(c, 1).exact, "b");

  c = OnlyClause("Patient", "name=cost\\$5\\x");  // \$ is a dollar; other backslashes stay
  EXPECT_EQ(Str(c).exact, "cost$5\\x");

  c = OnlyClause("Patient", "identifier=urn:a\\|b|c\\,d");
  EXPECT_EQ(Tok(c).system, "urn:a|b");
  EXPECT_EQ(Tok(c).code, "c,d");
}

TEST(QueryParser, SyntaxHelpers) {
  EXPECT_EQ(SplitUnescaped("a,b\\,c,", ','), (std::vector<std::string_view>{"a", "b\\,c", ""}));
  EXPECT_EQ(Unescape("a\\,b\\|c\\$d\\\\e\\"), "a,b|c$d\\e\\");
  EXPECT_EQ(FormDecode("a+b%20c%2b"), "a b c+");
  EXPECT_FALSE(FormDecode("%2"));
  EXPECT_FALSE(FormDecode("%g0"));
  EXPECT_TRUE(IsCleanUtf8("é€😀"));
  EXPECT_FALSE(IsCleanUtf8("\xC0\xAF"));      // overlong
  EXPECT_FALSE(IsCleanUtf8("\xED\xA0\x80"));  // surrogate
  EXPECT_FALSE(IsCleanUtf8(std::string_view("a\0b", 3)));
  EXPECT_FALSE(IsCleanUtf8("\xE2\x82"));  // truncated
}

TEST(QueryParser, EmptyAndNamelessParametersAreErrors) {
  ExpectError("Patient", "name=", "name", "has no value");
  ExpectError("Patient", "name", "name", "has no value");
  ExpectError("Patient", "name=a,,b", "name", "empty value");
  ExpectError("Patient", "name=a,", "name", "empty value");
  ExpectError("Patient", "=x", "", "has no name");
  ExpectError("Patient", "name=%zz", "", "percent-encoding");
  ExpectError("Patient", "name=%FF", "", "UTF-8");
  ExpectError("Patient", "name=a%00b", "", "NUL");
  ExpectError("Nope", "name=x", "", "Unknown resource type");
}

// ---- Unknown and unsupported parameters ------------------------------------------------------

TEST(QueryParser, UnknownParameterIsAWarningWhenLenientAndAnErrorWhenStrict) {
  ParsedSearch p = Parse("Patient", "foo=bar&name=x");
  ASSERT_EQ(p.query.clauses.size(), 1u);
  EXPECT_EQ(p.query.clauses[0].param, "name");
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_EQ(p.warnings[0].severity, "warning");
  EXPECT_EQ(p.warnings[0].code, "not-supported");
  EXPECT_EQ(p.warnings[0].expression, "foo");
  EXPECT_NE(p.warnings[0].diagnostics.find("Unknown search parameter 'foo'"), std::string::npos);

  ExpectError("Patient", "foo=bar&name=x", "foo", "Unknown search parameter", "not-supported", {.strict = true});
}

TEST(QueryParser, SpecialParametersAreNotSupported) {
  for (std::string_view q : {"_query=x", "_filter=name eq x"}) {
    ParsedSearch p = Parse("Patient", q);
    EXPECT_TRUE(p.query.clauses.empty()) << q;
    ASSERT_EQ(p.warnings.size(), 1u) << q;
    EXPECT_NE(p.warnings[0].diagnostics.find("not supported"), std::string::npos) << q;
    ExpectError("Patient", q, std::string(q.substr(0, q.find('='))), "not supported", "not-supported",
                {.strict = true});
  }
  ParsedSearch p = Parse("Patient", "_contained=true");
  EXPECT_EQ(p.warnings.size(), 1u);
}

TEST(QueryParser, ListTakesListIds) {
  Clause c = OnlyClause("Observation", "_list=42,a-b.c");
  EXPECT_EQ(c.kind, ParamKind::kList);
  EXPECT_EQ(c.param, "_list");
  ASSERT_EQ(c.values.size(), 2u);
  EXPECT_EQ(Tok(c, 1).code, "a-b.c");
  EXPECT_EQ(OnlyClause("Observation", "subject:Patient._list=7").chain.at(0).kind, ParamKind::kList) << "in a chain too";
  ExpectError("Observation", "_list=List/42", "_list", "not the id of a List");
  ExpectError("Observation", "_list=$current-problems", "_list", "holds Condition resources", "invalid");
  ExpectError("Condition", "_list=$nosuch", "_list", "functional list", "not-supported");
  ExpectError("Observation", "_list:missing=true", "_list:missing", "takes no modifier");
  ExpectError("Observation", "_sort=_list", "_sort", "cannot order by");
}

// Location near: latitude|longitude|distance|units, the distance in km.
TEST(QueryParser, NearTakesAPointAndADistance) {
  Clause c = OnlyClause("Location", "near=51.5|-0.12|5|km,48.85|2.35|2|[mi_i],40|-74");
  EXPECT_EQ(c.kind, ParamKind::kNear);
  ASSERT_EQ(c.values.size(), 3u);
  const auto& london = std::get<store::NearValue>(c.values[0]);
  EXPECT_DOUBLE_EQ(london.latitude, 51.5);
  EXPECT_DOUBLE_EQ(london.longitude, -0.12);
  EXPECT_DOUBLE_EQ(london.distance_km, 5);
  EXPECT_NEAR(std::get<store::NearValue>(c.values[1]).distance_km, 3.218688, 1e-9);
  EXPECT_DOUBLE_EQ(std::get<store::NearValue>(c.values[2]).distance_km, 10) << "the default";
  EXPECT_DOUBLE_EQ(std::get<store::NearValue>(OnlyClause("Location", "near=1|2|500|m").values[0]).distance_km, 0.5);
  ExpectError("Location", "near=91|0|1|km", "near", "latitude");
  ExpectError("Location", "near=0|181", "near", "longitude");
  ExpectError("Location", "near=0|0|-1|km", "near", "distance");
  ExpectError("Location", "near=0|0|1e999|km", "near", "distance");
  ExpectError("Location", "near=0|0|1|parsec", "near", "unit");
  ExpectError("Location", "near=0", "near", "latitude|longitude");
  ExpectError("Location", "near:missing=true", "near:missing", "no modifier");
  ExpectError("Location", "_sort=near", "_sort", "cannot order by");
}

// Functional lists are the clauses they stand for.
TEST(QueryParser, FunctionalListsBecomeTheirCriteria) {
  Clause problems = OnlyClause("Condition", "_list=$current-problems");
  EXPECT_EQ(problems.param, "clinical-status");
  ASSERT_EQ(problems.values.size(), 3u);
  EXPECT_EQ(Tok(problems, 2).code, "relapse");
  ParsedSearch drug = Parse("AllergyIntolerance", "patient=p1&_list=$current-drug-allergies");
  ASSERT_EQ(drug.query.clauses.size(), 3u);
  EXPECT_EQ(drug.query.clauses[1].param, "clinical-status");
  EXPECT_EQ(drug.query.clauses[2].param, "category");
  EXPECT_EQ(OnlyClause("MedicationStatement", "_list=$current-medications").param, "status");
  ExpectError("Patient", "_list=$current-medications", "_list", "MedicationRequest or MedicationStatement", "invalid");
}

TEST(QueryParser, FullText) {
  Clause c = OnlyClause("Patient", "_text=heart+attack,\"chest pain\" OR stroke");
  EXPECT_EQ(c.param, "_text");
  EXPECT_EQ(c.kind, ParamKind::kText);
  ASSERT_EQ(c.values.size(), 2u);
  EXPECT_EQ(std::get<store::TextValue>(c.values[0]).groups,
            (std::vector<std::vector<std::string>>{{"heart", "attack"}}));
  EXPECT_EQ(std::get<store::TextValue>(c.values[1]).groups,
            (std::vector<std::vector<std::string>>{{"chest pain"}, {"stroke"}}));
  c = OnlyClause("", "_content=a\\,b");
  EXPECT_EQ(c.kind, ParamKind::kText);
  EXPECT_EQ(std::get<store::TextValue>(c.values[0]).groups, (std::vector<std::vector<std::string>>{{"a,b"}}));
  ExpectError("Patient", "_text=OR", "_text", "no word to search for");
  ExpectError("Patient", "_content:exact=x", "_content:exact", "takes no modifier");
  ExpectError("Patient", "_text:missing=true", "_text:missing", "takes no modifier");
  // _text is a DomainResource parameter: a Bundle has no narrative.
  ExpectError("Bundle", "_text=x", "_text", "Unknown search parameter", "not-supported", {.strict = true});
  EXPECT_EQ(OnlyClause("Bundle", "_content=x").kind, ParamKind::kText);
}

// ---- Composites --------------------------------------------------------------------------

const store::CompositeValue& Composite(const Clause& c, size_t i = 0) {
  return std::get<store::CompositeValue>(c.values.at(i));
}

TEST(QueryParser, CompositeValuesSplitOnDollarAndParseEachComponent) {
  Clause c = OnlyClause("Observation", "code-value-quantity=http://loinc.org|8480-6$gt100");
  EXPECT_EQ(c.param, "code-value-quantity");
  EXPECT_EQ(c.kind, ParamKind::kComposite);
  EXPECT_EQ(c.components, (std::vector<ParamKind>{ParamKind::kToken, ParamKind::kQuantity}));
  ASSERT_EQ(Composite(c).components.size(), 2u);
  const auto& token = std::get<store::TokenValue>(Composite(c).components[0]);
  EXPECT_EQ(token.system, "http://loinc.org");
  EXPECT_EQ(token.code, "8480-6");
  const auto& quantity = std::get<store::QuantityValue>(Composite(c).components[1]);
  EXPECT_EQ(quantity.prefix, Prefix::kGt);
  EXPECT_EQ(quantity.value, 100);

  // Units on the quantity, OR-ed values, a code alone.
  c = OnlyClause("Observation", "component-code-value-quantity=8480-6$lt60|http://unitsofmeasure.org|mm[Hg],"
                                "http://loinc.org|8462-4$ge90");
  ASSERT_EQ(c.values.size(), 2u);
  EXPECT_EQ(std::get<store::TokenValue>(Composite(c, 0).components[0]).system, std::nullopt);
  const auto& mmhg = std::get<store::QuantityValue>(Composite(c, 0).components[1]);
  EXPECT_EQ(mmhg.prefix, Prefix::kLt);
  EXPECT_EQ(mmhg.code, "mm[Hg]");
  EXPECT_FALSE(mmhg.canonical_unit.empty());
  EXPECT_EQ(std::get<store::QuantityValue>(Composite(c, 1).components[1]).prefix, Prefix::kGe);

  // Each component kind: concept, date, string (with an escaped '$'), reference, numbers.
  c = OnlyClause("Observation", "code-value-concept=http://loinc.org|72166-2$http://snomed.info/sct|8517006");
  EXPECT_EQ(std::get<store::TokenValue>(Composite(c).components[1]).code, "8517006");
  EXPECT_TRUE(c.composite_parts.empty());
  c = OnlyClause("Observation", "combo-code-value-concept=72166-2$|8517006");
  EXPECT_EQ(std::get<store::TokenValue>(Composite(c).components[1]).system, "");
  EXPECT_EQ(c.composite_parts, (std::vector<std::string>{"code-value-concept", "component-code-value-concept"}));
  c = OnlyClause("Observation", "code-value-date=8302-2$ge2013-01");
  EXPECT_EQ(c.components[1], ParamKind::kDate);
  EXPECT_EQ(std::get<store::DateValue>(Composite(c).components[1]).prefix, Prefix::kGe);
  EXPECT_EQ(std::get<store::DateValue>(Composite(c).components[1]).low, k2013);
  c = OnlyClause("Observation", "code-value-string=x$US\\$ 5");
  EXPECT_EQ(std::get<store::StringValue>(Composite(c).components[1]).exact, "US$ 5");
  c = OnlyClause("DocumentReference", "relationship=replaces$DocumentReference/1");
  EXPECT_EQ(c.components[1], ParamKind::kReference);
  EXPECT_EQ(std::get<store::ReferenceValue>(Composite(c).components[1]).id, "1");
  c = OnlyClause("Group", "characteristic-value=gender$male");
  EXPECT_EQ(std::get<store::TokenValue>(Composite(c).components[1]).code, "male");
  c = OnlyClause("MolecularSequence", "chromosome-variant-coordinate=1$gt123$lt345");
  EXPECT_EQ(c.components, (std::vector<ParamKind>{ParamKind::kToken, ParamKind::kNumber, ParamKind::kNumber}));
  EXPECT_EQ(std::get<store::NumberValue>(Composite(c).components[2]).prefix, Prefix::kLt);
  c = OnlyClause("ValueSet", "context-type-quantity=focus$le5");
  EXPECT_EQ(c.components[1], ParamKind::kQuantity);
  c = OnlyClause("Observation", "code-value-quantity:missing=true");
  EXPECT_EQ(c.modifier, Modifier::kMissing);
  EXPECT_TRUE(c.missing);
}

TEST(QueryParser, CompositeErrors) {
  ExpectError("Observation", "code-value-quantity=8480-6", "code-value-quantity", "takes 2 values separated by '$'");
  ExpectError("Observation", "code-value-quantity=a$1$2", "code-value-quantity", "takes 2 values");
  ExpectError("Observation", "code-value-quantity=a$", "code-value-quantity", "empty component");
  ExpectError("Observation", "code-value-quantity=$5", "code-value-quantity", "empty component");
  ExpectError("Observation", "code-value-quantity=a$abc", "code-value-quantity", "Invalid number");
  ExpectError("Observation", "code-value-quantity=a|b|c$5", "code-value-quantity", "more than one '|'");
  ExpectError("Observation", "code-value-date=a$2013-13", "code-value-date", "Invalid date");
  ExpectError("DocumentReference", "relationship=x$Patient/1", "relationship", "not a target type");
  ExpectError("Observation", "code-value-quantity:exact=a$5", "code-value-quantity:exact",
              "not valid for the composite parameter");
  ExpectError("Observation", "_sort=code-value-quantity", "_sort", "cannot order by");
  ExpectError("Observation", "code-value-quantity.x=1", "code-value-quantity.x", "Only reference parameters");
}

TEST(QueryParser, InvalidModifierIsAlwaysAnError) {
  ExpectError("Patient", "gender:exact=male", "gender:exact", "not valid for the token parameter 'gender'");
  ExpectError("Patient", "name:text=x", "name:text", "not valid for the string parameter 'name'");
  ExpectError("Patient", "birthdate:exact=2013", "birthdate:exact", "not valid");
  ExpectError("Patient", "name:exact:x=y", "name:exact:x", "not valid");
  ExpectError("Observation", "subject:Patient:x=1", "subject:Patient:x", "not valid");
  ExpectError("Observation", "code:bogus=x", "code:bogus", "not valid", "invalid", {.strict = false});
}

TEST(QueryParser, DefinedButUnimplementedModifiersAreNotSupportedErrors) {
  for (std::string_view q : {"_id:above=x", "_id:below=x"}) {
    ExpectError("Patient", q, std::string(q.substr(0, q.find('='))), "not supported", "not-supported");
  }
  ExpectError("Observation", "code:below=x", "code:below", "take system|code", "invalid");
  ExpectError("Observation", "code:above=|x", "code:above", "take system|code", "invalid");
  Clause below = OnlyClause("Condition", "code:below=http://snomed.info/sct|73211009");
  EXPECT_EQ(below.modifier, Modifier::kBelow);
  ExpectError("Patient", "_id:of-type=a|b|c", "_id:of-type", "not supported", "not-supported");
  ExpectError("Patient", "_id:in=http://vs", "_id:in", "not supported", "not-supported");
}

// :in and :not-in keep the value sets' canonical URLs for the API layer to expand.
TEST(QueryParser, InAndNotInNameValueSets) {
  Clause in = OnlyClause("Observation", "code:in=http://example.org/vs/a,http://example.org/vs/b|2");
  EXPECT_EQ(in.modifier, Modifier::kIn);
  ASSERT_EQ(in.values.size(), 2u);
  EXPECT_EQ(std::get<store::UriValue>(in.values[0]).uri, "http://example.org/vs/a");
  EXPECT_EQ(std::get<store::UriValue>(in.values[1]).uri, "http://example.org/vs/b|2");
  Clause not_in = OnlyClause("Condition", "clinical-status:not-in=http://hl7.org/fhir/ValueSet/condition-clinical");
  EXPECT_EQ(not_in.modifier, Modifier::kNotIn);
  ExpectError("Observation", "code:in=", "code:in", "has no value", "invalid");
  ExpectError("Observation", "code:in=a%20b", "code:in", "not the canonical URL", "invalid");
  ExpectError("Patient", "name:in=http://vs", "name:in", "not valid", "invalid");
}

TEST(QueryParser, OfTypeIdentifierAndUriContains) {
  Clause c = OnlyClause("Patient", "identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|446053,"
                                   "s|c|a\\|b");
  EXPECT_EQ(c.modifier, Modifier::kOfType);
  ASSERT_EQ(c.values.size(), 2u);
  const auto& mr = std::get<store::OfTypeValue>(c.values[0]);
  EXPECT_EQ(mr.type_system, "http://terminology.hl7.org/CodeSystem/v2-0203");
  EXPECT_EQ(mr.type_code, "MR");
  EXPECT_EQ(mr.value, "446053");
  EXPECT_EQ(std::get<store::OfTypeValue>(c.values[1]).value, "a|b");
  for (std::string_view bad : {"identifier:of-type=MR|446053", "identifier:of-type=|MR|1", "identifier:of-type=s||1",
                               "identifier:of-type=s|MR|", "identifier:of-type=a|b|c|d"}) {
    ExpectError("Patient", bad, "identifier:of-type", "all three present");
  }

  c = OnlyClause("PractitionerRole", "practitioner:identifier=http://hl7.org/fhir/sid/us-npi|9999");
  EXPECT_EQ(c.kind, ParamKind::kReference);
  EXPECT_EQ(c.modifier, Modifier::kIdentifier);
  EXPECT_EQ(Tok(c).system, "http://hl7.org/fhir/sid/us-npi");
  EXPECT_EQ(Tok(c).code, "9999");
  EXPECT_EQ(Tok(OnlyClause("Observation", "subject:identifier=9999")).code, "9999");
  ExpectError("Observation", "subject:identifier=a|b|c", "subject:identifier", "more than one '|'");

  c = OnlyClause("ValueSet", "url:contains=acme.org/fhir");
  EXPECT_EQ(c.modifier, Modifier::kContains);
  EXPECT_EQ(std::get<store::UriValue>(c.values[0]).uri, "acme.org/fhir");
}

// ---- Strings, tokens, uris, ids ------------------------------------------------------------

TEST(QueryParser, StringModifiers) {
  Clause c = OnlyClause("Patient", "family:exact=O'Brien");
  EXPECT_EQ(c.modifier, Modifier::kExact);
  EXPECT_EQ(Str(c).exact, "O'Brien");
  c = OnlyClause("Patient", "family:contains=bri");
  EXPECT_EQ(c.modifier, Modifier::kContains);
}

TEST(QueryParser, MissingTakesTrueOrFalse) {
  Clause c = OnlyClause("Patient", "birthdate:missing=true");
  EXPECT_EQ(c.modifier, Modifier::kMissing);
  EXPECT_TRUE(c.missing);
  EXPECT_TRUE(c.values.empty());
  c = OnlyClause("Observation", "subject:missing=false");
  EXPECT_EQ(c.modifier, Modifier::kMissing);
  EXPECT_FALSE(c.missing);
  ExpectError("Patient", "birthdate:missing=yes", "birthdate:missing", "true or false");
  ExpectError("Patient", "birthdate:missing=true,false", "birthdate:missing", "true or false");
}

TEST(QueryParser, TokenForms) {
  Clause c = OnlyClause("Patient", "identifier=http://acme.org|123,|456,http://acme.org|,789");
  EXPECT_EQ(c.kind, ParamKind::kToken);
  ASSERT_EQ(c.values.size(), 4u);
  EXPECT_EQ(Tok(c, 0).system, "http://acme.org");
  EXPECT_EQ(Tok(c, 0).code, "123");
  EXPECT_EQ(Tok(c, 1).system, "");  // no system
  EXPECT_EQ(Tok(c, 1).code, "456");
  EXPECT_EQ(Tok(c, 2).system, "http://acme.org");
  EXPECT_FALSE(Tok(c, 2).code.has_value());    // any code of the system
  EXPECT_FALSE(Tok(c, 3).system.has_value());  // any system
  EXPECT_EQ(Tok(c, 3).code, "789");
  ExpectError("Patient", "identifier=a|b|c", "identifier", "more than one '|'");
  ExpectError("Patient", "identifier=|", "identifier", "neither a system nor a code");
}

TEST(QueryParser, TokenNotAndText) {
  Clause c = OnlyClause("Patient", "gender:not=male");
  EXPECT_EQ(c.modifier, Modifier::kNot);
  EXPECT_EQ(Tok(c).code, "male");
  c = OnlyClause("Observation", "code:text=Blood%20Pr%C3%A9ssure");
  EXPECT_EQ(c.modifier, Modifier::kText);
  EXPECT_EQ(Str(c).normalized, "blood pressure");
  EXPECT_EQ(Str(c).exact, "Blood Préssure");
}

TEST(QueryParser, IdAndUri) {
  Clause c = OnlyClause("Patient", "_id=abc-1.2,x");
  EXPECT_EQ(c.kind, ParamKind::kId);
  EXPECT_EQ(c.param, "_id");
  ASSERT_EQ(c.values.size(), 2u);
  EXPECT_FALSE(Tok(c).system.has_value());
  EXPECT_EQ(Tok(c).code, "abc-1.2");
  ExpectError("Patient", "_id=a/b", "_id", "not a resource id");
  ExpectError("Patient", "_id:text=x", "_id:text", "not supported", "not-supported");

  c = OnlyClause("ValueSet", "url:below=http://acme.org/fhir/");
  EXPECT_EQ(c.kind, ParamKind::kUri);
  EXPECT_EQ(c.modifier, Modifier::kBelow);
  EXPECT_EQ(std::get<store::UriValue>(c.values[0]).uri, "http://acme.org/fhir/");
  EXPECT_EQ(OnlyClause("ValueSet", "url:above=http://a/b").modifier, Modifier::kAbove);
  ExpectError("ValueSet", "url:exact=x", "url:exact", "not valid for the uri parameter");
}

// ---- Dates ------------------------------------------------------------------------------

TEST(QueryParser, DateRangesFollowPrecision) {
  Clause c = OnlyClause("Patient", "birthdate=2013-01");
  EXPECT_EQ(c.kind, ParamKind::kDate);
  EXPECT_EQ(Date(c).prefix, Prefix::kEq);
  EXPECT_EQ(Date(c).low, k2013);
  EXPECT_EQ(Date(c).high, k2013Feb - 1);

  c = OnlyClause("Patient", "birthdate=2013");
  EXPECT_EQ(Date(c).low, k2013);
  EXPECT_EQ(Date(c).high, k2014 - 1);

  c = OnlyClause("Patient", "birthdate=2013-01-02");
  EXPECT_EQ(Date(c).low, k2013 + kDay);
  EXPECT_EQ(Date(c).high, k2013 + 2 * kDay - 1);

  c = OnlyClause("Patient", "birthdate=2012-02");  // leap year: through Feb 29
  EXPECT_EQ(Date(c).high - Date(c).low + 1, 29 * kDay);

  c = OnlyClause("Patient", "birthdate=2013-12");  // the month that rolls the year
  EXPECT_EQ(Date(c).high, k2014 - 1);
}

TEST(QueryParser, DateTimesWithAndWithoutOffset) {
  // A time without offset is UTC.
  Clause c = OnlyClause("Observation", "date=2013-01-01T10:00");
  EXPECT_EQ(Date(c).low, k2013 + 10 * 3600 * kSecond);
  EXPECT_EQ(Date(c).high, k2013 + 10 * 3600 * kSecond + 60 * kSecond - 1);

  c = OnlyClause("Observation", "date=ge2013-01-01T10:00:00%2B01:00");
  EXPECT_EQ(Date(c).prefix, Prefix::kGe);
  EXPECT_EQ(Date(c).low, k2013 + 9 * 3600 * kSecond);
  EXPECT_EQ(Date(c).high, k2013 + 9 * 3600 * kSecond + kSecond - 1);

  // An unencoded '+' arrives as a space; read as the offset's sign.
  c = OnlyClause("Observation", "date=2013-01-01T10:00:00+01:00");
  EXPECT_EQ(Date(c).low, k2013 + 9 * 3600 * kSecond);

  c = OnlyClause("Observation", "date=lt2013-01-01T00:00:00.250Z");
  EXPECT_EQ(Date(c).prefix, Prefix::kLt);
  EXPECT_EQ(Date(c).low, k2013 + 250000);
  EXPECT_EQ(Date(c).high, k2013 + 251000 - 1);

  c = OnlyClause("Observation", "date=2013-01-01T00:00:00-05:00");
  EXPECT_EQ(Date(c).low, k2013 + 5 * 3600 * kSecond);
}

TEST(QueryParser, AllPrefixes) {
  const std::pair<std::string_view, Prefix> cases[] = {{"eq", Prefix::kEq}, {"ne", Prefix::kNe}, {"gt", Prefix::kGt},
                                                       {"lt", Prefix::kLt}, {"ge", Prefix::kGe}, {"le", Prefix::kLe},
                                                       {"sa", Prefix::kSa}, {"eb", Prefix::kEb}, {"ap", Prefix::kAp}};
  for (const auto& [text, prefix] : cases) {
    Clause c = OnlyClause("Patient", "birthdate=" + std::string(text) + "2013");
    EXPECT_EQ(Date(c).prefix, prefix) << text;
    c = OnlyClause("RiskAssessment", "probability=" + std::string(text) + "0.5");
    EXPECT_EQ(Num(c).prefix, prefix) << text;
  }
}

TEST(QueryParser, MalformedDates) {
  ExpectError("Patient", "birthdate=2013-13", "birthdate", "Invalid date '2013-13'");
  ExpectError("Patient", "birthdate=2013-02-30", "birthdate", "Invalid date");
  ExpectError("Patient", "birthdate=xx2013", "birthdate", "Unknown prefix 'xx'");
  ExpectError("Patient", "birthdate=T10:00", "birthdate", "Invalid date");
  ExpectError("Patient", "birthdate=2013-01-01T", "birthdate", "Invalid date");
  ExpectError("Patient", "birthdate=2013-01-01T25:00", "birthdate", "Invalid date");
  ExpectError("Patient", "birthdate=gt", "birthdate", "Invalid date");
  ExpectError("Patient", "birthdate=2013,20x3", "birthdate", "Invalid date '20x3'");
}

TEST(QueryParser, LastUpdated) {
  Clause c = OnlyClause("Patient", "_lastUpdated=gt2020-06-01");
  EXPECT_EQ(c.kind, ParamKind::kLastUpdated);
  EXPECT_EQ(c.param, "_lastUpdated");
  EXPECT_EQ(Date(c).prefix, Prefix::kGt);
}

// ---- Numbers and quantities ------------------------------------------------------------------

TEST(QueryParser, NumberRangesFollowSignificantDigits) {
  Clause c = OnlyClause("RiskAssessment", "probability=100");
  EXPECT_EQ(c.kind, ParamKind::kNumber);
  EXPECT_DOUBLE_EQ(Num(c).value, 100);
  EXPECT_DOUBLE_EQ(Num(c).low, 99.5);
  EXPECT_DOUBLE_EQ(Num(c).high, 100.5);

  c = OnlyClause("RiskAssessment", "probability=100.00");
  EXPECT_DOUBLE_EQ(Num(c).low, 99.995);
  EXPECT_DOUBLE_EQ(Num(c).high, 100.005);

  c = OnlyClause("RiskAssessment", "probability=1e2");  // one significant figure
  EXPECT_DOUBLE_EQ(Num(c).value, 100);
  EXPECT_DOUBLE_EQ(Num(c).low, 50);
  EXPECT_DOUBLE_EQ(Num(c).high, 150);

  c = OnlyClause("RiskAssessment", "probability=-0.5,1.5E-1");
  EXPECT_DOUBLE_EQ(Num(c, 0).low, -0.55);
  EXPECT_DOUBLE_EQ(Num(c, 1).value, 0.15);
  EXPECT_DOUBLE_EQ(Num(c, 1).low, 0.145);
}

TEST(QueryParser, MalformedNumbers) {
  for (std::string_view v : {"abc", "1.", ".5", "1e", "inf", "nan", "0x10", "1,5e", "1e999", "--1", "5 "}) {
    ExpectError("RiskAssessment", "probability=" + std::string(v), "probability", "");
  }
  ExpectError("RiskAssessment", "probability=xx5", "probability", "Unknown prefix 'xx'");
  ExpectError("RiskAssessment", "probability=abc", "probability", "Invalid number 'abc'");
}

TEST(QueryParser, QuantityWithUcumUnitIsCanonicalised) {
  Clause c = OnlyClause("Observation", "value-quantity=le5.4|http://unitsofmeasure.org|mg");
  EXPECT_EQ(c.kind, ParamKind::kQuantity);
  const store::QuantityValue& q = Qty(c);
  EXPECT_EQ(q.prefix, Prefix::kLe);
  EXPECT_DOUBLE_EQ(q.value, 5.4);
  EXPECT_DOUBLE_EQ(q.low, 5.35);
  EXPECT_DOUBLE_EQ(q.high, 5.45);
  EXPECT_EQ(q.system, "http://unitsofmeasure.org");
  EXPECT_EQ(q.code, "mg");
  EXPECT_EQ(q.canonical_unit, "g");
  EXPECT_NEAR(q.canonical_value, 0.0054, 1e-15);
  EXPECT_NEAR(q.canonical_low, 0.00535, 1e-15);
  EXPECT_NEAR(q.canonical_high, 0.00545, 1e-15);

  c = OnlyClause("Observation", "value-quantity=5.4||mg");  // no system: UCUM assumed when it parses
  EXPECT_EQ(Qty(c).system, "");
  EXPECT_EQ(Qty(c).canonical_unit, "g");
}

TEST(QueryParser, QuantityWithoutUcumUnit) {
  Clause c = OnlyClause("Observation", "value-quantity=5.4|http://snomed.info/sct|258684004");
  EXPECT_EQ(Qty(c).code, "258684004");
  EXPECT_EQ(Qty(c).canonical_unit, "");
  c = OnlyClause("Observation", "value-quantity=5||not-a-unit");
  EXPECT_EQ(Qty(c).canonical_unit, "");
  c = OnlyClause("Observation", "value-quantity=gt5");
  EXPECT_EQ(Qty(c).prefix, Prefix::kGt);
  EXPECT_EQ(Qty(c).code, "");
  EXPECT_EQ(Qty(c).canonical_unit, "");
  ExpectError("Observation", "value-quantity=5.4|mg", "value-quantity", "number|system|code");
  ExpectError("Observation", "value-quantity=zz5||mg", "value-quantity", "Unknown prefix");
  ExpectError("Observation", "value-quantity=five||mg", "value-quantity", "Invalid number");
}

// ---- References, chains, _has --------------------------------------------------------------

TEST(QueryParser, ReferenceValueForms) {
  Clause c = OnlyClause("Observation", "subject=Patient/123,456,http://other.org/fhir/Patient/789");
  EXPECT_EQ(c.kind, ParamKind::kReference);
  ASSERT_EQ(c.values.size(), 3u);
  EXPECT_EQ(Ref(c, 0).type, "Patient");
  EXPECT_EQ(Ref(c, 0).id, "123");
  EXPECT_EQ(Ref(c, 0).url, "");
  EXPECT_EQ(Ref(c, 1).type, "");
  EXPECT_EQ(Ref(c, 1).id, "456");
  EXPECT_EQ(Ref(c, 2).url, "http://other.org/fhir/Patient/789");
  EXPECT_EQ(Ref(c, 2).type, "Patient");
  EXPECT_EQ(Ref(c, 2).id, "789");

  c = OnlyClause("Observation", "subject=urn:uuid:1d6c3d7b-0c0c-4b5e-9d4e-2b0d4b1c2a3f");
  EXPECT_EQ(Ref(c).url, "urn:uuid:1d6c3d7b-0c0c-4b5e-9d4e-2b0d4b1c2a3f");
  EXPECT_EQ(Ref(c).id, "");
}

TEST(QueryParser, ReferenceTypeModifier) {
  Clause c = OnlyClause("Observation", "subject:Patient=123");
  EXPECT_EQ(c.modifier, Modifier::kType);
  EXPECT_EQ(c.type, "Patient");
  EXPECT_EQ(Ref(c).type, "Patient");
  EXPECT_EQ(Ref(c).id, "123");
  ExpectError("Observation", "subject:Medication=1", "subject:Medication", "not a target type");
  ExpectError("Observation", "subject:Patient=Group/1", "subject:Patient", "not of the type Patient");
}

TEST(QueryParser, MalformedReferences) {
  ExpectError("Observation", "subject=Medication/1", "subject", "Medication is not a target type of 'subject'");
  ExpectError("Observation", "subject=a/b/c", "subject", "not a reference");
  ExpectError("Observation", "subject=Nope/1", "subject", "not a reference");
  ExpectError("Observation", "subject=has space", "subject", "not a reference");
  ExpectError("Observation", "subject=Patient/1/_history/2", "subject", "versioned", "not-supported");
  ExpectError("Observation", "subject:exact=x", "subject:exact", "not valid for the reference parameter");
}

TEST(QueryParser, ChainWithTypeModifier) {
  Clause c = OnlyClause("Observation", "subject:Patient.name=peter,paul");
  EXPECT_EQ(c.param, "subject");
  EXPECT_EQ(c.kind, ParamKind::kReference);
  EXPECT_EQ(c.modifier, Modifier::kType);
  EXPECT_EQ(c.type, "Patient");
  EXPECT_TRUE(c.values.empty());
  ASSERT_EQ(c.chain.size(), 1u);
  const Clause& inner = c.chain[0];
  EXPECT_EQ(inner.param, "name");
  EXPECT_EQ(inner.kind, ParamKind::kString);
  ASSERT_EQ(inner.values.size(), 2u);
  EXPECT_EQ(Str(inner, 1).exact, "paul");
}

TEST(QueryParser, ChainTargetInferredOrLeftOpen) {
  // Observation.patient refers to Patient only: the chain knows its type.
  Clause c = OnlyClause("Observation", "patient.birthdate=2013");
  EXPECT_EQ(c.type, "Patient");
  EXPECT_EQ(c.modifier, Modifier::kType);
  ASSERT_EQ(c.chain.size(), 1u);
  EXPECT_EQ(c.chain[0].kind, ParamKind::kDate);

  // Observation.subject: Group, Device, Patient, Location; `name` exists on some of them.
  c = OnlyClause("Observation", "subject.name:exact=Peter");
  EXPECT_EQ(c.type, "");
  EXPECT_EQ(c.modifier, Modifier::kNone);
  ASSERT_EQ(c.chain.size(), 1u);
  EXPECT_EQ(c.chain[0].modifier, Modifier::kExact);
  EXPECT_EQ(Str(c.chain[0]).exact, "Peter");
}

TEST(QueryParser, ChainsOfSeveralLinksAndTheirLimit) {
  Clause c = OnlyClause("Patient", "organization.partof.partof.partof.name=acme");  // 4 links
  const Clause* leaf = &c;
  int links = 0;
  while (!leaf->chain.empty()) {
    EXPECT_EQ(leaf->type, "Organization");
    leaf = &leaf->chain[0];
    ++links;
  }
  EXPECT_EQ(links, 4);
  EXPECT_EQ(leaf->param, "name");
  ExpectError("Patient", "organization.partof.partof.partof.partof.name=acme",
              "organization.partof.partof.partof.partof.name", "at most 4 deep");
}

TEST(QueryParser, ChainErrorsAreErrorsEvenWhenLenient) {
  ExpectError("Observation", "subject.foo=x", "subject.foo", "Unknown search parameter 'foo'");
  ExpectError("Observation", "subject:Patient.foo=x", "subject:Patient.foo", "Unknown search parameter 'foo'");
  ExpectError("Patient", "name.family=x", "name.family", "Only reference parameters can be chained");
  ExpectError("Observation", "subject:Medication.code=x", "subject:Medication.code", "not a target type");
  ExpectError("Observation", "subject:missing.name=x", "subject:missing.name", "resource type modifier");
  ExpectError("Observation", "subject.=x", "subject.", "name is missing");
  ExpectError("Observation", "subject.name=2013,", "subject.name", "empty value");
}

TEST(QueryParser, Has) {
  Clause c = OnlyClause("Patient", "_has:Observation:patient:code=http://loinc.org|1234-5");
  EXPECT_EQ(c.param, "_has");
  EXPECT_EQ(c.has_type, "Observation");
  EXPECT_EQ(c.has_param, "patient");
  ASSERT_EQ(c.chain.size(), 1u);
  EXPECT_EQ(c.chain[0].param, "code");
  EXPECT_EQ(Tok(c.chain[0]).code, "1234-5");

  c = OnlyClause("Patient", "_has:Observation:subject:_has:Provenance:target:agent=Practitioner/1");
  ASSERT_EQ(c.chain.size(), 1u);
  const Clause& nested = c.chain[0];
  EXPECT_EQ(nested.param, "_has");
  EXPECT_EQ(nested.has_type, "Provenance");
  EXPECT_EQ(nested.has_param, "target");
  ASSERT_EQ(nested.chain.size(), 1u);
  EXPECT_EQ(Ref(nested.chain[0]).type, "Practitioner");

  c = OnlyClause("Patient", "_has:Observation:patient:code:text=glucose");
  EXPECT_EQ(c.chain[0].modifier, Modifier::kText);
}

TEST(QueryParser, MalformedHas) {
  ExpectError("Patient", "_has:Observation=x", "_has:Observation", "_has:Type:reference:parameter");
  ExpectError("Patient", "_has=x", "_has", "_has:Type:reference:parameter");
  ExpectError("Patient", "_has:Foo:patient:code=x", "_has:Foo:patient:code", "not a resource type");
  ExpectError("Patient", "_has:Observation:code:status=x", "_has:Observation:code:status", "not a reference parameter");
  ExpectError("Patient", "_has:Observation:encounter:code=x", "_has:Observation:encounter:code",
              "does not refer to Patient");
  ExpectError("Patient", "_has:Observation:patient:nope=x", "_has:Observation:patient:nope",
              "Unknown search parameter 'nope'");
  ExpectError("Patient", "_has:Observation:patient:code=", "_has:Observation:patient:code", "has no value");
}

// ---- Result parameters --------------------------------------------------------------------

TEST(QueryParser, Count) {
  EXPECT_EQ(Parse("Patient", "").query.count, 50);
  EXPECT_EQ(Parse("Patient", "", {.default_count = 20}).query.count, 20);
  EXPECT_EQ(Parse("Patient", "_count=10").query.count, 10);
  EXPECT_EQ(Parse("Patient", "_count=0").query.count, 0);
  EXPECT_EQ(Parse("Patient", "_count=5000").query.count, 1000);
  EXPECT_EQ(Parse("Patient", "_count=99999999999999999999999").query.count, 1000);
  EXPECT_EQ(Parse("Patient", "_count=300", {.max_count = 200}).query.count, 200);
  ExpectError("Patient", "_count=abc", "_count", "whole number");
  ExpectError("Patient", "_count=-1", "_count", "whole number");
  ExpectError("Patient", "_count=", "_count", "has no value");
  ExpectError("Patient", "_count=1&_count=2", "_count", "more than once");
  ExpectError("Patient", "_count:x=1", "_count:x", "not valid for _count");
}

TEST(QueryParser, Sort) {
  ParsedSearch p = Parse("Patient", "_sort=birthdate,-name,_lastUpdated,-_id");
  ASSERT_EQ(p.query.sort.size(), 4u);
  EXPECT_EQ(p.query.sort[0].param, "birthdate");
  EXPECT_EQ(p.query.sort[0].kind, ParamKind::kDate);
  EXPECT_FALSE(p.query.sort[0].descending);
  EXPECT_EQ(p.query.sort[1].param, "name");
  EXPECT_EQ(p.query.sort[1].kind, ParamKind::kString);
  EXPECT_TRUE(p.query.sort[1].descending);
  EXPECT_EQ(p.query.sort[2].kind, ParamKind::kLastUpdated);
  EXPECT_EQ(p.query.sort[3].kind, ParamKind::kId);
  EXPECT_TRUE(p.query.sort[3].descending);

  ExpectError("Patient", "_sort=birthdate,-", "_sort", "'-' without a parameter");
  ExpectError("Patient", "_sort=birthdate,", "_sort", "empty value");
  ExpectError("Patient", "_sort=foo", "_sort", "Unknown search parameter 'foo'");
  ExpectError("Patient", "_sort=general-practitioner", "_sort", "cannot order by the reference parameter");
  ExpectError("Patient", "_sort=_text", "_sort", "cannot order by");
  ExpectError("Patient", "_sort=name:exact", "_sort", "not supported", "not-supported");
}

TEST(QueryParser, TotalSummaryElementsCursorFormat) {
  ParsedSearch p = Parse("Patient",
                         "_total=none&_summary=count&_elements=name,birthDate&_cursor=abc%3D&"
                         "_format=json&_pretty=true");
  EXPECT_EQ(p.query.total, store::TotalMode::kNone);
  EXPECT_TRUE(p.query.count_only);
  EXPECT_EQ(p.subset.summary, fhir::SummaryMode::kCount);
  EXPECT_EQ(p.subset.elements, (std::vector<std::string>{"name", "birthDate"}));
  EXPECT_EQ(p.query.cursor, "abc=");
  EXPECT_TRUE(p.warnings.empty());
  EXPECT_TRUE(p.query.clauses.empty());

  EXPECT_EQ(Parse("Patient", "_total=estimate").query.total, store::TotalMode::kEstimate);
  EXPECT_EQ(Parse("Patient", "").query.total, store::TotalMode::kAccurate);
  p = Parse("Patient", "_summary=text");
  EXPECT_EQ(p.subset.summary, fhir::SummaryMode::kText);
  EXPECT_FALSE(p.query.count_only);
  EXPECT_EQ(Parse("Patient", "_summary=true").subset.summary, fhir::SummaryMode::kTrue);
  EXPECT_EQ(Parse("Patient", "_summary=data").subset.summary, fhir::SummaryMode::kData);
  EXPECT_EQ(Parse("Patient", "_summary=false&_elements=name").subset.elements, std::vector<std::string>{"name"});
  ExpectError("Patient", "_total=all", "_total", "none, estimate or accurate");
  ExpectError("Patient", "_summary=yes", "_summary", "true, text, data, count or false");
  ExpectError("Patient", "_summary=true&_summary=false", "_summary", "more than once");
  ExpectError("Patient", "_elements=name,bad%20name", "_elements", "not one");
  ExpectError("Patient", "_summary=true&_elements=name", "_elements", "cannot be combined");
  ExpectError("Patient", "_elements=name&_summary=text", "_elements", "cannot be combined");
}

TEST(QueryParser, ReadParameters) {
  Result<fhir::Subset> r = ParseReadParameters("_summary=true&_format=json&name=ignored&_count=1");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->summary, fhir::SummaryMode::kTrue);
  EXPECT_TRUE(r->elements.empty());
  r = ParseReadParameters("_elements=name,birthDate");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->summary, fhir::SummaryMode::kFalse);
  EXPECT_EQ(r->elements, (std::vector<std::string>{"name", "birthDate"}));
  EXPECT_TRUE(ParseReadParameters("")->whole());

  auto expect_error = [](std::string_view query, std::string_view expression, std::string_view says) {
    Result<fhir::Subset> bad = ParseReadParameters(query);
    ASSERT_FALSE(bad.ok()) << query;
    ASSERT_EQ(bad.status().issues().size(), 1u) << query;
    EXPECT_EQ(bad.status().code(), Code::kInvalid) << query;
    EXPECT_EQ(bad.status().issues()[0].expression, expression) << query;
    EXPECT_NE(bad.status().issues()[0].diagnostics.find(says), std::string::npos) << bad.status().message();
  };
  expect_error("_summary=count", "_summary", "applies to searches");
  expect_error("_summary=maybe", "_summary", "true, text, data, count or false");
  expect_error("_summary=true&_summary=true", "_summary", "more than once");
  expect_error("_summary:x=true", "_summary:x", "takes none");
  expect_error("_elements=a%20b", "_elements", "not one");
  expect_error("_summary=data&_elements=name", "_elements", "cannot be combined");
  expect_error("_summary=%zz", "", "percent-encoding");
}

TEST(QueryParser, Includes) {
  ParsedSearch p = Parse("Observation",
                         "_include=Observation:subject&_include:iterate=Patient:general-practitioner:Practitioner&"
                         "_revinclude=Provenance:target&_include=Observation:*&_include=*");
  ASSERT_EQ(p.query.includes.size(), 5u);
  const store::Include& a = p.query.includes[0];
  EXPECT_EQ(a.source_type, "Observation");
  EXPECT_EQ(a.param, "subject");
  EXPECT_EQ(a.target_type, "");
  EXPECT_FALSE(a.reverse);
  EXPECT_FALSE(a.iterate);
  const store::Include& b = p.query.includes[1];
  EXPECT_TRUE(b.iterate);
  EXPECT_EQ(b.target_type, "Practitioner");
  EXPECT_TRUE(p.query.includes[2].reverse);
  EXPECT_EQ(p.query.includes[2].source_type, "Provenance");
  EXPECT_TRUE(p.query.includes[3].wildcard);
  EXPECT_EQ(p.query.includes[3].source_type, "Observation");
  EXPECT_TRUE(p.query.includes[4].wildcard);

  ExpectError("Observation", "_include=Observation:code", "_include", "not a reference parameter");
  ExpectError("Observation", "_include=Observation:subject:Medication", "_include", "does not refer to Medication");
  ExpectError("Observation", "_include=Foo:subject", "_include", "not a resource type");
  ExpectError("Observation", "_include=subject", "_include", "Type:parameter");
  ExpectError("Observation", "_include:deep=Observation:subject", "_include:deep", "only :iterate");
}

// ---- System search ------------------------------------------------------------------------

TEST(QueryParser, SystemSearchWithType) {
  ParsedSearch p = Parse("", "_type=Patient,Observation,Patient&_lastUpdated=gt2020&identifier=x");
  EXPECT_EQ(p.query.types, (std::vector<std::string>{"Patient", "Observation"}));
  ASSERT_EQ(p.query.clauses.size(), 2u);
  EXPECT_EQ(p.query.clauses[1].kind, ParamKind::kToken);

  // `birthdate` is not a parameter of Observation.
  p = Parse("", "_type=Patient,Observation&birthdate=2013");
  EXPECT_TRUE(p.query.clauses.empty());
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_NE(p.warnings[0].diagnostics.find("Patient, Observation"), std::string::npos);
  ExpectError("", "_type=Patient,Nope", "_type", "'Nope' is not one");
  ExpectError("", "_type=Patient&_type=Group", "_type", "more than once");
}

TEST(QueryParser, SystemSearchWithoutType) {
  ParsedSearch p = Parse("", "_id=1&_sort=-_lastUpdated");
  EXPECT_TRUE(p.query.types.empty());
  ASSERT_EQ(p.query.clauses.size(), 1u);
  EXPECT_EQ(p.query.clauses[0].kind, ParamKind::kId);
  p = Parse("", "name=x");
  EXPECT_EQ(p.warnings.size(), 1u);
  EXPECT_NE(p.warnings[0].diagnostics.find("all resource types"), std::string::npos);
}

TEST(QueryParser, TypeInATypeSearchIsIgnored) {
  ParsedSearch p = Parse("Patient", "_type=Observation");
  EXPECT_EQ(p.query.types, std::vector<std::string>{"Patient"});
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_EQ(p.warnings[0].expression, "_type");
}

// ---- Limits --------------------------------------------------------------------------------

TEST(QueryParser, SizesAreBounded) {
  std::string many;
  for (int i = 0; i <= kMaxParameters; ++i) many += "name=x&";
  ExpectError("Patient", many, "", "more than 64 parameters");

  std::string values = "name=";
  for (int i = 0; i <= kMaxValuesPerParameter; ++i) values += "x,";
  values += "x";
  ExpectError("Patient", values, "name", "at most 100");

  std::string huge = "name=" + std::string(kMaxQueryBytes, 'a');
  ExpectError("Patient", huge, "", "at most 65536");

  // A long unknown name is quoted shortened in the warning.
  ParsedSearch p = Parse("Patient", std::string(5000, 'z') + "=1");
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_LT(p.warnings[0].diagnostics.size(), 400u);
  EXPECT_LT(p.warnings[0].expression.size(), 120u);
}

}  // namespace
}  // namespace ehr::search
