// The pieces of the SQLite search that search_sql.cc (planning and running a search) and
// search_clauses.cc (compiling its clauses into SQL sets) share: limits, the SQL builder,
// the compiled form of a clause and the SqlSearch class. Not for use outside these two files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "store/search_limits.h"
#include "store/sqlite/queries.h"

namespace ehr::store::sqlite::internal {

// The bounds every backend shares (store/search_limits.h), and SQLite's own.
using namespace ::ehr::store::search_limits;
// A positive clause matching fewer index rows than this drives the search (see Plan).
constexpr int kDriveLimit = 5000;
// Ids of a compartment filter bound one by one; a longer list is bound as one JSON array.
constexpr size_t kMaxBoundIds = 64;

using SqlValue = std::variant<std::monostate, int64_t, double, std::string>;

Status Invalid(std::string msg);
Status Unsupported(std::string msg);

// SQL text with its bound values. ?1 is always the tenant.
class Sql {
 public:
  explicit Sql(const std::string& tenant) { params_.emplace_back(tenant); }
  std::string Bind(SqlValue v) {
    params_.push_back(std::move(v));
    return "?" + std::to_string(params_.size());
  }
  // `= ?n` for one type, `IN (?a, ?b...)` otherwise; a list is bound once and reused.
  std::string TypeIs(const std::vector<std::string>& types) {
    std::string key;
    for (const std::string& t : types) key.append(t).push_back('\0');
    auto it = type_lists_.find(key);
    if (it != type_lists_.end()) return it->second;
    std::string sql = types.size() == 1 ? "= " : "IN (";
    for (size_t i = 0; i < types.size(); ++i) {
      if (i > 0) sql += ", ";
      sql += Bind(types[i]);
    }
    if (types.size() != 1) sql += ")";
    return type_lists_.emplace(std::move(key), std::move(sql)).first->second;
  }
  // `= ?n` for one key, `IN (...)` for several; the same list is bound once.
  std::string KeyIs(const std::vector<int64_t>& keys) {
    std::string key;
    for (int64_t k : keys) key.append(std::to_string(k)).push_back(',');
    auto it = key_lists_.find(key);
    if (it != key_lists_.end()) return it->second;
    std::string sql = keys.size() == 1 ? "= " : "IN (";
    for (size_t i = 0; i < keys.size(); ++i) {
      if (i > 0) sql += ", ";
      sql += Bind(keys[i]);
    }
    if (keys.size() != 1) sql += ")";
    return key_lists_.emplace(std::move(key), std::move(sql)).first->second;
  }
  std::string Alias(const char* prefix) { return prefix + std::to_string(++aliases_); }
  const std::vector<SqlValue>& params() const { return params_; }

 private:
  std::vector<SqlValue> params_;
  std::map<std::string, std::string> type_lists_;
  std::map<std::string, std::string> key_lists_;
  int aliases_ = 0;
};

// One SELECT of a set: `SELECT <seq_col> <from_where>` for a set of versions, or
// `SELECT <type_col>, <id_col> <from_where>` for a set of (type, id) pairs.
struct Arm {
  std::string type_col;  // empty for a set of versions
  std::string id_col;    // seq or id
  std::string from_where;
  // The same set for a probe of one candidate (InSet's EXISTS form), when it must differ:
  // empty means from_where.
  std::string probe_where = {};
  // The same rows for counting the first few (Estimate), when another join order finds
  // them sooner: empty means from_where.
  std::string estimate_where = {};
};

// What a clause compiles to: a set (arms, UNION ALL-ed) of versions (seq) or of (type, id)
// pairs that the resource must be in (or not, when negated), or else a condition on the
// row alias.
struct Compiled {
  std::vector<Arm> arms;
  std::string condition;
  bool negated = false;
  bool by_seq = true;  // a set of versions (index rows); else of (type, id) pairs
  bool live = true;    // every member of the set is a live current resource
  bool by_id = false;  // `_id=` (a condition naming the ids): drives the search
  bool unique = false; // one row per version (one exact token): counted without DISTINCT
  int rank = 1;        // the order in which sets are estimated: likely selective ones first
};

// The condition of a constant set (a clause that matches every resource, or none).
constexpr std::string_view kAlways = "1", kNever = "0";

// The arms of `arms` as one UNION ALL; `ids_only` leaves out the type column of a set of pairs;
// `for_estimate` takes each arm's estimate_where when it has one.
std::string RenderSet(const std::vector<Arm>& arms, bool ids_only, bool for_estimate = false);
// The resource row `alias` is (not) in `set`. `single_type`: both sides are restricted to
// the same one type, so ids alone decide a set of pairs. `probe`: the `+` keeps SQLite
// from using the set to look the rows up.
std::string InSet(const std::string& alias, const Compiled& set, bool single_type, bool probe = false);
// The index table of a parameter kind; nullptr for a kind without one.
const char* TableOf(ParamKind kind);

// One sort key of the page statement.
struct KeyPlan {
  std::string expr;  // SQL on alias r
  bool descending = false;
  bool nullable = false;  // a resource may have no value (sorted last)
  char value_type = 'T';  // of its values (and cursor values): 'I' integer, 'R' number, 'T' text
};

// A match or an included resource while its page is built; `keys` are its sort values (for the cursor).
struct Row {
  int64_t seq = 0;
  SearchMatch match;
  std::vector<SqlValue> keys;
};

// One search over one connection: its clauses compiled into sets (search_clauses.cc), then
// planned and run (search_sql.cc).
class SqlSearch {
 public:
  SqlSearch(Connection& c, const SearchQuery& q, const SearchOptions& o) : c_(c), q_(q), o_(o), sql_(q.tenant) {}

  // Builds `where_` (the candidates and every clause) and the sort plan; false when the
  // tenant has nothing to find (no types at all).
  Result<bool> Plan();
  Result<SearchPage> Run();
  Result<SearchPlan> Explain();

 private:
  // Clauses as sets (search_clauses.cc).
  Result<const std::vector<std::string>*> TenantTypes();
  Result<std::vector<int64_t>> ParamKeys(const std::vector<std::string>& types, const std::string& param);
  // `alias` names the resource row a condition is on (when other types pass the filter).
  Result<Compiled> CompileCompartment(const CompartmentFilter& f, const std::vector<std::string>& types,
                                      const std::string& alias);
  // The versions of `types` that `e` hides, as a positive set (Constant(false): none).
  Result<Compiled> CompileExclusion(const Exclusion& e, const std::vector<std::string>& types);
  // Rows of `alias` (of `types`) pass `f`: a set when f covers all of `types`, else a
  // condition on the row (Constant(true) when it covers none).
  Result<Compiled> CompileFilter(const TypeFilter& f, const std::vector<std::string>& types, const std::string& alias);
  // `set` (of versions of `types`) without what lies outside the query's access filter and
  // type filters or is hidden.
  Result<Compiled> WithinAccess(Compiled set, const std::vector<std::string>& types);
  Result<Compiled> Compile(const Clause& cl, const std::vector<std::string>& types, const std::string& alias,
                           int depth);
  Result<Compiled> CompileIndexed(const Clause& cl, const std::vector<std::string>& types);
  Result<Compiled> CompileComposite(const Clause& cl, const std::vector<std::string>& types);
  Result<Compiled> CompileText(const Clause& cl, const std::vector<std::string>& types);
  Result<std::vector<int64_t>> CompositeKeys(const std::vector<std::string>& types, const std::string& composite,
                                             const TokenValue& token);
  Result<Compiled> CompileChain(const Clause& cl, const std::vector<std::string>& types, int depth);
  Result<Compiled> CompileHas(const Clause& cl, const std::vector<std::string>& types, int depth);
  Result<Compiled> CompileList(const Clause& cl, const std::vector<std::string>& types);
  Result<Compiled> CompileNear(const Clause& cl, const std::vector<std::string>& types);
  Result<Compiled> MatchSet(const Clause& cl, const std::vector<std::string>& types, int depth);
  Result<std::vector<std::string>> ValueConditions(const Clause& cl, const SearchValue& v, const std::string& x);
  std::string TokenCondition(const TokenValue& t, const std::string& x);
  // The number of a token system (token_system, schema.cc migration 6) as an SQL constant:
  // NULL, matching nothing, when no row has that system.
  std::string SystemNumber(const std::string& system) {
    return "(SELECT id FROM token_system WHERE system = " + sql_.Bind(system) + ")";
  }
  std::string DateCondition(Prefix p, const std::string& low, const std::string& high, Micros vl, Micros vh);
  std::string NumberCondition(Prefix p, const std::string& col, double value, double low, double high);

  // The plan, the page, the cursor and includes (search_sql.cc).
  Result<KeyPlan> KeyOf(const store::SortKey& k, const std::vector<std::string>& types);

  std::string PageSql(const std::vector<SqlValue>* cursor);
  std::string CountSql() const {
    if (!count_sets_.empty()) return count_sets_;
    return "SELECT count(*) FROM resource_version r" + count_index_ + " WHERE " + count_where_;
  }
  // The rows of `set`, counted up to `limit`.
  Result<int64_t> Estimate(const Compiled& set, int64_t limit);
  std::string CursorSignature() const;
  std::string EncodeCursor(const Row& last) const;
  Result<std::vector<SqlValue>> DecodeCursor() const;
  std::string After(size_t i, const std::vector<std::string>& bound, const std::vector<SqlValue>& cursor) const;
  Result<Stmt> IncludeStatement(const Include& inc, const Row& f, const std::string& param, bool any_source);
  Status Includes(const std::vector<Row>& matches, std::vector<Row>& included);
  Status FetchVersions(std::vector<Row>& rows);

  Connection& c_;
  const SearchQuery& q_;
  const SearchOptions& o_;
  Sql sql_;
  std::optional<std::vector<std::string>> tenant_types_;
  std::map<std::pair<std::string, std::string>, std::optional<int64_t>> param_keys_;  // (type, param)
  size_t clauses_ = 0;  // compiled so far, nested ones included
  size_t values_ = 0;
  std::string where_;
  std::string page_index_, count_index_;  // INDEXED BY of the page and count statements
  std::string count_where_;               // where_ with the sets a count should not probe
  std::string count_sets_;                // the count from the index sets alone, when possible
  std::vector<KeyPlan> keys_;             // empty: newest change first (seq descending)
  bool tie_descending_ = true;
};

}  // namespace ehr::store::sqlite::internal
