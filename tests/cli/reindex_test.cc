// `ehr reindex` end to end: a database whose index rows were lost (or predate the search
// tables) gets exactly the rows the writes produced, and searches find the resources again.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include "support/test_server.h"

namespace ehr::testing {
namespace {

int RunEhr(const std::string& args, std::string* output = nullptr) {
  std::string cmd = std::string(std::getenv("EHR_BINARY")) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int status = pclose(p);
  if (output) *output = out;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Every index row of the database as text (with the type, id and parameter it belongs to),
// sorted: equal databases give equal dumps.
std::string DumpIndex(const std::string& db_path) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  std::vector<std::string> lines;
  for (const char* table : {"string_index", "token_index", "date_index", "number_index", "quantity_index",
                            "reference_index", "uri_index"}) {
    sqlite3_stmt* stmt = nullptr;
    std::string sql = std::string("SELECT r.type, r.id, p.param, x.* FROM ") + table +
                      " x JOIN search_param p ON p.pk = x.pk JOIN resource_version r ON r.seq = x.seq";
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      std::string line = table;
      for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
        const unsigned char* text = sqlite3_column_text(stmt, i);
        line += '|';
        line += text != nullptr ? reinterpret_cast<const char*>(text) : "";
      }
      lines.push_back(std::move(line));
    }
    sqlite3_finalize(stmt);
  }
  // The full-text rows: rowid is the version, scope names the parameter key.
  sqlite3_stmt* text = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db,
                               "SELECT r.type, r.id, x.scope, x.narrative, x.content FROM text_index x "
                               "JOIN resource_version r ON r.seq = x.rowid",
                               -1, &text, nullptr),
            SQLITE_OK);
  while (sqlite3_step(text) == SQLITE_ROW) {
    std::string line = "text_index";
    for (int i = 0; i < 5; ++i) {
      const unsigned char* value = sqlite3_column_text(text, i);
      line += '|';
      line += value != nullptr ? reinterpret_cast<const char*>(value) : "";
    }
    lines.push_back(std::move(line));
  }
  sqlite3_finalize(text);
  sqlite3_close(db);
  std::sort(lines.begin(), lines.end());
  std::string dump;
  for (const std::string& line : lines) dump += line + '\n';
  return dump;
}

void Exec(const std::string& db_path, const char* sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);
}

TEST(Reindex, RestoresExactlyTheRowsOfTheWrites) {
  TempDir dir;
  const std::string synthea = SharedData() + "/synthea/";
  std::string out;
  ASSERT_EQ(RunEhr("import --data " + dir.path() + " " + synthea + "0-hospitalInformation1625911868739.json.bz2 " +
                    synthea + "0-practitionerInformation1625911868739.json.bz2 " + synthea + "057aa36e-b892-9964-75b9-ffb46b097e34.json.bz2",
                &out),
            0)
      << out;
  const std::string db = dir.path() + "/ehr.db";
  const std::string written = DumpIndex(db);
  ASSERT_GT(written.size(), 100000u);  // ~2,000 resources' rows

  EXPECT_NE(written.find("\ntext_index|Patient|"), std::string::npos);
  EXPECT_NE(written.find("|code-value-quantity$"), std::string::npos);
  for (const char* table : {"string_index", "token_index", "date_index", "number_index", "quantity_index",
                            "reference_index", "uri_index", "text_index"}) {
    Exec(db, (std::string("DELETE FROM ") + table).c_str());
  }
  ASSERT_EQ(DumpIndex(db), "");
  ASSERT_EQ(RunEhr("reindex --data " + dir.path(), &out), 0) << out;
  EXPECT_NE(out.find("reindexed 2"), std::string::npos) << out;
  {  // Recorded in the audit log as an administrative action.
    sqlite3* log = nullptr;
    ASSERT_EQ(sqlite3_open_v2(db.c_str(), &log, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(log, "SELECT count(*) FROM audit_entry WHERE instr(core, '\"subtype\":\"reindex\"') > 0", -1, &s,
                       nullptr);
    ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
    EXPECT_EQ(sqlite3_column_int(s, 0), 1);
    sqlite3_finalize(s);
    sqlite3_close(log);
  }
  // Not EXPECT_EQ: gtest's diff of two dumps of megabytes takes minutes.
  const std::string rebuilt = DumpIndex(db);
  size_t at = 0;
  while (at < rebuilt.size() && at < written.size() && rebuilt[at] == written[at]) ++at;
  const size_t line = written.rfind('\n', at) == std::string::npos ? 0 : written.rfind('\n', at) + 1;
  EXPECT_TRUE(rebuilt == written) << "first difference at the line\n"
                                  << written.substr(line, written.find('\n', at) - line) << "\nrebuilt as\n"
                                  << rebuilt.substr(line, rebuilt.find('\n', at) - line);

  EXPECT_EQ(RunEhr("reindex --data", &out), 2) << out;  // bad arguments
}

}  // namespace
}  // namespace ehr::testing
