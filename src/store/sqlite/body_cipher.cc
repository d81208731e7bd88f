#include "store/sqlite/body_cipher.h"

#include <mutex>

#include "core/clock.h"
#include "core/secrets.h"
#include "keys/aead.h"

namespace ehr::store::sqlite {
namespace {

constexpr size_t kHeaderBytes = 6;

std::string Joined(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) out.append(p).push_back('\0');
  return out;
}

std::string MemoKey(std::string_view tenant, uint32_t version) {
  std::string key = "data_key\x1f";
  key.append(tenant).push_back('\x1f');
  return key + std::to_string(version);
}

}  // namespace

std::string BodyAad(std::string_view tenant, std::string_view type, std::string_view id, int64_t version) {
  return Joined({"ehr-body", tenant, type, id, std::to_string(version)});
}
std::string IdempotencyAad(std::string_view tenant, std::string_view key) {
  return Joined({"ehr-idempotency", tenant, key});
}
std::string AuditDetailAad(std::string_view tenant, std::string_view core) {
  return Joined({"ehr-audit-detail", tenant, core});
}
std::string DataKeyAad(std::string_view tenant, uint32_t version) {
  return Joined({"ehr-data-key", tenant, std::to_string(version)});
}

uint32_t BodyCipher::KeyVersionOf(std::string_view stored) {
  if (!IsSealed(stored)) return 0;
  uint32_t v = 0;
  for (size_t i = 2; i < kHeaderBytes; ++i) v = (v << 8) | static_cast<unsigned char>(stored[i]);
  return v;
}

uint32_t BodyCipher::CurrentVersion(std::string_view tenant) const {
  std::shared_lock lock(mu_);
  auto it = tenants_.find(std::string(tenant));
  return it == tenants_.end() ? 0 : it->second.current;
}

Result<BodyCipher::DataKey> BodyCipher::Unwrap(std::string_view tenant, uint32_t version, std::string kek_id,
                                               std::string wrapped) {
  EHR_ASSIGN_OR_RETURN(std::string key, kek_->Unwrap(kek_id, wrapped, DataKeyAad(tenant, version)));
  if (key.size() != keys::kKeyBytes) return Status::Internal("encryption: a data key has the wrong size");
  return DataKey{std::move(key), std::move(kek_id), std::move(wrapped)};
}

Status BodyCipher::EnsureRow(Connection& writer, std::string_view tenant, uint32_t version) {
  const std::string memo = MemoKey(tenant, version);
  if (writer.key_memo().count(memo)) return Status::Ok();
  DataKey mine;
  {
    std::shared_lock lock(mu_);
    mine = tenants_.at(std::string(tenant)).versions.at(version);
  }
  EHR_ASSIGN_OR_RETURN(Stmt insert, writer.Prepare("INSERT OR IGNORE INTO data_key (tenant, version, kek, wrapped, created) "
                                                   "VALUES (?1, ?2, ?3, ?4, ?5)",
                                                   "insert data key"));
  insert.BindText(1, tenant).BindInt(2, version).BindText(3, mine.kek_id).BindBlob(4, mine.wrapped);
  insert.BindInt(5, Clock::System().Now());
  EHR_RETURN_IF_ERROR(insert.Run());
  if (insert.Changes() == 0) {
    // The row was there: ours from an earlier transaction, or one another process (`ehr
    // keys rotate`) made for the same version first. Theirs wins: use what is stored.
    EHR_ASSIGN_OR_RETURN(Stmt read, writer.Prepare("SELECT kek, wrapped FROM data_key WHERE tenant = ?1 AND version = ?2",
                                                   "read data key"));
    read.BindText(1, tenant).BindInt(2, version);
    EHR_ASSIGN_OR_RETURN(bool row, read.Step());
    if (!row) return Status::Internal("encryption: a data key vanished");
    if (read.ColumnBlob(1) != mine.wrapped) {
      EHR_ASSIGN_OR_RETURN(DataKey stored, Unwrap(tenant, version, read.ColumnText(0), read.ColumnBlob(1)));
      std::unique_lock lock(mu_);
      tenants_[std::string(tenant)].versions[version] = std::move(stored);
    }
  }
  writer.key_memo().emplace(memo, 1);
  return Status::Ok();
}

Result<std::pair<uint32_t, std::string>> BodyCipher::WriterKey(Connection& writer, std::string_view tenant) {
  uint32_t version = CurrentVersion(tenant);
  if (version == 0) {
    // First use in this process: the newest stored version, else a new first key.
    EHR_ASSIGN_OR_RETURN(Stmt read, writer.Prepare("SELECT version, kek, wrapped FROM data_key WHERE tenant = ?1 "
                                                   "ORDER BY version DESC LIMIT 1",
                                                   "read data key"));
    read.BindText(1, tenant);
    EHR_ASSIGN_OR_RETURN(bool row, read.Step());
    DataKey key;
    if (row) {
      version = static_cast<uint32_t>(read.ColumnInt(0));
      EHR_ASSIGN_OR_RETURN(key, Unwrap(tenant, version, read.ColumnText(1), read.ColumnBlob(2)));
    } else {
      version = 1;
      key.key = RandomBytes(keys::kKeyBytes);
      EHR_ASSIGN_OR_RETURN(keys::Wrapped wrapped, kek_->Wrap(key.key, DataKeyAad(tenant, version)));
      key.kek_id = std::move(wrapped.kek_id);
      key.wrapped = std::move(wrapped.bytes);
    }
    std::unique_lock lock(mu_);
    TenantKeys& t = tenants_[std::string(tenant)];
    t.versions.emplace(version, std::move(key));
    t.current = std::max(t.current, version);
    version = t.current;
  }
  EHR_RETURN_IF_ERROR(EnsureRow(writer, tenant, version));
  std::shared_lock lock(mu_);
  return std::pair<uint32_t, std::string>(version, tenants_.at(std::string(tenant)).versions.at(version).key);
}

Result<uint32_t> BodyCipher::WriterVersion(Connection& writer, std::string_view tenant) {
  if (kek_ == nullptr) return 0u;
  EHR_ASSIGN_OR_RETURN(auto key, WriterKey(writer, tenant));
  return key.first;
}

Result<std::string> BodyCipher::Seal(Connection& writer, std::string_view tenant, std::string_view aad,
                                     std::string_view plain, bool sensitive) {
  if (kek_ == nullptr || (!all_ && !sensitive) || plain.empty()) return std::string(plain);
  EHR_ASSIGN_OR_RETURN(auto key, WriterKey(writer, tenant));
  std::string out;
  out.reserve(kHeaderBytes + plain.size() + keys::kSealOverhead);
  out.push_back('\0');
  out.push_back('K');
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((key.first >> shift) & 0xff));
  keys::SealTo(key.second, plain, aad, out);
  return out;
}

Result<std::string> BodyCipher::ReaderKey(Connection& c, std::string_view tenant, uint32_t version) {
  {
    std::shared_lock lock(mu_);
    auto t = tenants_.find(std::string(tenant));
    if (t != tenants_.end()) {
      auto v = t->second.versions.find(version);
      if (v != t->second.versions.end()) return v->second.key;
    }
  }
  EHR_ASSIGN_OR_RETURN(Stmt read, c.Prepare("SELECT kek, wrapped FROM data_key WHERE tenant = ?1 AND version = ?2",
                                            "read data key"));
  read.BindText(1, tenant).BindInt(2, version);
  EHR_ASSIGN_OR_RETURN(bool row, read.Step());
  if (!row) return Status::Internal("encryption: the data key of a stored value is missing");
  EHR_ASSIGN_OR_RETURN(DataKey key, Unwrap(tenant, version, read.ColumnText(0), read.ColumnBlob(1)));
  std::string bytes = key.key;
  std::unique_lock lock(mu_);
  tenants_[std::string(tenant)].versions.emplace(version, std::move(key));
  return bytes;
}

Status BodyCipher::Open(Connection& c, std::string_view tenant, std::string_view aad, std::string& stored) {
  if (!IsSealed(stored)) return Status::Ok();
  if (kek_ == nullptr) return Status::Internal("encryption: a stored value is encrypted and no key store is configured");
  EHR_ASSIGN_OR_RETURN(std::string key, ReaderKey(c, tenant, KeyVersionOf(stored)));
  EHR_ASSIGN_OR_RETURN(stored, keys::Open(key, std::string_view(stored).substr(kHeaderBytes), aad));
  return Status::Ok();
}

Status BodyCipher::Refresh(Connection& c) {
  if (kek_ == nullptr) return Status::Ok();
  EHR_ASSIGN_OR_RETURN(Stmt read, c.Prepare("SELECT tenant, max(version) FROM data_key GROUP BY tenant",
                                            "read data key versions"));
  while (true) {
    EHR_ASSIGN_OR_RETURN(bool row, read.Step());
    if (!row) break;
    const std::string tenant = read.ColumnText(0);
    const auto newest = static_cast<uint32_t>(read.ColumnInt(1));
    if (CurrentVersion(tenant) >= newest) continue;
    EHR_RETURN_IF_ERROR(ReaderKey(c, tenant, newest).status());  // cached: unwraps now, not on a write
    std::unique_lock lock(mu_);
    TenantKeys& t = tenants_[tenant];
    t.current = std::max(t.current, newest);
  }
  return Status::Ok();
}

}  // namespace ehr::store::sqlite
