// The key tables of the PostgreSQL store (store/body_cipher.h; schema.cc migration 5): data
// keys by tenant and version, named secrets, and what rotation and re-encryption do to them
// and to bodies; the same behaviour as store/sqlite/key_tables.h. These tables are shared by
// every tenant (wrapped keys only: no row-level security); the bodies are tenant data, so
// the work over them goes tenant by tenant, `enter` setting the writer's tenant.
#pragma once

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "keys/kek.h"
#include "store/body_cipher.h"
#include "store/postgres/pg.h"
#include "store/store.h"

namespace ehr::store::pg {

// data_key over one connection; `memo`: the writer's memo (nullptr for a reader);
// `before`: run before each statement (the writer's savepoint, made only when needed).
class DataKeys final : public DataKeyTable {
 public:
  DataKeys(Connection& c, std::set<std::string>* memo, std::function<Status()> before = nullptr)
      : c_(c), memo_(memo), before_(std::move(before)) {}
  Result<std::optional<WrappedKey>> Find(std::string_view tenant, uint32_t version) override;
  Result<WrappedKey> Insert(std::string_view tenant, const WrappedKey& key) override;
  Result<std::vector<std::pair<std::string, uint32_t>>> Newest() override;
  bool Remembers(const std::string& memo) override { return memo_ != nullptr && memo_->count(memo) != 0; }
  void Remember(const std::string& memo) override {
    if (memo_ != nullptr) memo_->insert(memo);
  }

 private:
  Status Before() { return before_ ? before_() : Status::Ok(); }
  Connection& c_;
  std::set<std::string>* memo_;
  std::function<Status()> before_;
};

using EnterTenant = std::function<Status(std::string_view tenant)>;

Result<std::vector<KeyUse>> KeyUsage(Connection& c, const std::vector<std::string>& tenants, const EnterTenant& enter);
// Writer, in a transaction: Store::RetireDataKeys.
Result<std::vector<DataKeyRetirement>> RetireDataKeys(Connection& writer, const std::vector<std::string>& tenants,
                                                      const EnterTenant& enter, Micros superseded_before);
Result<std::vector<std::string>> KekIdsInUse(Connection& c);
Result<int> RotateDataKeys(Connection& writer, keys::KeyEncryptionKeys& kek);
Result<ReencryptStep> Reencrypt(Connection& writer, DataKeys& keys, BodyCipher& cipher,
                                const std::vector<std::string>& tenants, const EnterTenant& enter, int64_t after_seq,
                                int limit, std::string& fingerprint_out);
struct IdempotencyCursor {
  std::string tenant, key;
};
Result<int> ReencryptIdempotency(Connection& writer, DataKeys& keys, BodyCipher& cipher,
                                 const std::vector<std::string>& tenants, const EnterTenant& enter,
                                 IdempotencyCursor& after, int limit, int64_t& rewritten);
Status WriteReencryptMark(Connection& writer, const std::string& fingerprint, int64_t through_seq);

Result<std::optional<std::string>> ReadSecret(Connection& c, keys::KeyEncryptionKeys& kek, std::string_view name);
Status InsertSecret(Connection& writer, keys::KeyEncryptionKeys& kek, std::string_view name, std::string_view bytes);

}  // namespace ehr::store::pg
