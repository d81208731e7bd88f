#include "core/clock.h"
#include "store/sqlite/body_cipher.h"

namespace ehr::store::sqlite {

Result<std::optional<WrappedKey>> DataKeys::Find(std::string_view tenant, uint32_t version) {
  EHR_ASSIGN_OR_RETURN(Stmt read, version == 0 ? c_.Prepare("SELECT version, kek, wrapped FROM data_key WHERE tenant = ?1 "
                                                            "ORDER BY version DESC LIMIT 1",
                                                            "read data key")
                                               : c_.Prepare("SELECT version, kek, wrapped FROM data_key WHERE tenant = ?1 "
                                                            "AND version = ?2",
                                                            "read data key"));
  read.BindText(1, tenant);
  if (version != 0) read.BindInt(2, version);
  EHR_ASSIGN_OR_RETURN(bool row, read.Step());
  if (!row) return std::optional<WrappedKey>();
  return std::optional<WrappedKey>(
      WrappedKey{static_cast<uint32_t>(read.ColumnInt(0)), read.ColumnText(1), read.ColumnBlob(2)});
}

Result<WrappedKey> DataKeys::Insert(std::string_view tenant, const WrappedKey& key) {
  EHR_ASSIGN_OR_RETURN(Stmt insert, c_.Prepare("INSERT OR IGNORE INTO data_key (tenant, version, kek, wrapped, created) "
                                               "VALUES (?1, ?2, ?3, ?4, ?5)",
                                               "insert data key"));
  insert.BindText(1, tenant).BindInt(2, key.version).BindText(3, key.kek_id).BindBlob(4, key.wrapped);
  insert.BindInt(5, Clock::System().Now());
  EHR_RETURN_IF_ERROR(insert.Run());
  if (insert.Changes() == 1) return key;
  EHR_ASSIGN_OR_RETURN(std::optional<WrappedKey> stored, Find(tenant, key.version));
  if (!stored) return Status::Internal("encryption: a data key vanished");
  return *stored;
}

Result<std::vector<std::pair<std::string, uint32_t>>> DataKeys::Newest() {
  EHR_ASSIGN_OR_RETURN(Stmt read, c_.Prepare("SELECT tenant, max(version) FROM data_key GROUP BY tenant",
                                             "read data key versions"));
  std::vector<std::pair<std::string, uint32_t>> out;
  while (true) {
    EHR_ASSIGN_OR_RETURN(bool row, read.Step());
    if (!row) return out;
    out.emplace_back(read.ColumnText(0), static_cast<uint32_t>(read.ColumnInt(1)));
  }
}

}  // namespace ehr::store::sqlite
