#include "search/indexer.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <iterator>
#include <optional>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "fhir/fhirpath/fhirpath.h"
#include "fhir/model/model.h"
#include "search/full_text.h"
#include "search/index_values.h"

namespace ehr::search {
namespace {

using fhir::SearchParamDef;
using fhir::SearchParamType;

// _id and _lastUpdated are columns of the resource table; _text and _content are the
// full text (IndexRows::narrative, ::content); the others are query forms.
constexpr std::string_view kNotIndexed[] = {"_id", "_lastUpdated", "_text", "_content", "_query", "_list", "_has", "_type"};

bool IsIndexed(const SearchParamDef& def) {
  if (def.expression.empty()) return false;
  // Composite parameters are indexed apart (their components together); the one special
  // parameter of R4, Location near, as the two number rows of a position (store.h).
  if (def.type == SearchParamType::kComposite) return false;
  if (def.type == SearchParamType::kSpecial && def.code != "near") return false;
  return std::find(std::begin(kNotIndexed), std::end(kNotIndexed), def.code) == std::end(kNotIndexed);
}

// resolve() without the store: a stub with the type and id the reference names, enough for
// the `where(resolve() is Patient)` of the R4 expressions. The type is all such an
// expression reads, and the store may not hold the target yet (or ever). References
// without a type (urn:uuid:) resolve to nothing.
std::shared_ptr<const json::Value> ResolveStub(std::string_view reference) {
  std::optional<internal::TypeAndId> target = internal::ParseTypeAndId(reference);
  if (!target) return nullptr;
  json::Object stub;
  stub.emplace_back("resourceType", json::Value(std::string(target->type)));
  stub.emplace_back("id", json::Value(std::string(target->id)));
  return std::make_shared<const json::Value>(std::move(stub));
}

// The top-level `|` branches of an expression, or nothing when its quoting or nesting
// does not balance (the expression is then used whole).
std::vector<std::string_view> SplitUnion(std::string_view expression) {
  std::vector<std::string_view> branches;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i < expression.size(); ++i) {
    char c = expression[i];
    if (c == '\'' || c == '`' || c == '"') {
      // Skip the quoted text; a backslash escapes the next character.
      for (++i; i < expression.size() && expression[i] != c; ++i) {
        if (expression[i] == '\\') ++i;
      }
      if (i >= expression.size()) return {};
    } else if (c == '/' && i + 1 < expression.size() && (expression[i + 1] == '/' || expression[i + 1] == '*')) {
      return {};  // comments: not in the R4 expressions; not worth parsing here
    } else if (c == '(' || c == '[' || c == '{') {
      ++depth;
    } else if (c == ')' || c == ']' || c == '}') {
      if (--depth < 0) return {};
    } else if (c == '|' && depth == 0) {
      branches.push_back(expression.substr(start, i - start));
      start = i + 1;
    }
  }
  if (depth != 0) return {};
  branches.push_back(expression.substr(start));
  return branches;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Whether a branch starts with the name of a resource type other than `resource_type`
// (`Condition.subject` on an Observation), so that it selects nothing.
bool BranchIsForAnotherType(std::string_view branch, std::string_view resource_type) {
  branch = Trim(branch);
  while (!branch.empty() && branch.front() == '(') branch = Trim(branch.substr(1));
  size_t end = 0;
  while (end < branch.size() && (std::isalnum(static_cast<unsigned char>(branch[end])) || branch[end] == '_')) ++end;
  if (end == 0 || end >= branch.size() || branch[end] != '.') return false;
  std::string_view name = branch.substr(0, end);
  return name != resource_type && fhir::IsResourceType(name);
}

// Sorts and removes duplicates; `key` gives a tuple of the row's fields.
template <typename Row, typename Key>
void SortUnique(std::vector<Row>& rows, Key key) {
  std::sort(rows.begin(), rows.end(), [&key](const Row& a, const Row& b) { return key(a) < key(b); });
  rows.erase(std::unique(rows.begin(), rows.end(), [&key](const Row& a, const Row& b) { return key(a) == key(b); }),
             rows.end());
}

void Deduplicate(store::IndexRows& rows) {
  SortUnique(rows.strings, [](const store::StringRow& r) { return std::tie(r.param, r.normalized, r.exact); });
  SortUnique(rows.tokens, [](const store::TokenRow& r) { return std::tie(r.param, r.system, r.code, r.text); });
  SortUnique(rows.dates, [](const store::DateRow& r) { return std::tie(r.param, r.low, r.high); });
  SortUnique(rows.numbers, [](const store::NumberRow& r) { return std::tie(r.param, r.value); });
  SortUnique(rows.quantities, [](const store::QuantityRow& r) {
    return std::tie(r.param, r.value, r.system, r.code, r.unit, r.canonical_value, r.canonical_unit);
  });
  SortUnique(rows.references,
             [](const store::ReferenceRow& r) { return std::tie(r.param, r.target_type, r.target_id, r.url); });
  SortUnique(rows.uris, [](const store::UriRow& r) { return std::tie(r.param, r.uri); });
}

// Appends the rows of `from` to `to` under the parameter name `param`.
template <typename Row>
void AppendRenamed(const std::vector<Row>& from, const std::string& param, std::vector<Row>& to) {
  for (const Row& row : from) {
    to.push_back(row);
    to.back().param = param;
  }
}

// A MolecularSequence coordinate as the instant-free integer it is (DateRow holds it).
std::optional<int64_t> Coordinate(double value) {
  if (!(value >= -9.0e18 && value <= 9.0e18) || value != std::floor(value)) return std::nullopt;
  return static_cast<int64_t>(value);
}

}  // namespace

namespace internal {

std::string ExpressionForType(std::string_view expression, std::string_view resource_type) {
  std::vector<std::string_view> branches = SplitUnion(expression);
  if (branches.size() < 2) return std::string(expression);
  std::string kept;
  size_t dropped = 0;
  for (std::string_view branch : branches) {
    if (BranchIsForAnotherType(branch, resource_type)) {
      ++dropped;
      continue;
    }
    if (!kept.empty()) kept += " | ";
    kept += Trim(branch);
  }
  return dropped == 0 ? std::string(expression) : kept;
}

std::vector<std::string_view> CompositeParts(const SearchParamDef& composite, std::string_view resource_type) {
  const std::string own = ExpressionForType(composite.expression, resource_type);
  std::vector<std::string_view> branches = SplitUnion(own);
  if (branches.size() < 2) return {};
  std::vector<const SearchParamDef*> components = CompositeComponents(composite);
  auto same_components = [&](const SearchParamDef& other) {
    std::vector<const SearchParamDef*> theirs = CompositeComponents(other);
    if (theirs.size() != components.size() || components.empty()) return false;
    for (size_t i = 0; i < components.size(); ++i) {
      if (theirs[i]->type != components[i]->type ||
          Trim(other.components[i].expression) != Trim(composite.components[i].expression)) {
        return false;
      }
    }
    return true;
  };
  std::vector<std::string_view> parts;
  for (std::string_view branch : branches) {
    const SearchParamDef* part = nullptr;
    for (const SearchParamDef* other : fhir::SearchParamsFor(resource_type)) {
      if (other == &composite || other->type != SearchParamType::kComposite) continue;
      if (Trim(ExpressionForType(other->expression, resource_type)) == Trim(branch) && same_components(*other)) {
        part = other;
        break;
      }
    }
    if (part == nullptr) return {};
    parts.push_back(part->code);
  }
  return parts;
}

}  // namespace internal

namespace {

// Compiles `text` once however many (parameter, type) pairs use it.
const fhirpath::Expression* CompileShared(std::string_view text, const SearchParamDef& def,
                                          std::unordered_map<std::string, fhirpath::Expression>& compiled,
                                          std::vector<Indexer::CompileFailure>& failures) {
  auto it = compiled.find(std::string(text));
  if (it != compiled.end()) return &it->second;
  Result<fhirpath::Expression> expression = fhirpath::Expression::Compile(text);
  if (!expression.ok()) {
    if (std::none_of(failures.begin(), failures.end(),
                     [&def](const Indexer::CompileFailure& f) { return f.param_id == def.id; })) {
      failures.push_back({std::string(def.id), expression.status().message()});
    }
    return nullptr;
  }
  return &compiled.emplace(std::string(text), std::move(expression).value()).first->second;
}

struct ParamPlan {
  const SearchParamDef* def;
  const fhirpath::Expression* expression;
};

// A composite: its expression selects the items (an Observation and each of its
// components, a useContext); each component's expression, relative to one item, gives
// that item's values, so that the values of one item are tied together.
struct CompositePlan {
  const SearchParamDef* def;
  const fhirpath::Expression* expression;
  std::vector<ParamPlan> components;  // each component's definition and relative expression
};

using CompiledExpressions = std::unordered_map<std::string, fhirpath::Expression>;

std::optional<CompositePlan> PlanComposite(std::string_view type, const SearchParamDef& def,
                                           CompiledExpressions& compiled,
                                           std::vector<Indexer::CompileFailure>& failures) {
  std::vector<const SearchParamDef*> component_defs = internal::CompositeComponents(def);
  if (component_defs.empty()) {
    failures.push_back({std::string(def.id), "not indexed: a composite is a token then one value or two numbers"});
    return std::nullopt;
  }
  if (CompileShared(def.expression, def, compiled, failures) == nullptr) return std::nullopt;
  std::string own = internal::ExpressionForType(def.expression, type);
  if (own.empty()) return std::nullopt;
  CompositePlan plan{&def, CompileShared(own, def, compiled, failures), {}};
  if (plan.expression == nullptr) return std::nullopt;
  for (size_t i = 0; i < component_defs.size(); ++i) {
    const fhirpath::Expression* expression = CompileShared(def.components[i].expression, def, compiled, failures);
    if (expression == nullptr) return std::nullopt;
    plan.components.push_back({component_defs[i], expression});
  }
  return plan;
}

void MoveRows(store::IndexRows&& from, store::IndexRows& to) {
  auto move = [](auto& src, auto& dst) { dst.insert(dst.end(), std::make_move_iterator(src.begin()), std::make_move_iterator(src.end())); };
  move(from.strings, to.strings);
  move(from.tokens, to.tokens);
  move(from.dates, to.dates);
  move(from.numbers, to.numbers);
  move(from.quantities, to.quantities);
  move(from.references, to.references);
  move(from.uris, to.uris);
}

// The rows of one composite (see store.h): for each item, every (code, system) of its
// token component times the values of the rest, the token folded into the rows' parameter
// name. False (and nothing added) when an expression fails to evaluate.
bool AppendComposite(const CompositePlan& composite, const json::Value& resource, const fhirpath::EvalOptions& options,
                     store::IndexRows& rows) {
  Result<fhirpath::EvalResult> items = composite.expression->Evaluate(resource, options);
  if (!items.ok()) return false;
  store::IndexRows out;
  for (const fhirpath::Item& item : items->items) {
    // Each component's rows for this item, named later.
    std::vector<store::IndexRows> values(composite.components.size());
    for (size_t i = 0; i < composite.components.size(); ++i) {
      const ParamPlan& component = composite.components[i];
      Result<fhirpath::EvalResult> result =
          component.expression->Evaluate(fhirpath::Collection{item}, &resource, options);
      if (!result.ok()) return false;
      for (const fhirpath::Item& value : result->items) {
        internal::AppendRows(component.def->type, {}, value, values[i]);
      }
    }
    std::vector<std::pair<std::string, std::string>> tokens;  // code, system; a text alone names nothing
    for (const store::TokenRow& token : values[0].tokens) {
      if (!token.code.empty() || !token.system.empty()) tokens.emplace_back(token.code, token.system);
    }
    std::sort(tokens.begin(), tokens.end());
    tokens.erase(std::unique(tokens.begin(), tokens.end()), tokens.end());
    for (const auto& [code, system] : tokens) {
      const std::string param = store::CompositeParam(composite.def->code, code, system);
      if (values.size() == 3) {
        for (const store::NumberRow& start : values[1].numbers) {
          for (const store::NumberRow& end : values[2].numbers) {
            std::optional<int64_t> low = Coordinate(start.value), high = Coordinate(end.value);
            if (low && high) out.dates.push_back({param, *low, *high});
          }
        }
        continue;
      }
      const store::IndexRows& v = values[1];
      AppendRenamed(v.strings, param, out.strings);
      AppendRenamed(v.tokens, param, out.tokens);
      AppendRenamed(v.dates, param, out.dates);
      AppendRenamed(v.numbers, param, out.numbers);
      AppendRenamed(v.quantities, param, out.quantities);
      AppendRenamed(v.references, param, out.references);
      AppendRenamed(v.uris, param, out.uris);
    }
  }
  MoveRows(std::move(out), rows);
  return true;
}

}  // namespace

struct Indexer::Plan {
  // By expression text. Node-based: ParamPlan::expression points into it.
  CompiledExpressions compiled;
  // Keys view the model's static type names.
  std::unordered_map<std::string_view, std::vector<ParamPlan>> by_type;
  std::unordered_map<std::string_view, std::vector<CompositePlan>> composites_by_type;
  std::vector<CompileFailure> failures;
  fhirpath::EvalOptions options;
};

Indexer::Indexer(const IndexerOptions& options) {
  auto plan = std::make_unique<Plan>();
  plan->options.resolver = ResolveStub;
  plan->options.max_steps = options.max_steps;
  for (std::string_view type : fhir::ResourceTypes()) {
    std::vector<ParamPlan>& params = plan->by_type[type];
    for (const SearchParamDef* def : fhir::SearchParamsFor(type)) {
      if (def->type == SearchParamType::kComposite) {
        if (!internal::CompositeParts(*def, type).empty()) continue;  // searched through its parts
        if (std::optional<CompositePlan> c = PlanComposite(type, *def, plan->compiled, plan->failures)) {
          plan->composites_by_type[type].push_back(std::move(*c));
        }
        continue;
      }
      if (!IsIndexed(*def)) continue;
      // A failure is reported for the whole expression, as the definitions spell it.
      if (CompileShared(def->expression, *def, plan->compiled, plan->failures) == nullptr) continue;
      std::string own = internal::ExpressionForType(def->expression, type);
      if (own.empty()) continue;
      if (const fhirpath::Expression* expression = CompileShared(own, *def, plan->compiled, plan->failures)) {
        params.push_back({def, expression});
      }
    }
  }
  plan_ = std::move(plan);
}

Indexer::~Indexer() = default;

const Indexer& Indexer::Default() {
  static const Indexer* const indexer = new Indexer();  // never destroyed: used until exit
  return *indexer;
}

const std::vector<Indexer::CompileFailure>& Indexer::compile_failures() const { return plan_->failures; }

store::IndexRows Indexer::Index(const json::Value& resource, int* skipped) const {
  store::IndexRows rows;
  if (!resource.is_object()) return rows;
  auto it = plan_->by_type.find(resource.GetString("resourceType"));
  if (it == plan_->by_type.end()) return rows;
  for (const ParamPlan& param : it->second) {
    Result<fhirpath::EvalResult> result = param.expression->Evaluate(resource, plan_->options);
    if (!result.ok()) {
      if (skipped != nullptr) ++*skipped;
      continue;
    }
    for (const fhirpath::Item& item : result->items) {
      internal::AppendRows(param.def->type, param.def->code, item, rows);
    }
  }
  if (auto composites = plan_->composites_by_type.find(it->first); composites != plan_->composites_by_type.end()) {
    for (const CompositePlan& composite : composites->second) {
      if (!AppendComposite(composite, resource, plan_->options, rows) && skipped != nullptr) ++*skipped;
    }
  }
  Deduplicate(rows);
  rows.narrative = NarrativeText(resource);
  rows.content = ContentText(resource);
  return rows;
}

std::vector<store::ReferenceRow> Indexer::References(const json::Value& resource,
                                                    std::span<const std::string_view> params) const {
  store::IndexRows rows;
  if (!resource.is_object() || params.empty()) return {};
  auto it = plan_->by_type.find(resource.GetString("resourceType"));
  if (it == plan_->by_type.end()) return {};
  for (const ParamPlan& param : it->second) {
    if (param.def->type != SearchParamType::kReference ||
        std::find(params.begin(), params.end(), param.def->code) == params.end()) {
      continue;
    }
    Result<fhirpath::EvalResult> result = param.expression->Evaluate(resource, plan_->options);
    if (!result.ok()) continue;
    for (const fhirpath::Item& item : result->items) internal::AppendRows(param.def->type, param.def->code, item, rows);
  }
  return std::move(rows.references);
}

}  // namespace ehr::search
