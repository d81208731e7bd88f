// The text _text and _content index, and the query syntax (full_text.h).
#include "search/full_text.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ehr::search {
namespace {

using Groups = std::vector<std::vector<std::string>>;

json::Value ParseJson(std::string_view text) {
  Result<json::Value> parsed = json::Parse(text);
  EXPECT_TRUE(parsed.ok()) << parsed.status().message();
  return parsed.ok() ? std::move(parsed).value() : json::Value();
}

TEST(FullTextTest, NarrativeWithoutMarkup) {
  json::Value care_plan = ParseJson(R"({"resourceType": "CarePlan", "text": {"status": "generated",
      "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">Care Plan for <b>Diabetes</b>.<br/>Activities: <ul><li>Diet</li><li>Exercise</li></ul>Fish &amp; chips &lt;3 caf&#233; na&#xEF;ve&nbsp;x &bogus; &#0; &#xD800;<!-- note --></div>"}})");
  EXPECT_EQ(NarrativeText(care_plan),
            "Care Plan for Diabetes . Activities: Diet Exercise Fish & chips <3 caf\xc3\xa9 na\xc3\xafve x &bogus; &#0; "
            "&#xD800;");
  EXPECT_EQ(NarrativeText(ParseJson(R"({"resourceType": "Patient"})")), "");
  EXPECT_EQ(NarrativeText(ParseJson(R"({"resourceType": "Patient", "text": {"div": 5}})")), "");
  EXPECT_EQ(NarrativeText(ParseJson(R"({"resourceType": "Patient", "text": {"div": "<div>unclosed <b"}})")), "unclosed");
}

TEST(FullTextTest, ContentIsEveryStringButData) {
  json::Value patient = ParseJson(R"({"resourceType": "Patient", "id": "p1",
      "text": {"status": "generated", "div": "<div>Jane <i>Doe</i></div>"},
      "name": [{"family": "Doe", "given": ["Jane", "Ann"]}], "active": true, "multipleBirthInteger": 2,
      "photo": [{"contentType": "image/png", "data": "aGVsbG8="}], "gender": ""})");
  EXPECT_EQ(ContentText(patient), "generated\nJane Doe\nDoe\nJane\nAnn\nimage/png");
  // The same text whatever id and meta the server places (and wherever): the id, the
  // version and the time are not content; the rest of meta comes first.
  json::Value before = ParseJson(R"({"resourceType": "Patient", "name": [{"family": "Doe"}],
      "meta": {"profile": ["http://p"], "tag": [{"code": "vip"}]}})");
  json::Value after = ParseJson(R"({"resourceType": "Patient", "id": "x1",
      "meta": {"versionId": "3", "lastUpdated": "2024-01-01T00:00:00Z", "profile": ["http://p"],
               "tag": [{"code": "vip"}]}, "name": [{"family": "Doe"}]})");
  EXPECT_EQ(ContentText(before), "http://p\nvip\nDoe");
  EXPECT_EQ(ContentText(after), ContentText(before));
  json::Value contained = ParseJson(R"({"resourceType": "Observation", "contained": [{"resourceType": "Patient",
      "id": "c1"}]})");
  EXPECT_EQ(ContentText(contained), "c1");
  EXPECT_EQ(ContentText(ParseJson("[1, 2]")), "");
  // Bounded, cut on a character boundary.
  std::string big = R"({"resourceType": "Basic", "code": {"text": ")" + std::string(kMaxContentBytes - 3, 'a') +
                    "\xc3\xa9\xc3\xa9" + R"("}, "subject": {"display": "more"}})";
  std::string content = ContentText(ParseJson(big));
  EXPECT_EQ(content.size(), kMaxContentBytes - 1);
  EXPECT_TRUE(content.ends_with("a\xc3\xa9"));
}

TEST(FullTextTest, QuerySyntax) {
  auto groups = [](std::string_view q) {
    std::optional<store::TextValue> v = ParseTextQuery(q);
    return v ? v->groups : Groups{{"<none>"}};
  };
  EXPECT_EQ(groups("diabetes"), (Groups{{"diabetes"}}));
  EXPECT_EQ(groups("  heart   attack "), (Groups{{"heart", "attack"}}));
  EXPECT_EQ(groups("heart AND attack"), (Groups{{"heart", "attack"}}));
  EXPECT_EQ(groups("\"heart attack\" OR stroke"), (Groups{{"heart attack"}, {"stroke"}}));
  EXPECT_EQ(groups("a b OR c OR OR d"), (Groups{{"a", "b"}, {"c"}, {"d"}}));
  // Lower-case or and quoted OR are words; operators of other syntaxes are words too.
  EXPECT_EQ(groups("cats or \"OR\""), (Groups{{"cats", "or", "OR"}}));
  EXPECT_EQ(groups("(a* NEAR -b) ^c"), (Groups{{"(a*", "NEAR", "-b)", "^c"}}));
  EXPECT_EQ(groups("\"unterminated phrase"), (Groups{{"unterminated phrase"}}));
  EXPECT_EQ(groups("caf\xc3\xa9"), (Groups{{"caf\xc3\xa9"}}));
  // Nothing to search for: spaces, quotes, operators, punctuation alone.
  for (std::string_view q : {"", "   ", "\"\"", "OR", "AND OR", "- * ()", "\" \""}) {
    EXPECT_EQ(ParseTextQuery(q), std::nullopt) << q;
  }
  EXPECT_EQ(groups("- x"), (Groups{{"x"}}));
  std::string many;
  for (size_t i = 0; i <= kMaxTextPhrases; ++i) many += "w" + std::to_string(i) + " ";
  EXPECT_EQ(ParseTextQuery(many), std::nullopt);
}

}  // namespace
}  // namespace ehr::search
