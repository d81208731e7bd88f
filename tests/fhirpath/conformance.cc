// Runs the official FHIRPath R4 test suite (../shared/data/fhirpath/tests-fhir-r4.xml)
// against the engine and prints "N passed, N failed".
//
//   fhirpath_conformance SUITE.xml INPUT_DIR KNOWN_FAILURES.txt [--verbose] [--only NAME]
//
// Exit status 0 only when every failure is listed in KNOWN_FAILURES (one test name per
// line, then the reason after '#') and every listed test still fails: a regression and a
// stale entry both fail the run, so the list stays exactly the set of failures.
#include <pugixml.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "fhir/fhirpath/fhirpath.h"
#include "fhir/fhirpath/temporal.h"
#include "fhir/json/value.h"

namespace {

using ehr::fhirpath::Collection;
using ehr::fhirpath::Item;
using ehr::fhirpath::ItemKind;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Expected {
  std::string type;  // may be empty
  std::string text;
};

// The expected type names of the suite ("boolean", "dateTime", "Quantity", "code").
std::string SuiteTypeName(const Item& item) {
  ehr::fhirpath::TypeName t = ehr::fhirpath::TypeOf(item);
  std::string name(t.name);
  if (t.ns == "System" && name != "Quantity") name[0] = static_cast<char>(std::tolower(name[0]));
  return name;
}

bool TemporalMatches(const Item& item, std::string_view expected) {
  std::optional<Item> s = ehr::fhirpath::ToSystem(item);
  if (!s) return false;
  const ItemKind k = s->kind();
  if (k != ItemKind::kDate && k != ItemKind::kDateTime && k != ItemKind::kTime) return false;
  auto parsed = ehr::fhirpath::Temporal::ParseLiteral(expected);
  if (!parsed) return false;
  return s->temporal().ToString() == parsed->ToString();
}

std::string Describe(const Collection& items) {
  std::string s = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) s += ", ";
    s += SuiteTypeName(items[i]) + " " + ehr::fhirpath::ToText(items[i]);
  }
  return s + "]";
}

bool Matches(const Item& item, const Expected& want) {
  if (!want.type.empty() && SuiteTypeName(item) != want.type) return false;
  std::string text = ehr::fhirpath::ToText(item);
  std::string expected = want.text;
  if (!expected.empty() && expected[0] == '@') {
    expected = expected.substr(1);
    if (text == expected) return true;
    return TemporalMatches(item, expected);
  }
  if (text == expected) return true;
  if (want.type == "decimal") {
    auto a = ehr::Decimal::Parse(text);
    auto b = ehr::Decimal::Parse(expected);
    return a && b && *a == *b;
  }
  return false;
}

struct Outcome {
  bool passed;
  std::string detail;
};

Outcome RunOne(const pugi::xml_node& test, const std::string& input_dir,
               std::map<std::string, std::unique_ptr<ehr::json::Value>>& inputs) {
  const pugi::xml_node expression = test.child("expression");
  const std::string text = expression.text().get();
  const bool expect_error = !std::string(expression.attribute("invalid").value()).empty();
  const bool predicate = std::string(test.attribute("predicate").value()) == "true";
  const bool unordered = std::string(test.attribute("ordered").value()) == "false";

  std::vector<Expected> expected;
  for (pugi::xml_node out : test.children("output")) {
    expected.push_back({out.attribute("type").value(), out.text().get()});
  }

  const ehr::json::Value* resource = nullptr;
  std::string input_file = test.attribute("inputfile").value();
  if (!input_file.empty()) {
    std::string json_name = input_file.substr(0, input_file.rfind('.')) + ".json";
    auto& slot = inputs[json_name];
    if (!slot) {
      auto parsed = ehr::json::Parse(ReadFile(input_dir + "/" + json_name));
      if (!parsed.ok()) return {false, "cannot read input " + json_name};
      slot = std::make_unique<ehr::json::Value>(std::move(*parsed));
    }
    resource = slot.get();
  }

  auto compiled = ehr::fhirpath::Expression::Compile(text);
  if (!compiled.ok()) {
    return {expect_error, expect_error ? "" : "compile error: " + compiled.status().message()};
  }
  ehr::fhirpath::EvalOptions options;
  ehr::Result<ehr::fhirpath::EvalResult> result =
      resource != nullptr ? compiled->Evaluate(*resource, options) : compiled->Evaluate(Collection{}, nullptr, options);
  if (!result.ok()) {
    return {expect_error, expect_error ? "" : "evaluation error: " + result.status().message()};
  }
  if (expect_error) return {false, "expected an error, got " + Describe(result->items)};

  Collection items = result->items;
  if (predicate) {
    items.clear();
    items.push_back(Item::Boolean(!result->items.empty()));
  }
  if (items.size() != expected.size()) {
    return {false, "expected " + std::to_string(expected.size()) + " items, got " + Describe(items)};
  }
  std::vector<bool> used(items.size(), false);
  for (size_t i = 0; i < expected.size(); ++i) {
    bool found = false;
    if (unordered) {
      for (size_t j = 0; j < items.size() && !found; ++j) {
        if (!used[j] && Matches(items[j], expected[i])) used[j] = found = true;
      }
    } else {
      found = Matches(items[i], expected[i]);
    }
    if (!found) {
      return {false, "item " + std::to_string(i) + ": expected " + expected[i].type + " " + expected[i].text +
                         ", got " + Describe(items)};
    }
  }
  return {true, ""};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: fhirpath_conformance SUITE.xml INPUT_DIR KNOWN_FAILURES.txt [--verbose] [--only NAME]\n";
    return 2;
  }
  const std::string suite_path = argv[1];
  const std::string input_dir = argv[2];
  const std::string known_path = argv[3];
  bool verbose = false;
  std::string only;
  for (int i = 4; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--verbose") verbose = true;
    if (a == "--only" && i + 1 < argc) only = argv[++i];
  }

  std::map<std::string, std::string> known;  // name -> reason
  {
    std::ifstream in(known_path);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      size_t hash = line.find('#');
      std::string name = line.substr(0, hash);
      while (!name.empty() && std::isspace(static_cast<unsigned char>(name.back()))) name.pop_back();
      if (!name.empty()) known[name] = hash == std::string::npos ? "" : line.substr(hash + 1);
    }
  }

  pugi::xml_document doc;
  if (!doc.load_file(suite_path.c_str())) {
    std::cerr << "cannot parse " << suite_path << "\n";
    return 2;
  }
  std::map<std::string, std::unique_ptr<ehr::json::Value>> inputs;
  int passed = 0;
  int failed = 0;
  std::vector<std::string> regressions;
  std::set<std::string> failed_names;
  for (pugi::xml_node group : doc.child("tests").children("group")) {
    int index = 0;
    for (pugi::xml_node test : group.children()) {
      const std::string tag = test.name();
      if (tag != "test" && tag != "modeTest") continue;
      ++index;
      std::string name = test.attribute("name").value();
      if (name.empty()) name = std::string(group.attribute("name").value()) + "#" + std::to_string(index);
      if (!only.empty() && name != only) continue;
      Outcome outcome = RunOne(test, input_dir, inputs);
      if (outcome.passed) {
        ++passed;
        continue;
      }
      ++failed;
      failed_names.insert(name);
      if (verbose || !known.count(name)) {
        std::cout << (known.count(name) ? "known " : "FAIL  ") << name << ": "
                  << test.child("expression").text().get() << "\n      " << outcome.detail << "\n";
      }
      if (!known.count(name)) regressions.push_back(name);
    }
  }
  std::vector<std::string> stale;
  if (only.empty()) {
    for (const auto& [name, reason] : known) {
      if (!failed_names.count(name)) stale.push_back(name);
    }
  }
  std::cout << passed << " passed, " << failed << " failed (" << (passed * 1000 / std::max(1, passed + failed)) / 10.0
            << "% pass)\n";
  for (const auto& name : stale) std::cout << "now passing, remove from " << known_path << ": " << name << "\n";
  if (!regressions.empty()) std::cout << regressions.size() << " failures not listed in " << known_path << "\n";
  return regressions.empty() && stale.empty() ? 0 : 1;
}
