// The statements of the PostgreSQL store (issue 8), one function each, over a connection
// whose transaction or session the caller has set to the tenant (schema.h, SetTenant):
// row-level security admits that tenant's rows only, and every statement names the tenant
// as well. Statements are prepared per connection (Connection::Run).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "store/postgres/pg.h"
#include "store/store.h"

namespace ehr::store::pg {

Result<std::optional<VersionRecord>> ReadCurrent(Connection& c, std::string_view tenant, std::string_view type,
                                                 std::string_view id);
// The current versions of `keys` (type, id) that exist, in no particular order.
Result<std::vector<VersionRecord>> ReadCurrentMany(Connection& c, std::string_view tenant,
                                                   const std::vector<std::pair<std::string, std::string>>& keys);
Result<std::optional<VersionRecord>> ReadVersion(Connection& c, std::string_view tenant, std::string_view type,
                                                 std::string_view id, int64_t version);
Result<HistoryPage> History(Connection& c, const HistoryQuery& q);
Result<std::vector<VersionRecord>> VersionsAfter(Connection& c, std::string_view tenant, std::string_view type,
                                                int64_t after_seq, int limit);
Result<std::vector<std::string>> FindIdsByToken(Connection& c, const TokenQuery& q);
Result<std::optional<IdempotencyRecord>> GetIdempotency(Connection& c, std::string_view tenant, std::string_view key);
Result<int64_t> CountCurrent(Connection& c, std::string_view tenant, std::string_view type);
// Current live versions of the tenant with seq > after_seq, oldest first.
Result<std::vector<VersionRecord>> ScanCurrent(Connection& c, std::string_view tenant, int64_t after_seq, int limit);

// The search index rows of a write job's versions, kept here and written together: one
// statement per tenant (Flush) when the job ends or before it searches, where one per
// version cost most of a write (a statement of twenty parts, each opening its table).
class IndexBuffer {
 public:
  // The rows of version `seq`, written at the next Flush.
  void Add(std::string_view tenant, std::string_view type, int64_t seq, IndexRows rows);
  // The rows of version `seq` go: dropped here when not written yet, else deleted at the
  // next Flush.
  void Drop(std::string_view tenant, int64_t seq);
  bool empty() const { return adds_.empty() && drops_.empty(); }
  // Writes everything, tenant by tenant (`enter` sets the transaction's tenant), and empties.
  Status Flush(Connection& c, const std::function<Status(std::string_view)>& enter);

 private:
  struct Pending {
    std::string tenant, type;
    IndexRows rows;
  };
  std::map<int64_t, Pending> adds_;                        // by version (seq)
  std::map<std::string, std::vector<int64_t>> drops_;      // by tenant
};

// Writer, inside the transaction. Put: kConflict (before anything changes) when the
// resource has this version or a newer one; kInternal for a malformed version. `body` is
// what is stored (v.body, or its sealed form). The version's index rows go to `index`.
Status Put(Connection& c, const NewVersion& v, std::string_view body, IndexBuffer& index);
// The same, sent without waiting (Connection::Send): its failure, and its rows' arrival in
// `index`, come with the connection's next Run() or Sync(); `index` must outlive that.
Status SendPut(Connection& c, const NewVersion& v, std::string_view body, IndexBuffer& index);
Status PutIdempotency(Connection& c, std::string_view tenant, std::string_view key, const IdempotencyRecord& r);
// Store::ExpireIdempotency for the tenant the transaction is set to.
Result<int64_t> ExpireIdempotency(Connection& c, std::string_view tenant, Micros created_before, int limit);
Status ReplaceIndexRows(Connection& c, std::string_view tenant, std::string_view type, std::string_view id,
                        const IndexRows& rows, IndexBuffer& index);

}  // namespace ehr::store::pg
