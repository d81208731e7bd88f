#include "store/postgres/queries.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "store/postgres/text_words.h"

namespace ehr::store::pg {
namespace {

constexpr std::string_view kVersionColumns = "seq, type, id, version, last_updated, deleted, method, body";

VersionRecord VersionAt(const Rows& rows, int i) {
  VersionRecord r;
  r.seq = rows.Int(i, 0);
  r.type = rows.String(i, 1);
  r.id = rows.String(i, 2);
  r.version = rows.Int(i, 3);
  r.last_updated = rows.Int(i, 4);
  r.deleted = rows.Bool(i, 5);
  r.method = rows.String(i, 6);
  if (!r.deleted && !rows.IsNull(i, 7)) r.body = rows.String(i, 7);
  return r;
}

std::vector<VersionRecord> Versions(const Rows& rows) {
  std::vector<VersionRecord> out;
  out.reserve(static_cast<size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) out.push_back(VersionAt(rows, i));
  return out;
}

std::optional<VersionRecord> FirstVersion(const Rows& rows) {
  if (rows.size() == 0) return std::nullopt;
  return VersionAt(rows, 0);
}

// Numbers travel as their shortest round-trip text, which PostgreSQL reads back exactly.
std::string DoubleText(double d) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, ec == std::errc() ? end : buf);
}

// The columns of one index table as parallel arrays, one element per row.
class Columns {
 public:
  explicit Columns(size_t n) : columns_(n) {}
  void Add(size_t column, std::string value) { columns_[column].push_back(std::move(value)); }
  void AppendTo(std::vector<Param>& params) const {
    for (const auto& column : columns_) {
      std::vector<std::string_view> views(column.begin(), column.end());
      params.emplace_back(ArrayLiteral(views));
    }
  }

 private:
  std::vector<std::vector<std::string>> columns_;
};

// The 27 parameters of IndexStatements, from the rows of one version.
std::vector<Param> IndexParams(const IndexRows& ix) {
  Columns strings(3), tokens(4), dates(3), numbers(2), quantities(7), references(4), uris(2);
  for (const StringRow& r : ix.strings) {
    strings.Add(0, r.param);
    strings.Add(1, r.normalized);
    strings.Add(2, r.exact);
  }
  for (const TokenRow& r : ix.tokens) {
    tokens.Add(0, r.param);
    tokens.Add(1, r.system);
    tokens.Add(2, r.code);
    tokens.Add(3, r.text);
  }
  for (const DateRow& r : ix.dates) {
    dates.Add(0, r.param);
    dates.Add(1, std::to_string(r.low));
    dates.Add(2, std::to_string(r.high));
  }
  // A number that cannot be compared (NaN, an overflowed decimal) is left out rather than
  // failing the write of the resource, as in SQLite.
  for (const NumberRow& r : ix.numbers) {
    if (!std::isfinite(r.value)) continue;
    numbers.Add(0, r.param);
    numbers.Add(1, DoubleText(r.value));
  }
  for (const QuantityRow& r : ix.quantities) {
    if (!std::isfinite(r.value)) continue;
    const bool canonical = !r.canonical_unit.empty() && std::isfinite(r.canonical_value);
    quantities.Add(0, r.param);
    quantities.Add(1, DoubleText(r.value));
    quantities.Add(2, r.system);
    quantities.Add(3, r.code);
    quantities.Add(4, r.unit);
    quantities.Add(5, canonical ? r.canonical_unit : "");
    quantities.Add(6, DoubleText(canonical ? r.canonical_value : 0));
  }
  for (const ReferenceRow& r : ix.references) {
    references.Add(0, r.param);
    references.Add(1, r.target_type);
    references.Add(2, r.target_id);
    references.Add(3, r.url);
  }
  for (const UriRow& r : ix.uris) {
    uris.Add(0, r.param);
    uris.Add(1, r.uri);
  }
  std::vector<Param> params;
  for (const Columns* c : {&strings, &tokens, &dates, &numbers, &quantities, &references, &uris}) c->AppendTo(params);
  // Full text as its words (text_words.h): rows of text_word for each, phrases matched in them.
  params.emplace_back(TextWords(ix.narrative));
  params.emplace_back(TextWords(ix.content));
  return params;
}

// The index tables, cleared together when a resource gets a new version.
constexpr std::string_view kIndexTables[] = {"string_index",    "token_index", "date_index", "number_index",
                                             "quantity_index",  "reference_index", "uri_index", "text_index",
                                             "text_word"};

// Data-modifying WITH items deleting the index rows of version `seq` (a bigint expression;
// NULL deletes nothing).
std::string ClearCtes(const std::string& seq) {
  std::string sql;
  int n = 0;
  for (std::string_view table : kIndexTables) {
    sql += "clear" + std::to_string(++n) + " AS (DELETE FROM " + std::string(table) + " WHERE seq = " + seq + "), ";
  }
  return sql;
}

// Data-modifying WITH items inserting the rows of IndexParams (parameters from `first`) for
// version `seq`, $1 and $2 being the tenant and type. Repeated values are stored once.
std::string InsertCtes(int first, const std::string& seq) {
  int p = first;
  auto arr = [&](const char* type) { return "$" + std::to_string(p++) + "::" + type + "[]"; };
  auto unnest = [&](std::initializer_list<const char*> types, const char* names) {
    std::string s = "unnest(";
    bool comma = false;
    for (const char* t : types) {
      if (comma) s += ", ";
      s += arr(t);
      comma = true;
    }
    return s + ") AS u(" + names + ")";
  };
  const std::string head = "SELECT DISTINCT $1::text, $2::text, ";
  std::string sql;
  sql += "add1 AS (INSERT INTO string_index (tenant, type, param, normalized, exact, seq) " + head + "u.p, u.n, u.e, " +
         seq + " FROM " + unnest({"text", "text", "text"}, "p, n, e") + "), ";
  sql += "add2 AS (INSERT INTO token_index (tenant, type, param, system, code, text, seq) " + head +
         "u.p, u.s, u.c, u.t, " + seq + " FROM " + unnest({"text", "text", "text", "text"}, "p, s, c, t") + "), ";
  sql += "add3 AS (INSERT INTO date_index (tenant, type, param, low, high, seq) " + head + "u.p, u.l, u.h, " + seq +
         " FROM " + unnest({"text", "bigint", "bigint"}, "p, l, h") + "), ";
  sql += "add4 AS (INSERT INTO number_index (tenant, type, param, value, seq) " + head + "u.p, u.v, " + seq + " FROM " +
         unnest({"text", "float8"}, "p, v") + "), ";
  sql += "add5 AS (INSERT INTO quantity_index (tenant, type, param, value, system, code, unit, canonical_unit, "
         "canonical_value, seq) " +
         head + "u.p, u.v, u.s, u.c, u.u, u.cu, u.cv, " + seq + " FROM " +
         unnest({"text", "float8", "text", "text", "text", "text", "float8"}, "p, v, s, c, u, cu, cv") + "), ";
  sql += "add6 AS (INSERT INTO reference_index (tenant, type, param, target_type, target_id, url, seq) " + head +
         "u.p, u.tt, u.ti, u.url, " + seq + " FROM " + unnest({"text", "text", "text", "text"}, "p, tt, ti, url") +
         "), ";
  sql += "add7 AS (INSERT INTO uri_index (tenant, type, param, uri, seq) " + head + "u.p, u.u, " + seq + " FROM " +
         unnest({"text", "text"}, "p, u") + "), ";
  const std::string narrative = "$" + std::to_string(p++) + "::text";
  const std::string content = "$" + std::to_string(p++) + "::text";
  sql += "add8 AS (INSERT INTO text_index (tenant, type, seq, narrative_words, content_words) SELECT $1::text, "
         "$2::text, " + seq + ", " + narrative + ", " + content + " WHERE " + narrative + " <> '' OR " + content +
         " <> ''), ";
  // Each word of a column once (text_word: 'n' narrative, 'c' content), cut as text_words.h's
  // Lexeme cuts it.
  auto words = [&](const char* field, const std::string& text) {
    return std::string("SELECT '") + field + "' AS f, left(w, " + std::to_string(kMaxLexemeChars) +
           ") AS w FROM unnest(string_to_array(rtrim(" + text + ", ' '), ' ')) AS w";
  };
  sql += "add9 AS (INSERT INTO text_word (tenant, type, field, word, seq) SELECT DISTINCT $1::text, $2::text, u.f, "
         "u.w, " + seq + " FROM (" + words("n", narrative) + " UNION ALL " + words("c", content) + ") AS u) ";
  return sql;
}

// $1 tenant, $2 type, $3 id, $4 version, $5 last_updated, $6 deleted, $7 method, $8 body,
// $9 the version to demote, $10 the version whose index rows go, $11.. IndexParams.
const std::string& PutSql() {
  static const std::string sql =
      "WITH demoted AS (UPDATE resource_version SET is_current = false WHERE seq = $9::bigint), " +
      ClearCtes("$10::bigint") +
      "v AS (INSERT INTO resource_version (tenant, type, id, version, last_updated, deleted, method, body, is_current) "
      "VALUES ($1::text, $2::text, $3::text, $4::bigint, $5::bigint, $6::boolean, $7::text, $8::bytea, true) "
      "RETURNING seq), " +
      InsertCtes(11, "(SELECT seq FROM v)") + "SELECT seq FROM v";
  return sql;
}

// $1 tenant, $2 type, $3 the version, $4.. IndexParams.
const std::string& ReindexSql() {
  static const std::string sql = "WITH " + ClearCtes("$3::bigint") + InsertCtes(4, "$3::bigint") + "SELECT 1";
  return sql;
}

}  // namespace

Result<std::optional<VersionRecord>> ReadCurrent(Connection& c, std::string_view tenant, std::string_view type,
                                                 std::string_view id) {
  EHR_ASSIGN_OR_RETURN(Rows rows, c.Run("SELECT " + std::string(kVersionColumns) +
                                            " FROM resource_version WHERE tenant = $1 AND type = $2 AND id = $3 "
                                            "AND is_current",
                                        {tenant, type, id}));
  return FirstVersion(rows);
}

Result<std::optional<VersionRecord>> ReadVersion(Connection& c, std::string_view tenant, std::string_view type,
                                                 std::string_view id, int64_t version) {
  EHR_ASSIGN_OR_RETURN(Rows rows, c.Run("SELECT " + std::string(kVersionColumns) +
                                            " FROM resource_version WHERE tenant = $1 AND type = $2 AND id = $3 "
                                            "AND version = $4::bigint",
                                        {tenant, type, id, Param::Int(version)}));
  return FirstVersion(rows);
}

Result<HistoryPage> History(Connection& c, const HistoryQuery& q) {
  const int count = std::max(q.count, 0);
  // At most 12 statement texts (level x cursor x since), each prepared once.
  std::vector<Param> params = {q.tenant};
  auto next = [&](Param p) {
    params.push_back(std::move(p));
    return "$" + std::to_string(params.size());
  };
  std::string sql = "SELECT " + std::string(kVersionColumns) + " FROM resource_version WHERE tenant = $1";
  if (!q.type.empty()) {
    sql += " AND type = " + next(q.type);
    if (!q.id.empty()) sql += " AND id = " + next(q.id);
  }
  if (q.before_seq) sql += " AND seq < " + next(Param::Int(*q.before_seq)) + "::bigint";
  if (q.since) sql += " AND last_updated >= " + next(Param::Int(*q.since)) + "::bigint";
  sql += " ORDER BY seq DESC LIMIT " + next(Param::Int(count + 1)) + "::bigint";  // one more: is there a next page?
  EHR_ASSIGN_OR_RETURN(Rows rows, c.Run(sql, params));
  HistoryPage page;
  page.entries = Versions(rows);
  if (static_cast<int>(page.entries.size()) > count) {
    page.more = true;
    page.entries.resize(static_cast<size_t>(count));
  }
  return page;
}

Result<std::vector<VersionRecord>> VersionsAfter(Connection& c, std::string_view tenant, std::string_view type,
                                                int64_t after_seq, int limit) {
  EHR_ASSIGN_OR_RETURN(Rows rows, c.Run("SELECT " + std::string(kVersionColumns) +
                                            " FROM resource_version WHERE tenant = $1 AND type = $2 AND seq > $3::bigint "
                                            "ORDER BY seq LIMIT $4::bigint",
                                        {tenant, type, Param::Int(after_seq), Param::Int(std::max(limit, 0))}));
  return Versions(rows);
}

Result<std::vector<std::string>> FindIdsByToken(Connection& c, const TokenQuery& q) {
  std::vector<std::string> ids;
  if (q.limit <= 0) return ids;
  EHR_ASSIGN_OR_RETURN(Rows rows,
                       c.Run("SELECT DISTINCT r.id FROM token_index x JOIN resource_version r ON r.seq = x.seq "
                             "WHERE x.tenant = $1 AND x.type = $2 AND x.param = $3 AND x.code = $4 "
                             "AND ($5::text IS NULL OR x.system = $5::text) LIMIT $6::bigint",
                             {q.tenant, q.type, q.param, q.code, q.system ? Param(*q.system) : Param(std::nullopt),
                              Param::Int(q.limit)}));
  for (int i = 0; i < rows.size(); ++i) ids.push_back(rows.String(i, 0));
  return ids;
}

Result<std::optional<IdempotencyRecord>> GetIdempotency(Connection& c, std::string_view tenant, std::string_view key) {
  EHR_ASSIGN_OR_RETURN(Rows rows, c.Run("SELECT request_hash, status, headers_json, body, created FROM idempotency "
                                        "WHERE tenant = $1 AND key = $2",
                                        {tenant, key}));
  if (rows.size() == 0) return std::optional<IdempotencyRecord>();
  IdempotencyRecord r;
  r.request_hash = rows.String(0, 0);
  r.status = static_cast<int>(rows.Int(0, 1));
  r.headers_json = rows.String(0, 2);
  r.body = rows.String(0, 3);
  r.created = rows.Int(0, 4);
  return std::optional<IdempotencyRecord>(std::move(r));
}

Result<int64_t> CountCurrent(Connection& c, std::string_view tenant, std::string_view type) {
  EHR_ASSIGN_OR_RETURN(Rows rows, c.Run("SELECT count(*) FROM resource_version WHERE tenant = $1 "
                                        "AND ($2::text = '' OR type = $2::text) AND is_current AND NOT deleted",
                                        {tenant, type}));
  return rows.Int(0, 0);
}

Result<std::vector<VersionRecord>> ScanCurrent(Connection& c, std::string_view tenant, int64_t after_seq, int limit) {
  EHR_ASSIGN_OR_RETURN(Rows rows, c.Run("SELECT " + std::string(kVersionColumns) +
                                            " FROM resource_version WHERE tenant = $1 AND seq > $2::bigint "
                                            "AND is_current AND NOT deleted ORDER BY seq LIMIT $3::bigint",
                                        {tenant, Param::Int(after_seq), Param::Int(limit)}));
  return Versions(rows);
}

Status Put(Connection& c, const NewVersion& v) {
  // Caller bugs, not user data: the API layer validates resources before storing them.
  if (v.type.empty() || v.id.empty() || v.version < 1) {
    return Status::Internal("storage: a new version needs a type, an id and a positive version");
  }
  if (v.deleted && !v.body.empty()) return Status::Internal("storage: a deleted version has no body");
  EHR_ASSIGN_OR_RETURN(Rows current, c.Run("SELECT seq, version, deleted FROM resource_version "
                                           "WHERE tenant = $1 AND type = $2 AND id = $3 AND is_current",
                                           {v.tenant, v.type, v.id}));
  Param demote = std::nullopt, clear = std::nullopt;
  if (current.size() > 0) {
    // Versions only grow, so version order, seq order and lastUpdated order agree.
    if (v.version <= current.Int(0, 1)) return Status::Conflict("storage: the resource already has this version");
    demote = Param::Int(current.Int(0, 0));
    // Index rows exist only for a live current version.
    if (!current.Bool(0, 2)) clear = demote;
  }
  std::vector<Param> params = {v.tenant,
                               v.type,
                               v.id,
                               Param::Int(v.version),
                               Param::Int(v.last_updated),
                               Param::Bool(v.deleted),
                               v.method,
                               v.deleted ? Param(std::nullopt) : Param::Bytes(v.body),
                               demote,
                               clear};
  std::vector<Param> index = IndexParams(v.deleted ? IndexRows{} : v.index);
  params.insert(params.end(), std::make_move_iterator(index.begin()), std::make_move_iterator(index.end()));
  return c.Run(PutSql(), params).status();
}

Status PutIdempotency(Connection& c, std::string_view tenant, std::string_view key, const IdempotencyRecord& r) {
  return c.Run("INSERT INTO idempotency (tenant, key, request_hash, status, headers_json, body, created) "
               "VALUES ($1, $2, $3, $4::integer, $5, $6::bytea, $7::bigint) "
               "ON CONFLICT (tenant, key) DO UPDATE SET request_hash = excluded.request_hash, "
               "status = excluded.status, headers_json = excluded.headers_json, body = excluded.body, "
               "created = excluded.created",
               {tenant, key, r.request_hash, Param::Int(r.status), r.headers_json, Param::Bytes(r.body),
                Param::Int(r.created)})
      .status();
}

Status ReplaceIndexRows(Connection& c, std::string_view tenant, std::string_view type, std::string_view id,
                        const IndexRows& rows) {
  EHR_ASSIGN_OR_RETURN(Rows current, c.Run("SELECT seq FROM resource_version WHERE tenant = $1 AND type = $2 "
                                           "AND id = $3 AND is_current AND NOT deleted",
                                           {tenant, type, id}));
  if (current.size() == 0) return Status::NotFound("storage: no live resource to index");
  std::vector<Param> params = {tenant, type, Param::Int(current.Int(0, 0))};
  std::vector<Param> index = IndexParams(rows);
  params.insert(params.end(), std::make_move_iterator(index.begin()), std::make_move_iterator(index.end()));
  return c.Run(ReindexSql(), params).status();
}

}  // namespace ehr::store::pg
