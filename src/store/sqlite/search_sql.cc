// store::SearchQuery as SQL over the index tables of schema.cc (migrations 3 and 4).
//
// A search runs in one read transaction: one statement selects the page, one counts the
// total, and cached point statements fetch includes and the page's rows. Candidates are
// the live current versions (`is_current = 1 AND deleted = 0`) of the query's types; each
// clause adds `r.seq [NOT] IN (<set>)`, where <set> selects the seq of index rows of one
// table, one UNION ALL arm per OR-ed value, each arm one range of the table's primary key
// (pk, values...) for the parameter's keys (search_param: one per tenant, type and
// parameter, looked up before the SQL is written). Index rows exist only for live current
// versions (Put keeps it so), so a set of index rows needs no join with resource_version.
// Chains nest sets over reference_index; _has yields (type, id) pairs of referenced
// resources instead, compared as `(r.type, r.id) IN`. Composite values are ranges of their
// second component's table under the keys that name their token (store::CompositeParam);
// :of-type and :identifier read token rows of their own (store::ModifierParam); _text and
// _content are one FTS5 MATCH of text_index each, whose rowid is the seq. Plan() picks how the candidates are
// read (driven by the most selective set, or walked in sort order); every value is a bound
// parameter.
//
// The SQL text varies with the query (clauses, values, types), so these statements are
// prepared per search and finalized rather than kept in the connection's cache, which
// never evicts and would grow with every new shape a client invents.
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <string>
#include <unordered_set>
#include <variant>
#include <vector>

#include "store/sqlite/queries.h"

namespace ehr::store::sqlite {
namespace {

// Bounds that keep generated SQL far from SQLite's limits (expression depth 1000, 500
// compound terms, 32766 variables) and a search's work bounded.
constexpr size_t kMaxClauses = 40;       // all clauses, nested chain and _has clauses included
constexpr size_t kMaxValues = 100;       // OR-ed values of one clause
constexpr size_t kMaxTotalValues = 400;  // values of all clauses together
constexpr int kMaxChainDepth = 4;        // nested chain / _has levels
constexpr size_t kMaxSortKeys = 5;
constexpr size_t kMaxTypes = 256;
constexpr size_t kMaxIncludes = 16;
constexpr int kMaxIncludeDepth = 4;    // rounds of :iterate
constexpr size_t kMaxIncluded = 5000;  // included resources on one page (a chart of one patient fits)
constexpr int kMaxCount = 1000;        // matches on one page (larger counts are reduced)
constexpr size_t kMaxParams = 8000;
constexpr size_t kMaxCursorBytes = 16384;
// A positive clause matching fewer index rows than this drives the search (see Plan).
constexpr int kDriveLimit = 5000;
// Parameter keys one composite value may stand for (a code in many systems, a system's codes).
constexpr size_t kMaxCompositeKeys = 500;

using SqlValue = std::variant<std::monostate, int64_t, double, std::string>;

Status Invalid(std::string msg) { return Status::Invalid("search: " + std::move(msg)); }
Status Unsupported(std::string msg) { return Status::NotSupported(Code::kInvalid, "search: " + std::move(msg)); }
Status TooCostly() {
  return Status(Code::kUnavailable, Issue{"error", "too-costly", "search: the search took too long; narrow it", {}});
}

// A statement prepared for one search; finalized on destruction.
class OneShot {
 public:
  static Result<OneShot> Prepare(Connection& c, const std::string& sql, const std::vector<SqlValue>& params) {
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v3(c.raw(), sql.c_str(), static_cast<int>(sql.size()), 0, &raw, nullptr);
    if (rc != SQLITE_OK) return StatusFromSqlite(rc, "prepare search");
    OneShot s(raw);
    const int n = std::min(sqlite3_bind_parameter_count(raw), static_cast<int>(params.size()));
    for (int i = 0; i < n; ++i) {
      const SqlValue& v = params[static_cast<size_t>(i)];
      if (const auto* t = std::get_if<std::string>(&v)) {
        rc = sqlite3_bind_text64(raw, i + 1, t->data(), t->size(), SQLITE_STATIC, SQLITE_UTF8);
      } else if (const auto* d = std::get_if<double>(&v)) {
        rc = sqlite3_bind_double(raw, i + 1, *d);
      } else if (const auto* k = std::get_if<int64_t>(&v)) {
        rc = sqlite3_bind_int64(raw, i + 1, *k);
      } else {
        rc = sqlite3_bind_null(raw, i + 1);
      }
      if (rc != SQLITE_OK) return StatusFromSqlite(rc, "bind search");
    }
    return s;
  }
  OneShot(OneShot&& o) noexcept : stmt_(std::exchange(o.stmt_, nullptr)) {}
  OneShot(const OneShot&) = delete;
  OneShot& operator=(const OneShot&) = delete;
  OneShot& operator=(OneShot&&) = delete;
  ~OneShot() { sqlite3_finalize(stmt_); }

  Result<bool> Step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return StatusFromSqlite(rc, "run search");
  }
  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::string Text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p == nullptr ? std::string() : std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
  }
  SqlValue Value(int col) const {
    switch (sqlite3_column_type(stmt_, col)) {
      case SQLITE_INTEGER:
        return Int(col);
      case SQLITE_FLOAT:
        return sqlite3_column_double(stmt_, col);
      case SQLITE_NULL:
        return std::monostate();
      default:
        return Text(col);
    }
  }

 private:
  explicit OneShot(sqlite3_stmt* s) : stmt_(s) {}
  sqlite3_stmt* stmt_;
};

// Aborts statements of this connection once the deadline passes (SQLITE_INTERRUPT).
class Deadline {
 public:
  Deadline(sqlite3* db, int64_t timeout_ms)
      : db_(db), end_(std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max<int64_t>(timeout_ms, 0))) {
    sqlite3_progress_handler(db_, 1000, &Check, this);
  }
  ~Deadline() { sqlite3_progress_handler(db_, 0, nullptr, nullptr); }
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;
  bool expired() const { return expired_; }

 private:
  static int Check(void* self) {
    auto* d = static_cast<Deadline*>(self);
    if (std::chrono::steady_clock::now() > d->end_) d->expired_ = true;
    return d->expired_ ? 1 : 0;
  }
  sqlite3* db_;
  std::chrono::steady_clock::time_point end_;
  bool expired_ = false;
};

// One snapshot for the page, the total and the includes (when the caller has none open).
class ReadSnapshot {
 public:
  explicit ReadSnapshot(Connection& c) : c_(c) {
    if (c_.InAutocommit()) owned_ = c_.Run("BEGIN", "begin search").ok();
  }
  ~ReadSnapshot() {
    if (owned_ && !c_.InAutocommit()) (void)c_.Run("COMMIT", "end search");
  }
  ReadSnapshot(const ReadSnapshot&) = delete;
  ReadSnapshot& operator=(const ReadSnapshot&) = delete;

 private:
  Connection& c_;
  bool owned_ = false;
};

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

std::string RenderSet(const std::vector<Arm>& arms, bool ids_only) {
  std::string sql;
  for (const Arm& a : arms) {
    if (!sql.empty()) sql += " UNION ALL ";
    sql += "SELECT ";
    if (!ids_only && !a.type_col.empty()) sql += a.type_col + ", ";
    sql += a.id_col + " " + a.from_where;
  }
  return sql;
}

// The resource row `alias` is (not) in `set`. `single_type`: both sides are restricted to
// the same one type, so ids alone decide a set of pairs. `probe`: the `+` keeps SQLite
// from using the set to look the rows up.
std::string InSet(const std::string& alias, const Compiled& set, bool single_type, bool probe = false) {
  const std::string in = set.negated ? " NOT IN (" : " IN (";
  const std::string plus = probe ? "+" : "";
  if (set.by_seq && probe) {
    // One seek of the arm's table by seq per candidate (its *_seq index), instead of
    // materializing the whole set first: a set of 50,000 dates costs 50 ms to build, and
    // the driver or the walk in sort order brings only a page's worth of candidates.
    std::string any;
    for (const Arm& a : set.arms) {
      any += (any.empty() ? "" : " OR ") + std::string("EXISTS (SELECT 1 ") +
             (a.probe_where.empty() ? a.from_where : a.probe_where) + " AND " + a.id_col + " = " + alias + ".seq)";
    }
    return (set.negated ? "NOT (" : "(") + any + ")";
  }
  if (set.by_seq) return alias + ".seq" + in + RenderSet(set.arms, true) + ")";
  if (single_type) return plus + alias + ".id" + in + RenderSet(set.arms, true) + ")";
  return "(" + plus + alias + ".type, " + plus + alias + ".id)" + in + RenderSet(set.arms, false) + ")";
}

const char* TableOf(ParamKind kind) {
  switch (kind) {
    case ParamKind::kString:
      return "string_index";
    case ParamKind::kToken:
      return "token_index";
    case ParamKind::kDate:
      return "date_index";
    case ParamKind::kNumber:
      return "number_index";
    case ParamKind::kQuantity:
      return "quantity_index";
    case ParamKind::kReference:
      return "reference_index";
    case ParamKind::kUri:
      return "uri_index";
    default:
      return nullptr;
  }
}

// Upper bound of the strings starting with `prefix` under BINARY collation: 0xFF never
// occurs in UTF-8, so every such string sorts below it.
std::string PrefixEnd(std::string prefix) {
  prefix.push_back('\xff');
  return prefix;
}

Micros Clamp(double d) {
  if (d >= 9.2e18) return std::numeric_limits<Micros>::max();
  if (d <= -9.2e18) return std::numeric_limits<Micros>::min();
  return static_cast<Micros>(d);
}

// Cursor fingerprint and checksum: FNV-1a, 64 bit. Not a MAC (there is no secret here): it
// catches damaged cursors and cursors of another search; a forged one can only name a
// position, all of whose values are bound.
uint64_t Fnv(std::string_view bytes, uint64_t h = 1469598103934665603ull) {
  for (unsigned char ch : bytes) {
    h ^= ch;
    h *= 1099511628211ull;
  }
  return h;
}

void PutU64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint64_t GetU64(std::string_view in) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(in[static_cast<size_t>(i)]);
  return v;
}

// One sort key of the page statement.
struct KeyPlan {
  std::string expr;  // SQL on alias r
  bool descending = false;
  bool nullable = false;  // a resource may have no value (sorted last)
  char value_type = 'T';  // of its values (and cursor values): 'I' integer, 'R' number, 'T' text
};

struct Row {
  int64_t seq = 0;
  SearchMatch match;
  std::vector<SqlValue> keys;
};

class SqlSearch {
 public:
  SqlSearch(Connection& c, const SearchQuery& q, const SearchOptions& o) : c_(c), q_(q), o_(o), sql_(q.tenant) {}

  // Builds `where_` (the candidates and every clause) and the sort plan; false when the
  // tenant has nothing to find (no types at all).
  Result<bool> Plan();
  Result<SearchPage> Run();
  Result<SearchPlan> Explain();

 private:
  Result<const std::vector<std::string>*> TenantTypes();
  Result<std::vector<int64_t>> ParamKeys(const std::vector<std::string>& types, const std::string& param);
  Result<Compiled> CompileCompartment(const CompartmentFilter& f, const std::vector<std::string>& types);
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

Result<const std::vector<std::string>*> SqlSearch::TenantTypes() {
  if (!tenant_types_) {
    // A skip scan of resource_live_id: one seek per type instead of reading every resource.
    std::vector<std::string> types;
    std::string after;  // '' sorts before every type name
    while (types.size() < kMaxTypes) {
      std::string next;
      {
        EHR_ASSIGN_OR_RETURN(Stmt s, c_.Prepare("SELECT type FROM resource_version INDEXED BY resource_live_id "
                                                "WHERE tenant = ?1 AND type > ?2 AND is_current = 1 AND deleted = 0 "
                                                "ORDER BY type LIMIT 1",
                                                "list resource types"));
        s.BindText(1, q_.tenant).BindText(2, after);
        EHR_ASSIGN_OR_RETURN(bool row, s.Step());
        if (!row) break;
        next = s.ColumnText(0);
      }
      after = next;
      types.push_back(std::move(next));
    }
    tenant_types_ = std::move(types);
  }
  return &*tenant_types_;
}

// The search_param keys of `param` on `types` (those that have ever been indexed).
Result<std::vector<int64_t>> SqlSearch::ParamKeys(const std::vector<std::string>& types, const std::string& param) {
  std::vector<int64_t> keys;
  for (const std::string& type : types) {
    auto [it, added] = param_keys_.try_emplace({type, param});
    if (added) {
      EHR_ASSIGN_OR_RETURN(Stmt s, c_.Prepare("SELECT pk FROM search_param WHERE tenant = ?1 AND type = ?2 AND param = ?3",
                                              "read search parameter key"));
      s.BindText(1, q_.tenant).BindText(2, type).BindText(3, param);
      EHR_ASSIGN_OR_RETURN(bool row, s.Step());
      if (row) it->second = s.ColumnInt(0);
    }
    if (it->second) keys.push_back(*it->second);
  }
  return keys;
}

std::string SqlSearch::DateCondition(Prefix p, const std::string& low, const std::string& high, Micros vl, Micros vh) {
  // Row [low, high] against value [vl, vh], both inclusive (R4 search 3.1.1.4). Terms marked
  // "bound" are implied by the rest and only give an index a range to seek; a `+` keeps a
  // term from being the range (without statistics SQLite may pick the wider one).
  const std::string bl = sql_.Bind(vl), bh = sql_.Bind(vh);
  const std::string eq = "(" + low + " >= " + bl + " AND +" + high + " <= " + bh + ")";
  switch (p) {
    case Prefix::kEq:
      return low + " <= " + bh + " AND " + eq;  // bound: low <= vh
    case Prefix::kNe:
      return "NOT " + eq;
    case Prefix::kGt:
      return high + " > " + bh;
    case Prefix::kLt:
      return low + " < " + bl;
    case Prefix::kGe:
      return high + " >= " + bl + " AND (" + high + " > " + bh + " OR " + eq + ")";  // bound: high >= vl
    case Prefix::kLe:
      return low + " <= " + bh + " AND (" + low + " < " + bl + " OR " + eq + ")";  // bound: low <= vh
    case Prefix::kSa:
      return low + " > " + bh;
    case Prefix::kEb:
      return high + " < " + bl;
    case Prefix::kAp: {
      // Overlaps the value widened on each side by 10% of its distance to now. The range is
      // on `high`: ap values are usually recent, and few rows end after a recent instant.
      const Micros al = Clamp(static_cast<double>(vl) - std::fabs(static_cast<double>(o_.now) - vl) / 10);
      const Micros ah = Clamp(static_cast<double>(vh) + std::fabs(static_cast<double>(o_.now) - vh) / 10);
      return "+" + low + " <= " + sql_.Bind(ah) + " AND " + high + " >= " + sql_.Bind(al);
    }
  }
  return "0";
}

std::string SqlSearch::NumberCondition(Prefix p, const std::string& col, double value, double low, double high) {
  // A row is a point; the value is [low, high) from its precision.
  switch (p) {
    case Prefix::kEq:
      return col + " >= " + sql_.Bind(low) + " AND " + col + " < " + sql_.Bind(high);
    case Prefix::kNe:
      return "(" + col + " < " + sql_.Bind(low) + " OR " + col + " >= " + sql_.Bind(high) + ")";
    case Prefix::kGt:
      return col + " > " + sql_.Bind(value);
    case Prefix::kLt:
      return col + " < " + sql_.Bind(value);
    case Prefix::kGe:
      return col + " >= " + sql_.Bind(value);
    case Prefix::kLe:
      return col + " <= " + sql_.Bind(value);
    case Prefix::kSa:
      return col + " >= " + sql_.Bind(high);
    case Prefix::kEb:
      return col + " < " + sql_.Bind(low);
    case Prefix::kAp: {
      const double d = std::fabs(value) / 10;
      return col + " >= " + sql_.Bind(std::min(value - d, low)) + " AND " + col +
             " <= " + sql_.Bind(std::max(value + d, high));
    }
  }
  return "0";
}

// A token row of alias `x` with the value's code and/or system.
std::string SqlSearch::TokenCondition(const TokenValue& t, const std::string& x) {
  std::string cond;
  if (t.code) cond = x + ".code = " + sql_.Bind(*t.code);
  if (t.system) cond += (cond.empty() ? "" : " AND ") + x + ".system = " + SystemNumber(*t.system);
  return cond;
}

// The alternatives (OR-ed) by which one row of table alias `x` matches value `v`.
Result<std::vector<std::string>> SqlSearch::ValueConditions(const Clause& cl, const SearchValue& v,
                                                            const std::string& x) {
  auto mismatch = [&] { return Invalid("a value of parameter '" + cl.param + "' does not fit its type"); };
  switch (cl.kind) {
    case ParamKind::kString: {
      const auto* s = std::get_if<StringValue>(&v);
      if (s == nullptr) return mismatch();
      if (cl.modifier == Modifier::kNone) {
        return std::vector<std::string>{x + ".normalized >= " + sql_.Bind(s->normalized) + " AND " + x +
                                        ".normalized < " + sql_.Bind(PrefixEnd(s->normalized))};
      }
      if (cl.modifier == Modifier::kContains) {
        // instr() is a plain substring test: no LIKE wildcards to escape.
        return std::vector<std::string>{"instr(" + x + ".normalized, " + sql_.Bind(s->normalized) + ") > 0"};
      }
      if (cl.modifier == Modifier::kExact) {
        // Equal text has equal normalized text: the index narrows on that first.
        return std::vector<std::string>{x + ".normalized = " + sql_.Bind(s->normalized) + " AND " + x +
                                        ".exact = " + sql_.Bind(s->exact)};
      }
      break;
    }
    case ParamKind::kToken: {
      if (cl.modifier == Modifier::kText) {
        std::string text;
        if (const auto* t = std::get_if<TokenValue>(&v); t != nullptr && t->code) {
          text = *t->code;
        } else if (const auto* s = std::get_if<StringValue>(&v)) {
          text = s->normalized;
        } else {
          return mismatch();
        }
        // Some text of the code starts with the value (each text follows the mark).
        return std::vector<std::string>{"instr(" + x + ".text, " + sql_.Bind(std::string(kTokenTextMark) + text) +
                                        ") > 0"};
      }
      if (cl.modifier == Modifier::kOfType) {
        // Rows of <param>:of-type: the type coding's system, and its code with the value.
        const auto* o = std::get_if<OfTypeValue>(&v);
        if (o == nullptr) return mismatch();
        return std::vector<std::string>{
            x + ".code = " + sql_.Bind(o->type_code + std::string(kTokenTextMark) + o->value) + " AND " + x +
            ".system = " + SystemNumber(o->type_system)};
      }
      if (cl.modifier != Modifier::kNone && cl.modifier != Modifier::kNot) break;
      const auto* t = std::get_if<TokenValue>(&v);
      if (t == nullptr || (!t->code && !t->system)) return mismatch();
      return std::vector<std::string>{TokenCondition(*t, x)};
    }
    case ParamKind::kDate: {
      const auto* d = std::get_if<DateValue>(&v);
      if (d == nullptr || d->low > d->high) return mismatch();
      if (cl.modifier != Modifier::kNone) break;
      return std::vector<std::string>{DateCondition(d->prefix, x + ".low", x + ".high", d->low, d->high)};
    }
    case ParamKind::kNumber: {
      const auto* n = std::get_if<NumberValue>(&v);
      if (n == nullptr || !std::isfinite(n->value) || !std::isfinite(n->low) || !std::isfinite(n->high)) {
        return mismatch();
      }
      if (cl.modifier != Modifier::kNone) break;
      return std::vector<std::string>{NumberCondition(n->prefix, x + ".value", n->value, n->low, n->high)};
    }
    case ParamKind::kQuantity: {
      const auto* n = std::get_if<QuantityValue>(&v);
      if (n == nullptr || !std::isfinite(n->value) || !std::isfinite(n->low) || !std::isfinite(n->high)) {
        return mismatch();
      }
      if (cl.modifier != Modifier::kNone) break;
      if (!n->canonical_unit.empty()) {
        return std::vector<std::string>{x + ".canonical_unit = " + sql_.Bind(n->canonical_unit) + " AND " +
                                        NumberCondition(n->prefix, x + ".canonical_value", n->canonical_value,
                                                        n->canonical_low, n->canonical_high)};
      }
      std::string cond;
      if (!n->system.empty()) cond += x + ".system = " + sql_.Bind(n->system) + " AND ";
      if (!n->code.empty()) {
        // Without a system the code may also be the unit as written (`5.4||mg`).
        const std::string code = sql_.Bind(n->code);
        cond += n->system.empty() ? "(" + x + ".code = " + code + " OR " + x + ".unit = " + code + ") AND "
                                  : x + ".code = " + code + " AND ";
      }
      return std::vector<std::string>{cond + NumberCondition(n->prefix, x + ".value", n->value, n->low, n->high)};
    }
    case ParamKind::kReference: {
      if (cl.modifier == Modifier::kIdentifier) {
        // Rows of <param>:identifier: Reference.identifier as a token.
        const auto* t = std::get_if<TokenValue>(&v);
        if (t == nullptr || (!t->code && !t->system)) return mismatch();
        return std::vector<std::string>{TokenCondition(*t, x)};
      }
      const auto* r = std::get_if<ReferenceValue>(&v);
      if (r == nullptr) return mismatch();
      if (cl.modifier != Modifier::kNone && cl.modifier != Modifier::kType) break;
      std::string type = r->type;
      if (cl.modifier == Modifier::kType) {
        if (cl.type.empty()) return Invalid("the :[type] modifier of '" + cl.param + "' names no type");
        if (!type.empty() && type != cl.type) return std::vector<std::string>{"0"};
        type = cl.type;
      }
      std::vector<std::string> alternatives;
      if (!r->id.empty()) {
        std::string type_cond;
        if (type.empty()) {
          // Any type: one seek per type that has resources in the tenant.
          EHR_ASSIGN_OR_RETURN(const std::vector<std::string>* all, TenantTypes());
          type_cond = x + ".target_type " + sql_.TypeIs(*all);
        } else {
          type_cond = x + ".target_type = " + sql_.Bind(type);
        }
        alternatives.push_back(type_cond + " AND " + x + ".target_id = " + sql_.Bind(r->id));
      }
      if (!r->url.empty()) alternatives.push_back(x + ".url <> '' AND " + x + ".url = " + sql_.Bind(r->url));
      if (alternatives.empty()) return mismatch();
      return alternatives;
    }
    case ParamKind::kUri: {
      const auto* u = std::get_if<UriValue>(&v);
      if (u == nullptr) return mismatch();
      const std::string uri = sql_.Bind(u->uri);
      if (cl.modifier == Modifier::kNone) return std::vector<std::string>{x + ".uri = " + uri};
      if (cl.modifier == Modifier::kBelow) {
        return std::vector<std::string>{x + ".uri >= " + uri + " AND " + x + ".uri < " + sql_.Bind(PrefixEnd(u->uri))};
      }
      if (cl.modifier == Modifier::kContains) {
        // A plain substring test (instr: no LIKE wildcards), as written: URIs are case-sensitive.
        return std::vector<std::string>{"instr(" + x + ".uri, " + uri + ") > 0"};
      }
      if (cl.modifier == Modifier::kAbove) {
        // The row is a prefix of the value: within [first character, value], then checked.
        return std::vector<std::string>{x + ".uri <= " + uri + " AND " + x + ".uri >= substr(" + uri + ", 1, 1) AND " +
                                        "substr(" + uri + ", 1, length(" + x + ".uri)) = " + x + ".uri"};
      }
      break;
    }
    default:
      break;
  }
  return Unsupported("modifier not supported for parameter '" + cl.param + "'");
}

// The constant set of a clause whose parameter has no index rows for these types.
constexpr std::string_view kAlways = "1", kNever = "0";

Compiled Constant(bool matches) {
  Compiled out;
  out.condition = matches ? kAlways : kNever;
  return out;
}

Result<Compiled> SqlSearch::CompileIndexed(const Clause& cl, const std::vector<std::string>& types) {
  // :of-type and :identifier read token rows of their own (store::ModifierParam).
  const bool of_type = cl.kind == ParamKind::kToken && cl.modifier == Modifier::kOfType;
  const bool identifier = cl.kind == ParamKind::kReference && cl.modifier == Modifier::kIdentifier;
  const char* table = of_type || identifier ? "token_index" : TableOf(cl.kind);
  if (table == nullptr) return Invalid("parameter '" + cl.param + "' has no index");
  if (cl.modifier != Modifier::kMissing && cl.values.empty()) return Invalid("parameter '" + cl.param + "' has no value");
  const std::string key_param = of_type      ? ModifierParam(cl.param, "of-type")
                                : identifier ? ModifierParam(cl.param, "identifier")
                                             : cl.param;
  EHR_ASSIGN_OR_RETURN(std::vector<int64_t> keys, ParamKeys(types, key_param));
  const std::string x = sql_.Alias("x");
  const std::string head = std::string("FROM ") + table + " " + x + " WHERE " + x + ".pk " +
                           (keys.empty() ? std::string("IN ()") : sql_.KeyIs(keys));
  Compiled out;
  if (cl.modifier == Modifier::kMissing) {
    if (keys.empty()) return Constant(cl.missing);
    out.arms.push_back({"", x + ".seq", head});
    out.negated = cl.missing;
    return out;
  }
  for (const SearchValue& v : cl.values) {
    // Values are checked (and bound) even when nothing is indexed, so that a bad value is
    // an error whatever the data.
    EHR_ASSIGN_OR_RETURN(std::vector<std::string> alternatives, ValueConditions(cl, v, x));
    for (std::string& cond : alternatives) out.arms.push_back({"", x + ".seq", head + " AND " + cond});
  }
  out.negated = cl.modifier == Modifier::kNot;
  // Token rows are unique per (pk, code, system, seq) (schema.cc, migration 5), and a
  // version has one type, so one system|code arm holds each version once.
  if (out.arms.size() == 1 && (cl.kind == ParamKind::kToken || identifier)) {
    const SearchValue& v = cl.values.front();
    const auto* t = std::get_if<TokenValue>(&v);
    out.unique = of_type || (t != nullptr && t->code && t->system &&
                             (cl.modifier == Modifier::kNone || cl.modifier == Modifier::kIdentifier));
  }
  if (keys.empty()) return Constant(out.negated);
  return out;
}

// The keys of the composite rows whose token matches `token` (store.h: the token is part
// of the parameter name): one key per type for system|code, else a range of search_param
// (every system of a code; every code, checked for the system).
Result<std::vector<int64_t>> SqlSearch::CompositeKeys(const std::vector<std::string>& types,
                                                      const std::string& composite, const TokenValue& token) {
  if (token.code && token.system) return ParamKeys(types, CompositeParam(composite, *token.code, *token.system));
  const std::string prefix = token.code ? CompositeCodePrefix(composite, *token.code) : CompositePrefix(composite);
  const std::string end = PrefixEnd(prefix);  // bound without a copy: must outlive the statement's use
  std::vector<int64_t> keys;
  for (const std::string& type : types) {
    EHR_ASSIGN_OR_RETURN(Stmt s, c_.Prepare("SELECT pk, param FROM search_param "
                                            "WHERE tenant = ?1 AND type = ?2 AND param >= ?3 AND param < ?4",
                                            "read composite parameter keys"));
    s.BindText(1, q_.tenant).BindText(2, type).BindText(3, prefix).BindText(4, end);
    while (true) {
      EHR_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      if (!token.code) {
        std::optional<CompositeToken> parsed = ParseCompositeParam(s.ColumnText(1));
        if (!parsed || parsed->system != *token.system) continue;
      }
      if (keys.size() == kMaxCompositeKeys) {
        return Invalid("a value of '" + composite + "' stands for more than " + std::to_string(kMaxCompositeKeys) +
                       " codes; give the code (system|code)");
      }
      keys.push_back(s.ColumnInt(0));
    }
  }
  return keys;
}

// Composite rows (store.h) are those of the component after the token, in its table, one
// parameter key per token: a value is the rows of its token's keys that match the second
// component as a clause of that kind would. Two numbers after the token (MolecularSequence
// coordinates) are the low and high of a date_index row.
Result<Compiled> SqlSearch::CompileComposite(const Clause& cl, const std::vector<std::string>& types) {
  const std::vector<ParamKind>& kinds = cl.components;
  const bool pair = kinds.size() == 3 && kinds[1] == ParamKind::kNumber && kinds[2] == ParamKind::kNumber;
  const char* table = pair ? "date_index" : kinds.size() == 2 ? TableOf(kinds[1]) : nullptr;
  if (kinds.empty() || kinds[0] != ParamKind::kToken || table == nullptr) {
    return Invalid("composite parameter '" + cl.param + "' has components the index cannot hold");
  }
  // A composite that is the union of others (Observation combo-*) reads their rows.
  const std::vector<std::string> own = {cl.param};
  const std::vector<std::string>& names = cl.composite_parts.empty() ? own : cl.composite_parts;
  const std::string x = sql_.Alias("x");
  Compiled out;
  if (cl.modifier == Modifier::kMissing) {
    std::string ranges;
    for (const std::string& name : names) {
      const std::string prefix = CompositePrefix(name);
      ranges += (ranges.empty() ? "(" : " OR (") + std::string("param >= ") + sql_.Bind(prefix) + " AND param < " +
                sql_.Bind(PrefixEnd(prefix)) + ")";
    }
    out.arms.push_back({"", x + ".seq",
                        std::string("FROM ") + table + " " + x + " WHERE " + x +
                            ".pk IN (SELECT pk FROM search_param WHERE tenant = ?1 AND type " + sql_.TypeIs(types) +
                            " AND (" + ranges + "))"});
    out.negated = cl.missing;
    return out;
  }
  if (cl.modifier != Modifier::kNone) return Unsupported("modifier not supported for parameter '" + cl.param + "'");
  if (cl.values.empty()) return Invalid("parameter '" + cl.param + "' has no value");
  Clause component;
  component.param = cl.param;
  component.kind = kinds[1];
  for (const SearchValue& v : cl.values) {
    const auto* c = std::get_if<CompositeValue>(&v);
    const TokenValue* token = c != nullptr && c->components.size() == kinds.size()
                                  ? std::get_if<TokenValue>(&c->components[0])
                                  : nullptr;
    if (token == nullptr || (!token->code && !token->system)) {
      return Invalid("a value of parameter '" + cl.param + "' does not fit its components");
    }
    std::vector<std::string> alternatives;
    if (pair) {
      const auto* start = std::get_if<NumberValue>(&c->components[1]);
      const auto* end = std::get_if<NumberValue>(&c->components[2]);
      if (start == nullptr || end == nullptr) return Invalid("a value of '" + cl.param + "' does not fit its components");
      alternatives.push_back(NumberCondition(start->prefix, x + ".low", start->value, start->low, start->high) +
                             " AND " + NumberCondition(end->prefix, x + ".high", end->value, end->low, end->high));
    } else {
      const SearchValue second = std::visit([](const auto& value) { return SearchValue(value); }, c->components[1]);
      EHR_ASSIGN_OR_RETURN(alternatives, ValueConditions(component, second, x));
    }
    std::vector<int64_t> keys;
    for (const std::string& name : names) {
      EHR_ASSIGN_OR_RETURN(std::vector<int64_t> more, CompositeKeys(types, name, *token));
      keys.insert(keys.end(), more.begin(), more.end());
    }
    if (keys.empty()) continue;
    const std::string head = std::string("FROM ") + table + " " + x + " WHERE " + x + ".pk " + sql_.KeyIs(keys);
    for (std::string& cond : alternatives) out.arms.push_back({"", x + ".seq", head + " AND " + cond});
  }
  if (out.arms.empty()) return Constant(false);
  return out;
}

// An FTS5 string: the text between double quotes, each quote in it doubled. Inside one,
// nothing is an operator: the tokenizer makes words of it and the words form a phrase.
std::string FtsString(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    out.push_back(c);
    if (c == '"') out.push_back('"');
  }
  out.push_back('"');
  return out;
}

// _text and _content: one MATCH of text_index per value, confined to the scope words of
// the searched types (queries.h) and to the column of the parameter. The expression is
// built here from quoted phrases and fixed operators only, and bound.
Result<Compiled> SqlSearch::CompileText(const Clause& cl, const std::vector<std::string>& types) {
  const char* column = cl.param == "_text" ? "narrative" : cl.param == "_content" ? "content" : nullptr;
  if (column == nullptr) return Invalid("parameter '" + cl.param + "' is no full-text parameter");
  if (cl.modifier != Modifier::kNone) return Unsupported("modifier not supported for parameter '" + cl.param + "'");
  if (cl.values.empty()) return Invalid("parameter '" + cl.param + "' has no value");
  EHR_ASSIGN_OR_RETURN(std::vector<int64_t> keys, ParamKeys(types, std::string(kTextScopeParam)));
  std::string scope;
  for (int64_t k : keys) scope += (scope.empty() ? "" : " OR ") + FtsString(TextScope(k));
  const std::string x = sql_.Alias("x");
  Compiled out;
  for (const SearchValue& v : cl.values) {
    const auto* text = std::get_if<TextValue>(&v);
    if (text == nullptr || text->groups.empty()) return Invalid("a value of '" + cl.param + "' is not a text query");
    std::string any;
    for (const std::vector<std::string>& group : text->groups) {
      if (group.empty()) return Invalid("a value of '" + cl.param + "' has an empty group of words");
      std::string all;
      for (const std::string& phrase : group) all += (all.empty() ? "" : " ") + FtsString(phrase);
      any += (any.empty() ? "(" : " OR (") + all + ")";
    }
    if (keys.empty()) continue;
    const std::string match = "{scope} : (" + scope + ") AND {" + column + "} : (" + any + ")";
    out.arms.push_back({"", x + ".rowid", "FROM text_index " + x + " WHERE " + x + ".text_index MATCH " + sql_.Bind(match)});
  }
  if (out.arms.empty()) return Constant(false);
  return out;
}

// A version's reference row points to a resource of `targets` in `inner` (a set of versions).
// `probe`: the `+` keeps SQLite from seeking the row once per target (5,000 seeks per
// candidate for `subject:Patient.gender=male`); the candidate's own rows are tested
// against the targets instead.
std::string TargetIn(const std::string& x, const Compiled& inner, bool single_target, bool probe = false) {
  const std::string versions = "FROM resource_version t WHERE t.seq IN (" + RenderSet(inner.arms, true) + ")";
  const std::string plus = probe ? "+" : "";
  if (single_target) return plus + x + ".target_id IN (SELECT t.id " + versions + ")";
  return "(" + plus + x + ".target_type, " + plus + x + ".target_id) IN (SELECT t.type, t.id " + versions + ")";
}

Result<Compiled> SqlSearch::CompileChain(const Clause& cl, const std::vector<std::string>& types, int depth) {
  if (cl.kind != ParamKind::kReference || cl.chain.size() != 1 || !cl.values.empty()) {
    return Invalid("chained parameter '" + cl.param + "' must be a reference with one chained clause");
  }
  std::vector<std::string> targets;
  if (cl.type.empty()) {
    EHR_ASSIGN_OR_RETURN(const std::vector<std::string>* all, TenantTypes());
    targets = *all;
  } else {
    targets = {cl.type};
  }
  EHR_ASSIGN_OR_RETURN(Compiled inner, MatchSet(cl.chain[0], targets, depth + 1));
  EHR_ASSIGN_OR_RETURN(std::vector<int64_t> keys, ParamKeys(types, cl.param));
  if (keys.empty() || targets.empty()) return Constant(false);
  const std::string x = sql_.Alias("x");
  Compiled out;
  const std::string head = "FROM reference_index " + x + " WHERE " + x + ".pk " + sql_.KeyIs(keys) + " AND " + x +
                           ".target_type " + sql_.TypeIs(targets) + " AND ";
  out.arms.push_back({"", x + ".seq", head + TargetIn(x, inner, targets.size() == 1),
                      head + TargetIn(x, inner, targets.size() == 1, true)});
  return out;
}

Result<Compiled> SqlSearch::CompileHas(const Clause& cl, const std::vector<std::string>& types, int depth) {
  if (cl.has_type.empty() || cl.has_param.empty() || cl.chain.size() != 1) {
    return Invalid("_has needs a resource type, a reference parameter and one clause");
  }
  const std::vector<std::string> sources = {cl.has_type};
  EHR_ASSIGN_OR_RETURN(Compiled inner, MatchSet(cl.chain[0], sources, depth + 1));
  EHR_ASSIGN_OR_RETURN(std::vector<int64_t> keys, ParamKeys(sources, cl.has_param));
  if (keys.empty()) return Constant(false);
  const std::string x = sql_.Alias("x");
  Compiled out;
  out.arms.push_back({x + ".target_type", x + ".target_id",
                      "FROM reference_index " + x + " WHERE " + x + ".pk " + sql_.KeyIs(keys) + " AND " + x +
                          ".target_type " + sql_.TypeIs(types) + " AND " + x + ".seq IN (" +
                          RenderSet(inner.arms, true) + ")"});
  out.by_seq = false;
  out.live = false;  // a reference may point to a deleted or missing resource
  return out;
}

// _list: the resources the current version of a List (one of the values) names in
// List.entry.item, through that List's own `item` reference rows. A deleted or missing
// List names nothing; an item may name a resource that does not exist (not live).
Result<Compiled> SqlSearch::CompileList(const Clause& cl, const std::vector<std::string>& types) {
  if (cl.modifier != Modifier::kNone) return Invalid("_list takes no modifier");
  if (cl.values.empty()) return Invalid("_list has no value");
  std::string ids;
  for (const SearchValue& v : cl.values) {
    const auto* t = std::get_if<TokenValue>(&v);
    if (t == nullptr || !t->code) return Invalid("a value of _list is not the id of a List");
    ids += (ids.empty() ? "" : ", ") + sql_.Bind(*t->code);
  }
  EHR_ASSIGN_OR_RETURN(std::vector<int64_t> keys, ParamKeys({"List"}, "item"));
  if (keys.empty()) return Constant(false);
  const std::string x = sql_.Alias("x");
  const std::string l = sql_.Alias("l");
  Compiled out;
  out.arms.push_back({x + ".target_type", x + ".target_id",
                      "FROM resource_version " + l + " JOIN reference_index " + x + " ON " + x + ".seq = " + l +
                          ".seq AND " + x + ".pk " + sql_.KeyIs(keys) + " AND " + x + ".target_type " +
                          sql_.TypeIs(types) + " WHERE " + l + ".tenant = ?1 AND " + l + ".type = 'List' AND " + l +
                          ".id IN (" + ids + ") AND " + l + ".is_current = 1 AND " + l + ".deleted = 0"});
  out.by_seq = false;
  out.live = false;
  return out;
}

Result<Compiled> SqlSearch::CompileCompartment(const CompartmentFilter& f, const std::vector<std::string>& types) {
  std::vector<int64_t> keys;
  for (const auto& [type, param] : f.links) {
    if (std::find(types.begin(), types.end(), type) == types.end()) continue;
    EHR_ASSIGN_OR_RETURN(std::vector<int64_t> k, ParamKeys({type}, param));
    keys.insert(keys.end(), k.begin(), k.end());
  }
  const bool self = std::find(types.begin(), types.end(), f.type) != types.end();
  Compiled out;
  if (!keys.empty()) {
    out.arms.push_back({"", "x.seq",
                        "FROM reference_index x WHERE x.pk " + sql_.KeyIs(keys) + " AND x.target_type = " +
                            sql_.Bind(f.type) + " AND x.target_id = " + sql_.Bind(f.id)});
  }
  if (self) {
    out.arms.push_back({"", "a.seq",
                        "FROM resource_version a WHERE a.tenant = ?1 AND a.type = " + sql_.Bind(f.type) +
                            " AND a.id = " + sql_.Bind(f.id) + " AND a.is_current = 1 AND a.deleted = 0"});
  }
  if (out.arms.empty()) return Constant(false);
  return out;
}

Result<Compiled> SqlSearch::Compile(const Clause& cl, const std::vector<std::string>& types, const std::string& alias,
                                    int depth) {
  if (depth > kMaxChainDepth)
    return Invalid("chains and _has are limited to " + std::to_string(kMaxChainDepth) + " levels");
  if (++clauses_ > kMaxClauses) return Invalid("too many parameters (at most " + std::to_string(kMaxClauses) + ")");
  if (cl.values.size() > kMaxValues) {
    return Invalid("too many values for '" + cl.param + "' (at most " + std::to_string(kMaxValues) + ")");
  }
  values_ += cl.values.size();
  if (values_ > kMaxTotalValues) return Invalid("too many values (at most " + std::to_string(kMaxTotalValues) + ")");
  if (!cl.has_type.empty() || cl.param == "_has") return CompileHas(cl, types, depth);
  if (!cl.chain.empty()) return CompileChain(cl, types, depth);
  Compiled out;
  if (cl.kind == ParamKind::kId) {
    if (cl.modifier != Modifier::kNone && cl.modifier != Modifier::kNot)
      return Unsupported("modifier not supported for _id");
    if (cl.values.empty()) return Invalid("_id has no value");
    std::string list;
    for (const SearchValue& v : cl.values) {
      const auto* t = std::get_if<TokenValue>(&v);
      if (t == nullptr || !t->code) return Invalid("a value of _id is not an id");
      list += (list.empty() ? "" : ", ") + sql_.Bind(*t->code);
    }
    out.condition = alias + ".id" + (cl.modifier == Modifier::kNot ? " NOT IN (" : " IN (") + list + ")";
    out.by_id = cl.modifier == Modifier::kNone;
    return out;
  }
  if (cl.kind == ParamKind::kLastUpdated) {
    if (cl.modifier != Modifier::kNone) return Unsupported("modifier not supported for _lastUpdated");
    if (cl.values.empty()) return Invalid("_lastUpdated has no value");
    std::string any;
    for (const SearchValue& v : cl.values) {
      const auto* d = std::get_if<DateValue>(&v);
      if (d == nullptr || d->low > d->high) return Invalid("a value of _lastUpdated is not a date");
      const std::string col = alias + ".last_updated";
      any += (any.empty() ? "(" : " OR (") + DateCondition(d->prefix, col, col, d->low, d->high) + ")";
    }
    out.condition = cl.values.size() == 1 ? any : "(" + any + ")";
    return out;
  }
  if (cl.kind == ParamKind::kComposite) return CompileComposite(cl, types);
  if (cl.kind == ParamKind::kText) return CompileText(cl, types);
  if (cl.kind == ParamKind::kList) return CompileList(cl, types);
  return CompileIndexed(cl, types);
}

// The live resources of `types` that match `cl`, as a positive set.
Result<Compiled> SqlSearch::MatchSet(const Clause& cl, const std::vector<std::string>& types, int depth) {
  const std::string a = sql_.Alias("a");
  EHR_ASSIGN_OR_RETURN(Compiled c, Compile(cl, types, a, depth));
  if (!c.arms.empty() && !c.negated && c.live && c.by_seq) return c;
  const std::string cond = c.arms.empty() ? c.condition : InSet(a, c, types.size() == 1);
  Compiled out;
  out.arms.push_back({"", a + ".seq",
                      "FROM resource_version " + a + " WHERE " + a + ".tenant = ?1 AND " + a + ".type " +
                          sql_.TypeIs(types) + " AND " + a + ".is_current = 1 AND " + a + ".deleted = 0 AND " + cond});
  return out;
}

Result<KeyPlan> SqlSearch::KeyOf(const store::SortKey& k, const std::vector<std::string>& types) {
  KeyPlan key;
  key.descending = k.descending;
  if (k.kind == ParamKind::kLastUpdated) {
    key.expr = "r.last_updated";
    key.value_type = 'I';
    return key;
  }
  if (k.kind == ParamKind::kId) {
    key.expr = "r.id";
    return key;
  }
  // The smallest value for ascending, the largest for descending (R4: a resource with
  // several values sorts by the one that puts it first).
  const char* agg = k.descending ? "max(" : "min(";
  std::string column;
  const char* table = TableOf(k.kind);
  switch (k.kind) {
    case ParamKind::kString:
      column = "normalized";
      break;
    case ParamKind::kToken:
      column = "code";
      break;
    case ParamKind::kDate:
      column = k.descending ? "high" : "low";
      key.value_type = 'I';
      break;
    case ParamKind::kNumber:
    case ParamKind::kQuantity:
      column = "value";
      key.value_type = 'R';
      break;
    case ParamKind::kUri:
      column = "uri";
      break;
    default:
      return Unsupported("sorting by '" + k.param + "' is not supported");
  }
  key.nullable = true;
  EHR_ASSIGN_OR_RETURN(std::vector<int64_t> keys, ParamKeys(types, k.param));
  if (keys.empty()) {
    key.expr = "NULL";  // nothing indexed: every resource lacks a value
    return key;
  }
  key.expr = std::string("(SELECT ") + agg + "s." + column + ") FROM " + table + " s WHERE s.seq = r.seq AND s.pk " +
             sql_.KeyIs(keys) + ")";
  return key;
}

Result<int64_t> SqlSearch::Estimate(const Compiled& set, int64_t limit) {
  EHR_ASSIGN_OR_RETURN(OneShot count, OneShot::Prepare(c_,
                                                       "SELECT count(*) FROM (" + RenderSet(set.arms, true) +
                                                           " LIMIT " + std::to_string(limit) + ")",
                                                       sql_.params()));
  EHR_ASSIGN_OR_RETURN(bool row, count.Step());
  return row ? count.Int(0) : 0;
}

// SQLite has no statistics of these tables (and its defaults make it believe the live
// resources of a type are a handful), so the plan is chosen here: a positive clause whose
// set has fewer than kDriveLimit index rows (counted, up to that bound) drives the search,
// its ids looked up in resource_live_id, every other set probed; `_id` drives whenever it
// appears. Otherwise the search walks the index that has the sort order
// (resource_live_seq for newest first) and stops after a page, probing each set. Either
// way the candidates come from covering indexes: the table is read for the page only.
Result<bool> SqlSearch::Plan() {
  if (q_.types.size() > kMaxTypes) return Invalid("too many resource types");
  if (q_.sort.size() > kMaxSortKeys)
    return Invalid("too many sort keys (at most " + std::to_string(kMaxSortKeys) + ")");
  if (q_.includes.size() > kMaxIncludes) return Invalid("too many _include/_revinclude parameters");
  const std::vector<std::string>* types = &q_.types;
  if (q_.types.empty()) {
    // Every type: the candidates need no type condition, the index sets one per type.
    EHR_ASSIGN_OR_RETURN(types, TenantTypes());
    if (types->empty()) return false;
  }
  const bool single_type = q_.types.size() == 1;
  std::vector<Compiled> clauses;
  for (const Clause& cl : q_.clauses) {
    EHR_ASSIGN_OR_RETURN(Compiled c, Compile(cl, *types, "r", 0));
    // References to one resource are the usual selective clause; ranges the usual wide one.
    const bool chained = !cl.chain.empty() || !cl.has_type.empty();
    c.rank = chained                                   ? 2
             : cl.kind == ParamKind::kReference || cl.kind == ParamKind::kList ? 0
             : cl.kind == ParamKind::kDate || cl.kind == ParamKind::kNumber ||
                     cl.kind == ParamKind::kQuantity ? 3
                                                       : 1;
    clauses.push_back(std::move(c));
  }
  if (q_.compartment) {
    EHR_ASSIGN_OR_RETURN(Compiled c, CompileCompartment(*q_.compartment, *types));
    c.rank = 0;
    clauses.push_back(std::move(c));
  }
  // A clause that nothing indexed can match ends the search here (SQLite finds no plan
  // for a constant false WHERE with INDEXED BY); one that everything matches is dropped.
  for (const Compiled& c : clauses) {
    if (c.arms.empty() && c.condition == kNever) return false;
  }
  std::erase_if(clauses, [](const Compiled& c) { return c.arms.empty() && c.condition == kAlways; });
  int driver = -1;
  for (size_t i = 0; i < clauses.size() && driver < 0; ++i) {
    if (clauses[i].by_id) driver = static_cast<int>(i);
  }
  if (driver < 0) {
    // Each set is counted only up to the smallest so far: after `patient=` (50 rows) a
    // `date=ge` of half the table costs 50 index steps, not 5,000.
    std::vector<size_t> order(clauses.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return clauses[a].rank < clauses[b].rank; });
    int64_t smallest = kDriveLimit;
    for (size_t i : order) {
      if (clauses[i].arms.empty() || clauses[i].negated) continue;
      EHR_ASSIGN_OR_RETURN(int64_t rows, Estimate(clauses[i], smallest));
      if (rows < smallest) {
        smallest = rows;
        driver = static_cast<int>(i);
      }
    }
  }
  where_ = "r.tenant = ?1 AND r.is_current = 1 AND r.deleted = 0";
  if (!q_.types.empty() || driver >= 0) where_ += " AND r.type " + sql_.TypeIs(*types);
  count_where_ = where_;
  bool sets_only = !clauses.empty();  // every clause a positive set of live versions
  for (size_t i = 0; i < clauses.size(); ++i) {
    const Compiled& c = clauses[i];
    sets_only = sets_only && !c.arms.empty() && c.by_seq && c.live && !c.negated;
    // The page probes every set but the driver: SQLite would rather look a set of versions
    // up by rowid than walk an index in sort order and stop after a page. Without a driver
    // the count reads every candidate anyway, and testing each against a set built once is
    // cheaper than a seek per candidate.
    const bool probe = static_cast<int>(i) != driver;
    const bool count_probe = probe && driver >= 0;
    where_ += " AND " + (c.arms.empty() ? c.condition : InSet("r", c, single_type, probe));
    count_where_ += " AND " + (c.arms.empty() ? c.condition : InSet("r", c, single_type, count_probe));
  }
  // Index rows belong to live current versions of the query's types (their parameter keys
  // say which), so when every clause is such a set the total is the size of their
  // intersection, counted in the index alone. With a driver, counting its candidates that
  // pass the probes is cheaper than building the other (large) sets.
  if (sets_only && driver < 0) {
    // A resource may have several rows in a set (two names that start alike, two OR-ed
    // codes), so versions are counted once: INTERSECT is distinct, one set needs DISTINCT.
    if (clauses.size() == 1) {
      count_sets_ = std::string("SELECT count(") + (clauses[0].unique ? "*" : "DISTINCT seq") + ") FROM (" +
                    RenderSet(clauses[0].arms, true) + ")";
    } else {
      count_sets_ = "SELECT count(*) FROM (";
      for (size_t i = 0; i < clauses.size(); ++i) {
        count_sets_ += (i == 0 ? "" : " INTERSECT ") + std::string("SELECT * FROM (") +
                       RenderSet(clauses[i].arms, true) + ")";
      }
      count_sets_ += ")";
    }
  }
  for (const store::SortKey& k : q_.sort) {
    EHR_ASSIGN_OR_RETURN(KeyPlan key, KeyOf(k, *types));
    keys_.push_back(std::move(key));
  }
  // The tie-break follows the last key's direction, so that `_lastUpdated` alone is one
  // walk of resource_live_updated, whose entries end in seq.
  if (!keys_.empty()) tie_descending_ = keys_.back().descending;
  const bool filters_updated = std::any_of(q_.clauses.begin(), q_.clauses.end(),
                                           [](const Clause& c) { return c.kind == ParamKind::kLastUpdated; });
  // A set of versions drives by rowid (NOT INDEXED still looks rows up by rowid); _id and
  // _has (pairs) through resource_live_id.
  const bool seq_driver = driver >= 0 && !clauses[static_cast<size_t>(driver)].arms.empty() &&
                          clauses[static_cast<size_t>(driver)].by_seq;
  if (seq_driver) {
    count_index_ = page_index_ = " NOT INDEXED";
  } else if (driver >= 0) {
    count_index_ = page_index_ = " INDEXED BY resource_live_id";
  } else {
    if (!filters_updated) count_index_ = " INDEXED BY resource_live_id";
    if (single_type && keys_.empty()) {
      page_index_ = " INDEXED BY resource_live_seq";
    } else if (single_type && q_.sort[0].kind == ParamKind::kLastUpdated) {
      page_index_ = " INDEXED BY resource_live_updated";
    } else if (single_type && q_.sort[0].kind == ParamKind::kId) {
      page_index_ = " INDEXED BY resource_live_id";
    }
  }
  if (sql_.params().size() > kMaxParams) return Invalid("the search is too large");
  return true;
}

// Rows after the cursor in the sort order: lexicographic over the keys (missing values
// last in either direction), then seq.
std::string SqlSearch::After(size_t i, const std::vector<std::string>& bound,
                             const std::vector<SqlValue>& cursor) const {
  if (i == keys_.size()) return std::string("m.seq ") + (tie_descending_ ? "< " : "> ") + bound[i];
  const std::string k = "m.k" + std::to_string(i);
  const std::string rest = After(i + 1, bound, cursor);
  if (std::holds_alternative<std::monostate>(cursor[i])) return "(" + k + " IS NULL AND " + rest + ")";
  const char* op = keys_[i].descending ? " < " : " > ";
  return "(" + k + op + bound[i] + (keys_[i].nullable ? " OR " + k + " IS NULL" : "") + " OR (" + k + " = " + bound[i] +
         " AND " + rest + "))";
}

std::string SqlSearch::PageSql(const std::vector<SqlValue>* cursor) {
  if (keys_.empty()) {
    std::string sql = "SELECT r.seq, r.type, r.id FROM resource_version r" + page_index_ + " WHERE " + where_;
    if (cursor != nullptr) sql += " AND r.seq < " + sql_.Bind((*cursor)[0]);
    return sql + " ORDER BY r.seq DESC LIMIT " + sql_.Bind(int64_t{std::min(q_.count, kMaxCount)} + 1);
  }
  // Sort keys computed by subqueries are materialized once per candidate; plain columns
  // stay inlined so that an index can deliver the order.
  bool computed = false;
  std::string inner = "SELECT r.seq AS seq, r.type AS type, r.id AS id";
  for (size_t i = 0; i < keys_.size(); ++i) {
    inner += ", " + keys_[i].expr + " AS k" + std::to_string(i);
    computed = computed || keys_[i].nullable;
  }
  inner += " FROM resource_version r" + page_index_ + " WHERE " + where_;
  std::string sql =
      computed ? "WITH m AS MATERIALIZED (" + inner + ") SELECT m.* FROM m" : "SELECT m.* FROM (" + inner + ") m";
  if (cursor != nullptr) {
    std::vector<std::string> bound;
    for (const SqlValue& v : *cursor) bound.push_back(sql_.Bind(v));
    sql += " WHERE ";
    // A plain first key gives the index a start: rows after the cursor are on its side.
    if (!keys_[0].nullable) sql += "m.k0 " + std::string(keys_[0].descending ? "<= " : ">= ") + bound[0] + " AND ";
    sql += After(0, bound, *cursor);
  }
  sql += " ORDER BY ";
  for (size_t i = 0; i < keys_.size(); ++i) {
    sql += "m.k" + std::to_string(i) + (keys_[i].descending ? " DESC" : " ASC");
    sql += keys_[i].nullable ? " NULLS LAST, " : ", ";
  }
  sql += std::string("m.seq ") + (tie_descending_ ? "DESC" : "ASC");
  return sql + " LIMIT " + sql_.Bind(int64_t{std::min(q_.count, kMaxCount)} + 1);
}

std::string SqlSearch::CursorSignature() const {
  std::string sig = q_.tenant;
  for (const std::string& t : q_.types) sig.append("\0t", 2).append(t);
  for (const store::SortKey& k : q_.sort) {
    sig.append("\0s", 2).push_back(static_cast<char>(k.kind));
    sig.push_back(k.descending ? 'd' : 'a');
    sig.append(k.param);
  }
  return sig;
}

// Layout: 'c' 1, value count, values (tag N/I/R/T + payload), FNV of signature and bytes;
// hex-encoded.
std::string SqlSearch::EncodeCursor(const Row& last) const {
  std::string bytes = "c1";
  bytes.push_back(static_cast<char>(last.keys.size() + 1));
  auto put = [&](const SqlValue& v) {
    if (const auto* i = std::get_if<int64_t>(&v)) {
      bytes.push_back('I');
      PutU64(bytes, static_cast<uint64_t>(*i));
    } else if (const auto* d = std::get_if<double>(&v)) {
      uint64_t bits;
      std::memcpy(&bits, d, sizeof bits);
      bytes.push_back('R');
      PutU64(bytes, bits);
    } else if (const auto* t = std::get_if<std::string>(&v)) {
      bytes.push_back('T');
      PutU64(bytes, t->size());
      bytes += *t;
    } else {
      bytes.push_back('N');
    }
  };
  for (const SqlValue& v : last.keys) put(v);
  put(last.seq);
  PutU64(bytes, Fnv(bytes, Fnv(CursorSignature())));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char ch : bytes) {
    out.push_back(kHex[ch >> 4]);
    out.push_back(kHex[ch & 15]);
  }
  return out;
}

Result<std::vector<SqlValue>> SqlSearch::DecodeCursor() const {
  const Status bad = Invalid("the paging cursor is invalid or belongs to another search");
  const std::string& hex = q_.cursor;
  if (hex.size() % 2 != 0 || hex.size() > 2 * kMaxCursorBytes) return bad;
  std::string bytes;
  for (size_t i = 0; i < hex.size(); i += 2) {
    int v = 0;
    for (size_t j = i; j < i + 2; ++j) {
      const char ch = hex[j];
      const int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
      if (d < 0) return bad;
      v = v * 16 + d;
    }
    bytes.push_back(static_cast<char>(v));
  }
  if (bytes.size() < 3 + 8 || bytes.compare(0, 2, "c1") != 0) return bad;
  const std::string_view body(bytes.data(), bytes.size() - 8);
  if (GetU64(std::string_view(bytes).substr(body.size())) != Fnv(body, Fnv(CursorSignature()))) return bad;
  const size_t n = static_cast<unsigned char>(body[2]);
  if (n != keys_.size() + 1) return bad;
  std::vector<SqlValue> values;
  size_t pos = 3;
  for (size_t i = 0; i < n; ++i) {
    if (pos >= body.size()) return bad;
    const char tag = body[pos++];
    // Each value must have the type its key produces (seq last, an integer).
    const char want = i < keys_.size() ? keys_[i].value_type : 'I';
    const bool nullable = i < keys_.size() && keys_[i].nullable;
    if (tag == 'N') {
      if (!nullable) return bad;
      values.emplace_back(std::monostate());
      continue;
    }
    if (tag != want && !(want == 'R' && tag == 'I')) return bad;
    if (body.size() - pos < 8) return bad;
    const uint64_t word = GetU64(body.substr(pos));
    pos += 8;
    if (tag == 'I') {
      values.emplace_back(static_cast<int64_t>(word));
    } else if (tag == 'R') {
      double d;
      std::memcpy(&d, &word, sizeof d);
      if (std::isnan(d)) return bad;
      values.emplace_back(d);
    } else {
      if (word > body.size() - pos) return bad;
      values.emplace_back(std::string(body.substr(pos, word)));
      pos += word;
    }
  }
  if (pos != body.size()) return bad;
  return values;
}

// Rows of the include statements: seq, type, id.
Row ReadIncluded(const Stmt& s) {
  Row row;
  row.seq = s.ColumnInt(0);
  row.match.type = s.ColumnText(1);
  row.match.id = s.ColumnText(2);
  return row;
}

// The resources one include step reaches from `f`. Fixed statement shapes, so these stay
// in the connection's cache; `?n = ''` (or 0) turns a filter off. Index rows belong to live
// current versions, so a referring row's seq is its resource.
Result<Stmt> SqlSearch::IncludeStatement(const Include& inc, const Row& f, const std::string& param,
                                         bool any_source) {
  if (!inc.reverse) {
    // Every reference of f (reference_seq), of one parameter when named.
    EHR_ASSIGN_OR_RETURN(Stmt s, c_.Prepare("SELECT t.seq, t.type, t.id FROM reference_index x "
                                            "JOIN search_param p ON p.pk = x.pk "
                                            "JOIN resource_version t ON t.tenant = ?1 AND t.type = x.target_type "
                                            "AND t.id = x.target_id AND t.is_current = 1 AND t.deleted = 0 "
                                            "WHERE x.seq = ?2 AND (?3 = '' OR p.param = ?3) "
                                            "AND (?4 = '' OR x.target_type = ?4)",
                                            "include"));
    s.BindText(1, q_.tenant).BindInt(2, f.seq).BindText(3, param).BindText(4, inc.target_type);
    return s;
  }
  // One source type and parameter: a range of the table's key; otherwise everything
  // referring to f (reference_target), of the tenant.
  if (!param.empty() && !any_source) {
    EHR_ASSIGN_OR_RETURN(std::vector<int64_t> keys, ParamKeys({inc.source_type}, param));
    EHR_ASSIGN_OR_RETURN(Stmt s, c_.Prepare("SELECT t.seq, t.type, t.id FROM reference_index x "
                                            "JOIN resource_version t ON t.seq = x.seq "
                                            "WHERE x.pk = ?1 AND x.target_type = ?2 AND x.target_id = ?3",
                                            "revinclude"));
    s.BindInt(1, keys.empty() ? 0 : keys[0]).BindText(2, f.match.type).BindText(3, f.match.id);
    return s;
  }
  EHR_ASSIGN_OR_RETURN(Stmt s, c_.Prepare("SELECT t.seq, t.type, t.id FROM reference_index x "
                                          "INDEXED BY reference_target "
                                          "JOIN search_param p ON p.pk = x.pk "
                                          "JOIN resource_version t ON t.seq = x.seq "
                                          "WHERE x.target_id = ?3 AND x.target_type = ?2 AND p.tenant = ?1 "
                                          "AND (?4 = '' OR p.type = ?4) AND (?5 = '' OR p.param = ?5)",
                                          "revinclude"));
  // Never a default std::string_view: its null data would bind NULL, not ''.
  s.BindText(1, q_.tenant).BindText(2, f.match.type).BindText(3, f.match.id);
  s.BindText(4, any_source ? std::string_view("") : std::string_view(inc.source_type)).BindText(5, param);
  return s;
}

Status SqlSearch::Includes(const std::vector<Row>& matches, std::vector<Row>& included) {
  std::unordered_set<int64_t> seen;
  std::vector<Row> frontier;
  for (const Row& m : matches) {
    seen.insert(m.seq);
    frontier.push_back(m);
  }
  for (int round = 0; round < kMaxIncludeDepth && !frontier.empty(); ++round) {
    std::vector<Row> next;
    for (const Include& inc : q_.includes) {
      if (round > 0 && !inc.iterate) continue;
      const bool any_source = inc.source_type.empty() || inc.source_type == "*";
      const std::string param = inc.wildcard || inc.param == "*" ? std::string() : inc.param;
      for (const Row& f : frontier) {
        if (!inc.reverse && !any_source && f.match.type != inc.source_type) continue;
        if (inc.reverse && !inc.target_type.empty() && f.match.type != inc.target_type) continue;
        EHR_ASSIGN_OR_RETURN(Stmt stmt, IncludeStatement(inc, f, param, any_source));
        while (true) {
          EHR_ASSIGN_OR_RETURN(bool row, stmt.Step());
          if (!row) break;
          Row found = ReadIncluded(stmt);
          if (!seen.insert(found.seq).second) continue;
          if (included.size() == kMaxIncluded) {
            return Invalid("the page includes more than " + std::to_string(kMaxIncluded) +
                           " resources; use a smaller _count or fewer _include/_revinclude");
          }
          next.push_back(found);
          included.push_back(std::move(found));
        }
      }
    }
    frontier = std::move(next);
  }
  return Status::Ok();
}

// Version, lastUpdated and body of each row, read from the table once the page is known.
Status SqlSearch::FetchVersions(std::vector<Row>& rows) {
  for (Row& row : rows) {
    EHR_ASSIGN_OR_RETURN(Stmt s, c_.Prepare("SELECT version, last_updated, body FROM resource_version WHERE seq = ?1",
                                            "read search match"));
    s.BindInt(1, row.seq);
    EHR_ASSIGN_OR_RETURN(bool found, s.Step());
    if (!found) return Status::Internal("storage: a search match vanished within its snapshot");
    row.match.version = s.ColumnInt(0);
    row.match.last_updated = s.ColumnInt(1);
    row.match.body = s.ColumnBlob(2);
  }
  return Status::Ok();
}

Result<SearchPage> SqlSearch::Run() {
  if (q_.count < 0) return Invalid("_count must not be negative");
  SearchPage page;
  EHR_ASSIGN_OR_RETURN(bool any, Plan());
  if (!any) {
    if (q_.total != TotalMode::kNone || q_.count_only) page.total = 0;
    return page;
  }
  std::optional<std::vector<SqlValue>> cursor;
  if (!q_.cursor.empty()) {
    EHR_ASSIGN_OR_RETURN(cursor, DecodeCursor());
  }
  if (q_.total != TotalMode::kNone || q_.count_only) {
    EHR_ASSIGN_OR_RETURN(OneShot count, OneShot::Prepare(c_, CountSql(), sql_.params()));
    EHR_ASSIGN_OR_RETURN(bool row, count.Step());
    page.total = row ? count.Int(0) : 0;
  }
  if (q_.count_only || q_.count == 0) return page;

  const std::string sql = PageSql(cursor ? &*cursor : nullptr);
  std::vector<Row> rows;
  {
    EHR_ASSIGN_OR_RETURN(OneShot stmt, OneShot::Prepare(c_, sql, sql_.params()));
    while (true) {
      EHR_ASSIGN_OR_RETURN(bool more, stmt.Step());
      if (!more) break;
      Row row;
      row.seq = stmt.Int(0);
      row.match.type = stmt.Text(1);
      row.match.id = stmt.Text(2);
      for (size_t i = 0; i < keys_.size(); ++i) row.keys.push_back(stmt.Value(static_cast<int>(3 + i)));
      rows.push_back(std::move(row));
    }
  }
  const size_t count = static_cast<size_t>(std::min(q_.count, kMaxCount));
  if (rows.size() > count) {
    rows.resize(count);
    page.next_cursor = EncodeCursor(rows.back());
  }
  std::vector<Row> included;
  if (!q_.includes.empty()) EHR_RETURN_IF_ERROR(Includes(rows, included));
  EHR_RETURN_IF_ERROR(FetchVersions(rows));
  EHR_RETURN_IF_ERROR(FetchVersions(included));
  for (Row& r : rows) page.matches.push_back(std::move(r.match));
  for (Row& r : included) page.included.push_back(std::move(r.match));
  return page;
}

Result<std::vector<std::string>> PlanOf(Connection& c, const std::string& sql, const std::vector<SqlValue>& params) {
  EHR_ASSIGN_OR_RETURN(OneShot stmt, OneShot::Prepare(c, "EXPLAIN QUERY PLAN " + sql, params));
  std::vector<std::string> lines;
  while (true) {
    EHR_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    lines.push_back(stmt.Text(3));
  }
  return lines;
}

Result<SearchPlan> SqlSearch::Explain() {
  SearchPlan plan;
  EHR_ASSIGN_OR_RETURN(bool any, Plan());
  if (!any) return plan;
  std::optional<std::vector<SqlValue>> cursor;
  if (!q_.cursor.empty()) {
    EHR_ASSIGN_OR_RETURN(cursor, DecodeCursor());
  }
  EHR_ASSIGN_OR_RETURN(plan.total, PlanOf(c_, CountSql(), sql_.params()));
  const std::string page = PageSql(cursor ? &*cursor : nullptr);
  EHR_ASSIGN_OR_RETURN(plan.page, PlanOf(c_, page, sql_.params()));
  return plan;
}

}  // namespace

Result<SearchPage> Search(Connection& c, const SearchQuery& q) {
  SearchOptions options;
  options.now = Clock::System().Now();
  return Search(c, q, options);
}

Result<SearchPage> Search(Connection& c, const SearchQuery& q, const SearchOptions& options) {
  ReadSnapshot snapshot(c);
  Deadline deadline(c.raw(), options.timeout_ms);
  Result<SearchPage> page = SqlSearch(c, q, options).Run();
  if (!page.ok() && deadline.expired()) return TooCostly();
  return page;
}

Result<SearchPlan> ExplainSearch(Connection& c, const SearchQuery& q, const SearchOptions& options) {
  return SqlSearch(c, q, options).Explain();
}

}  // namespace ehr::store::sqlite
