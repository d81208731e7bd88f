#include "fhir/patch/json_patch.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace ehr::fhir {
namespace {

using json::Parse;
using json::Value;
using json::Write;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : fallback;
}

// Runs every case of a file in the json-patch-tests format: {comment, doc, patch, expected}
// or {comment, doc, patch, error}; our own files may add "code": "invalid" | "unprocessable".
// Returns the number of cases run.
size_t RunCaseFile(const std::string& path) {
  std::string text = ReadFile(path);
  auto cases = Parse(text);
  EXPECT_TRUE(cases.ok()) << path << ": " << cases.status().message();
  if (!cases.ok() || !cases->is_array()) return 0;
  for (const Value& c : cases->as_array()) {
    std::string comment(c.GetString("comment"));
    SCOPED_TRACE(comment);
    const Value* doc = c.Find("doc");
    const Value* patch = c.Find("patch");
    const Value* expected = c.Find("expected");
    const Value* error = c.Find("error");
    EXPECT_TRUE(doc && patch && (expected != nullptr) != (error != nullptr)) << "malformed case";
    if (!doc || !patch) continue;

    Value target = *doc;
    Status st = ApplyJsonPatch(target, *patch);
    if (expected != nullptr) {
      EXPECT_TRUE(st.ok()) << st.message();
      EXPECT_EQ(target, *expected) << "got " << Write(target) << "\nwant " << Write(*expected);
      continue;
    }
    EXPECT_FALSE(st.ok()) << "should fail: " << error->as_string();
    // Unchanged to the byte: same members in the same order with the same number text.
    EXPECT_EQ(Write(target), Write(*doc));
    std::string_view code = c.GetString("code");
    if (code == "invalid") {
      EXPECT_EQ(st.code(), Code::kInvalid) << st.message();
    } else if (code == "unprocessable") {
      EXPECT_EQ(st.code(), Code::kUnprocessable) << st.message();
    } else {
      EXPECT_TRUE(st.code() == Code::kInvalid || st.code() == Code::kUnprocessable) << st.message();
    }
  }
  return cases->as_array().size();
}

TEST(JsonPatch, SharedTestSuite) {
  std::string data = EnvOr("EHR_SHARED_DATA", "../shared/data");
  EXPECT_EQ(RunCaseFile(data + "/fhir-patch/json-patch-tests.json"), 16u);
}

TEST(JsonPatch, OwnCases) {
  std::string source = EnvOr("EHR_SOURCE_DIR", ".");
  EXPECT_GE(RunCaseFile(source + "/src/fhir/patch/testdata/json_patch_cases.json"), 50u);
}

Value MustParse(std::string_view text) {
  auto v = Parse(text);
  EXPECT_TRUE(v.ok()) << v.status().message();
  return v.ok() ? std::move(v).value() : Value();
}

TEST(JsonPatch, DiagnosticsNameTheOperationButNotTheData) {
  Value doc = MustParse(R"({"name":"Chalmers"})");
  Status st = ApplyJsonPatch(doc, MustParse(R"([{"op":"test","path":"/name","value":"Chalmers"},
                                                {"op":"test","path":"/name","value":"Smith"}])"));
  ASSERT_EQ(st.code(), Code::kUnprocessable);
  EXPECT_NE(st.message().find("operation 1 (test)"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("/name"), std::string::npos) << st.message();
  EXPECT_EQ(st.message().find("Chalmers"), std::string::npos) << st.message();
  EXPECT_EQ(st.message().find("Smith"), std::string::npos) << st.message();
  EXPECT_EQ(st.http_status(), 422);

  st = ApplyJsonPatch(doc, MustParse(R"([{"op":"remove","path":"/name"},{"op":"add","path":"/x"}])"));
  ASSERT_EQ(st.code(), Code::kInvalid);
  EXPECT_NE(st.message().find("operation 1 (add)"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("value"), std::string::npos) << st.message();
  EXPECT_EQ(st.http_status(), 400);
}

TEST(JsonPatch, SuccessKeepsMemberOrderAndNumberText) {
  Value doc = MustParse(R"({"a":1.50,"b":2,"c":3})");
  ASSERT_TRUE(ApplyJsonPatch(doc, MustParse(R"([{"op":"replace","path":"/b","value":2.00},
                                                {"op":"add","path":"/d","value":1e2}])")).ok());
  EXPECT_EQ(Write(doc), R"({"a":1.50,"b":2.00,"c":3,"d":1e2})");
}

TEST(JsonPatch, CopyDoublingIsCapped) {
  // Each copy of the root into a child doubles the document: 40 of them would need 2^40 values.
  Value doc = MustParse(R"({"a":[1,2,3,4,5,6,7,8]})");
  std::string patch = "[";
  for (int i = 0; i < 40; ++i) patch += std::string(i ? "," : "") + R"({"op":"copy","from":"","path":"/a/-"})";
  patch += "]";
  Value before = doc;
  Status st = ApplyJsonPatch(doc, MustParse(patch), JsonPatchLimits{.max_copied_values = 100000});
  ASSERT_EQ(st.code(), Code::kUnprocessable) << st.message();
  EXPECT_NE(st.message().find("copies more than 100000 values"), std::string::npos) << st.message();
  EXPECT_EQ(Write(doc), Write(before));
}

TEST(JsonPatch, NestingIsCappedSoTheResultParsesBack) {
  // Copying a value into its own child deepens the document on every step.
  Value doc = MustParse(R"({"a":{"b":{}}})");
  std::string patch = "[";
  for (int i = 0; i < 20; ++i) patch += std::string(i ? "," : "") + R"({"op":"copy","from":"/a","path":"/a/b/c"})";
  patch += "]";
  Value before = doc;
  Status st = ApplyJsonPatch(doc, MustParse(patch), JsonPatchLimits{.max_depth = 10});
  ASSERT_EQ(st.code(), Code::kUnprocessable) << st.message();
  EXPECT_NE(st.message().find("deeper than 10 levels"), std::string::npos) << st.message();
  EXPECT_EQ(Write(doc), Write(before));

  // Exactly at the limit is allowed, and the result parses back with default options.
  Value deep = MustParse(std::string(127, '[') + std::string(127, ']'));
  Value root = MustParse("{}");
  Value patch_ok = Value::MakeArray();
  Value op = Value::MakeObject();
  op.Set("op", Value("add"));
  op.Set("path", Value("/x"));
  op.Set("value", deep);
  patch_ok.as_array().push_back(op);
  ASSERT_TRUE(ApplyJsonPatch(root, patch_ok).ok());
  EXPECT_TRUE(Parse(Write(root)).ok());

  op.Set("value", Value(json::Array{deep}));
  patch_ok.as_array()[0] = op;
  EXPECT_EQ(ApplyJsonPatch(root, patch_ok).code(), Code::kUnprocessable);
}

TEST(JsonPatch, MoveWithinAnArrayFollowsRemoveThenAdd) {
  Value doc = MustParse(R"([0,1,2,3])");
  ASSERT_TRUE(ApplyJsonPatch(doc, MustParse(R"([{"op":"move","from":"/3","path":"/0"}])")).ok());
  EXPECT_EQ(Write(doc), "[3,0,1,2]");
  ASSERT_TRUE(ApplyJsonPatch(doc, MustParse(R"([{"op":"move","from":"/0","path":"/-"}])")).ok());
  EXPECT_EQ(Write(doc), "[0,1,2,3]");
  // After removing /0 the array has 3 elements, so /4 is out of range even though it was not before.
  EXPECT_EQ(ApplyJsonPatch(doc, MustParse(R"([{"op":"move","from":"/0","path":"/4"}])")).code(),
            Code::kUnprocessable);
  EXPECT_EQ(Write(doc), "[0,1,2,3]");
}

}  // namespace
}  // namespace ehr::fhir
