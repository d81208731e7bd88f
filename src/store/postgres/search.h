// store::SearchQuery on PostgreSQL (issue 8): the same answers as the SQLite backend
// (store/sqlite/search_sql.cc) for every query — matches, order, totals, includes, keyset
// cursors, errors — over the index tables of schema.cc. Every value is a bound parameter.
#pragma once

#include "core/clock.h"
#include "core/status.h"
#include "store/postgres/pg.h"
#include "store/query.h"

namespace ehr::store::pg {

// One page of `q` over `c`, whose session or transaction is set to q.tenant. Outside a
// transaction the page, the total and the includes read one snapshot (a read-only
// transaction of their own); inside one (the writer's) they see its earlier writes.
// `now` anchors date `ap`. Errors: kInvalid for a query or cursor that cannot run (too
// large, a value that does not fit its parameter); kUnavailable (too-costly) when one of
// its statements runs past `timeout_ms` (outside a transaction only: the writer's
// transaction is the writer's).
inline constexpr int64_t kSearchTimeoutMs = 30'000;
Result<SearchPage> Search(Connection& c, const SearchQuery& q, Micros now, int64_t timeout_ms = kSearchTimeoutMs);

// PostgreSQL's plans (EXPLAIN) of the page statement, then of the count, "-- total" between
// them: for tests that the statements use the indexes. Empty when the search reads nothing.
Result<std::string> ExplainSearch(Connection& c, const SearchQuery& q, Micros now);

}  // namespace ehr::store::pg
