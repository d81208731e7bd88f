// `ehr fhirpath` end to end: the real binary, a resource from a file or standard input,
// the result printed as one JSON array, errors with their position and exit code 1.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <fstream>

#include "support/test_server.h"

namespace ehr::testing {
namespace {

struct CliRun {
  int code;
  std::string out;  // stdout and stderr
};

std::string Quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') q += "'\\''";
    else q += c;
  }
  return q + "'";
}

CliRun RunFhirPath(const std::string& args) {
  std::string cmd = std::string(std::getenv("EHR_BINARY")) + " fhirpath " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

class FhirPathCli : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.path() + "/patient.json";
    std::ofstream(path_) << R"({"resourceType":"Patient","id":"p1","active":true,"birthDate":"1974-12-25",
      "name":[{"family":"Chalmers","given":["Peter","James"]}],
      "extension":[{"url":"http://example.org/weight","valueQuantity":{"value":72.50,"unit":"kg",
        "system":"http://unitsofmeasure.org","code":"kg"}}]})";
  }
  TempDir dir_;
  std::string path_;
};

TEST_F(FhirPathCli, PrintsTheResultCollectionAsJson) {
  CliRun r = RunFhirPath(Quote("name.given | active | birthDate") + " " + path_);
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "[\"Peter\",\"James\",true,\"1974-12-25\"]\n");

  r = RunFhirPath(Quote("birthDate + 1 year | (1.50 * 2) | @2020-01-02T10:00:00Z | 3 'mg'") + " " + path_);
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "[\"1975-12-25\",3.00,\"2020-01-02T10:00:00Z\",{\"value\":3,\"unit\":\"mg\"}]\n");

  r = RunFhirPath(Quote("name") + " " + path_);
  EXPECT_EQ(r.out, "[{\"family\":\"Chalmers\",\"given\":[\"Peter\",\"James\"]}]\n");
}

TEST_F(FhirPathCli, ReadsStandardInput) {
  CliRun r = RunFhirPath(Quote("extension.value.value") + " < " + path_);
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "[72.50]\n");
}

TEST_F(FhirPathCli, ErrorsGiveThePositionAndExitOne) {
  CliRun r = RunFhirPath(Quote("name.given.") + " " + path_);
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "syntax error at line 1, column 12: expected a name after '.'\n");

  r = RunFhirPath(Quote("name.given + 1") + " " + path_);
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "evaluation error at line 1, column 12: an arithmetic operator expects a single item but got 2\n");

  r = RunFhirPath(Quote("name") + " " + dir_.path() + "/missing.json");
  EXPECT_EQ(r.code, 2);
}

}  // namespace
}  // namespace ehr::testing
