// Sensitive identifiers over real HTTP (search/sensitive_ids.h): every way of searching an
// SSN finds the right Patient through the blind index, and the SQLite file the server
// writes holds the SSN in none of its index tables.
#include <sqlite3.h>

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "fhir/json/value.h"
#include "support/test_server.h"

namespace ehr::testing {
namespace {

constexpr char kV2[] = "http://terminology.hl7.org/CodeSystem/v2-0203";

// The SSN of Patient "ssn", as written and canonical; the SS-typed number of Patient
// "typed" (another system); an MRN of Patient "mrn".
constexpr char kSsn[] = "123-45-6789";
constexpr char kSsnCanonical[] = "123456789";
constexpr char kTyped[] = "987-65-4320";
constexpr char kTypedCompact[] = "987654320";
constexpr char kMrn[] = "MRN-77";

class BlindIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ssn_ = Create("Patient", std::string(R"({"resourceType":"Patient",
      "text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">Ann Lee, SSN )") + kSsn + R"(</div>"},
      "identifier":[{"system":"http://hl7.org/fhir/sid/us-ssn","value":")" + kSsn + R"("},
                    {"system":"http://hospital.example/mrn","value":"MRN-1"}],
      "name":[{"family":"Lee","given":["Ann"]}]})");
    typed_ = Create("Patient", std::string(R"({"resourceType":"Patient",
      "identifier":[{"system":"http://state.example/social","value":")") + kTyped + R"(",
                     "type":{"coding":[{"system":")" + kV2 + R"(","code":"SS"}]}}],
      "name":[{"family":"Ortiz"}]})");
    mrn_ = Create("Patient", std::string(R"({"resourceType":"Patient",
      "identifier":[{"system":"http://hospital.example/mrn","value":")") + kMrn + R"("}],
      "name":[{"family":"Novak"}]})");
    observation_ = Create("Observation", R"({"resourceType":"Observation","status":"final",
      "code":{"coding":[{"system":"http://loinc.org","code":"29463-7"}]},
      "subject":{"reference":"Patient/)" + ssn_ + R"("}})");
  }

  std::string Create(const std::string& type, const std::string& body, const Headers& headers = kFhirJson) {
    HttpResult r = c_.Send("POST", "/fhir/" + type, body, headers);
    EXPECT_EQ(r.status, 201) << r.body;
    return std::string(ParseBody(r.body).GetString("id"));
  }

  // The ids a search matches (sorted), or {"status N"} when it fails.
  std::vector<std::string> Ids(const std::string& query) {
    HttpResult r = c_.Get("/fhir/" + query);
    if (r.status != 200) return {"status " + std::to_string(r.status) + ": " + r.body};
    std::vector<std::string> ids;
    const json::Value bundle = ParseBody(r.body);
    if (const json::Value* entries = bundle.Find("entry")) {
      for (const json::Value& e : entries->as_array()) {
        const json::Value* search = e.Find("search");
        if (search == nullptr || search->GetString("mode") != "match") continue;
        ids.emplace_back(e.Find("resource")->GetString("id"));
      }
    }
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  static std::vector<std::string> Sorted(std::vector<std::string> ids) {
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  TestServer server_;
  HttpClient c_ = server_.Client();
  std::string ssn_, typed_, mrn_, observation_;
};

TEST_F(BlindIndexTest, TokenSearchFindsSensitiveIdentifiers) {
  using V = std::vector<std::string>;
  EXPECT_EQ(Ids("Patient?identifier=http://hl7.org/fhir/sid/us-ssn|123-45-6789"), V{ssn_});
  EXPECT_EQ(Ids("Patient?identifier=http://hl7.org/fhir/sid/us-ssn|123456789"), V{ssn_}) << "canonical form";
  EXPECT_EQ(Ids("Patient?identifier=123-45-6789"), V{ssn_}) << "value only";
  EXPECT_EQ(Ids("Patient?identifier=123456789"), V{ssn_});
  EXPECT_EQ(Ids("Patient?identifier=http://hl7.org/fhir/sid/us-ssn|123456780"), V{});
  EXPECT_EQ(Ids("Patient?identifier=http://hospital.example/mrn|123-45-6789"), V{}) << "another system";

  EXPECT_EQ(Ids("Patient?identifier=http://state.example/social|987-65-4320"), V{typed_});
  EXPECT_EQ(Ids("Patient?identifier=987-65-4320"), V{typed_});
  EXPECT_EQ(Ids(std::string("Patient?identifier:of-type=") + kV2 + "|SS|987-65-4320"), V{typed_});
  EXPECT_EQ(Ids(std::string("Patient?identifier:of-type=") + kV2 + "|SS|123-45-6789"), V{})
      << "the SSN of the other Patient has no type coding";

  EXPECT_EQ(Ids("Patient?identifier=http://hospital.example/mrn|MRN-77"), V{mrn_});
  EXPECT_EQ(Ids("Patient?identifier:not=http://hl7.org/fhir/sid/us-ssn|123456789"), Sorted({typed_, mrn_}));
  EXPECT_EQ(Ids("Patient?identifier:missing=false"), Sorted({ssn_, typed_, mrn_}));
  EXPECT_EQ(Ids("Patient?identifier:text=nothing"), V{}) << ":text still parses and runs";
}

TEST_F(BlindIndexTest, ChainsAndConditionalWrites) {
  using V = std::vector<std::string>;
  EXPECT_EQ(Ids("Observation?subject:Patient.identifier=http://hl7.org/fhir/sid/us-ssn|123-45-6789"),
            V{observation_});
  EXPECT_EQ(Ids("Observation?subject:Patient.identifier=http://hl7.org/fhir/sid/us-ssn|987654320"), V{});
  EXPECT_EQ(Ids("Patient?_has:Observation:subject:code=http://loinc.org|29463-7&identifier=123456789"), V{ssn_});

  // If-None-Exist on the SSN finds the Patient: nothing is created.
  const std::string body = R"({"resourceType":"Patient","identifier":[{"system":"http://hl7.org/fhir/sid/us-ssn","value":"123456789"}]})";
  Headers conditional = kFhirJson;
  conditional.push_back({"If-None-Exist", "identifier=http://hl7.org/fhir/sid/us-ssn|123-45-6789"});
  HttpResult again = c_.Send("POST", "/fhir/Patient", body, conditional);
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(ParseBody(again.body).GetString("id"), ssn_);
  EXPECT_EQ(Ids("Patient?identifier=123456789"), V{ssn_});

  // A conditional update by the SSN updates that Patient.
  HttpResult updated = c_.Send("PUT", "/fhir/Patient?identifier=http://hl7.org/fhir/sid/us-ssn|123456789",
                               R"({"resourceType":"Patient","identifier":[{"system":"http://hl7.org/fhir/sid/us-ssn","value":"123-45-6789"}],"name":[{"family":"Lee-Park"}]})",
                               kFhirJson);
  EXPECT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(ParseBody(updated.body).GetString("id"), ssn_);
  EXPECT_EQ(Ids("Patient?identifier=http://hl7.org/fhir/sid/us-ssn|123-45-6789&family=Lee-Park"), V{ssn_});

  // A conditional reference in a transaction resolves through the blind index.
  HttpResult tx = c_.Send("POST", "/fhir", R"({"resourceType":"Bundle","type":"transaction","entry":[{
      "resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},
                  "subject":{"reference":"Patient?identifier=http://state.example/social|987-65-4320"}},
      "request":{"method":"POST","url":"Observation"}}]})", kFhirJson);
  ASSERT_EQ(tx.status, 200) << tx.body;
  EXPECT_EQ(Ids("Observation?subject=Patient/" + typed_).size(), 1u);

  // Another SSN is another Patient.
  conditional.back().second = "identifier=http://hl7.org/fhir/sid/us-ssn|219-09-9999";
  HttpResult created = c_.Send(
      "POST", "/fhir/Patient",
      R"({"resourceType":"Patient","identifier":[{"system":"http://hl7.org/fhir/sid/us-ssn","value":"219-09-9999"}]})",
      conditional);
  EXPECT_EQ(created.status, 201) << created.body;
}

TEST_F(BlindIndexTest, FullTextDoesNotFindThem) {
  using V = std::vector<std::string>;
  EXPECT_EQ(Ids("Patient?_content=Lee"), V{ssn_}) << "the rest of the text is searchable";
  EXPECT_EQ(Ids("Patient?_content=123-45-6789"), V{});
  EXPECT_EQ(Ids("Patient?_content=123456789"), V{});
  EXPECT_EQ(Ids("Patient?_content=6789"), V{});
  EXPECT_EQ(Ids("Patient?_text=6789"), V{});
  EXPECT_EQ(Ids("Patient?_content=987-65-4320"), V{});
  EXPECT_EQ(Ids("Patient?_content=MRN-77"), V{mrn_}) << "an MRN is no sensitive identifier";
}

// Every text value of every row of the database's index tables (every table named
// *_index, and the full-text table).
std::vector<std::string> IndexValues(const std::string& path, int* tables) {
  sqlite3* db = nullptr;
  std::vector<std::string> out;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << path;
    sqlite3_close(db);
    return out;
  }
  std::vector<std::string> names;
  sqlite3_stmt* list = nullptr;
  sqlite3_prepare_v2(db,
                     "SELECT name FROM sqlite_master WHERE type = 'table' AND "
                     "(name LIKE '%\\_index' ESCAPE '\\' OR name = 'text_index')",
                     -1, &list, nullptr);
  while (sqlite3_step(list) == SQLITE_ROW) names.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(list, 0)));
  sqlite3_finalize(list);
  *tables = static_cast<int>(names.size());
  for (const std::string& name : names) {
    sqlite3_stmt* rows = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, ("SELECT * FROM \"" + name + "\"").c_str(), -1, &rows, nullptr), SQLITE_OK) << name;
    while (sqlite3_step(rows) == SQLITE_ROW) {
      for (int i = 0; i < sqlite3_column_count(rows); ++i) {
        // Numbers (keys, seq, instants) are no identifier's text.
        const int type = sqlite3_column_type(rows, i);
        if (type != SQLITE_TEXT && type != SQLITE_BLOB) continue;
        const void* bytes = sqlite3_column_blob(rows, i);
        const int size = sqlite3_column_bytes(rows, i);
        out.emplace_back(bytes ? std::string(static_cast<const char*>(bytes), size) : std::string());
      }
    }
    sqlite3_finalize(rows);
  }
  sqlite3_close(db);
  return out;
}

TEST_F(BlindIndexTest, IndexTablesHoldNoPlaintext) {
  int tables = 0;
  const std::vector<std::string> values = IndexValues(server_.dir() + "/ehr.db", &tables);
  EXPECT_GE(tables, 8) << "token, string, date, number, quantity, reference, uri and text indexes";
  auto holds = [&](const std::string& text) {
    return std::any_of(values.begin(), values.end(),
                       [&](const std::string& v) { return v.find(text) != std::string::npos; });
  };
  ASSERT_TRUE(holds(kMrn)) << "the scan reads the rows (an MRN is indexed plainly)";
  ASSERT_TRUE(holds("Ortiz"));
  for (const char* plain : {kSsn, kSsnCanonical, "123 45 6789", kTyped, kTypedCompact}) {
    EXPECT_FALSE(holds(plain)) << plain;
  }
  EXPECT_TRUE(holds("blind:")) << "the blind values are there instead";
}

}  // namespace
}  // namespace ehr::testing
