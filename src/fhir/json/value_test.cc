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

}  // namespace
}  // namespace ehr::json
