#include "store/postgres/queries.h"

#include <algorithm>
#include <charconv>
#include <memory>
#include <cmath>
#include <set>
#include <unordered_set>
#include <utility>

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

// The columns of one index table as parallel arrays in binary form (BinaryArray), one
// element per row: each row's type and seq, then its values.
class Columns {
 public:
  Columns(std::initializer_list<BinaryArray::Of> values) {
    columns_.emplace_back(BinaryArray::Of::kText);
    columns_.emplace_back(BinaryArray::Of::kBigint);
    for (BinaryArray::Of of : values) columns_.emplace_back(of);
  }
  template <typename... V>
  void Row(std::string_view type, int64_t seq, const V&... values) {
    size_t i = 0;
    columns_[i++].Add(type);
    columns_[i++].Add(seq);
    (columns_[i++].Add(values), ...);
  }
  void AppendTo(std::vector<Param>& params) const {
    for (const BinaryArray& column : columns_) params.push_back(column.Build());
  }

 private:
  std::vector<BinaryArray> columns_;
};

// The index tables cleared by seq when a resource gets a new version.
constexpr std::string_view kIndexTables[] = {"string_index",    "token_index", "date_index", "number_index",
                                             "quantity_index",  "reference_index", "uri_index", "text_index"};

// One statement writing the buffered rows of one tenant ($1): the rows of the versions in
// $2 deleted, the new rows inserted (each table's columns as parallel arrays, with the
// type and version of each row; a value repeated in one version is stored once).
std::string MakeFlushSql(bool clears) {
    std::string out = "WITH ";
    int n = 0;
    for (std::string_view table : kIndexTables) {
      if (!clears) break;
      out += "clear" + std::to_string(++n) + " AS (DELETE FROM " + std::string(table) + " WHERE seq = ANY($2::bigint[])), ";
    }
    if (!clears) out += "none AS (SELECT $2::bigint[] AS a), ";
    int p = 3;
    auto unnest = [&](std::initializer_list<const char*> types, const char* names) {
      std::string u = "unnest(";
      bool comma = false;
      for (const char* t : types) {
        if (comma) u += ", ";
        u += "$" + std::to_string(p++) + "::" + t + "[]";
        comma = true;
      }
      return u + ") AS u(" + names + ")";
    };
    const std::string head = "SELECT DISTINCT $1::text, u.ty, ";
    out += "add1 AS (INSERT INTO string_index (tenant, type, param, normalized, exact, seq) " + head +
           "u.p, u.n, u.e, u.s FROM " + unnest({"text", "bigint", "text", "text", "text"}, "ty, s, p, n, e") + "), ";
    out += "add2 AS (INSERT INTO token_index (tenant, type, param, system, code, text, seq) " + head +
           "u.p, u.sy, u.c, u.t, u.s FROM " +
           unnest({"text", "bigint", "text", "text", "text", "text"}, "ty, s, p, sy, c, t") + "), ";
    out += "add3 AS (INSERT INTO date_index (tenant, type, param, low, high, seq) " + head + "u.p, u.l, u.h, u.s FROM " +
           unnest({"text", "bigint", "text", "bigint", "bigint"}, "ty, s, p, l, h") + "), ";
    out += "add4 AS (INSERT INTO number_index (tenant, type, param, value, seq) " + head + "u.p, u.v, u.s FROM " +
           unnest({"text", "bigint", "text", "float8"}, "ty, s, p, v") + "), ";
    out += "add5 AS (INSERT INTO quantity_index (tenant, type, param, value, system, code, unit, canonical_unit, "
           "canonical_value, seq) " + head + "u.p, u.v, u.sy, u.c, u.un, u.cu, u.cv, u.s FROM " +
           unnest({"text", "bigint", "text", "float8", "text", "text", "text", "text", "float8"},
                  "ty, s, p, v, sy, c, un, cu, cv") + "), ";
    out += "add6 AS (INSERT INTO reference_index (tenant, type, param, target_type, target_id, url, seq) " + head +
           "u.p, u.tt, u.ti, u.url, u.s FROM " +
           unnest({"text", "bigint", "text", "text", "text", "text"}, "ty, s, p, tt, ti, url") + "), ";
    out += "add7 AS (INSERT INTO uri_index (tenant, type, param, uri, seq) " + head + "u.p, u.ur, u.s FROM " +
           unnest({"text", "bigint", "text", "text"}, "ty, s, p, ur") + "), ";
    // The words of every row in one array, each row's from its first to its last.
    const std::string rows = unnest({"text", "bigint", "text", "text", "bigint", "bigint"}, "ty, s, n, c, f, l");
    out += "add8 AS (INSERT INTO text_index (tenant, type, seq, narrative_words, content_words, words) "
           "SELECT $1::text, u.ty, u.s, u.n, u.c, coalesce(($" + std::to_string(p) + "::bigint[])[u.f:u.l], '{}') FROM " +
           rows + ") SELECT 1";
    return out;
}
// Without deletions (a job that only created resources) the statement leaves the eight
// deletions out: each opens its table and indexes even when it deletes nothing.
const std::string& FlushSql(bool clears) {
  static const std::string with = MakeFlushSql(true), without = MakeFlushSql(false);
  return clears ? with : without;
}

}  // namespace

void IndexBuffer::Add(std::string_view tenant, std::string_view type, int64_t seq, IndexRows rows) {
  adds_[seq] = Pending{std::string(tenant), std::string(type), std::move(rows)};
}

void IndexBuffer::Drop(std::string_view tenant, int64_t seq) {
  if (adds_.erase(seq) > 0) return;  // never written: nothing to delete
  drops_[std::string(tenant)].push_back(seq);
}

Status IndexBuffer::Flush(Connection& c, const std::function<Status(std::string_view)>& enter) {
  std::set<std::string> tenants;
  for (const auto& [seq, pending] : adds_) tenants.insert(pending.tenant);
  for (const auto& [tenant, seqs] : drops_) tenants.insert(tenant);
  for (const std::string& tenant : tenants) {
    using Of = BinaryArray::Of;
    constexpr Of kText = Of::kText, kFloat = Of::kFloat8;
    Columns strings{kText, kText, kText}, tokens{kText, kText, kText, kText}, dates{kText, Of::kBigint, Of::kBigint},
        numbers{kText, kFloat}, quantities{kText, kFloat, kText, kText, kText, kText, kFloat},
        references{kText, kText, kText, kText}, uris{kText, kText}, text{kText, kText, Of::kBigint, Of::kBigint};
    BinaryArray dropped(Of::kBigint), words(Of::kBigint);
    if (auto it = drops_.find(tenant); it != drops_.end()) {
      for (int64_t seq : it->second) dropped.Add(seq);
    }
    for (const auto& [seq, pending] : adds_) {
      if (pending.tenant != tenant) continue;
      const IndexRows& ix = pending.rows;
      const std::string_view type = pending.type;
      for (const StringRow& r : ix.strings) strings.Row(type, seq, r.param, r.normalized, r.exact);
      for (const TokenRow& r : ix.tokens) tokens.Row(type, seq, r.param, r.system, r.code, r.text);
      for (const DateRow& r : ix.dates) dates.Row(type, seq, r.param, r.low, r.high);
      // A number that cannot be compared (NaN, an overflowed decimal) is left out rather
      // than failing the write of the resource, as in SQLite.
      for (const NumberRow& r : ix.numbers) {
        if (std::isfinite(r.value)) numbers.Row(type, seq, r.param, r.value);
      }
      for (const QuantityRow& r : ix.quantities) {
        if (!std::isfinite(r.value)) continue;
        const bool canonical = !r.canonical_unit.empty() && std::isfinite(r.canonical_value);
        quantities.Row(type, seq, r.param, r.value, r.system, r.code, r.unit,
                       canonical ? std::string_view(r.canonical_unit) : std::string_view(),
                       canonical ? r.canonical_value : 0.0);
      }
      for (const ReferenceRow& r : ix.references) references.Row(type, seq, r.param, r.target_type, r.target_id, r.url);
      for (const UriRow& r : ix.uris) uris.Row(type, seq, r.param, r.uri);
      // Full text as its words (text_words.h), phrases matched in them; each word of a
      // version once in its row's part of `words`, as its number (text_words.h WordHash).
      if (!ix.narrative.empty() || !ix.content.empty()) {
        std::string narrative = TextWords(ix.narrative), content = TextWords(ix.content);
        std::unordered_set<int64_t> hashes;
        const auto first = static_cast<int64_t>(words.size()) + 1;
        for (auto [field, all] : {std::pair<char, std::string_view>{'n', narrative}, {'c', content}}) {
          for (size_t start = 0, end; (end = all.find(' ', start)) != std::string_view::npos; start = end + 1) {
            const int64_t h = WordHash(type, field, Lexeme(all.substr(start, end - start)));
            if (hashes.insert(h).second) words.Add(h);
          }
        }
        text.Row(type, seq, narrative, content, first, static_cast<int64_t>(words.size()));
      }
    }
    std::vector<Param> params = {tenant, dropped.Build()};
    for (const Columns* cols : {&strings, &tokens, &dates, &numbers, &quantities, &references, &uris, &text}) {
      cols->AppendTo(params);
    }
    params.push_back(words.Build());
    EHR_RETURN_IF_ERROR(enter(tenant));
    // Sent without waiting for it: the job's next statement or its end reports a failure.
    EHR_RETURN_IF_ERROR(c.Send(FlushSql(dropped.size() > 0), params));
  }
  adds_.clear();
  drops_.clear();
  return Status::Ok();
}

Result<std::optional<VersionRecord>> ReadCurrent(Connection& c, std::string_view tenant, std::string_view type,
                                                 std::string_view id) {
  EHR_ASSIGN_OR_RETURN(Rows rows, c.Run("SELECT " + std::string(kVersionColumns) +
                                            " FROM resource_version WHERE tenant = $1 AND type = $2 AND id = $3 "
                                            "AND is_current",
                                        {tenant, type, id}));
  return FirstVersion(rows);
}

Result<std::vector<VersionRecord>> ReadCurrentMany(Connection& c, std::string_view tenant,
                                                   const std::vector<std::pair<std::string, std::string>>& keys) {
  BinaryArray types(BinaryArray::Of::kText), ids(BinaryArray::Of::kText);
  for (const auto& [type, id] : keys) {
    types.Add(type);
    ids.Add(id);
  }
  EHR_ASSIGN_OR_RETURN(Rows rows, c.Run("SELECT r.seq, r.type, r.id, r.version, r.last_updated, r.deleted, r.method, "
                                        "r.body FROM unnest($2::text[], $3::text[]) AS k(type, id) "
                                        "JOIN resource_version r ON r.tenant = $1 AND r.type = k.type AND r.id = k.id "
                                        "AND r.is_current",
                                        {tenant, types.Build(), ids.Build()}));
  return Versions(rows);
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

namespace {

// One statement: the current version looked up, demoted and followed by the new one,
// unless it is not older (then nothing changes). `added` reads `demoted`, so the old
// version stops being current before the new one is (one current version per resource:
// a unique index). Its row: the new seq (NULL when nothing changed), the old current
// version's seq and whether it was deleted (NULL without one).
constexpr std::string_view kPutSql =
    "WITH cur AS (SELECT seq, version, deleted FROM resource_version "
    "WHERE tenant = $1 AND type = $2 AND id = $3 AND is_current), "
    "demoted AS (UPDATE resource_version r SET is_current = false FROM cur "
    "WHERE r.seq = cur.seq AND cur.version < $4::bigint RETURNING r.seq), "
    "added AS (INSERT INTO resource_version (tenant, type, id, version, last_updated, deleted, method, body, "
    "is_current) SELECT $1, $2, $3, $4::bigint, $5::bigint, $6::boolean, $7, $8::bytea, true "
    "WHERE NOT EXISTS (SELECT 1 FROM cur WHERE cur.version >= $4::bigint) "
    "AND (SELECT count(*) FROM demoted) >= 0 RETURNING seq) "
    "SELECT (SELECT seq FROM added), (SELECT seq FROM cur), (SELECT deleted FROM cur)";

// Caller bugs, not user data: the API layer validates resources before storing them.
Status CheckNewVersion(const NewVersion& v) {
  if (v.type.empty() || v.id.empty() || v.version < 1) {
    return Status::Internal("storage: a new version needs a type, an id and a positive version");
  }
  if (v.deleted && !v.body.empty()) return Status::Internal("storage: a deleted version has no body");
  return Status::Ok();
}

std::vector<Param> PutParams(const NewVersion& v, std::string_view body) {
  return {v.tenant, v.type, v.id, Param::Int(v.version), Param::Int(v.last_updated), Param::Bool(v.deleted), v.method,
          v.deleted ? Param(std::nullopt) : Param::Bytes(body)};
}

// What the statement's row means for the index: the old live version's rows go, the new
// version's come (index rows exist only for a live current version).
Status PutDone(const Rows& r, std::string_view tenant, std::string_view type, bool deleted, IndexRows rows,
               IndexBuffer& index) {
  // Versions only grow, so version order, seq order and lastUpdated order agree.
  if (r.size() != 1 || r.IsNull(0, 0)) return Status::Conflict("storage: the resource already has this version");
  if (!r.IsNull(0, 1) && !r.Bool(0, 2)) index.Drop(tenant, r.Int(0, 1));
  if (!deleted) index.Add(tenant, type, r.Int(0, 0), std::move(rows));
  return Status::Ok();
}

}  // namespace

Status Put(Connection& c, const NewVersion& v, std::string_view body, IndexBuffer& index) {
  EHR_RETURN_IF_ERROR(CheckNewVersion(v));
  EHR_ASSIGN_OR_RETURN(Rows r, c.Run(kPutSql, PutParams(v, body)));
  return PutDone(r, v.tenant, v.type, v.deleted, v.index, index);
}

Status SendPut(Connection& c, const NewVersion& v, std::string_view body, IndexBuffer& index) {
  EHR_RETURN_IF_ERROR(CheckNewVersion(v));
  // What the row will need, kept until it comes (the caller's version may be gone by then).
  auto kept = std::make_shared<NewVersion>();
  kept->tenant = v.tenant;
  kept->type = v.type;
  kept->deleted = v.deleted;
  kept->index = v.index;
  return c.Send(kPutSql, PutParams(v, body), [kept, &index](const Rows& r) {
    return PutDone(r, kept->tenant, kept->type, kept->deleted, std::move(kept->index), index);
  });
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

Result<int64_t> ExpireIdempotency(Connection& c, std::string_view tenant, Micros created_before, int limit) {
  EHR_ASSIGN_OR_RETURN(Rows rows, c.Run("WITH gone AS (DELETE FROM idempotency WHERE tenant = $1 AND key IN "
                                        "(SELECT key FROM idempotency WHERE tenant = $1 AND created < $2::bigint "
                                        "ORDER BY created LIMIT $3::bigint) RETURNING 1) SELECT count(*) FROM gone",
                                        {tenant, Param::Int(created_before), Param::Int(limit)}));
  return rows.Int(0, 0);
}

Status ReplaceIndexRows(Connection& c, std::string_view tenant, std::string_view type, std::string_view id,
                        const IndexRows& rows, IndexBuffer& index) {
  EHR_ASSIGN_OR_RETURN(Rows current, c.Run("SELECT seq FROM resource_version WHERE tenant = $1 AND type = $2 "
                                           "AND id = $3 AND is_current AND NOT deleted",
                                           {tenant, type, id}));
  if (current.size() == 0) return Status::NotFound("storage: no live resource to index");
  index.Drop(tenant, current.Int(0, 0));
  index.Add(tenant, type, current.Int(0, 0), rows);  // a copy: the caller keeps its rows
  return Status::Ok();
}

}  // namespace ehr::store::pg
