// The fixture of the SQLite search tests: clause builders, a store in a temporary directory
// with hand-written index rows (the indexer is not involved), and helpers that run a search.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <string>
#include <vector>

#include "store/sqlite/queries.h"
#include "store/sqlite/schema.h"
#include "store/sqlite/test_util.h"

namespace ehr::store::sqlite {

using store::testing::OpenOrDie;
using store::testing::TempDir;

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

class SearchSqlTest : public ::testing::Test {
 protected:
  SearchSqlTest() : clock_(Day(20000)) {
    options_.path = dir_.File("ehr.db");
    options_.clock = &clock_;
    store_ = OpenOrDie(options_);
    auto conn = Connection::Open(options_.path, OpenMode::kReadWrite);
    EXPECT_TRUE(conn.ok());
    if (conn.ok()) conn_ = std::move(conn).value();
  }

  // Writes the next version of Type/id with these index rows.
  void Put(const std::string& type, const std::string& id, IndexRows rows, const std::string& tenant = "t",
           Micros last_updated = 0) {
    int64_t& version = versions_[tenant + "/" + type + "/" + id];
    NewVersion v = store::testing::Version(tenant, type, id, ++version, R"({"id":")" + id + R"("})",
                                           last_updated != 0 ? last_updated : clock_.Now());
    v.index = std::move(rows);
    clock_.Advance(1000);
    Status st = store::testing::PutOne(*store_, v);
    ASSERT_TRUE(st.ok()) << st.message();
  }
  void Delete(const std::string& type, const std::string& id, const std::string& tenant = "t") {
    int64_t& version = versions_[tenant + "/" + type + "/" + id];
    ASSERT_TRUE(store::testing::PutOne(*store_, store::testing::Deletion(tenant, type, id, ++version)).ok());
  }

  Result<SearchPage> Run(const SearchQuery& q, Micros now = 0, int64_t timeout_ms = 30'000) {
    SearchOptions o;
    o.now = now != 0 ? now : clock_.Now();
    o.timeout_ms = timeout_ms;
    return Search(*conn_, q, o);
  }

  // Ids of the first page, sorted (type-qualified when `qualified`).
  std::vector<std::string> Find(const SearchQuery& q, bool qualified = false) {
    auto page = Run(q);
    EXPECT_TRUE(page.ok()) << page.status().message();
    if (!page.ok()) return {"<error>"};
    std::vector<std::string> ids;
    for (const auto& m : page->matches) ids.push_back(qualified ? m.type + "/" + m.id : m.id);
    std::sort(ids.begin(), ids.end());
    return ids;
  }
  std::vector<std::string> Find(std::vector<std::string> types, std::vector<Clause> clauses) {
    return Find(Query(std::move(types), std::move(clauses)));
  }

  // Type-qualified ids of the first page, sorted; the page's total must count them.
  std::vector<std::string> FindCounted(const SearchQuery& q) {
    std::vector<std::string> found = Find(q, true);
    auto page = Run(q);
    EXPECT_TRUE(page.ok() && page->total == static_cast<int64_t>(found.size())) << "the total counts what the page shows";
    return found;
  }

  // Every page in order, following next_cursor; ids in the order returned.
  std::vector<std::string> Walk(SearchQuery q, int count) {
    q.count = count;
    std::vector<std::string> ids;
    for (int pages = 0; pages < 1000; ++pages) {
      auto page = Run(q);
      EXPECT_TRUE(page.ok()) << page.status().message();
      if (!page.ok()) break;
      EXPECT_LE(page->matches.size(), static_cast<size_t>(count));
      for (const auto& m : page->matches) ids.push_back(m.id);
      if (page->next_cursor.empty()) break;
      EXPECT_EQ(page->matches.size(), static_cast<size_t>(count)) << "only the last page may be short";
      q.cursor = page->next_cursor;
    }
    return ids;
  }

  std::string PlanText(const SearchQuery& q) {
    auto plan = ExplainSearch(*conn_, q, SearchOptions{});
    EXPECT_TRUE(plan.ok()) << plan.status().message();
    std::string text;
    if (plan.ok()) {
      for (const auto& line : plan->page) text += line + "\n";
      text += "-- total\n";
      for (const auto& line : plan->total) text += line + "\n";
    }
    return text;
  }

  TempDir dir_;
  ManualClock clock_;
  SqliteOptions options_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Connection> conn_;
  std::map<std::string, int64_t> versions_;
};

using V = std::vector<std::string>;

inline IndexRows Strings(std::string param, std::vector<std::string> values) {
  IndexRows rows;
  for (auto& v : values) rows.strings.push_back({param, v, v});
  return rows;
}


}  // namespace ehr::store::sqlite
