#include "store/body_cipher.h"

#include <algorithm>
#include <mutex>
#include <tuple>

#include "core/clock.h"
#include "core/secrets.h"
#include "keys/aead.h"

namespace ehr::store {
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

Status OpenPage(BodyCipher& cipher, DataKeyTable& keys, std::string_view tenant, SearchPage& page) {
  for (auto* list : {&page.matches, &page.included}) {
    for (SearchMatch& m : *list) {
      EHR_RETURN_IF_ERROR(cipher.Open(keys, tenant, BodyAad(tenant, m.type, m.id, m.version), m.body));
    }
  }
  return Status::Ok();
}

Result<std::string> FindOrMakeSecret(Store& store, std::string_view name, size_t size) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    EHR_ASSIGN_OR_RETURN(std::optional<std::string> found, store.FindSecret(name));
    if (found) {
      if (found->size() != size) return Status::Internal("encryption: a secret has the wrong size");
      return *found;
    }
    if (attempt == 0) EHR_RETURN_IF_ERROR(store.ImportSecret(name, RandomBytes(size)));
  }
  return Status::Internal("encryption: a secret could not be stored");
}

std::string SecretAad(std::string_view name) {
  std::string aad = "ehr-secret";
  aad.push_back('\0');
  return aad.append(name);
}

Result<std::optional<keys::Wrapped>> Rewrapped(keys::KeyEncryptionKeys& kek, std::string_view kek_id,
                                               std::string_view wrapped, std::string_view aad) {
  if (kek_id == kek.CurrentId()) return std::optional<keys::Wrapped>();
  EHR_ASSIGN_OR_RETURN(std::string key, kek.Unwrap(std::string(kek_id), std::string(wrapped), aad));
  EHR_ASSIGN_OR_RETURN(keys::Wrapped rewrapped, kek.Wrap(key, aad));
  return std::optional<keys::Wrapped>(std::move(rewrapped));
}

std::string ReencryptFingerprint(bool seals_all, const std::vector<std::pair<std::string, uint32_t>>& newest) {
  std::string fp = seals_all ? "all" : "sensitive";
  std::vector<std::pair<std::string, uint32_t>> sorted = newest;
  std::sort(sorted.begin(), sorted.end());
  for (const auto& [tenant, version] : sorted) {
    if (version <= 1) continue;
    fp.push_back('\x1f');
    fp += tenant + "\x1e" + std::to_string(version);
  }
  return fp;
}

std::vector<DataKeyRetirement> DecideRetirement(std::vector<StoredDataKey> keys, const std::vector<KeyUse>& usage,
                                                Micros superseded_before) {
  std::sort(keys.begin(), keys.end(), [](const StoredDataKey& a, const StoredDataKey& b) {
    return std::tie(a.tenant, a.version) < std::tie(b.tenant, b.version);
  });
  std::map<std::pair<std::string, uint32_t>, const KeyUse*> uses;
  for (const KeyUse& u : usage) uses[{u.tenant, u.key_version}] = &u;
  std::vector<DataKeyRetirement> out;
  for (size_t i = 0; i < keys.size(); ++i) {
    const StoredDataKey& k = keys[i];
    DataKeyRetirement r{k.tenant, k.version, false, ""};
    const StoredDataKey* successor = i + 1 < keys.size() && keys[i + 1].tenant == k.tenant ? &keys[i + 1] : nullptr;
    const auto use = uses.find({k.tenant, k.version});
    if (successor == nullptr) {
      r.kept_because = "the current version";
    } else if (successor->created >= superseded_before) {
      r.kept_because = "its successor is recent (servers may still seal with it)";
    } else if (use != uses.end() && use->second->total() > 0) {
      const KeyUse& u = *use->second;
      r.kept_because = "it seals " + std::to_string(u.bodies) + " bodies, " + std::to_string(u.responses) +
                       " idempotency responses, " + std::to_string(u.audit_details) + " audit details";
    } else {
      r.retired = true;
    }
    out.push_back(std::move(r));
  }
  return out;
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

Status BodyCipher::EnsureRow(DataKeyTable& writer, std::string_view tenant, uint32_t version) {
  const std::string memo = MemoKey(tenant, version);
  if (writer.Remembers(memo)) return Status::Ok();
  DataKey mine;
  {
    std::shared_lock lock(mu_);
    mine = tenants_.at(std::string(tenant)).versions.at(version);
  }
  EHR_ASSIGN_OR_RETURN(WrappedKey stored, writer.Insert(tenant, WrappedKey{version, mine.kek_id, mine.wrapped}));
  if (stored.wrapped != mine.wrapped) {
    // The row was there: one another process (`ehr keys rotate`) made for the same version
    // first. Theirs wins: use what is stored.
    EHR_ASSIGN_OR_RETURN(DataKey theirs, Unwrap(tenant, version, stored.kek_id, stored.wrapped));
    std::unique_lock lock(mu_);
    tenants_[std::string(tenant)].versions[version] = std::move(theirs);
  }
  writer.Remember(memo);
  return Status::Ok();
}

Result<std::pair<uint32_t, std::string>> BodyCipher::WriterKey(DataKeyTable& writer, std::string_view tenant) {
  uint32_t version = CurrentVersion(tenant);
  if (version == 0) {
    // First use in this process: the newest stored version, else a new first key.
    EHR_ASSIGN_OR_RETURN(std::optional<WrappedKey> newest, writer.Find(tenant, 0));
    DataKey key;
    if (newest) {
      version = newest->version;
      EHR_ASSIGN_OR_RETURN(key, Unwrap(tenant, version, newest->kek_id, newest->wrapped));
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

Result<uint32_t> BodyCipher::WriterVersion(DataKeyTable& writer, std::string_view tenant) {
  if (kek_ == nullptr) return 0u;
  EHR_ASSIGN_OR_RETURN(auto key, WriterKey(writer, tenant));
  return key.first;
}

Result<std::string> BodyCipher::Seal(DataKeyTable& writer, std::string_view tenant, std::string_view aad,
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

Result<std::string> BodyCipher::ReaderKey(DataKeyTable& c, std::string_view tenant, uint32_t version) {
  {
    std::shared_lock lock(mu_);
    auto t = tenants_.find(std::string(tenant));
    if (t != tenants_.end()) {
      auto v = t->second.versions.find(version);
      if (v != t->second.versions.end()) return v->second.key;
    }
  }
  EHR_ASSIGN_OR_RETURN(std::optional<WrappedKey> stored, c.Find(tenant, version));
  if (!stored || version == 0) return Status::Internal("encryption: the data key of a stored value is missing");
  EHR_ASSIGN_OR_RETURN(DataKey key, Unwrap(tenant, version, stored->kek_id, stored->wrapped));
  std::string bytes = key.key;
  std::unique_lock lock(mu_);
  tenants_[std::string(tenant)].versions.emplace(version, std::move(key));
  return bytes;
}

Status BodyCipher::Open(DataKeyTable& c, std::string_view tenant, std::string_view aad, std::string& stored) {
  if (!IsSealed(stored)) return Status::Ok();
  if (kek_ == nullptr) return Status::Internal("encryption: a stored value is encrypted and no key store is configured");
  EHR_ASSIGN_OR_RETURN(std::string key, ReaderKey(c, tenant, KeyVersionOf(stored)));
  EHR_ASSIGN_OR_RETURN(stored, keys::Open(key, std::string_view(stored).substr(kHeaderBytes), aad));
  return Status::Ok();
}

Status BodyCipher::Refresh(DataKeyTable& c) {
  if (kek_ == nullptr) return Status::Ok();
  EHR_ASSIGN_OR_RETURN(auto versions, c.Newest());
  for (const auto& [tenant, newest] : versions) {
    if (CurrentVersion(tenant) >= newest) continue;
    EHR_RETURN_IF_ERROR(ReaderKey(c, tenant, newest).status());  // cached: unwraps now, not on a write
    std::unique_lock lock(mu_);
    TenantKeys& t = tenants_[tenant];
    t.current = std::max(t.current, newest);
  }
  return Status::Ok();
}

}  // namespace ehr::store
