// search::ParseSearch on arbitrary query strings. Input: an optional first line naming the
// resource type (empty: a system search), then the query string; without a newline after
// a resource type name, the whole input is a system search's query. Never crashes; an
// error is a 400 that says why; strict and lenient parsing agree (strict accepts exactly
// what lenient accepts without warnings); every plan obeys the shape store/query.h promises.
// The same query also goes through search::ParseReadParameters (a read's _summary and
// _elements): errors say why, and what it accepts never combines _elements with a summary.
#include <cmath>
#include <cstdint>
#include <string_view>
#include <variant>

#include "fhir/model/model.h"
#include "fuzz_check.h"
#include "search/query_parser.h"

namespace {

using namespace ehr;

void Check(bool ok, const char* what) { ehr::fuzz::Check(ok, "fuzz_search_query", what); }

void CheckError(const Status& st) {
  Check(st.code() == Code::kInvalid, "a parse error must be kInvalid");
  Check(!st.issues().empty() && !st.message().empty(), "a parse error must say why");
  for (const Issue& issue : st.issues()) Check(issue.severity == "error", "an error issue has severity error");
}

void CheckValue(const store::SearchValue& value) {
  if (const auto* d = std::get_if<store::DateValue>(&value)) Check(d->low <= d->high, "a date range is reversed");
  if (const auto* n = std::get_if<store::NumberValue>(&value)) {
    Check(std::isfinite(n->low) && std::isfinite(n->high), "a number range is not finite");
    Check(n->low <= n->value && n->value <= n->high, "a number lies outside its range");
  }
  if (const auto* q = std::get_if<store::QuantityValue>(&value)) {
    Check(q->low <= q->value && q->value <= q->high, "a quantity lies outside its range");
    Check(q->canonical_unit.empty() || q->canonical_low <= q->canonical_high, "a canonical range is reversed");
  }
  if (const auto* t = std::get_if<store::TokenValue>(&value)) {
    Check(t->system.has_value() || t->code.has_value(), "a token matches anything");
  }
  if (const auto* n = std::get_if<store::NearValue>(&value)) {
    Check(n->latitude >= -90 && n->latitude <= 90 && n->longitude >= -180 && n->longitude <= 180,
          "a near point outside the globe");
    Check(std::isfinite(n->distance_km) && n->distance_km > 0, "a near distance that is not positive");
  }
  if (const auto* u = std::get_if<store::UriValue>(&value)) Check(!u->uri.empty(), "an empty uri or value set");
}

void CheckComposite(const store::Clause& c) {
  Check(c.components.size() >= 2 && c.components[0] == store::ParamKind::kToken,
        "a composite without a token and another component");
  for (const store::SearchValue& v : c.values) {
    const auto* composite = std::get_if<store::CompositeValue>(&v);
    Check(composite != nullptr, "a composite clause with a value of another kind");
    if (composite == nullptr) continue;
    Check(composite->components.size() == c.components.size(), "a composite value with a component too many or few");
    Check(!composite->components.empty() && std::holds_alternative<store::TokenValue>(composite->components[0]),
          "a composite value that does not start with a token");
    for (const store::ComponentValue& component : composite->components) {
      CheckValue(std::visit([](const auto& each) { return store::SearchValue(each); }, component));
    }
  }
}

void CheckClause(const store::Clause& c, int depth) {
  Check(depth <= search::kMaxChainDepth, "a chain is deeper than the limit");
  Check(!c.param.empty(), "a clause without a parameter");
  Check(c.chain.size() <= 1, "a clause with more than one chained clause");
  Check(c.values.size() <= static_cast<size_t>(search::kMaxValuesPerParameter), "too many values");
  if (!c.type.empty()) Check(fhir::IsResourceType(c.type), "a clause names an unknown type");
  if (c.param == "_has") {
    Check(fhir::IsResourceType(c.has_type) && c.chain.size() == 1, "a _has clause without its type or chain");
  }
  if (c.modifier == store::Modifier::kMissing || !c.chain.empty()) {
    Check(c.values.empty(), "a :missing or chained clause with values");
  } else {
    Check(!c.values.empty(), "a clause without values");
  }
  for (const store::SearchValue& v : c.values) CheckValue(v);
  if (c.modifier == store::Modifier::kIn || c.modifier == store::Modifier::kNotIn) {
    Check(c.kind == store::ParamKind::kToken, ":in or :not-in on a parameter that is not a token");
    for (const store::SearchValue& v : c.values) {
      Check(std::holds_alternative<store::UriValue>(v), "a value set that is not a URL");
    }
  }
  if (c.kind == store::ParamKind::kNear) {
    for (const store::SearchValue& v : c.values) Check(std::holds_alternative<store::NearValue>(v), "near without a point");
  }
  if (c.kind == store::ParamKind::kComposite) {
    CheckComposite(c);
  } else {
    Check(c.components.empty(), "components on a clause that is not composite");
    for (const store::SearchValue& v : c.values) {
      Check(!std::holds_alternative<store::CompositeValue>(v), "a composite value on another kind of clause");
    }
  }
  for (const store::Clause& inner : c.chain) CheckClause(inner, depth + 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string_view type;
  std::string_view query = input;
  if (const size_t nl = input.find('\n'); nl != std::string_view::npos) {
    const std::string_view first = input.substr(0, nl);
    if (first.empty() || fhir::IsResourceType(first)) {
      type = first;
      query = input.substr(nl + 1);
    }
  }

  const search::ParseOptions lenient{.strict = false, .max_count = 100, .default_count = 10};
  search::ParseOptions strict = lenient;
  strict.strict = true;
  Result<fhir::Subset> read = search::ParseReadParameters(query);
  if (!read.ok()) CheckError(read.status());
  if (read.ok()) Check(read->summary != fhir::SummaryMode::kCount, "a read accepted _summary=count");
  if (read.ok() && !read->elements.empty()) {
    Check(read->summary == fhir::SummaryMode::kFalse, "a read accepted _elements with a summary");
  }

  Result<search::ParsedSearch> a = search::ParseSearch(type, query, lenient);
  Result<search::ParsedSearch> b = search::ParseSearch(type, query, strict);
  if (!a.ok()) {
    CheckError(a.status());
    Check(!b.ok(), "strict accepts what lenient refuses");
    CheckError(b.status());
    return 0;
  }
  Check(b.ok() == a->warnings.empty(), "strict must accept exactly what lenient accepts without warnings");
  if (!b.ok()) CheckError(b.status());
  if (b.ok()) Check(b->query.clauses.size() == a->query.clauses.size(), "strict and lenient plans differ");

  const store::SearchQuery& q = a->query;
  Check(q.count_only == (a->subset.summary == fhir::SummaryMode::kCount), "count_only is not _summary=count");
  if (!a->subset.elements.empty()) {
    Check(a->subset.summary == fhir::SummaryMode::kFalse || a->subset.summary == fhir::SummaryMode::kCount,
          "_elements accepted with _summary=true, text or data");
  }
  Check(q.count >= 0 && q.count <= lenient.max_count, "_count outside [0, max_count]");
  Check(q.clauses.size() <= static_cast<size_t>(search::kMaxParameters), "more clauses than parameters");
  for (const std::string& t : q.types) Check(fhir::IsResourceType(t), "an unknown type in the plan");
  if (!type.empty()) Check(q.types.size() == 1 && q.types[0] == type, "a type search lost its type");
  for (const Issue& w : a->warnings) {
    Check(w.severity == "warning" && w.code == "not-supported", "a warning that is not a not-supported warning");
  }
  for (const store::Clause& c : q.clauses) CheckClause(c, 0);
  for (const store::Include& inc : q.includes) {
    Check(inc.wildcard || !inc.param.empty(), "an include without a parameter");
  }
  return 0;
}
