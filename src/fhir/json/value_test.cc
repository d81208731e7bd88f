#include "fhir/json/value.h"

#include <gtest/gtest.h>

namespace ehr::json {
namespace {

TEST(Json, KeepsDecimalTextAndMemberOrder) {
  auto v = Parse(R"({"b":1.50,"a":[true,null,"x\u00e9"],"c":-0.0e1})");
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(Write(*v), R"({"b":1.50,"a":[true,null,"xé"],"c":-0.0e1})");
  EXPECT_EQ(v->Find("b")->number_text(), "1.50");
  EXPECT_EQ(*v->Find("b")->as_double(), 1.5);
  EXPECT_FALSE(v->Find("b")->as_int64().has_value());
}

TEST(Json, RejectsMalformedWithOffset) {
  auto v = Parse(R"({"a":1,})");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), Code::kInvalid);
  EXPECT_NE(v.status().message().find("offset"), std::string::npos);
  EXPECT_FALSE(Parse("{} trailing").ok());
  EXPECT_FALSE(Parse("").ok());
  EXPECT_FALSE(Parse("\"\xff\"").ok());  // invalid UTF-8
}

TEST(Json, RejectsNulAndLoneSurrogates) {
  EXPECT_FALSE(Parse(std::string("{\"a\":1}\0 garbage", 17)).ok());
  EXPECT_FALSE(Parse(R"("\udc00")").ok());
  EXPECT_FALSE(Parse(R"({"\ud800":1})").ok());
  auto pair = Parse(R"("\ud83d\ude00")");  // a proper pair is fine
  ASSERT_TRUE(pair.ok());
  EXPECT_EQ(pair->as_string(), "\xF0\x9F\x98\x80");
}

TEST(Json, ManyKeysParseInLinearTime) {
  std::string text = "{";
  for (int i = 0; i < 200000; ++i) text += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":1";
  text += "}";
  auto v = Parse(text);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->as_object().size(), 200000u);
  EXPECT_FALSE(Parse(text.substr(0, text.size() - 1) + ",\"k7\":2}").ok());  // duplicate found late
}

TEST(Json, NumbersCompareByExactDecimalValue) {
  EXPECT_EQ(*Parse("1.50"), *Parse("1.5"));
  EXPECT_EQ(*Parse("1e2"), *Parse("100"));
  EXPECT_FALSE(*Parse("0.1") == *Parse("0.10000000000000001"));
  EXPECT_FALSE(*Parse("9007199254740993") == *Parse("9007199254740992"));
}

TEST(Json, RejectsDuplicateKeys) {
  auto v = Parse(R"({"a":1,"a":2})");
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("duplicate key 'a'"), std::string::npos);
}

TEST(Json, LimitsNesting) {
  std::string deep(100000, '[');
  EXPECT_FALSE(Parse(deep).ok());
  std::string ok = std::string(100, '[') + std::string(100, ']');
  EXPECT_TRUE(Parse(ok).ok());
}

TEST(Json, EqualityIgnoresMemberOrderAndNumberSpelling) {
  EXPECT_EQ(*Parse(R"({"a":1.0,"b":[1,2]})"), *Parse(R"({"b":[1,2],"a":1})"));
  EXPECT_FALSE(*Parse(R"({"a":[1,2]})") == *Parse(R"({"a":[2,1]})"));
}

TEST(Json, SetAndRemove) {
  Value o = Value::MakeObject();
  o.Set("x", Value("1"));
  o.SetAt(0, "first", Value(true));
  o.Set("x", Value("2"));
  EXPECT_EQ(Write(o), R"({"first":true,"x":"2"})");
  EXPECT_TRUE(o.Remove("first"));
  EXPECT_EQ(Write(o, {.pretty = true}), "{\n  \"x\": \"2\"\n}");
}

TEST(Json, EscapesControlCharacters) {
  Value s(std::string("a\"\n\x01"));
  EXPECT_EQ(Write(s), R"("a\"\n\u0001")");
}

// Regression (found by fuzz_fhirpath under UBSan): a default string_view has a null data
// pointer, which reached memchr.
TEST(Json, EmptyViewIsAnErrorNotUndefinedBehaviour) {
  EXPECT_FALSE(Parse(std::string_view()).ok());
  EXPECT_FALSE(Parse("").ok());
}

}  // namespace
}  // namespace ehr::json
