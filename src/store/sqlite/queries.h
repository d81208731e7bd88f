// The SQL behind store::Store and store::WriteTxn, as functions of one Connection so the
// reader pool and the writer transaction share them. Every statement binds the tenant.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/sqlite/db.h"
#include "store/store.h"

namespace ehr::store::sqlite {

// The full-text rows of text_index (schema.cc, migration 4) are scoped by the search_param
// key of (tenant, type, kTextScopeParam), written in the row's `scope` column as one word.
inline constexpr std::string_view kTextScopeParam = "_content";
inline std::string TextScope(int64_t pk) { return "k" + std::to_string(pk); }

// token_index (schema.cc, migration 5) keeps each text of a code after this mark, and an
// :of-type row's identifier value in its code, after the type code and this mark.
inline constexpr std::string_view kTokenTextMark = "\x1f";
inline bool IsOfTypeParam(std::string_view param) {
  constexpr std::string_view kSuffix = ":of-type";
  return param.size() > kSuffix.size() && param.substr(param.size() - kSuffix.size()) == kSuffix;
}

Result<std::optional<VersionRecord>> ReadCurrent(Connection& c, std::string_view tenant, std::string_view type,
                                                 std::string_view id);
Result<std::optional<VersionRecord>> ReadVersion(Connection& c, std::string_view tenant, std::string_view type,
                                                 std::string_view id, int64_t version);
Result<HistoryPage> History(Connection& c, const HistoryQuery& q);
Result<std::vector<VersionRecord>> VersionsAfter(Connection& c, std::string_view tenant, std::string_view type,
                                                int64_t after_seq, int limit);
Result<std::vector<std::string>> FindIdsByToken(Connection& c, const TokenQuery& q);
Result<std::optional<IdempotencyRecord>> GetIdempotency(Connection& c, std::string_view tenant,
                                                        std::string_view key);
Result<int64_t> CountCurrent(Connection& c, std::string_view tenant, std::string_view type);
// The search plan as SQL over the index tables (search_sql.cc). Errors: kInvalid for a
// plan beyond the limits (clauses, values, chain depth, includes per page) or a malformed
// cursor; kUnavailable (issue code too-costly) when it runs past the timeout.
struct SearchOptions {
  Micros now = 0;               // the `ap` prefix on dates widens by 10% of the distance to now
  int64_t timeout_ms = 30'000;  // for the whole search, statements interrupted after it
};
Result<SearchPage> Search(Connection& c, const SearchQuery& q);  // now: the system clock
Result<SearchPage> Search(Connection& c, const SearchQuery& q, const SearchOptions& options);
// EXPLAIN QUERY PLAN (detail column) of the statements of a search, for tests and diagnosis.
struct SearchPlan {
  std::vector<std::string> page;
  std::vector<std::string> total;
};
Result<SearchPlan> ExplainSearch(Connection& c, const SearchQuery& q, const SearchOptions& options);

// Writes; the caller holds a write transaction on `c`, opened with OpenWriteSession once.
// Put is atomic on its own (a failed Put leaves nothing behind even if the caller carries
// on). Full-text rows wait in temp tables until FlushTextRows, which must run before the
// transaction commits and before a search in it (a job's rows leave the temp tables with
// its savepoint when it fails).
//
// Why: FTS5 (SQLite 3.40) writes its pending terms out as a new segment at every statement
// savepoint, and every later statement of the transaction that may abort opens one. Rows
// inserted one per resource, between the other inserts, made one segment (and merge work)
// per resource; one INSERT ... SELECT per transaction makes one.
Status OpenWriteSession(Connection& c);
Status FlushTextRows(Connection& c);
// `stored_body`: the body as stored (v.body, or sealed: body_cipher.h).
Status Put(Connection& c, const NewVersion& v, std::string_view stored_body);
Status PutIdempotency(Connection& c, std::string_view tenant, std::string_view key, const IdempotencyRecord& r);
// Store::ExpireIdempotency, inside a write.
Result<int64_t> ExpireIdempotency(Connection& c, Micros created_before, int limit);
Status ReplaceIndexRows(Connection& c, std::string_view tenant, std::string_view type, std::string_view id,
                        const IndexRows& rows);
// Up to `limit` current, non-deleted versions with seq > after_seq, in seq order, with
// their tenants.
Result<std::vector<std::pair<std::string, VersionRecord>>> ScanCurrent(Connection& c, int64_t after_seq, int limit);

// last_updated of the newest version in the store (0 when empty): the floor for the
// transaction clock after a restart.
Result<Micros> LastWriteTime(Connection& c);

}  // namespace ehr::store::sqlite
