#include "fhir/validate/primitive_values.h"

#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

namespace ehr::fhir {
namespace {

struct Sample {
  Primitive primitive;
  std::string text;
  bool valid;
  // The definitions' regex accepts the text but the specification's prose does not
  // (impossible dates, control characters, empty values, 32-bit range, base64 padding).
  bool stricter_than_regex = false;
};

const std::vector<Sample>& Samples() {
  using P = Primitive;
  static const std::vector<Sample> samples = {
      {P::kInteger, "0", true},
      {P::kInteger, "-0", true},
      {P::kInteger, "-2147483648", true},
      {P::kInteger, "2147483647", true},
      {P::kInteger, "2147483648", false, true},
      {P::kInteger, "-2147483649", false, true},
      {P::kInteger, "1.5", false},
      {P::kInteger, "1e2", false},
      {P::kInteger, "", false},
      {P::kUnsignedInt, "0", true},
      {P::kUnsignedInt, "2147483647", true},
      {P::kUnsignedInt, "-1", false},
      {P::kUnsignedInt, "-0", false},
      {P::kUnsignedInt, "2147483648", false, true},
      {P::kPositiveInt, "1", true},
      {P::kPositiveInt, "0", false},
      {P::kPositiveInt, "-5", false},
      {P::kDecimal, "1.50", true},
      {P::kDecimal, "-0.0", true},
      {P::kDecimal, "1e-3", true},
      {P::kDecimal, "", false},

      {P::kString, "a", true},
      {P::kString, " ", true},
      {P::kString, "a\tb\r\nc", true},
      {P::kString, "caf\xc3\xa9", true},
      {P::kString, "", false},
      {P::kString, "a\x01z", false, true},
      {P::kMarkdown, "# title\n\n*x*", true},
      {P::kMarkdown, "", false},
      {P::kCode, "a", true},
      {P::kCode, "a b", true},
      {P::kCode, " a", false},
      {P::kCode, "a ", false},
      {P::kCode, "a  b", false},
      {P::kCode, "", false},
      {P::kId, "a-B.9", true},
      {P::kId, std::string(64, 'x'), true},
      {P::kId, std::string(65, 'x'), false},
      {P::kId, "a_b", false},
      {P::kId, "", false},
      {P::kUri, "http://example.org/a?b=c", true},
      {P::kUri, "urn:uuid:0b6f1a52-8e2e-4a39-a3e7-5c1f8b0c2f11", true},
      {P::kUri, "a b", false},
      {P::kUri, "", false, true},
      {P::kUrl, "https://x", true},
      {P::kUrl, "https://x y", false},
      {P::kCanonical, "http://hl7.org/fhir/ValueSet/x|4.0.1", true},
      {P::kCanonical, "", false, true},
      {P::kOid, "urn:oid:1.2.3", true},
      {P::kOid, "urn:oid:2.16.840.1.113883", true},
      {P::kOid, "urn:oid:1.0", true},
      {P::kOid, "urn:oid:3.1", false},
      {P::kOid, "urn:oid:1", false},
      {P::kOid, "urn:oid:1.02", false},
      {P::kOid, "urn:oid:1.", false},
      {P::kOid, "1.2.3", false},
      {P::kUuid, "urn:uuid:0b6f1a52-8e2e-4a39-a3e7-5c1f8b0c2f11", true},
      {P::kUuid, "urn:uuid:0B6F1A52-8E2E-4A39-A3E7-5C1F8B0C2F11", false},
      {P::kUuid, "0b6f1a52-8e2e-4a39-a3e7-5c1f8b0c2f11", false},
      {P::kUuid, "urn:uuid:0b6f1a52-8e2e-4a39-a3e7-5c1f8b0c2f1", false},

      {P::kDate, "2020", true},
      {P::kDate, "2020-02", true},
      {P::kDate, "2020-02-29", true},
      {P::kDate, "2000-02-29", true},
      {P::kDate, "2021-02-29", false, true},
      {P::kDate, "1900-02-29", false, true},
      {P::kDate, "2021-04-31", false, true},
      {P::kDate, "0000", false},
      {P::kDate, "2020-13", false},
      {P::kDate, "2020-00", false},
      {P::kDate, "2020-12-32", false},
      {P::kDate, "2020-1-01", false},
      {P::kDate, "20201", false},
      {P::kDate, "2020-", false},
      {P::kDate, "", false},
      {P::kDateTime, "2020", true},
      {P::kDateTime, "2020-01", true},
      {P::kDateTime, "2020-01-01", true},
      {P::kDateTime, "2020-01-01T10:00:00Z", true},
      {P::kDateTime, "2020-01-01T10:00:00.123+14:00", true},
      {P::kDateTime, "2020-01-01T10:00:00-05:30", true},
      {P::kDateTime, "2020-01-01T23:59:60Z", true},
      {P::kDateTime, "2020-01-01T10:00:00", false},
      {P::kDateTime, "2020-01-01T10:00Z", false},
      {P::kDateTime, "2020-01-01T24:00:00Z", false},
      {P::kDateTime, "2020-01-01T10:00:00+14:01", false},
      {P::kDateTime, "2020-01-01T10:00:00.Z", false},
      {P::kDateTime, "2020-01T10:00:00Z", false},
      {P::kDateTime, "2020-01-01 10:00:00Z", false},
      {P::kInstant, "2020-01-01T10:00:00Z", true},
      {P::kInstant, "2020-01-01T10:00:00.5-01:00", true},
      {P::kInstant, "2020-01-01", false},
      {P::kInstant, "2020-01-01T10:00:00", false},
      {P::kTime, "10:00:00", true},
      {P::kTime, "23:59:59.999", true},
      {P::kTime, "24:00:00", false},
      {P::kTime, "10:00", false},
      {P::kTime, "10:00:00Z", false},
      {P::kTime, "", false},

      {P::kBase64Binary, "aGVsbG8=", true},
      {P::kBase64Binary, "aGVs bG8=", true},
      {P::kBase64Binary, "aGVs\nbG8=\n", true},
      {P::kBase64Binary, "aGVsbG8", false},
      {P::kBase64Binary, "aG Vs", false},
      {P::kBase64Binary, "aGV-", false},
      {P::kBase64Binary, "aGV=bG8=", false, true},
      {P::kBase64Binary, "a===", false, true},
      {P::kBase64Binary, "", false},

      {P::kXhtml, "<div>x</div>", true},
      {P::kXhtml, "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>a &lt; b</p></div>", true},
      {P::kXhtml, "<p>x</p>", false},
      {P::kXhtml, "<div><script>alert(1)</script></div>", false},
      {P::kXhtml, "<div><ScRiPt src=x></div>", false},
  };
  return samples;
}

TEST(PrimitiveValuesTest, AcceptsExactlyTheValidSamples) {
  for (const Sample& sample : Samples()) {
    EXPECT_EQ(IsValidPrimitiveText(sample.primitive, sample.text), sample.valid)
        << FindPrimitiveRule(sample.primitive)->type << " '" << sample.text << "'";
  }
}

// The hand-written checks never accept what the definitions' regex rejects, and where
// they are stricter the sample says so.
TEST(PrimitiveValuesTest, NeverLaxerThanTheDefinitionsRegex) {
  for (const Sample& sample : Samples()) {
    const PrimitiveRule* rule = FindPrimitiveRule(sample.primitive);
    ASSERT_NE(rule, nullptr);
    if (rule->regex.empty()) continue;
    const bool regex_accepts = std::regex_match(sample.text, std::regex(std::string(rule->regex)));
    if (sample.valid) {
      EXPECT_TRUE(regex_accepts) << rule->type << " '" << sample.text << "' accepted but the regex rejects it";
    }
    EXPECT_EQ(sample.stricter_than_regex, regex_accepts && !sample.valid) << rule->type << " '" << sample.text << "'";
  }
}

TEST(PrimitiveValuesTest, JsonKinds) {
  EXPECT_EQ(JsonKindOf(Primitive::kBoolean), JsonKind::kBool);
  for (Primitive p : {Primitive::kInteger, Primitive::kDecimal, Primitive::kPositiveInt, Primitive::kUnsignedInt}) {
    EXPECT_EQ(JsonKindOf(p), JsonKind::kNumber);
  }
  for (Primitive p : {Primitive::kString, Primitive::kDate, Primitive::kCode, Primitive::kBase64Binary}) {
    EXPECT_EQ(JsonKindOf(p), JsonKind::kString);
  }
  for (const PrimitiveRule& rule : PrimitiveRules()) EXPECT_FALSE(DescribePrimitiveRule(rule.primitive).empty());
}

}  // namespace
}  // namespace ehr::fhir
