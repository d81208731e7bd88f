// Validation of real data: the official R4 examples and Synthea bundles.
#include <bzlib.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "fhir/json/value.h"
#include "fhir/validate/validate.h"

namespace ehr::fhir {
namespace {

namespace fs = std::filesystem;

fs::path SharedData() {
  const char* dir = std::getenv("EHR_SHARED_DATA");
  return dir != nullptr ? fs::path(dir) : fs::path();
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string Decompress(const std::string& compressed) {
  bz_stream stream{};
  if (BZ2_bzDecompressInit(&stream, 0, 0) != BZ_OK) return {};
  std::string out;
  char buffer[1 << 16];
  stream.next_in = const_cast<char*>(compressed.data());
  stream.avail_in = static_cast<unsigned>(compressed.size());
  int rc = BZ_OK;
  while (rc == BZ_OK) {
    stream.next_out = buffer;
    stream.avail_out = sizeof(buffer);
    rc = BZ2_bzDecompress(&stream);
    out.append(buffer, sizeof(buffer) - stream.avail_out);
  }
  BZ2_bzDecompressEnd(&stream);
  return rc == BZ_STREAM_END ? out : std::string();
}

std::string Describe(const Status& status) {
  std::string out;
  for (const Issue& issue : status.issues()) {
    out += "  [" + issue.code + "] " + issue.expression + ": " + issue.diagnostics + "\n";
  }
  return out;
}

// One line of known_bad_examples.txt: file | issue code | expression | reason.
struct KnownBad {
  std::string code;
  std::string expression;
  std::string reason;
};

std::string Trim(std::string s) {
  const auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

std::multimap<std::string, KnownBad> LoadKnownBad() {
  std::multimap<std::string, KnownBad> known;
  const char* source = std::getenv("EHR_SOURCE_DIR");
  if (source == nullptr) return known;
  std::istringstream in(ReadFile(fs::path(source) / "src/fhir/validate/known_bad_examples.txt"));
  std::string line;
  while (std::getline(in, line)) {
    if (Trim(line).empty() || line[0] == '#') continue;
    std::vector<std::string> fields;
    std::istringstream parts(line);
    for (std::string field; std::getline(parts, field, '|');) fields.push_back(Trim(field));
    EXPECT_EQ(fields.size(), 4u) << "bad line in known_bad_examples.txt: " << line;
    if (fields.size() != 4) continue;
    EXPECT_FALSE(fields[3].empty()) << "every known bad example needs a reason: " << line;
    known.emplace(fields[0], KnownBad{fields[1], fields[2], fields[3]});
  }
  return known;
}

TEST(ExamplesTest, OfficialExamplesValidateExceptKnownBadOnes) {
  const fs::path dir = SharedData() / "fhir-examples";
  ASSERT_TRUE(fs::is_directory(dir)) << dir << " (set EHR_SHARED_DATA)";
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files.size(), 715u);

  const std::multimap<std::string, KnownBad> known_bad = LoadKnownBad();
  std::set<std::string> failed;
  for (const fs::path& file : files) {
    const std::string name = file.filename().string();
    // A file that is not JSON at all is treated like one that fails validation.
    Result<json::Value> parsed = json::Parse(ReadFile(file));
    const Status status = parsed.ok() ? ValidateResource(*parsed) : parsed.status();
    auto [begin, end] = known_bad.equal_range(name);
    if (begin == end) {
      EXPECT_TRUE(status.ok()) << name << "\n" << Describe(status);
      continue;
    }
    failed.insert(name);
    // Exactly the listed problems, each once.
    std::multiset<std::pair<std::string, std::string>> expected;
    for (auto it = begin; it != end; ++it) expected.emplace(it->second.code, it->second.expression);
    std::multiset<std::pair<std::string, std::string>> actual;
    for (const Issue& issue : status.issues()) actual.emplace(issue.code, issue.expression);
    EXPECT_EQ(actual, expected) << name << "\n" << Describe(status);
  }
  for (const auto& [name, bad] : known_bad) {
    EXPECT_TRUE(failed.count(name) == 1) << name << " is listed as known bad but is not among the examples";
  }
}

TEST(ExamplesTest, SyntheaBundleValidates) {
  const fs::path dir = SharedData() / "synthea";
  ASSERT_TRUE(fs::is_directory(dir)) << dir;
  // The shared hospital bundle and one patient's transaction bundle.
  for (const char* name : {"0-hospitalInformation1625911868739.json.bz2", "057aa36e-b892-9964-75b9-ffb46b097e34.json.bz2"}) {
    const std::string text = Decompress(ReadFile(dir / name));
    ASSERT_FALSE(text.empty()) << name;
    Result<json::Value> bundle = json::Parse(text);
    ASSERT_TRUE(bundle.ok()) << name;
    const Status whole = ValidateResource(*bundle);
    EXPECT_TRUE(whole.ok()) << name << "\n" << Describe(whole);

    const json::Value* entries = bundle->Find("entry");
    ASSERT_NE(entries, nullptr);
    ASSERT_GT(entries->as_array().size(), 0u);
    std::vector<const json::Value*> resources;
    for (const json::Value& entry : entries->as_array()) {
      const json::Value* resource = entry.Find("resource");
      ASSERT_NE(resource, nullptr);
      const Status status = ValidateResource(*resource);
      EXPECT_TRUE(status.ok()) << name << " " << resource->GetString("resourceType") << "\n" << Describe(status);
      resources.push_back(resource);
    }

    // Validation time per resource, reported (not asserted: machines differ) beside the
    // time to parse the same resources, measured in the same run as a baseline.
    std::vector<std::string> texts;
    size_t bytes = 0;
    for (const json::Value* resource : resources) {
      texts.push_back(json::Write(*resource));
      bytes += texts.back().size();
    }
    constexpr int kRounds = 20;
    auto start = std::chrono::steady_clock::now();
    for (int round = 0; round < kRounds; ++round) {
      for (const json::Value* resource : resources) {
        if (!ValidateResource(*resource).ok()) FAIL();
      }
    }
    const double validate_us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
    start = std::chrono::steady_clock::now();
    for (int round = 0; round < kRounds; ++round) {
      for (const std::string& text : texts) {
        if (!json::Parse(text).ok()) FAIL();
      }
    }
    const double parse_us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
    const double count = kRounds * static_cast<double>(resources.size());
    std::printf("%s: %zu resources, %.0f bytes average: validate %.2f us per resource (%.0f ns/KB), parse %.2f us (%.2fx)\n",
                name, resources.size(), static_cast<double>(bytes) / static_cast<double>(resources.size()),
                validate_us / count, validate_us / (kRounds * static_cast<double>(bytes) / 1024) * 1000,
                parse_us / count, validate_us / parse_us);
  }
}

}  // namespace
}  // namespace ehr::fhir
