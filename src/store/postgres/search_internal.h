// The pieces of the PostgreSQL search that search.cc (planning and running a search),
// search_clauses.cc (compiling its clauses into SQL sets) and search_access.cc (the bounds
// of what the caller may see) share. The shapes follow the SQLite backend's
// (store/sqlite/search_sql_internal.h), whose limits and semantics they repeat; the plan
// is PostgreSQL's to choose. Not for use outside these files.
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

#include "store/postgres/pg.h"
#include "store/search_limits.h"
#include "store/store.h"

namespace ehr::store::pg::internal {

// The bounds every backend shares, so that a query too large for one is too large for all.
using namespace ::ehr::store::search_limits;

// A value of a sort key or a cursor.
using SqlValue = std::variant<std::monostate, int64_t, double, std::string>;

Status Invalid(std::string msg);
Status Unsupported(std::string msg);

// The least string after every string that starts with `prefix`, in code point (byte)
// order: its last character incremented. nullopt when there is none (no upper bound).
std::optional<std::string> PrefixEnd(std::string_view prefix);

// SQL text with its bound values, each placeholder cast to its type. $1 is the tenant.
class Sql {
 public:
  explicit Sql(const std::string& tenant) { params_.emplace_back(tenant); }
  std::string Text(std::string v) { return Add(Param(std::move(v)), "text"); }
  std::string Int(int64_t v) { return Add(Param::Int(v), "bigint"); }
  std::string Double(double v) { return Add(Param(DoubleText(v)), "float8"); }
  std::string TextArray(const std::vector<std::string>& values) {
    std::vector<std::string_view> views(values.begin(), values.end());
    return Add(Param(ArrayLiteral(views)), "text[]");
  }
  // ` = $n` for one value, ` = ANY($n)` for several (the same list bound once).
  std::string OneOf(const std::vector<std::string>& values) {
    if (values.size() == 1) return " = " + Text(values[0]);
    std::string key;
    for (const std::string& v : values) key.append(v).push_back('\0');
    auto it = lists_.find(key);
    if (it != lists_.end()) return it->second;
    return lists_.emplace(std::move(key), " = ANY(" + TextArray(values) + ")").first->second;
  }
  std::string Alias(const char* prefix) { return prefix + std::to_string(++aliases_); }
  const std::vector<Param>& params() const { return params_; }

 private:
  std::string Add(Param p, const char* type) {
    params_.push_back(std::move(p));
    return "$" + std::to_string(params_.size()) + "::" + type;
  }
  std::vector<Param> params_;
  std::map<std::string, std::string> lists_;
  int aliases_ = 0;
};

// One SELECT of a set: `SELECT <id_col> <from_where>` for a set of versions (seq), or
// `SELECT <type_col>, <id_col> <from_where>` for a set of (type, id) pairs.
struct Arm {
  std::string type_col;  // empty for a set of versions
  std::string id_col;
  std::string from_where;
};

// What a clause compiles to: a set (arms, UNION ALL-ed) of versions or of (type, id)
// pairs that the resource must be in (or not, when negated), or else a condition on the
// row alias.
struct Compiled {
  std::vector<Arm> arms;
  std::string condition;
  bool negated = false;
  bool by_seq = true;  // a set of versions (index rows); else of (type, id) pairs
  bool live = true;    // every member of the set is a live current resource
  // The same set as a test of one candidate (kSeqMark stands for its seq), for a set too
  // large to build for a page: a chain whose targets are many (CompileChain), a word in
  // many rows (CompileText). Empty when the set is to be built.
  std::string probe;
};

constexpr std::string_view kSeqMark = "{seq}";
// A chain with more targets than this, or a word in more rows, is tested on each candidate
// of a page (Compiled::probe) instead of built: `subject:Patient.gender=male` names half the
// patients, whose half a million Observations PostgreSQL would collect and sort for a page
// of 50.
constexpr int64_t kProbeTargets = 1000;

// A page sorted by a date whose every clause is a set of more resources than this walks the
// date's index in the sort order, testing each resource it meets (PgSearch::WalkSql),
// instead of building every match and sorting: the latest of 194,501 vital signs.
constexpr int64_t kWalkAfter = 5000;
// Rows the walk reads past its page, for resources met twice (PgSearch::WalkSql).
constexpr int64_t kWalkSlack = 8;

constexpr std::string_view kAlways = "true", kNever = "false";

// The set of a clause that matches every resource, or none.
inline Compiled Constant(bool matches) {
  Compiled out;
  out.condition = matches ? kAlways : kNever;
  return out;
}

// The arms of `arms` as one UNION ALL, its columns named seq (versions) or type, id (pairs);
// `ids_only` leaves out the type column of a set of pairs.
std::string RenderSet(const std::vector<Arm>& arms, bool ids_only);
// The resource row `alias` is (not) in `set`. `single_type`: both sides are of the same
// one type, so ids alone decide a set of pairs.
std::string InSet(const std::string& alias, const Compiled& set, bool single_type);
// A positive set of versions as a test of the version whose seq is `seq`: its probe, or one
// lookup per arm (each a scalar subquery, which PostgreSQL runs per candidate and never
// turns into a join that would build the set).
std::string Probe(const Compiled& set, const std::string& seq);
// An arm's `FROM <table> <alias> WHERE <conditions>` with the table narrowed to the rows of
// version `seq` in a subquery that the planner keeps apart (OFFSET 0): the seq index is
// then the only one it can use, whatever it estimates of the conditions. (Without
// statistics, or with correlated columns, it takes `param = 'gender' AND code = 'male'`
// for a row or two and scans that lookup index on every candidate: 1,650 rows each.)
// Any other shape of arm is returned as it is.
std::string OneVersion(const std::string& from_where, const std::string& id_col, const std::string& seq);
// The index table of a parameter kind; nullptr for a kind without one.
const char* TableOf(ParamKind kind);

// One sort key of the page statement.
struct KeyPlan {
  std::string expr;  // SQL on alias r
  bool descending = false;
  bool nullable = false;  // a resource may have no value (sorted last)
  char value_type = 'T';  // 'I' integer, 'R' number, 'T' text
};

struct Row {
  int64_t seq = 0;
  SearchMatch match;
  std::vector<SqlValue> keys;
};

// One search over one connection: its clauses compiled into sets (search_clauses.cc,
// search_access.cc), then run (search.cc).
class PgSearch {
 public:
  // `stale_statistics`: PostgreSQL's estimates cannot be trusted (search.cc StaleStatistics).
  PgSearch(Connection& c, const SearchQuery& q, Micros now, bool stale_statistics = false)
      : c_(c), q_(q), now_(now), stale_statistics_(stale_statistics), sql_(q.tenant) {}

  Result<SearchPage> Run();
  Result<std::string> Explain();

 private:
  // Clauses as sets (search_clauses.cc; the caller's bounds: search_access.cc).
  Result<const std::vector<std::string>*> TenantTypes();
  Result<Compiled> CompileCompartment(const CompartmentFilter& f, const std::vector<std::string>& types,
                                      const std::string& alias);
  Result<Compiled> CompileExclusion(const Exclusion& e, const std::vector<std::string>& types);
  Result<Compiled> CompileFilter(const TypeFilter& f, const std::vector<std::string>& types, const std::string& alias);
  Result<Compiled> WithinAccess(Compiled set, const std::vector<std::string>& types);
  Result<Compiled> Compile(const Clause& cl, const std::vector<std::string>& types, const std::string& alias,
                           int depth);
  Result<Compiled> CompileIndexed(const Clause& cl, const std::vector<std::string>& types);
  Result<Compiled> CompileComposite(const Clause& cl, const std::vector<std::string>& types);
  Result<Compiled> CompileText(const Clause& cl, const std::vector<std::string>& types);
  Result<std::vector<std::string>> CompositeParams(const char* table, const std::vector<std::string>& types,
                                                   const std::string& composite, const TokenValue& token);
  Result<Compiled> CompileChain(const Clause& cl, const std::vector<std::string>& types, int depth);
  Result<Compiled> CompileHas(const Clause& cl, const std::vector<std::string>& types, int depth);
  Result<Compiled> CompileList(const Clause& cl, const std::vector<std::string>& types);
  Result<Compiled> CompileNear(const Clause& cl, const std::vector<std::string>& types);
  Result<Compiled> MatchSet(const Clause& cl, const std::vector<std::string>& types, int depth);
  // The size of `set`, counted up to `limit`.
  Result<int64_t> CountUpTo(const Compiled& set, int64_t limit);
  // Whether the page may test large sets per candidate (Compiled::probe), so that they are
  // worth counting: a page in seq order. A sorted page reads every match anyway, a count
  // alone has no page; without statistics PostgreSQL would read the tenant's whole lookup
  // index for each probe (row-level security's tenant condition taken for a row or two),
  // so then the page builds the sets, with the hash joins that stay linear.
  bool ProbesPay() const { return q_.sort.empty() && !q_.count_only && q_.count > 0 && !stale_statistics_; }
  Result<std::vector<std::string>> ValueConditions(const Clause& cl, const SearchValue& v, const std::string& x);
  std::string TokenCondition(const TokenValue& t, const std::string& x);
  // `col` starts with `prefix`, as a range an index can seek (the operators `ge` and `lt`:
  // ">=" and "<", or "~>=~" and "~<~" for a text_pattern_ops index). Leakproof operators
  // only: row-level security lets no other serve as an index condition.
  std::string StartsWith(const std::string& col, const std::string& prefix, const char* ge = ">=",
                         const char* lt = "<") {
    std::string cond = col + " " + ge + " " + sql_.Text(prefix);
    if (std::optional<std::string> end = PrefixEnd(prefix)) cond += " AND " + col + " " + lt + " " + sql_.Text(*end);
    return cond;
  }
  std::string DateCondition(Prefix p, const std::string& low, const std::string& high, Micros vl, Micros vh);
  std::string NumberCondition(Prefix p, const std::string& col, double value, double low, double high);
  // The rows of `table` (alias x) of `types` under parameter `param`.
  std::string Head(const char* table, const std::string& x, const std::vector<std::string>& types,
                   const std::string& param) {
    return std::string("FROM ") + table + " " + x + " WHERE " + x + ".tenant = $1::text AND " + x + ".type" +
           sql_.OneOf(types) + " AND " + x + ".param = " + sql_.Text(param);
  }

  // The plan, the page, the cursor and includes (search.cc).
  Result<bool> Plan();
  Result<KeyPlan> KeyOf(const store::SortKey& k);
  std::string PageSql(const std::vector<SqlValue>* cursor);
  // Whether the sorted page may walk its date key's index (kWalkAfter), and the walk.
  Result<bool> Walks(const std::vector<Compiled>& clauses, const std::vector<std::string>& types);
  std::string WalkSql(const std::vector<SqlValue>* cursor);
  // The page's rows (seq, then the keys; a resource the walk met twice in adjacent rows):
  // the walk's when it fills the page (`limit` resources), else PageSql's.
  Result<Rows> PageRows(const std::vector<SqlValue>* cursor, size_t limit);
  std::string CursorSignature() const;
  std::string EncodeCursor(const Row& last) const;
  Result<std::vector<SqlValue>> DecodeCursor() const;
  std::string After(size_t i, const std::vector<std::string>& bound, const std::vector<SqlValue>& cursor) const;
  // The resources one include step reaches from `from` (seq, type, id).
  Result<Rows> IncludeRows(const Include& inc, const std::vector<const Row*>& from, const std::string& param,
                           bool any_source);
  Status Includes(const std::vector<Row>& matches, std::vector<Row>& included);
  Status FetchVersions(std::vector<Row>& rows);
  // `page`, nested loops allowed again (after the count of a search without a page).
  Result<SearchPage> Unstaled(SearchPage page) {
    if (stale_statistics_) EHR_RETURN_IF_ERROR(c_.Exec("SET LOCAL enable_nestloop = on"));
    return page;
  }

  Connection& c_;
  const SearchQuery& q_;
  const Micros now_;
  const bool stale_statistics_;
  Sql sql_;
  std::optional<std::vector<std::string>> tenant_types_;
  size_t clauses_ = 0;
  size_t values_ = 0;
  std::string where_;       // the total's candidates: every clause a set
  std::string page_where_;  // the page's: a large set tested per candidate (Compiled::probe)
  std::string count_sql_;   // the total
  std::vector<KeyPlan> keys_;  // empty: newest change first (seq descending)
  std::string walk_;           // the walk's rows and tests of its candidate w (Walks); empty: none
  bool tie_descending_ = true;
};

}  // namespace ehr::store::pg::internal
