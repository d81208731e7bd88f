// Evaluations per second of the FHIRPath engine over the workload made by workload.py,
// and its results for the agreement check against fhirpath.js (reference.js).
//
//   fhirpath_bench WORKLOAD_DIR --results OUT.ndjson
//       compiles each distinct expression once, evaluates every pair once and writes one
//       JSON line per pair: the result collection, or {"error": message}.
//   fhirpath_bench WORKLOAD_DIR --time SECONDS [--ok-in RESULTS.ndjson]... [--timing-out F]
//       evaluates, again and again, every pair that succeeded in each given results file
//       (both engines' files, so that both time the same pairs) in whole passes until
//       SECONDS have passed; prints and writes {"engine", "pairs", "passes",
//       "evaluations", "seconds", "per_second"}.
//
// One thread; parsing and compiling are outside the timed passes (the figure is for
// compiled expressions over parsed resources, as a search index uses them).
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "fhir/fhirpath/fhirpath.h"
#include "fhir/fhirpath/value.h"
#include "fhir/json/value.h"
#include "fhir/model/model.h"

namespace {

using ehr::fhirpath::Collection;
using ehr::fhirpath::Expression;
using ehr::fhirpath::Item;
using ehr::fhirpath::ItemKind;
namespace json = ehr::json;

struct Pair {
  size_t expression;
  long resource;  // -1: no input
};

struct Workload {
  std::vector<json::Value> resources;
  std::vector<std::string> texts;
  std::vector<std::string> sources;
  std::vector<Pair> pairs;
  size_t synthea_resources = 0;
  // resolve() targets: "urn:uuid:<id>" (Synthea's fullUrls) and "<type>/<id>".
  std::map<std::string, const json::Value*, std::less<>> by_reference;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << "cannot read " << path << "\n";
    std::exit(2);
  }
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

json::Value ParseOrDie(std::string_view text, const std::string& what) {
  json::ParseOptions options;
  options.max_depth = 512;
  auto parsed = json::Parse(text, options);
  if (!parsed.ok()) {
    std::cerr << what << ": " << parsed.status().message() << "\n";
    std::exit(2);
  }
  return std::move(*parsed);
}

Workload LoadWorkload(const std::string& dir) {
  Workload w;
  std::ifstream resources(dir + "/resources.ndjson", std::ios::binary);
  std::string line;
  while (std::getline(resources, line)) {
    w.resources.push_back(ParseOrDie(line, "resource " + std::to_string(w.resources.size())));
  }
  json::Value expressions = ParseOrDie(ReadFile(dir + "/expressions.json"), "expressions.json");
  for (const json::Value& e : expressions.as_array()) {
    w.texts.emplace_back(e.GetString("text"));
    w.sources.emplace_back(e.GetString("source"));
  }
  std::ifstream pairs(dir + "/pairs.tsv");
  Pair p{};
  while (pairs >> p.expression >> p.resource) {
    if (p.expression >= w.texts.size() || p.resource >= static_cast<long>(w.resources.size())) {
      std::cerr << "pairs.tsv: index out of range\n";
      std::exit(2);
    }
    w.pairs.push_back(p);
  }
  for (const json::Value& r : w.resources) {
    std::string id(r.GetString("id"));
    if (id.empty()) continue;
    w.by_reference.emplace("urn:uuid:" + id, &r);
    w.by_reference.emplace(std::string(r.GetString("resourceType")) + "/" + id, &r);
  }
  json::Value summary = ParseOrDie(ReadFile(dir + "/summary.json"), "summary.json");
  if (const json::Value* n = summary.Find("synthea_resources")) w.synthea_resources = n->as_int64().value_or(0);
  return w;
}

// The workload's search parameter expressions come from the definitions the C++ tables are
// generated from; says so when a Synthea resource is paired with another set than
// fhir::SearchParamsFor(type) gives (the two would then not measure the same thing).
void CheckSearchParams(const Workload& w) {
  std::map<std::string, size_t, std::less<>> index;
  for (size_t i = 0; i < w.texts.size(); ++i) index.emplace(w.texts[i], i);
  std::map<long, std::set<size_t>> paired;
  for (const Pair& p : w.pairs) {
    if (p.resource >= 0 && static_cast<size_t>(p.resource) < w.synthea_resources) paired[p.resource].insert(p.expression);
  }
  std::map<std::string, std::set<size_t>, std::less<>> expected_by_type;
  size_t mismatched = 0;
  for (const auto& [resource, got] : paired) {
    std::string type(w.resources[resource].GetString("resourceType"));
    auto it = expected_by_type.find(type);
    if (it == expected_by_type.end()) {
      std::set<size_t> want;
      for (const ehr::fhir::SearchParamDef* def : ehr::fhir::SearchParamsFor(type)) {
        if (def->expression.empty()) continue;
        auto found = index.find(def->expression);
        want.insert(found == index.end() ? SIZE_MAX : found->second);
      }
      it = expected_by_type.emplace(type, std::move(want)).first;
    }
    if (got != it->second && mismatched++ == 0) {
      std::cerr << "warning: the workload pairs " << type << " with " << got.size()
                << " search expressions, fhir::SearchParamsFor gives " << it->second.size() << "\n";
    }
  }
  if (mismatched > 0) std::cerr << "warning: " << mismatched << " resources with another set of expressions\n";
}

// One item as the agreement check reads it: ToJson, except that a System Quantity is
// marked (reference.js writes it as "value 'unit'", as fhirpath.js does).
json::Value ItemJson(const Item& item) {
  json::Value v = ehr::fhirpath::ToJson(item);
  if (item.kind() == ItemKind::kQuantity) {
    json::Value marked = json::Value::MakeObject();
    marked.Set("$quantity", std::move(v));
    return marked;
  }
  return v;
}

json::Value ErrorJson(std::string message) {
  json::Value v = json::Value::MakeObject();
  v.Set("error", json::Value(std::move(message)));
  return v;
}

// resolve() finds the workload's resources, as a server's search indexer finds stored ones
// (reference.js gives fhirpath.js the same lookup). The resources outlive every result, so
// the pointers handed out own nothing.
ehr::fhirpath::EvalOptions MakeOptions(const Workload& w) {
  ehr::fhirpath::EvalOptions options;
  options.resolver = [&w](std::string_view reference) -> std::shared_ptr<const json::Value> {
    auto it = w.by_reference.find(reference);
    if (it == w.by_reference.end()) return nullptr;
    return std::shared_ptr<const json::Value>(std::shared_ptr<const json::Value>(), it->second);
  };
  return options;
}

ehr::Result<ehr::fhirpath::EvalResult> EvaluatePair(const Expression& expression, const Workload& w, const Pair& p,
                                                    const ehr::fhirpath::EvalOptions& options) {
  if (p.resource < 0) return expression.Evaluate(Collection{}, nullptr, options);
  return expression.Evaluate(w.resources[p.resource], options);
}

struct Compiled {
  std::vector<std::optional<Expression>> expressions;
  std::vector<std::string> errors;  // per expression, empty when compiled
};

Compiled CompileAll(const Workload& w) {
  Compiled c;
  c.expressions.resize(w.texts.size());
  c.errors.resize(w.texts.size());
  for (size_t i = 0; i < w.texts.size(); ++i) {
    auto compiled = Expression::Compile(w.texts[i]);
    if (compiled.ok()) {
      c.expressions[i].emplace(std::move(*compiled));
    } else {
      c.errors[i] = "compile: " + compiled.status().message();
    }
  }
  return c;
}

int WriteResults(const Workload& w, const std::string& out_path) {
  const auto start = std::chrono::steady_clock::now();
  Compiled c = CompileAll(w);
  const double compile_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  size_t compile_errors = 0;
  for (const std::string& e : c.errors) compile_errors += !e.empty();
  const ehr::fhirpath::EvalOptions options = MakeOptions(w);
  std::ofstream out(out_path, std::ios::binary);
  size_t eval_errors = 0;
  size_t compile_error_pairs = 0;
  std::string line;
  for (const Pair& p : w.pairs) {
    line.clear();
    if (!c.expressions[p.expression]) {
      ++compile_error_pairs;
      json::WriteTo(line, ErrorJson(c.errors[p.expression]));
    } else {
      auto result = EvaluatePair(*c.expressions[p.expression], w, p, options);
      if (!result.ok()) {
        ++eval_errors;
        json::WriteTo(line, ErrorJson("evaluate: " + result.status().message()));
      } else {
        json::Value items = json::Value::MakeArray();
        for (const Item& item : result->items) items.as_array().push_back(ItemJson(item));
        json::WriteTo(line, items);
      }
    }
    line += '\n';
    out << line;
  }
  std::printf("ehr:         %zu expressions compiled in %.3f s, %zu failed to compile (%zu pairs); "
              "%zu pairs failed to evaluate; results in %s\n",
              w.texts.size(), compile_s, compile_errors, compile_error_pairs, eval_errors, out_path.c_str());
  return out ? 0 : 1;
}

// Pairs whose line in a results file is not an {"error": ...} object.
std::vector<bool> OkIn(const std::string& path, size_t n) {
  std::vector<bool> ok(n, false);
  std::ifstream in(path, std::ios::binary);
  std::string line;
  size_t i = 0;
  for (; i < n && std::getline(in, line); ++i) ok[i] = line.rfind("{\"error\"", 0) != 0;
  if (i != n) {
    std::cerr << path << ": " << i << " lines for " << n << " pairs\n";
    std::exit(2);
  }
  return ok;
}

int Time(const Workload& w, double seconds, const std::vector<std::string>& ok_files, const std::string& timing_out) {
  Compiled c = CompileAll(w);
  std::vector<bool> timed(w.pairs.size(), true);
  for (size_t i = 0; i < w.pairs.size(); ++i) timed[i] = c.expressions[w.pairs[i].expression].has_value();
  for (const std::string& f : ok_files) {
    std::vector<bool> ok = OkIn(f, w.pairs.size());
    for (size_t i = 0; i < timed.size(); ++i) timed[i] = timed[i] && ok[i];
  }
  struct Run {
    const Expression* expression;
    const Pair* pair;
  };
  std::vector<Run> runs;
  for (size_t i = 0; i < w.pairs.size(); ++i) {
    if (timed[i]) runs.push_back({&*c.expressions[w.pairs[i].expression], &w.pairs[i]});
  }
  if (runs.empty()) {
    std::cerr << "no pair to time\n";
    return 1;
  }
  const ehr::fhirpath::EvalOptions options = MakeOptions(w);
  size_t sink = 0;
  size_t failures = 0;
  auto pass = [&] {
    for (const Run& r : runs) {
      auto result = EvaluatePair(*r.expression, w, *r.pair, options);
      if (result.ok()) {
        sink += result->items.size();
      } else {
        ++failures;
      }
    }
  };
  pass();  // warm-up, as reference.js gives fhirpath.js one (caches here, the JIT there)
  sink = 0;
  failures = 0;
  size_t passes = 0;
  const auto start = std::chrono::steady_clock::now();
  double elapsed = 0;
  do {
    pass();
    ++passes;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  } while (elapsed < seconds);
  const size_t evaluations = passes * runs.size();
  const double per_second = static_cast<double>(evaluations) / elapsed;
  std::printf("ehr:         %zu pairs x %zu passes = %zu evaluations in %.2f s: %.0f evaluations/s (%zu items, %zu failed)\n",
              runs.size(), passes, evaluations, elapsed, per_second, sink, failures);
  if (!timing_out.empty()) {
    std::ofstream out(timing_out);
    out << "{\"engine\":\"ehr\",\"pairs\":" << runs.size() << ",\"passes\":" << passes
        << ",\"evaluations\":" << evaluations << ",\"seconds\":" << elapsed << ",\"per_second\":" << per_second
        << "}\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: fhirpath_bench WORKLOAD_DIR --results OUT.ndjson\n"
                 "       fhirpath_bench WORKLOAD_DIR --time SECONDS [--ok-in RESULTS]... [--timing-out FILE]\n";
    return 2;
  }
  const std::string dir = argv[1];
  std::string results;
  std::string timing_out;
  double seconds = -1;
  std::vector<std::string> ok_files;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--results" && has_value) {
      results = argv[++i];
    } else if (a == "--time" && has_value) {
      seconds = std::stod(argv[++i]);
    } else if (a == "--ok-in" && has_value) {
      ok_files.emplace_back(argv[++i]);
    } else if (a == "--timing-out" && has_value) {
      timing_out = argv[++i];
    } else {
      std::cerr << "unknown argument " << a << "\n";
      return 2;
    }
  }
  Workload w = LoadWorkload(dir);
  if (!results.empty()) {
    CheckSearchParams(w);
    return WriteResults(w, results);
  }
  if (seconds >= 0) return Time(w, seconds, ok_files, timing_out);
  std::cerr << "nothing to do: give --results or --time\n";
  return 2;
}
