// Tests of `ehr synth`'s generator over real output files: determinism, validity against
// the server's validator, identifier check digits, referential integrity, the ground
// truth files, and statistical sanity.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "fhir/json/value.h"
#include "fhir/validate/validate.h"
#include "mpi/national_id.h"
#include "synth/catalog.h"
#include "synth/dates.h"
#include "synth/generator.h"
#include "synth/json_writer.h"
#include "synth/person.h"

namespace ehr::synth {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

// Splits one CSV row (fields may be quoted with "" for a quote).
std::vector<std::string> CsvFields(const std::string& row) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < row.size(); ++i) {
    const char c = row[i];
    if (quoted) {
      if (c == '"' && i + 1 < row.size() && row[i + 1] == '"') {
        out.back().push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        out.back().push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else {
      out.back().push_back(c);
    }
  }
  return out;
}

std::string Base64Decode(std::string_view in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (char c : in) {
    const int v = value(c);
    if (v < 0) continue;
    bits = (bits << 6) | static_cast<uint32_t>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push_back(static_cast<char>((bits >> count) & 0xff));
    }
  }
  return out;
}

Options Small(Region region, uint32_t patients, uint64_t seed = 7) {
  Options o;
  o.seed = seed;
  o.region = region;
  o.patients = patients;
  o.end_day = DaysFromCivil({2026, 1, 1});
  o.travellers = 0.05;
  o.duplicates = 0.05;
  return o;
}

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/ehr-synth-test-XXXXXX";
    path_ = mkdtemp(pattern);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string path() const { return path_; }

 private:
  std::string path_;
};

// Every generated resource of one output directory, by type and id.
struct Dataset {
  std::map<std::string, std::map<std::string, json::Value>> resources;
  std::map<std::string, std::vector<std::vector<std::string>>> truth;  // file -> rows (header skipped)

  const json::Value* Get(const std::string& type, const std::string& id) const {
    auto t = resources.find(type);
    if (t == resources.end()) return nullptr;
    auto r = t->second.find(id);
    return r == t->second.end() ? nullptr : &r->second;
  }
};

Dataset Load(const std::string& dir) {
  Dataset data;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".ndjson") continue;
    for (const std::string& line : Lines(ReadFile(entry.path()))) {
      Result<json::Value> v = json::Parse(line);
      EXPECT_TRUE(v.ok()) << entry.path() << ": " << v.status().message();
      if (!v.ok()) continue;
      const std::string type(v->GetString("resourceType"));
      const std::string id(v->GetString("id"));
      EXPECT_EQ(type + ".ndjson", entry.path().filename().string());
      EXPECT_TRUE(data.resources[type].emplace(id, std::move(*v)).second) << "duplicate id " << type << "/" << id;
    }
  }
  for (const auto& entry : fs::directory_iterator(dir + "/ground-truth")) {
    std::vector<std::string> rows = Lines(ReadFile(entry.path()));
    EXPECT_FALSE(rows.empty()) << entry.path() << " has no header";
    auto& parsed = data.truth[entry.path().filename().string()];
    for (size_t i = 1; i < rows.size(); ++i) parsed.push_back(CsvFields(rows[i]));
  }
  return data;
}

void CollectReferences(const json::Value& v, std::vector<std::string>& out) {
  if (v.is_object()) {
    for (const auto& [key, child] : v.as_object()) {
      if (key == "reference" && child.is_string()) out.push_back(child.as_string());
      CollectReferences(child, out);
    }
  } else if (v.type() == json::Type::kArray) {
    for (const json::Value& child : v.as_array()) CollectReferences(child, out);
  }
}

const json::Value* NationalIdentifier(const json::Value& patient) {
  const json::Value* ids = patient.Find("identifier");
  if (!ids) return nullptr;
  for (const json::Value& id : ids->as_array()) {
    if (mpi::KindOfSystem(id.GetString("system"))) return &id;
  }
  return nullptr;
}

TEST(Dates, RoundTripAndAge) {
  for (int64_t d = -40000; d < 40000; d += 17) {
    const CivilDate c = CivilFromDays(d);
    EXPECT_EQ(DaysFromCivil(c), d);
  }
  EXPECT_EQ(DateText(DaysFromCivil({2024, 2, 29})), "2024-02-29");
  EXPECT_EQ(DateTimeText(DaysFromCivil({2020, 1, 2}) * 1440 + 75), "2020-01-02T01:15:00Z");
  EXPECT_EQ(AgeOn(DaysFromCivil({2000, 6, 15}), DaysFromCivil({2026, 6, 14})), 25);
  EXPECT_EQ(AgeOn(DaysFromCivil({2000, 6, 15}), DaysFromCivil({2026, 6, 15})), 26);
  int64_t days;
  EXPECT_TRUE(ParseDate("2026-01-01", days));
  EXPECT_FALSE(ParseDate("2026-02-30", days));
  EXPECT_FALSE(ParseDate("2026-1-01", days));
}

TEST(Rng, NormalAndRankedHaveTheirShapes) {
  Rng rng(11);
  double sum = 0, squares = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double x = rng.Normal(10, 2);
    sum += x;
    squares += x * x;
  }
  const double mean = sum / n;
  EXPECT_NEAR(mean, 10, 0.02);
  EXPECT_NEAR(std::sqrt(squares / n - mean * mean), 2, 0.02);
  std::vector<int> counts(100);
  for (int i = 0; i < n; ++i) ++counts[rng.Ranked(100)];
  EXPECT_GT(counts[0], counts[9]);
  EXPECT_GT(counts[9], counts[99]);
  EXPECT_GT(counts[99], 0);  // the rarest still drawn
  EXPECT_NEAR(counts[0] / static_cast<double>(n), (std::sqrt(2.0) - 1) / (std::sqrt(101.0) - 1), 0.005);
  // Same key, same stream.
  Rng a(Mix(1, 2, 3, Tag("x"))), b(Mix(1, 2, 3, Tag("x"))), c(Mix(1, 2, 4, Tag("x")));
  const uint64_t first = a.Next();
  EXPECT_EQ(first, b.Next());
  EXPECT_NE(first, c.Next());
}

TEST(JsonWriter, EscapesAndRoundsAsJson) {
  std::string out;
  JsonWriter w(out);
  w.Object().Field("a", "q\"\\\n\x01").Key("b").Decimal(-0.125, 2).Key("c").Decimal(3.0, 0);
  w.Array("d").Int(1).Int(-2).End().Field("e", true).End();
  EXPECT_EQ(out, R"({"a":"q\"\\\n\u0001","b":-0.13,"c":3,"d":[1,-2],"e":true})");
  EXPECT_TRUE(json::Parse(out).ok());
}

TEST(Typo, ChangesTextAndKeepsUtf8) {
  Rng rng(5);
  for (const std::string name : {"Müller", "Schröder", "Smith", "Lefèvre", "Ng"}) {
    for (int i = 0; i < 50; ++i) {
      std::string kind;
      const std::string typo = Typo(rng, name, kind);
      if (name.size() < 3) {
        EXPECT_EQ(typo, name);
        continue;
      }
      EXPECT_NE(typo, name) << kind;
      EXPECT_EQ(typo[0], name[0]);
      EXPECT_TRUE(json::Parse("\"" + typo + "\"").ok()) << "not UTF-8: " << typo;
    }
  }
}

TEST(Generate, SameSeedSameBytesWhateverTheThreads) {
  TempDir a, b, c;
  const Options options = Small(Region::kDe, 150);
  ASSERT_TRUE(Generate(options, a.path(), 1).ok());
  ASSERT_TRUE(Generate(options, b.path(), 3).ok());
  Options other = options;
  other.seed = options.seed + 1;
  ASSERT_TRUE(Generate(other, c.path(), 2).ok());
  size_t files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(a.path())) {
    if (!entry.is_regular_file()) continue;
    const fs::path rel = fs::relative(entry.path(), a.path());
    EXPECT_TRUE(ReadFile(entry.path()) == ReadFile(fs::path(b.path()) / rel)) << rel;
    ++files;
  }
  EXPECT_GT(files, 15u);
  EXPECT_TRUE(ReadFile(a.path() + "/Patient.ndjson") != ReadFile(c.path() + "/Patient.ndjson"));
}

TEST(Generate, PartsAddUpToTheWhole) {
  TempDir whole, parts;
  Options options = Small(Region::kFr, 200);
  ASSERT_TRUE(Generate(options, whole.path(), 2).ok());
  std::map<std::string, std::string> joined;
  options.parts = 3;
  for (uint32_t k = 0; k < 3; ++k) {
    options.part = k;
    const std::string dir = parts.path() + "/" + std::to_string(k);
    ASSERT_TRUE(Generate(options, dir, 2).ok());
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
      if (!entry.is_regular_file()) continue;
      std::string text = ReadFile(entry.path());
      const std::string rel = fs::relative(entry.path(), dir).string();
      // Ground-truth files repeat their header in each part.
      if (k > 0 && rel.rfind("ground-truth/", 0) == 0) text.erase(0, text.find('\n') + 1);
      joined[rel] += text;
    }
  }
  EXPECT_FALSE(fs::exists(parts.path() + "/1/Organization.ndjson"));
  size_t files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(whole.path())) {
    if (!entry.is_regular_file()) continue;
    const std::string rel = fs::relative(entry.path(), whole.path()).string();
    EXPECT_TRUE(ReadFile(entry.path()) == joined[rel]) << rel;
    ++files;
  }
  EXPECT_EQ(files, joined.size());
}

class EachRegion : public ::testing::TestWithParam<Region> {};

TEST_P(EachRegion, ResourcesValidateAndReferencesResolve) {
  TempDir dir;
  Result<GenerateStats> stats = Generate(Small(GetParam(), 120), dir.path(), 2);
  ASSERT_TRUE(stats.ok()) << stats.status().message();
  const Dataset data = Load(dir.path());
  size_t total = 0;
  std::set<std::string> types;
  for (const auto& [type, by_id] : data.resources) {
    types.insert(type);
    for (const auto& [id, resource] : by_id) {
      ++total;
      Status valid = fhir::ValidateResource(resource);
      EXPECT_TRUE(valid.ok()) << type << "/" << id << ": " << valid.message() << " at "
                              << (valid.issues().empty() ? "" : valid.issues()[0].expression);
      std::vector<std::string> refs;
      CollectReferences(resource, refs);
      for (const std::string& ref : refs) {
        const size_t slash = ref.find('/');
        ASSERT_NE(slash, std::string::npos) << ref;
        EXPECT_NE(data.Get(ref.substr(0, slash), ref.substr(slash + 1)), nullptr)
            << type << "/" << id << " refers to missing " << ref;
      }
    }
  }
  EXPECT_EQ(total, stats->resources);
  // Every kind of resource the issue names is there.
  for (size_t k = 0; k < static_cast<size_t>(Kind::kCount); ++k) {
    EXPECT_TRUE(types.count(std::string(KindName(static_cast<Kind>(k))))) << KindName(static_cast<Kind>(k));
  }
  // About a hundred resources a patient.
  const double per_patient = static_cast<double>(total) / 120;
  EXPECT_GT(per_patient, 40);
  EXPECT_LT(per_patient, 250);
}

TEST_P(EachRegion, NationalIdentifiersHaveValidCheckDigits) {
  TempDir dir;
  ASSERT_TRUE(Generate(Small(GetParam(), 200), dir.path(), 2).ok());
  const Dataset data = Load(dir.path());
  size_t checked = 0;
  for (const auto& [id, patient] : data.resources.at("Patient")) {
    const json::Value* national = NationalIdentifier(patient);
    if (!national) continue;
    auto kind = mpi::KindOfSystem(national->GetString("system"));
    Result<std::string> normal = mpi::NormalizeNationalId(*kind, national->GetString("value"));
    EXPECT_TRUE(normal.ok()) << national->GetString("value") << ": " << normal.status().message();
    if (normal.ok()) {
      EXPECT_EQ(*normal, national->GetString("value"));
    }
    ++checked;
  }
  EXPECT_GT(checked, 190u);
}

INSTANTIATE_TEST_SUITE_P(Synth, EachRegion, ::testing::Values(Region::kUk, Region::kDe, Region::kFr, Region::kUs),
                         [](const auto& info) { return std::string(LocaleOf(info.param).code); });

TEST(GroundTruth, TravellersAreTheSamePersonInTheirHomeRegion) {
  TempDir uk, fr, de;
  ASSERT_TRUE(Generate(Small(Region::kUk, 300), uk.path(), 2).ok());
  ASSERT_TRUE(Generate(Small(Region::kFr, 300), fr.path(), 2).ok());
  ASSERT_TRUE(Generate(Small(Region::kDe, 300), de.path(), 2).ok());
  const Dataset data = Load(uk.path());
  const std::map<std::string, Dataset> homes = {{"fr", Load(fr.path())}, {"de", Load(de.path())}};
  const auto& rows = data.truth.at("travellers.csv");
  EXPECT_GE(rows.size(), 5u);
  for (const auto& row : rows) {
    ASSERT_EQ(row.size(), 6u);
    EXPECT_EQ(row[0], "uk");
    const json::Value* visitor = data.Get("Patient", row[1]);
    ASSERT_NE(visitor, nullptr) << row[1];
    ASSERT_TRUE(homes.count(row[2])) << row[2];
    const json::Value* resident = homes.at(row[2]).Get("Patient", row[3]);
    ASSERT_NE(resident, nullptr) << row[2] << " " << row[3];
    for (const json::Value* p : {visitor, resident}) {
      const json::Value* national = NationalIdentifier(*p);
      ASSERT_NE(national, nullptr);
      EXPECT_EQ(national->GetString("system"), row[4]);
      EXPECT_EQ(national->GetString("value"), row[5]);
    }
    EXPECT_EQ(visitor->GetString("birthDate"), resident->GetString("birthDate"));
    EXPECT_EQ(json::Write(*visitor->Find("name")), json::Write(*resident->Find("name")));
    // The visitor has an encounter in the UK.
    bool seen = false;
    for (const auto& [id, enc] : data.resources.at("Encounter")) {
      if (enc.Find("subject")->GetString("reference") == "Patient/" + row[1]) seen = true;
    }
    EXPECT_TRUE(seen) << row[1];
  }
}

TEST(GroundTruth, DuplicatesDifferAsStated) {
  TempDir dir;
  ASSERT_TRUE(Generate(Small(Region::kUk, 400), dir.path(), 2).ok());
  const Dataset data = Load(dir.path());
  const auto& rows = data.truth.at("duplicates.csv");
  EXPECT_GE(rows.size(), 8u);
  for (const auto& row : rows) {
    ASSERT_EQ(row.size(), 4u);
    const json::Value* original = data.Get("Patient", row[1]);
    const json::Value* duplicate = data.Get("Patient", row[2]);
    ASSERT_NE(original, nullptr);
    ASSERT_NE(duplicate, nullptr);
    const std::string& d = row[3];
    const auto name = [](const json::Value* p) { return p->Find("name")->as_array()[0]; };
    EXPECT_EQ(d.find("family:") != std::string::npos,
              name(original).GetString("family") != name(duplicate).GetString("family")) << d;
    EXPECT_EQ(d.find("birthDate:") != std::string::npos,
              original->GetString("birthDate") != duplicate->GetString("birthDate")) << d;
    EXPECT_EQ(d.find("identifier:missing") != std::string::npos, NationalIdentifier(*duplicate) == nullptr) << d;
    EXPECT_EQ(original->GetString("gender"), duplicate->GetString("gender"));
  }
}

TEST(GroundTruth, NoteEntitiesAreInTheNotes) {
  TempDir dir;
  ASSERT_TRUE(Generate(Small(Region::kFr, 100), dir.path(), 2).ok());
  const Dataset data = Load(dir.path());
  const auto& rows = data.truth.at("note_entities.csv");
  ASSERT_GT(rows.size(), 100u);
  std::map<std::string, std::string> texts;
  std::set<std::string> assertions;
  for (const auto& row : rows) {
    ASSERT_EQ(row.size(), 9u);
    if (!texts.count(row[0])) {
      const json::Value* doc = data.Get("DocumentReference", row[0]);
      ASSERT_NE(doc, nullptr) << row[0];
      const json::Value& attachment = *doc->Find("content")->as_array()[0].Find("attachment");
      texts[row[0]] = Base64Decode(attachment.GetString("data"));
      EXPECT_EQ(doc->Find("subject")->GetString("reference"), "Patient/" + row[1]);
    }
    const std::string& text = texts[row[0]];
    const size_t begin = std::stoul(row[6]);
    const size_t end = std::stoul(row[7]);
    ASSERT_LE(end, text.size());
    EXPECT_EQ(text.substr(begin, end - begin), row[5]);
    assertions.insert(row[8]);
  }
  EXPECT_TRUE(assertions.count("present"));
  EXPECT_TRUE(assertions.count("negated"));
  EXPECT_TRUE(assertions.count("family"));
  // A negated mention follows "Denies" or "No".
  for (const auto& row : rows) {
    if (row[8] != "negated") continue;
    const std::string before = texts[row[0]].substr(0, std::stoul(row[6]));
    EXPECT_TRUE(before.rfind("Denies ") != std::string::npos || before.rfind("No ") != std::string::npos);
  }
}

TEST(GroundTruth, ReadmissionsFollowADischargeWithin30Days) {
  TempDir dir;
  ASSERT_TRUE(Generate(Small(Region::kUs, 1500), dir.path(), 2).ok());
  const Dataset data = Load(dir.path());
  const auto& rows = data.truth.at("readmissions.csv");
  ASSERT_GT(rows.size(), 3u);
  size_t inpatient = 0;
  for (const auto& [id, enc] : data.resources.at("Encounter")) {
    if (enc.Find("class")->GetString("code") == "IMP" && !enc.Find("hospitalization")->Find("reAdmission")) ++inpatient;
  }
  for (const auto& row : rows) {
    const json::Value* first = data.Get("Encounter", row[2]);
    const json::Value* again = data.Get("Encounter", row[3]);
    ASSERT_NE(first, nullptr);
    ASSERT_NE(again, nullptr);
    EXPECT_EQ(first->Find("subject")->GetString("reference"), "Patient/" + row[1]);
    EXPECT_NE(again->Find("hospitalization")->Find("reAdmission"), nullptr);
    const std::string discharged(first->Find("period")->GetString("end"));
    const std::string readmitted(again->Find("period")->GetString("start"));
    int64_t d1, d2;
    ASSERT_TRUE(ParseDate(discharged.substr(0, 10), d1));
    ASSERT_TRUE(ParseDate(readmitted.substr(0, 10), d2));
    EXPECT_GE(d2 - d1, 2);
    EXPECT_LE(d2 - d1, 30);
  }
  // Readmission within 30 days after 5-25% of stays (about 14% in US data).
  const double share = static_cast<double>(rows.size()) / static_cast<double>(inpatient);
  EXPECT_GT(share, 0.05) << rows.size() << " of " << inpatient;
  EXPECT_LT(share, 0.25) << rows.size() << " of " << inpatient;
}

TEST(Statistics, AgeSexAndAbnormalLabsWithinBounds) {
  TempDir dir;
  const Options options = Small(Region::kUk, 2000);
  ASSERT_TRUE(Generate(options, dir.path(), 2).ok());
  size_t patients = 0, female = 0, elderly = 0, children = 0;
  for (const std::string& line : Lines(ReadFile(dir.path() + "/Patient.ndjson"))) {
    Result<json::Value> p = json::Parse(line);
    ASSERT_TRUE(p.ok());
    ++patients;
    if (p->GetString("gender") == "female") ++female;
    int64_t birth;
    ASSERT_TRUE(ParseDate(std::string(p->GetString("birthDate")), birth));
    const int age = AgeOn(birth, options.end_day);
    EXPECT_GE(age, 0);
    EXPECT_LT(age, 100);
    if (age >= 65) ++elderly;
    if (age < 18) ++children;
  }
  const double n = static_cast<double>(patients);
  EXPECT_NEAR(female / n, 0.51, 0.04);
  // ONS: about 19% aged 65 and over, 21% under 18.
  EXPECT_NEAR(elderly / n, 0.19, 0.05);
  EXPECT_NEAR(children / n, 0.21, 0.05);
  size_t labs = 0, abnormal = 0, critical = 0;
  for (const std::string& line : Lines(ReadFile(dir.path() + "/Observation.ndjson"))) {
    if (line.find("\"laboratory\"") == std::string::npos) continue;
    ++labs;
    if (line.find("ObservationInterpretation\",\"code\":\"N\"") == std::string::npos) ++abnormal;
    if (line.find("\"code\":\"HH\"") != std::string::npos || line.find("\"code\":\"LL\"") != std::string::npos) {
      ++critical;
    }
  }
  ASSERT_GT(labs, 1000u);
  EXPECT_GT(static_cast<double>(abnormal) / labs, 0.05);
  EXPECT_LT(static_cast<double>(abnormal) / labs, 0.30);
  EXPECT_GT(critical, 0u);
  EXPECT_LT(static_cast<double>(critical) / labs, 0.02);
}

// Histories fit the person: conditions start within their table's age band and only in
// the sex they belong to; vaccines are given within their age band.
TEST(Statistics, HistoriesAreConsistentWithAgeAndSex) {
  TempDir dir;
  ASSERT_TRUE(Generate(Small(Region::kDe, 400), dir.path(), 2).ok());
  const Dataset data = Load(dir.path());
  std::map<std::string, const ConditionDef*> conditions;
  for (const ConditionDef& c : Conditions()) conditions[c.snomed] = &c;
  auto person = [&](const json::Value& r, const char* key, bool& female, int64_t& birth) {
    const std::string ref(r.Find(key)->GetString("reference"));
    const json::Value* p = data.Get("Patient", ref.substr(8));
    ASSERT_NE(p, nullptr) << ref;
    female = p->GetString("gender") == "female";
    ASSERT_TRUE(ParseDate(std::string(p->GetString("birthDate")), birth));
  };
  size_t checked = 0, sex_specific = 0;
  for (const auto& [id, c] : data.resources.at("Condition")) {
    bool female;
    int64_t birth;
    person(c, "subject", female, birth);
    const std::string code(c.Find("code")->Find("coding")->as_array()[0].GetString("code"));
    ASSERT_TRUE(conditions.count(code)) << code;
    const ConditionDef& def = *conditions[code];
    int64_t onset;
    ASSERT_TRUE(ParseDate(std::string(c.GetString("onsetDateTime")), onset));
    const int age = AgeOn(birth, onset);
    EXPECT_GE(age, def.onset_min) << def.display;
    EXPECT_LE(age, def.onset_max) << def.display;
    if (def.sex != Sex::kAny) {
      ++sex_specific;
      EXPECT_EQ(female, def.sex == Sex::kFemale) << def.display;
    }
    ++checked;
  }
  EXPECT_GT(checked, 500u);
  EXPECT_GT(sex_specific, 10u);
  std::map<std::string, const ImmunizationDef*> vaccines;
  for (const ImmunizationDef& v : Immunizations()) vaccines[v.cvx] = &v;
  for (const auto& [id, imm] : data.resources.at("Immunization")) {
    bool female;
    int64_t birth;
    person(imm, "patient", female, birth);
    const ImmunizationDef& v = *vaccines.at(std::string(imm.Find("vaccineCode")->Find("coding")->as_array()[0].GetString("code")));
    int64_t given;
    ASSERT_TRUE(ParseDate(std::string(imm.GetString("occurrenceDateTime")).substr(0, 10), given));
    EXPECT_GE(AgeOn(birth, given), v.min_age) << v.display;
    EXPECT_LE(AgeOn(birth, given), v.max_age) << v.display;
  }
}

TEST(Generate, BundlesAreTransactionsOfValidResources) {
  TempDir dir;
  Options options = Small(Region::kUk, 40);
  options.bundles = true;
  ASSERT_TRUE(Generate(options, dir.path(), 2).ok());
  size_t bundles = 0;
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    if (entry.path().extension() != ".json") continue;
    Result<json::Value> bundle = json::Parse(ReadFile(entry.path()));
    ASSERT_TRUE(bundle.ok()) << entry.path() << ": " << bundle.status().message();
    EXPECT_EQ(bundle->GetString("type"), "transaction");
    Status valid = fhir::ValidateResource(*bundle);
    EXPECT_TRUE(valid.ok()) << entry.path() << ": " << valid.message();
    ++bundles;
  }
  EXPECT_EQ(bundles, 41u);  // the providers' bundle and one per patient
  EXPECT_TRUE(fs::exists(dir.path() + "/0-providers.json"));
}

}  // namespace
}  // namespace ehr::synth
