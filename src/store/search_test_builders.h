// Builders of search queries and index rows for the search tests of every backend
// (store/search_contract_test.cc) and the SQLite-only ones (store/sqlite/search_sql_test.cc).
#pragma once

#include <cctype>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/query.h"
#include "store/store.h"

namespace ehr::store::testing {

inline constexpr Micros kDay = 86'400'000'000;
inline constexpr Micros kHour = 3'600'000'000;
inline Micros Day(int d) { return kDay * d; }

// Clause builders.
inline Clause Make(std::string param, ParamKind kind, Modifier m = Modifier::kNone) {
  Clause c;
  c.param = std::move(param);
  c.kind = kind;
  c.modifier = m;
  return c;
}
inline Clause Str(std::string param, std::string value, Modifier m = Modifier::kNone) {
  Clause c = Make(std::move(param), ParamKind::kString, m);
  std::string normalized = value;  // as search::NormalizeString would, for ASCII
  for (char& ch : normalized) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  c.values.push_back(StringValue{normalized, value});
  return c;
}
inline Clause Tok(std::string param, std::vector<TokenValue> values, Modifier m = Modifier::kNone) {
  Clause c = Make(std::move(param), ParamKind::kToken, m);
  for (auto& v : values) c.values.push_back(v);
  return c;
}
inline Clause Code(std::string param, std::string code) { return Tok(std::move(param), {{std::nullopt, std::move(code)}}); }
inline Clause Date(std::string param, Prefix p, Micros low, Micros high) {
  Clause c = Make(std::move(param), ParamKind::kDate);
  c.values.push_back(DateValue{p, low, high});
  return c;
}
inline Clause Num(std::string param, Prefix p, double value, double low, double high) {
  Clause c = Make(std::move(param), ParamKind::kNumber);
  c.values.push_back(NumberValue{p, value, low, high});
  return c;
}
inline Clause Ref(std::string param, std::string type, std::string id, Modifier m = Modifier::kNone) {
  Clause c = Make(std::move(param), ParamKind::kReference, m);
  c.values.push_back(ReferenceValue{std::move(type), std::move(id), ""});
  return c;
}
inline Clause UriIs(std::string param, std::string uri, Modifier m = Modifier::kNone) {
  Clause c = Make(std::move(param), ParamKind::kUri, m);
  c.values.push_back(UriValue{std::move(uri)});
  return c;
}
inline Clause Missing(std::string param, ParamKind kind, bool missing) {
  Clause c = Make(std::move(param), kind, Modifier::kMissing);
  c.missing = missing;
  return c;
}
inline Clause Chain(std::string param, std::string type, Clause inner) {
  Clause c = Make(std::move(param), ParamKind::kReference);
  c.type = std::move(type);
  c.chain.push_back(std::move(inner));
  return c;
}
inline Clause Has(std::string type, std::string param, Clause inner) {
  Clause c = Make("_has", ParamKind::kReference);
  c.has_type = std::move(type);
  c.has_param = std::move(param);
  c.chain.push_back(std::move(inner));
  return c;
}
inline Clause Ids(std::vector<std::string> ids) {
  Clause c = Make("_id", ParamKind::kId);
  for (auto& id : ids) c.values.push_back(TokenValue{std::nullopt, id});
  return c;
}

inline Include Inc(std::string source, std::string param, std::string target = "", bool reverse = false,
            bool iterate = false) {
  Include i;
  i.source_type = std::move(source);
  i.param = std::move(param);
  i.target_type = std::move(target);
  i.reverse = reverse;
  i.iterate = iterate;
  i.wildcard = i.param == "*";
  return i;
}
inline QuantityValue Qty(Prefix p, double value, double low, double high, std::string system, std::string code) {
  QuantityValue q;
  q.prefix = p;
  q.value = value;
  q.low = low;
  q.high = high;
  q.system = std::move(system);
  q.code = std::move(code);
  return q;
}

inline SearchQuery Query(std::vector<std::string> types, std::vector<Clause> clauses = {}, std::string tenant = "t") {
  SearchQuery q;
  q.tenant = std::move(tenant);
  q.types = std::move(types);
  q.clauses = std::move(clauses);
  q.count = 100;
  return q;
}

using V = std::vector<std::string>;

inline IndexRows Strings(std::string param, std::vector<std::string> values) {
  IndexRows rows;
  for (auto& v : values) rows.strings.push_back({param, v, v});
  return rows;
}

// Composite rows are rows of the second component under a name that holds the token
// (store::CompositeParam), as the indexer writes them.
inline Clause CompositeClause(std::string param, std::vector<ParamKind> kinds, std::vector<std::vector<ComponentValue>> values) {
  Clause c = Make(std::move(param), ParamKind::kComposite);
  c.components = std::move(kinds);
  for (auto& v : values) c.values.push_back(CompositeValue{std::move(v)});
  return c;
}

inline Clause Text(std::string param, std::vector<std::vector<std::vector<std::string>>> values) {
  Clause c = Make(std::move(param), ParamKind::kText);
  for (auto& groups : values) c.values.push_back(TextValue{std::move(groups)});
  return c;
}

inline IndexRows Texts(std::string narrative, std::string content) {
  IndexRows rows;
  rows.narrative = std::move(narrative);
  rows.content = std::move(content);
  return rows;
}

inline Clause List(std::vector<std::string> ids) {
  Clause c = Make("_list", ParamKind::kList);
  for (auto& id : ids) c.values.push_back(TokenValue{std::nullopt, std::move(id)});
  return c;
}

}  // namespace ehr::store::testing
