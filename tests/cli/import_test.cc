// `ehr import` end to end: the real binary loads the whole Synthea set (122 files, 92,114
// resources, conditional references across files) and NDJSON, plain and bz2; a broken file
// is reported and fails the command without stopping the others.
#include <bzlib.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <fstream>

#include "store/sqlite/sqlite_store.h"
#include "support/test_server.h"

namespace ehr::testing {
namespace {

int RunImport(const std::string& data, const std::vector<std::string>& inputs, std::string* output = nullptr) {
  std::string cmd = std::string(std::getenv("EHR_BINARY")) + " import --data " + data;
  for (const auto& i : inputs) cmd += " " + i;
  cmd += " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int status = pclose(p);
  if (output) *output = out;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int64_t Count(const std::string& data, const std::string& type) {
  store::SqliteOptions o;
  o.path = data + "/ehr.db";
  auto s = store::OpenSqliteStore(o);
  EXPECT_TRUE(s.ok());
  auto n = (*s)->CountCurrent("default", type);
  EXPECT_TRUE(n.ok());
  return *n;
}

TEST(Import, WholeSyntheaSet) {
  TempDir dir;
  std::string out;
  ASSERT_EQ(RunImport(dir.path(), {SharedData() + "/synthea"}, &out), 0) << out;
  EXPECT_NE(out.find("122/122 files, 92114 resources"), std::string::npos) << out;
  EXPECT_EQ(Count(dir.path(), ""), 92114);
  EXPECT_EQ(Count(dir.path(), "Patient"), 120);
  // Importing again: the information bundles match by identifier (ifNoneExist), the
  // patient bundles create new resources.
}

TEST(Import, NdjsonPlainAndBz2AndErrors) {
  TempDir dir;
  std::string ndjson;
  for (int i = 0; i < 1200; ++i) {
    ndjson += R"({"resourceType":"Patient","id":"nd-)" + std::to_string(i) + R"(","active":true})" "\n";
  }
  ndjson += "\n" R"({"resourceType":"Observation","status":"final","code":{"text":"no id: POST"}})" "\n";
  std::string plain = dir.path() + "/a.ndjson";
  std::ofstream(plain) << ndjson;
  std::string bz = dir.path() + "/b.ndjson.bz2";
  std::string other;
  for (int i = 0; i < 10; ++i) other += R"({"resourceType":"Practitioner","id":"pr-)" + std::to_string(i) + R"("})" "\n";
  std::vector<char> compressed(other.size() * 2 + 600);
  unsigned len = static_cast<unsigned>(compressed.size());
  ASSERT_EQ(BZ2_bzBuffToBuffCompress(compressed.data(), &len, other.data(), static_cast<unsigned>(other.size()), 9, 0, 0),
            BZ_OK);
  std::ofstream(bz, std::ios::binary).write(compressed.data(), len);
  std::string data = dir.path() + "/data";
  std::string out;
  ASSERT_EQ(RunImport(data, {plain, bz}, &out), 0) << out;
  EXPECT_EQ(Count(data, "Patient"), 1200);
  EXPECT_EQ(Count(data, "Observation"), 1);
  EXPECT_EQ(Count(data, "Practitioner"), 10);

  std::string bad = dir.path() + "/bad.ndjson";
  std::ofstream(bad) << R"({"resourceType":"Patient","birthDate":"1970-99-99"})" "\n";
  std::string good = dir.path() + "/good.json";
  std::ofstream(good) << R"({"resourceType":"Bundle","type":"batch","entry":[{"resource":{"resourceType":"Patient","id":"after-bad"},"request":{"method":"PUT","url":"Patient/after-bad"}}]})";
  EXPECT_EQ(RunImport(data, {bad, good}, &out), 1);
  EXPECT_NE(out.find("at line 1: ofType(Patient).birthDate"), std::string::npos) << out;
  EXPECT_EQ(Count(data, "Patient"), 1201);  // the good file still loaded
  EXPECT_EQ(RunImport(data, {dir.path() + "/missing.json"}, &out), 2);
}

}  // namespace
}  // namespace ehr::testing
