// The envelope cipher (store/body_cipher.h) over SQLite: its data_key table on one of the
// store's connections, and the cipher taking those connections.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/body_cipher.h"
#include "store/sqlite/db.h"

namespace ehr::store::sqlite {

class DataKeys final : public DataKeyTable {
 public:
  explicit DataKeys(Connection& c) : c_(c) {}
  Result<std::optional<WrappedKey>> Find(std::string_view tenant, uint32_t version) override;
  Result<WrappedKey> Insert(std::string_view tenant, const WrappedKey& key) override;
  Result<std::vector<std::pair<std::string, uint32_t>>> Newest() override;
  bool Remembers(const std::string& memo) override { return c_.key_memo().count(memo) != 0; }
  void Remember(const std::string& memo) override { c_.key_memo().emplace(memo, 1); }  // a rollback clears it (db.h)

 private:
  Connection& c_;
};

class BodyCipher : public store::BodyCipher {
 public:
  using store::BodyCipher::BodyCipher;
  Result<std::string> Seal(Connection& writer, std::string_view tenant, std::string_view aad, std::string_view plain,
                           bool sensitive) {
    DataKeys keys(writer);
    return store::BodyCipher::Seal(keys, tenant, aad, plain, sensitive);
  }
  Status Open(Connection& c, std::string_view tenant, std::string_view aad, std::string& stored) {
    DataKeys keys(c);
    return store::BodyCipher::Open(keys, tenant, aad, stored);
  }
  Result<uint32_t> WriterVersion(Connection& writer, std::string_view tenant) {
    DataKeys keys(writer);
    return store::BodyCipher::WriterVersion(keys, tenant);
  }
  Status Refresh(Connection& c) {
    DataKeys keys(c);
    return store::BodyCipher::Refresh(keys);
  }
};

using store::AuditDetailAad;
using store::BodyAad;
using store::DataKeyAad;
using store::IdempotencyAad;

}  // namespace ehr::store::sqlite
