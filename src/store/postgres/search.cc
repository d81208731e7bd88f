// store::SearchQuery as SQL over the PostgreSQL index tables (schema.cc), with the
// semantics of the SQLite backend (store/sqlite/search_sql.cc): candidates are the live
// current versions (`is_current AND NOT deleted`) of the query's types; each clause adds
// `r.seq [NOT] IN (<set>)` (search_clauses.cc), a set being the seq of index rows, one
// UNION ALL arm per OR-ed value, each within (tenant, type, param), which lead every index
// of those tables. Unlike SQLite, PostgreSQL keeps statistics and picks the join order
// itself, so no plan is chosen here. One statement selects the page (keyset paging after
// the cursor's sort values, never OFFSET), one counts the total; fixed statements read
// includes and the page's bodies. The search statements are sent unnamed (their text
// varies with the query), the fixed ones prepared once per connection.
//
// This file plans and runs a search; search_clauses.cc compiles each clause into its set;
// search_internal.h holds what the two share.
#include "store/postgres/search.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include "store/postgres/search_internal.h"

namespace ehr::store::pg {
namespace internal {
namespace {

// Cursor fingerprint and checksum: FNV-1a, 64 bit, as in SQLite's cursors. Not a MAC: it
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

// `sql` with only the parameters it refers to, renumbered in order: PostgreSQL refuses a
// parameter that no placeholder names (its type unknown), and a compiled set that turned
// out not to be needed (a clause that matches nothing) leaves its values bound.
struct Statement {
  std::string sql;
  std::vector<Param> params;
};
Statement Compact(const std::string& sql, const std::vector<Param>& params) {
  std::vector<int> renumbered(params.size() + 1, 0);
  auto placeholder = [&](size_t at, size_t& end) -> size_t {
    end = at + 1;
    size_t n = 0;
    while (end < sql.size() && sql[end] >= '0' && sql[end] <= '9') n = n * 10 + static_cast<size_t>(sql[end++] - '0');
    return end > at + 1 && n >= 1 && n <= params.size() ? n : 0;
  };
  for (size_t i = 0; i < sql.size(); ++i) {
    size_t end = 0;
    if (sql[i] == '$') {
      if (size_t n = placeholder(i, end); n != 0) renumbered[n] = 1;
    }
  }
  Statement out;
  for (size_t n = 1; n <= params.size(); ++n) {
    if (renumbered[n] == 0) continue;
    out.params.push_back(params[n - 1]);
    renumbered[n] = static_cast<int>(out.params.size());
  }
  for (size_t i = 0; i < sql.size();) {
    size_t end = 0;
    if (sql[i] == '$') {
      if (size_t n = placeholder(i, end); n != 0) {
        out.sql += "$" + std::to_string(renumbered[n]);
        i = end;
        continue;
      }
    }
    out.sql.push_back(sql[i++]);
  }
  return out;
}

}  // namespace

Status Invalid(std::string msg) { return Status::Invalid("search: " + std::move(msg)); }
Status Unsupported(std::string msg) { return Status::NotSupported(Code::kInvalid, "search: " + std::move(msg)); }

std::optional<std::string> PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    // The last character: its lead byte is the last byte that is not a continuation byte.
    size_t lead = end.size() - 1;
    while (lead > 0 && (static_cast<unsigned char>(end[lead]) & 0xC0) == 0x80) --lead;
    const auto byte = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(end[i])); };
    const size_t n = end.size() - lead;
    uint32_t cp = n == 1 ? byte(lead) : n == 2 ? byte(lead) & 0x1F : n == 3 ? byte(lead) & 0x0F : byte(lead) & 0x07;
    for (size_t i = lead + 1; i < end.size(); ++i) cp = (cp << 6) | (byte(i) & 0x3F);
    end.resize(lead);
    if (cp >= 0x10FFFF) continue;  // no character after it: increment the one before
    ++cp;
    if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xE000;  // surrogates are no characters
    if (cp < 0x80) {
      end.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      end.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      end.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      end.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      end.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      end.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      end.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      end.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      end.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      end.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
    return end;
  }
  return std::nullopt;
}

std::string RenderSet(const std::vector<Arm>& arms, bool ids_only) {
  std::string sql;
  for (const Arm& a : arms) {
    if (!sql.empty()) sql += " UNION ALL ";
    sql += "SELECT ";
    if (!ids_only && !a.type_col.empty()) sql += a.type_col + " AS type, ";
    sql += a.id_col + (a.type_col.empty() ? " AS seq " : " AS id ") + a.from_where;
  }
  return sql;
}

std::string InSet(const std::string& alias, const Compiled& set, bool single_type) {
  if (set.by_seq) {
    if (!set.negated) return alias + ".seq IN (" + RenderSet(set.arms, true) + ")";
    // NOT EXISTS, not NOT IN: PostgreSQL plans it as an anti-join.
    return "NOT EXISTS (SELECT 1 FROM (" + RenderSet(set.arms, true) + ") s WHERE s.seq = " + alias + ".seq)";
  }
  if (single_type) {
    if (!set.negated) return alias + ".id IN (" + RenderSet(set.arms, true) + ")";
    return "NOT EXISTS (SELECT 1 FROM (" + RenderSet(set.arms, true) + ") s WHERE s.id = " + alias + ".id)";
  }
  if (!set.negated) return "(" + alias + ".type, " + alias + ".id) IN (" + RenderSet(set.arms, false) + ")";
  return "NOT EXISTS (SELECT 1 FROM (" + RenderSet(set.arms, false) + ") s WHERE s.type = " + alias +
         ".type AND s.id = " + alias + ".id)";
}

std::string Probe(const Compiled& set, const std::string& seq) {
  if (!set.probe.empty()) {
    std::string out = set.probe;
    for (size_t at = out.find(kSeqMark); at != std::string::npos; at = out.find(kSeqMark, at + seq.size())) {
      out.replace(at, kSeqMark.size(), seq);
    }
    return out;
  }
  std::string any;
  for (const Arm& a : set.arms) {
    any += (any.empty() ? "" : " OR ") + std::string("coalesce((SELECT true ") + OneVersion(a.from_where, a.id_col, seq) +
           " AND " + a.id_col + " = " + seq + " LIMIT 1), false)";
  }
  return set.arms.size() == 1 ? any : "(" + any + ")";
}

std::string OneVersion(const std::string& from_where, const std::string& id_col, const std::string& seq) {
  // `FROM <table> <alias> WHERE ...`, whose alias names id_col's table.
  const size_t table_end = from_where.find(' ', 5);
  if (!from_where.starts_with("FROM ") || table_end == std::string::npos) return from_where;
  if (from_where.find('(') < table_end) return from_where;  // a function's rows (text_matches)
  const size_t where = from_where.find(" WHERE ", table_end);
  const std::string alias = from_where.substr(table_end + 1, where == std::string::npos ? 0 : where - table_end - 1);
  if (alias.empty() || alias.find(' ') != std::string::npos || id_col != alias + ".seq") return from_where;
  return "FROM (SELECT * FROM " + from_where.substr(5, table_end - 5) + " WHERE seq = " + seq + " OFFSET 0) " + alias +
         from_where.substr(where);
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

Result<KeyPlan> PgSearch::KeyOf(const store::SortKey& k) {
  KeyPlan key;
  key.descending = k.descending;
  if (k.kind == ParamKind::kLastUpdated) {
    key.expr = "r.last_updated";
    key.value_type = 'I';
    return key;
  }
  if (k.kind == ParamKind::kId) {
    key.expr = "r.id COLLATE \"C\"";  // byte order, as SQLite's BINARY
    return key;
  }
  // The smallest value for ascending, the largest for descending (R4: a resource with
  // several values sorts by the one that puts it first). Text columns are of collation
  // "C" (schema.cc, migration 4).
  const char* agg = k.descending ? "max(" : "min(";
  std::string column;
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
  key.expr = std::string("(SELECT ") + agg + "s." + column + ") FROM " + TableOf(k.kind) +
             " s WHERE s.seq = r.seq AND s.tenant = $1::text AND s.param = " + sql_.Text(k.param) + ")";
  return key;
}

Result<bool> PgSearch::Plan() {
  if (q_.types.size() > kMaxTypes) return Invalid("too many resource types");
  if (q_.sort.size() > kMaxSortKeys)
    return Invalid("too many sort keys (at most " + std::to_string(kMaxSortKeys) + ")");
  if (q_.includes.size() > kMaxIncludes) return Invalid("too many _include/_revinclude parameters");
  const std::vector<std::string>* types = &q_.types;
  if (q_.types.empty()) {
    EHR_ASSIGN_OR_RETURN(types, TenantTypes());
    if (types->empty()) return false;
  }
  const bool single_type = types->size() == 1;
  std::vector<Compiled> clauses;
  for (const Clause& cl : q_.clauses) {
    EHR_ASSIGN_OR_RETURN(Compiled c, Compile(cl, *types, "r", 0));
    clauses.push_back(std::move(c));
  }
  if (q_.compartment) {
    EHR_ASSIGN_OR_RETURN(Compiled c, CompileCompartment(*q_.compartment, *types, "r"));
    clauses.push_back(std::move(c));
  }
  if (q_.access) {
    EHR_ASSIGN_OR_RETURN(Compiled c, CompileCompartment(*q_.access, *types, "r"));
    clauses.push_back(std::move(c));
  }
  for (const TypeFilter& f : q_.filters) {
    EHR_ASSIGN_OR_RETURN(Compiled c, CompileFilter(f, *types, "r"));
    clauses.push_back(std::move(c));
  }
  for (const Exclusion& e : q_.hidden) {
    EHR_ASSIGN_OR_RETURN(Compiled c, CompileExclusion(e, *types));
    if (c.arms.empty()) continue;  // hides nothing of these types
    c.negated = true;
    clauses.push_back(std::move(c));
  }
  for (const Compiled& c : clauses) {
    if (c.arms.empty() && c.condition == kNever) return false;
  }
  where_ = "r.tenant = $1::text AND r.is_current AND NOT r.deleted AND r.type" + sql_.OneOf(*types);
  page_where_ = where_;
  std::erase_if(clauses, [](const Compiled& c) { return c.arms.empty() && c.condition == kAlways; });
  // Index rows exist for live current versions only (pg::Put keeps it so), so when every
  // clause is such a set the total is the size of their intersection, counted in the index
  // alone (each version once: a resource may have two rows in a set) without looking each
  // version up: 194,501 Observations of a category in 55 ms instead of 261 ms.
  const bool sets_only =
      !stale_statistics_ && !clauses.empty() && std::all_of(clauses.begin(), clauses.end(), [](const Compiled& c) {
        return !c.arms.empty() && c.by_seq && c.live && !c.negated;
      });
  if (sets_only) {
    count_sql_ = "SELECT count(DISTINCT s.seq) FROM (" + RenderSet(clauses[0].arms, true) + ") s";
    for (size_t i = 1; i < clauses.size(); ++i) {
      count_sql_ += (i == 1 ? " WHERE " : " AND ") + InSet("s", clauses[i], single_type);
    }
  }
  for (const Compiled& c : clauses) {
    const std::string in = c.arms.empty() ? c.condition : InSet("r", c, single_type);
    where_ += " AND " + in;
    // A page in seq order stops after its rows: a large set is tested on the candidates
    // that reach it (the newest first, or another set's), not built whole (ProbesPay).
    const bool probed = !c.probe.empty() && !c.negated && ProbesPay();
    page_where_ += " AND " + (probed ? Probe(c, "r.seq") : in);
  }
  if (!sets_only) count_sql_ = "SELECT count(*) FROM resource_version r WHERE " + where_;
  for (const store::SortKey& k : q_.sort) {
    EHR_ASSIGN_OR_RETURN(KeyPlan key, KeyOf(k));
    keys_.push_back(std::move(key));
  }
  // The tie-break follows the last key's direction, as in SQLite.
  if (!keys_.empty()) tie_descending_ = keys_.back().descending;
  EHR_ASSIGN_OR_RETURN(bool walks, Walks(clauses, *types));
  if (!walks) walk_.clear();
  if (sql_.params().size() > kMaxParams) return Invalid("the search is too large");
  return true;
}

Result<int64_t> PgSearch::CountUpTo(const Compiled& set, int64_t limit) {
  const Statement count = Compact("SELECT count(*) FROM (SELECT 1 FROM (" + RenderSet(set.arms, true) + ") s LIMIT " +
                                      sql_.Int(limit) + ") c",
                                  sql_.params());
  EHR_ASSIGN_OR_RETURN(Rows rows, c_.Query(count.sql, count.params));
  return rows.size() > 0 ? rows.Int(0, 0) : 0;
}

// A page sorted by one date (the largest of a resource's values for descending, the smallest
// for ascending) walks that date's index (date_high or date_low) in the order of the sort:
// a resource is met first at its own key, and each one met is tested against every clause
// (Compiled::probe or Probe), until the page is full. Only when that pays: one type, every
// clause a positive set of more than kWalkAfter resources (counted), a page wanted, fresh
// statistics. Resources without the date sort last and are not in the index: a page the
// walk leaves short is made again by PageSql.
Result<bool> PgSearch::Walks(const std::vector<Compiled>& clauses, const std::vector<std::string>& types) {
  if (keys_.size() != 1 || q_.sort[0].kind != ParamKind::kDate || types.size() != 1) return false;
  if (q_.count_only || q_.count == 0 || stale_statistics_) return false;  // as ProbesPay, sorted
  for (const Compiled& c : clauses) {
    if (c.arms.empty() || !c.by_seq || !c.live || c.negated) return false;
  }
  for (const Compiled& c : clauses) {
    EHR_ASSIGN_OR_RETURN(int64_t rows, CountUpTo(c, kWalkAfter + 1));
    if (rows <= kWalkAfter) return false;
  }
  const bool desc = keys_[0].descending;
  const char* column = desc ? "high" : "low";
  const std::string param = sql_.Text(q_.sort[0].param);
  walk_ = std::string("FROM date_index w WHERE w.tenant = $1::text AND w.type = ") + sql_.Text(types[0]) +
          " AND w.param = " + param + " AND w." + column + " = (SELECT " + (desc ? "max" : "min") + "(e." + column +
          ") FROM (SELECT * FROM date_index WHERE seq = w.seq OFFSET 0) e WHERE e.tenant = $1::text AND e.param = " +
          param + ")";
  for (const Compiled& c : clauses) walk_ += " AND " + Probe(c, "w.seq");
  return true;
}

std::string PgSearch::WalkSql(const std::vector<SqlValue>* cursor) {
  const bool desc = keys_[0].descending;
  const std::string k = desc ? "w.high" : "w.low";
  // A resource with its key in two rows is met twice, one after the other (Run keeps one):
  // no DISTINCT, which would keep PostgreSQL from sorting only each run of equal keys
  // (incremental sort) and stopping with the page.
  std::string sql = "SELECT w.seq, " + k + " AS k0 " + walk_;
  if (cursor != nullptr) {
    const std::string bound = sql_.Int(std::get<int64_t>((*cursor)[0])), seq = sql_.Int(std::get<int64_t>((*cursor)[1]));
    const char* op = desc ? " < " : " > ";
    sql += " AND (" + k + op + bound + " OR (" + k + " = " + bound + " AND w.seq" + op + seq + "))";
  }
  const char* dir = desc ? " DESC" : " ASC";
  return sql + " ORDER BY " + k + dir + ", w.seq" + dir + " LIMIT " +
         sql_.Int(int64_t{std::min(q_.count, kMaxCount)} + 1 + kWalkSlack);
}

Result<Rows> PgSearch::PageRows(const std::vector<SqlValue>* cursor, size_t limit) {
  auto run = [&](const std::string& sql) {
    const Statement statement = Compact(sql, sql_.params());
    return c_.Query(statement.sql, statement.params);
  };
  // A walk starts only from a resource that has the date (a cursor past them is in the part
  // the walk does not reach), and serves only when it fills the page.
  if (!walk_.empty() && (cursor == nullptr || !std::holds_alternative<std::monostate>((*cursor)[0]))) {
    EHR_ASSIGN_OR_RETURN(Rows walked, run(WalkSql(cursor)));
    size_t distinct = 0;
    for (int i = 0; i < walked.size(); ++i) {
      if (i == 0 || walked.Int(i, 0) != walked.Int(i - 1, 0)) ++distinct;
    }
    if (distinct >= limit) return walked;
  }
  return run(PageSql(cursor));
}

// Rows after the cursor in the sort order: lexicographic over the keys (missing values
// last in either direction), then seq.
std::string PgSearch::After(size_t i, const std::vector<std::string>& bound,
                            const std::vector<SqlValue>& cursor) const {
  if (i == keys_.size()) return std::string("m.seq ") + (tie_descending_ ? "< " : "> ") + bound[i];
  const std::string k = "m.k" + std::to_string(i);
  const std::string rest = After(i + 1, bound, cursor);
  if (std::holds_alternative<std::monostate>(cursor[i])) return "(" + k + " IS NULL AND " + rest + ")";
  const char* op = keys_[i].descending ? " < " : " > ";
  return "(" + k + op + bound[i] + (keys_[i].nullable ? " OR " + k + " IS NULL" : "") + " OR (" + k + " = " + bound[i] +
         " AND " + rest + "))";
}

std::string PgSearch::PageSql(const std::vector<SqlValue>* cursor) {
  const std::string limit = sql_.Int(int64_t{std::min(q_.count, kMaxCount)} + 1);
  if (keys_.empty()) {
    // The seq alone: PostgreSQL then tests candidates in resource_live's index (tenant, type,
    // seq of live current versions) without visiting each row (1,000 of 21,836 Observations
    // of a code: 9.5 ms, was 113 ms); the page's rows are read afterwards (FetchVersions).
    std::string sql = "SELECT r.seq FROM resource_version r WHERE " + page_where_;
    if (cursor != nullptr) sql += " AND r.seq < " + sql_.Int(std::get<int64_t>((*cursor)[0]));
    return sql + " ORDER BY r.seq DESC LIMIT " + limit;
  }
  std::string inner = "SELECT r.seq AS seq";
  for (size_t i = 0; i < keys_.size(); ++i) inner += ", " + keys_[i].expr + " AS k" + std::to_string(i);
  inner += " FROM resource_version r WHERE " + page_where_;
  std::string sql = "WITH m AS MATERIALIZED (" + inner + ") SELECT m.* FROM m";
  if (cursor != nullptr) {
    std::vector<std::string> bound;
    for (size_t i = 0; i < cursor->size(); ++i) {
      const SqlValue& v = (*cursor)[i];
      if (const auto* n = std::get_if<int64_t>(&v)) {
        // An integer where a number key is: compared as a number.
        bound.push_back(i < keys_.size() && keys_[i].value_type == 'R' ? sql_.Double(static_cast<double>(*n))
                                                                        : sql_.Int(*n));
      } else if (const auto* d = std::get_if<double>(&v)) {
        bound.push_back(sql_.Double(*d));
      } else if (const auto* t = std::get_if<std::string>(&v)) {
        bound.push_back(sql_.Text(*t) + " COLLATE \"C\"");
      } else {
        bound.emplace_back("NULL");
      }
    }
    sql += " WHERE " + After(0, bound, *cursor);
  }
  sql += " ORDER BY ";
  for (size_t i = 0; i < keys_.size(); ++i) {
    sql += "m.k" + std::to_string(i) + (keys_[i].descending ? " DESC" : " ASC");
    sql += keys_[i].nullable ? " NULLS LAST, " : ", ";
  }
  sql += std::string("m.seq ") + (tie_descending_ ? "DESC" : "ASC");
  return sql + " LIMIT " + limit;
}

std::string PgSearch::CursorSignature() const {
  std::string sig = q_.tenant;
  for (const std::string& t : q_.types) sig.append("\0t", 2).append(t);
  for (const store::SortKey& k : q_.sort) {
    sig.append("\0s", 2).push_back(static_cast<char>(k.kind));
    sig.push_back(k.descending ? 'd' : 'a');
    sig.append(k.param);
  }
  return sig;
}

// Layout: 'p' 1, value count, values (tag N/I/R/T + payload), FNV of signature and bytes;
// hex-encoded.
std::string PgSearch::EncodeCursor(const Row& last) const {
  std::string bytes = "p1";
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

Result<std::vector<SqlValue>> PgSearch::DecodeCursor() const {
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
  if (bytes.size() < 3 + 8 || bytes.compare(0, 2, "p1") != 0) return bad;
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
      if (!std::isfinite(d)) return bad;
      values.emplace_back(d);
    } else {
      if (word > body.size() - pos) return bad;
      const std::string text(body.substr(pos, word));
      // PostgreSQL text holds no NUL: a cursor with one was not made here.
      if (text.find('\0') != std::string::npos) return bad;
      values.emplace_back(text);
      pos += word;
    }
  }
  if (pos != body.size()) return bad;
  return values;
}

// The resources one include step reaches from a round's resources, in one statement (a
// round trip per resource would be most of a page's time). Fixed statement shapes,
// prepared once per connection; `$n = ''` turns a filter off. Index rows belong to live
// current versions, so a referring row's seq is its resource.
Result<Rows> PgSearch::IncludeRows(const Include& inc, const std::vector<const Row*>& from, const std::string& param,
                                   bool any_source) {
  std::vector<std::string> seqs, types, ids;
  for (const Row* f : from) {
    seqs.push_back(std::to_string(f->seq));
    types.push_back(f->match.type);
    ids.push_back(f->match.id);
  }
  auto array = [](const std::vector<std::string>& values) {
    return ArrayLiteral(std::vector<std::string_view>(values.begin(), values.end()));
  };
  if (!inc.reverse) {
    return c_.Run("SELECT t.seq, t.type, t.id FROM reference_index x "
                  "JOIN resource_version t ON t.tenant = $1::text AND t.type = x.target_type "
                  "AND t.id = x.target_id AND t.is_current AND NOT t.deleted "
                  "WHERE x.seq = ANY($2::bigint[]) AND x.tenant = $1::text AND ($3::text = '' OR x.param = $3::text) "
                  "AND ($4::text = '' OR x.target_type = $4::text)",
                  {q_.tenant, array(seqs), param, inc.target_type});
  }
  if (!param.empty() && !any_source) {
    return c_.Run("SELECT t.seq, t.type, t.id FROM reference_index x JOIN resource_version t ON t.seq = x.seq "
                  "WHERE x.tenant = $1::text AND x.type = $2::text AND x.param = $3::text "
                  "AND (x.target_id, x.target_type) IN (SELECT * FROM unnest($4::text[], $5::text[]))",
                  {q_.tenant, inc.source_type, param, array(ids), array(types)});
  }
  return c_.Run("SELECT t.seq, t.type, t.id FROM reference_index x JOIN resource_version t ON t.seq = x.seq "
                "WHERE x.tenant = $1::text AND (x.target_id, x.target_type) IN (SELECT * FROM unnest($2::text[], "
                "$3::text[])) AND ($4::text = '' OR x.type = $4::text) AND ($5::text = '' OR x.param = $5::text)",
                {q_.tenant, array(ids), array(types), any_source ? std::string() : inc.source_type, param});
}

Status PgSearch::Includes(const std::vector<Row>& matches, std::vector<Row>& included) {
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
      std::vector<const Row*> from;
      for (const Row& f : frontier) {
        if (!inc.reverse && !any_source && f.match.type != inc.source_type) continue;
        if (inc.reverse && !inc.target_type.empty() && f.match.type != inc.target_type) continue;
        from.push_back(&f);
      }
      if (from.empty()) continue;
      EHR_ASSIGN_OR_RETURN(Rows rows, IncludeRows(inc, from, param, any_source));
      for (int i = 0; i < rows.size(); ++i) {
        Row found;
        found.seq = rows.Int(i, 0);
        if (!seen.insert(found.seq).second) continue;
        found.match.type = rows.String(i, 1);
        found.match.id = rows.String(i, 2);
        if (included.size() == kMaxIncluded) {
          return Invalid("the page includes more than " + std::to_string(kMaxIncluded) +
                         " resources; use a smaller _count or fewer _include/_revinclude");
        }
        next.push_back(found);
        included.push_back(std::move(found));
      }
    }
    frontier = std::move(next);
  }
  return Status::Ok();
}

// Type, id, version, lastUpdated and body of each row, read once the page is known.
Status PgSearch::FetchVersions(std::vector<Row>& rows) {
  if (rows.empty()) return Status::Ok();
  std::vector<std::string> seqs;
  for (const Row& r : rows) seqs.push_back(std::to_string(r.seq));
  std::vector<std::string_view> views(seqs.begin(), seqs.end());
  EHR_ASSIGN_OR_RETURN(Rows found, c_.Run("SELECT seq, version, last_updated, body, type, id FROM resource_version "
                                          "WHERE seq = ANY($1::bigint[])",
                                          {ArrayLiteral(views)}));
  std::unordered_map<int64_t, int> at;
  for (int i = 0; i < found.size(); ++i) at[found.Int(i, 0)] = i;
  for (Row& row : rows) {
    auto it = at.find(row.seq);
    if (it == at.end()) return Status::Internal("storage: a search match vanished within its snapshot");
    row.match.version = found.Int(it->second, 1);
    row.match.last_updated = found.Int(it->second, 2);
    row.match.body = found.String(it->second, 3);
    row.match.type = found.String(it->second, 4);
    row.match.id = found.String(it->second, 5);
  }
  return Status::Ok();
}

Result<SearchPage> PgSearch::Run() {
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
  // Without statistics, no nested loops for the statements whose shape varies; the fixed
  // ones (includes, bodies) seek by key and keep them.
  if (stale_statistics_) EHR_RETURN_IF_ERROR(c_.Exec("SET LOCAL enable_nestloop = off"));
  if (q_.total != TotalMode::kNone || q_.count_only) {
    const Statement count_sql = Compact(count_sql_, sql_.params());
    EHR_ASSIGN_OR_RETURN(Rows count, c_.Query(count_sql.sql, count_sql.params));
    page.total = count.size() > 0 ? count.Int(0, 0) : 0;
  }
  if (q_.count_only || q_.count == 0) return Unstaled(std::move(page));

  const size_t limit = static_cast<size_t>(std::min(q_.count, kMaxCount)) + 1;
  EHR_ASSIGN_OR_RETURN(Rows found, PageRows(cursor ? &*cursor : nullptr, limit));
  std::vector<Row> rows;
  for (int i = 0; i < found.size() && rows.size() < limit; ++i) {
    if (i > 0 && found.Int(i, 0) == found.Int(i - 1, 0)) continue;  // met twice by the walk
    Row row;
    row.seq = found.Int(i, 0);
    for (size_t k = 0; k < keys_.size(); ++k) {
      const int col = static_cast<int>(1 + k);
      if (found.IsNull(i, col)) {
        row.keys.emplace_back(std::monostate());
      } else if (keys_[k].value_type == 'I') {
        row.keys.emplace_back(found.Int(i, col));
      } else if (keys_[k].value_type == 'R') {
        row.keys.emplace_back(found.Double(i, col));
      } else {
        row.keys.emplace_back(found.String(i, col));
      }
    }
    rows.push_back(std::move(row));
  }
  if (stale_statistics_) EHR_RETURN_IF_ERROR(c_.Exec("SET LOCAL enable_nestloop = on"));
  const size_t count = static_cast<size_t>(std::min(q_.count, kMaxCount));
  if (rows.size() > count) {
    rows.resize(count);
    page.next_cursor = EncodeCursor(rows.back());
  }
  EHR_RETURN_IF_ERROR(FetchVersions(rows));  // before the includes, which follow their type and id
  std::vector<Row> included;
  if (!q_.includes.empty()) EHR_RETURN_IF_ERROR(Includes(rows, included));
  EHR_RETURN_IF_ERROR(FetchVersions(included));
  for (Row& r : rows) page.matches.push_back(std::move(r.match));
  for (Row& r : included) page.included.push_back(std::move(r.match));
  return page;
}

Result<std::string> PgSearch::Explain() {
  EHR_ASSIGN_OR_RETURN(bool any, Plan());
  if (!any) return std::string();
  std::optional<std::vector<SqlValue>> cursor;
  if (!q_.cursor.empty()) {
    EHR_ASSIGN_OR_RETURN(cursor, DecodeCursor());
  }
  auto explain = [&](const std::string& sql) -> Result<std::string> {
    const Statement statement = Compact("EXPLAIN " + sql, sql_.params());
    EHR_ASSIGN_OR_RETURN(Rows lines, c_.Query(statement.sql, statement.params));
    std::string text;
    for (int i = 0; i < lines.size(); ++i) text += lines.String(i, 0) + "\n";
    return text;
  };
  EHR_ASSIGN_OR_RETURN(std::string total, explain(count_sql_));
  EHR_ASSIGN_OR_RETURN(std::string page,
                       explain(walk_.empty() ? PageSql(cursor ? &*cursor : nullptr) : WalkSql(cursor ? &*cursor : nullptr)));
  return page + "-- total\n" + total;
}

}  // namespace internal

namespace {

Status TooCostly() {
  return Status(Code::kUnavailable, Issue{"error", "too-costly", "search: the search took too long; narrow it", {}});
}

// Whether the statistics of the tables a search reads are missing or stale (a bulk load
// that autovacuum has not analyzed yet). PostgreSQL then takes every set for a row or two,
// and nested loops that rescan one set per row of another take minutes (a chain over
// 12,000 resources: past the 30 s timeout); hash joins over each set once stay linear.
Result<bool> StaleStatistics(Connection& c) {
  // The counters reach pg_stat_user_tables up to seconds after the writes (each backend
  // reports its own), so a table never analyzed is also told by its size on disk.
  EHR_ASSIGN_OR_RETURN(Rows rows, c.Run("SELECT coalesce(bool_or((last_analyze IS NULL AND last_autoanalyze IS NULL "
                                        "AND (n_live_tup > 1000 OR pg_relation_size(relid) > 8388608)) "
                                        "OR n_mod_since_analyze > n_live_tup / 2 + 1000), "
                                        "false) FROM pg_stat_user_tables WHERE relname = ANY($1::text[])",
                                        {ArrayLiteral({"resource_version", "string_index", "token_index", "date_index",
                                                       "number_index", "quantity_index", "reference_index",
                                                       "uri_index", "text_index"})}));
  return rows.size() > 0 && rows.Bool(0, 0);
}

}  // namespace

Result<SearchPage> Search(Connection& c, const SearchQuery& q, Micros now, int64_t timeout_ms) {
  EHR_ASSIGN_OR_RETURN(bool stale, StaleStatistics(c));
  if (c.in_transaction()) return internal::PgSearch(c, q, now, stale).Run();
  // One snapshot for the page, the total and the includes; each statement cut off at the
  // timeout (PostgreSQL's 0 would be none: at least 1 ms). No JIT compilation: the cost of
  // a walk whose candidates each run a probe (Compiled::probe) is that of the whole index,
  // past jit_above_cost, and compiling it took 186 ms of a 25 ms page.
  const int64_t limit_ms = std::max<int64_t>(timeout_ms, 1);
  EHR_RETURN_IF_ERROR(c.Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL statement_timeout = " +
                             std::to_string(limit_ms) + "; SET LOCAL jit = off"));
  const auto start = std::chrono::steady_clock::now();
  Result<SearchPage> page = internal::PgSearch(c, q, now, stale).Run();
  const bool late = std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(limit_ms);
  Status ended = c.Exec(page.ok() ? "COMMIT" : "ROLLBACK");
  if (!page.ok()) return late ? TooCostly() : page;
  if (!ended.ok()) return ended;
  return page;
}

Result<std::string> ExplainSearch(Connection& c, const SearchQuery& q, Micros now) {
  return internal::PgSearch(c, q, now).Explain();
}

}  // namespace ehr::store::pg
