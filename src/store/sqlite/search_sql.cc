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
// This file plans and runs a search (the page, the total, the cursor, includes);
// search_clauses.cc compiles each clause into its set; search_sql_internal.h holds what
// the two share.
//
// The SQL text varies with the query (clauses, values, types), so these statements are
// prepared per search and finalized rather than kept in the connection's cache, which
// never evicts and would grow with every new shape a client invents.
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include "store/sqlite/queries.h"
#include "store/sqlite/search_sql_internal.h"

namespace ehr::store::sqlite {
namespace internal {
namespace {

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

// Rows of the include statements: seq, type, id.
Row ReadIncluded(const Stmt& s) {
  Row row;
  row.seq = s.ColumnInt(0);
  row.match.type = s.ColumnText(1);
  row.match.id = s.ColumnText(2);
  return row;
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

}  // namespace

Status Invalid(std::string msg) { return Status::Invalid("search: " + std::move(msg)); }
Status Unsupported(std::string msg) { return Status::NotSupported(Code::kInvalid, "search: " + std::move(msg)); }

std::string RenderSet(const std::vector<Arm>& arms, bool ids_only, bool for_estimate) {
  std::string sql;
  for (const Arm& a : arms) {
    if (!sql.empty()) sql += " UNION ALL ";
    sql += "SELECT ";
    if (!ids_only && !a.type_col.empty()) sql += a.type_col + ", ";
    // Named seq whatever the arm's column (an FTS arm's is its rowid): counts read it by name.
    sql += a.id_col + (ids_only ? " AS seq " : " ") +
           (for_estimate && !a.estimate_where.empty() ? a.estimate_where : a.from_where);
  }
  return sql;
}

std::string InSet(const std::string& alias, const Compiled& set, bool single_type, bool probe) {
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
                                                       "SELECT count(*) FROM (" + RenderSet(set.arms, true, true) +
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
    EHR_ASSIGN_OR_RETURN(Compiled c, CompileCompartment(*q_.compartment, *types, "r"));
    c.rank = 0;
    clauses.push_back(std::move(c));
  }
  if (q_.access) {
    EHR_ASSIGN_OR_RETURN(Compiled c, CompileCompartment(*q_.access, *types, "r"));
    c.rank = 0;
    clauses.push_back(std::move(c));
  }
  for (const TypeFilter& f : q_.filters) {
    EHR_ASSIGN_OR_RETURN(Compiled c, CompileFilter(f, *types, "r"));
    c.rank = 1;
    clauses.push_back(std::move(c));
  }
  for (const Exclusion& e : q_.hidden) {
    EHR_ASSIGN_OR_RETURN(Compiled c, CompileExclusion(e, *types));
    if (c.arms.empty()) continue;  // hides nothing of these types
    c.negated = true;
    c.live = false;
    c.rank = 4;
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
  // intersection, counted in the index alone. With a driver and other clauses, counting
  // its candidates that pass the probes is cheaper than building the other (large) sets;
  // a driver alone is counted in the index too (`name=smith`, 4,819 of 62,000 patients:
  // 2 ms, where a version lookup per candidate took 16-20 ms).
  if (sets_only && (driver < 0 || clauses.size() == 1)) {
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

}  // namespace internal

Result<SearchPage> Search(Connection& c, const SearchQuery& q) {
  SearchOptions options;
  options.now = Clock::System().Now();
  return Search(c, q, options);
}

Result<SearchPage> Search(Connection& c, const SearchQuery& q, const SearchOptions& options) {
  internal::ReadSnapshot snapshot(c);
  internal::Deadline deadline(c.raw(), options.timeout_ms);
  Result<SearchPage> page = internal::SqlSearch(c, q, options).Run();
  if (!page.ok() && deadline.expired()) return internal::TooCostly();
  return page;
}

Result<SearchPlan> ExplainSearch(Connection& c, const SearchQuery& q, const SearchOptions& options) {
  return internal::SqlSearch(c, q, options).Explain();
}

}  // namespace ehr::store::sqlite
