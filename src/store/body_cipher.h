// Envelope encryption of what the store keeps of resources (keys/README.md): bodies, and
// the responses kept for idempotency keys. Each tenant has data keys by version (table
// `data_key`, wrapped by a key-encryption key that lives outside the database); the newest
// encrypts, every version decrypts. A sealed value is
//
//   0x00 'K' | key version (4 bytes, big-endian) | AES-256-GCM (nonce | ciphertext | tag)
//
// with additional authenticated data naming what it is (tenant, type, id and version of a
// body), so a value copied to another row does not decrypt. JSON never starts with 0x00, so
// plain and sealed values live side by side: turning encryption on, or a rotation, leaves
// old rows readable until the re-encryption job (Reencrypt) moves them over.
//
// Data keys are made on the writer, inside the transaction of the first write that needs
// one, and inserted with that write (unless the row exists; remembered in the writer's
// memo, which a rollback clears): a committed sealed value always has its key committed.
// Unwrapped keys are cached for the life of the process. Each backend gives the cipher its
// data_key table over one of its connections (DataKeyTable).
#pragma once

#include <cstdint>
#include <map>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/status.h"
#include <optional>
#include <utility>
#include <vector>

#include "keys/kek.h"
#include "store/query.h"
#include "store/store.h"

namespace ehr::store {

// A tenant's data key as stored: wrapped by the key-encryption key `kek_id`.
struct WrappedKey {
  uint32_t version = 0;
  std::string kek_id;
  std::string wrapped;
};

// The data_key table of a backend, over one connection (the writer's inside its transaction,
// or a reader's).
class DataKeyTable {
 public:
  virtual ~DataKeyTable() = default;
  // The tenant's key of `version`; version 0: its newest. nullopt when there is none.
  virtual Result<std::optional<WrappedKey>> Find(std::string_view tenant, uint32_t version) = 0;
  // Writer: stores the key unless the tenant has that version already; returns the row as
  // stored (another process's, when it was first).
  virtual Result<WrappedKey> Insert(std::string_view tenant, const WrappedKey& key) = 0;
  // Every tenant with its newest version.
  virtual Result<std::vector<std::pair<std::string, uint32_t>>> Newest() = 0;
  // Writer: what its transaction is known to hold (forgotten when the transaction or the
  // job's savepoint rolls back).
  virtual bool Remembers(const std::string& memo) = 0;
  virtual void Remember(const std::string& memo) = 0;
};

class BodyCipher {
 public:
  // `kek` null: nothing is sealed, and a sealed value read is an error.
  // `all`: seal every body; else only those marked sensitive.
  BodyCipher(keys::KeyEncryptionKeys* kek, bool all) : kek_(kek), all_(all) {}

  bool enabled() const { return kek_ != nullptr; }
  bool seals_all() const { return kek_ != nullptr && all_; }

  // Writer thread, inside the transaction: the stored form of `plain` (`plain` itself when
  // the policy does not seal it).
  Result<std::string> Seal(DataKeyTable& writer, std::string_view tenant, std::string_view aad, std::string_view plain,
                           bool sensitive);
  // Any connection: `stored` made plain in place. Plain values pass unchanged.
  Status Open(DataKeyTable& c, std::string_view tenant, std::string_view aad, std::string& stored);

  // Writer, inside the transaction: the version new values of `tenant` are sealed with
  // (making the tenant's first key when there is none).
  Result<uint32_t> WriterVersion(DataKeyTable& writer, std::string_view tenant);

  // Rereads the newest version of every tenant's key (another process may have rotated).
  Status Refresh(DataKeyTable& c);

  static bool IsSealed(std::string_view stored) { return stored.size() >= 6 && stored[0] == '\0' && stored[1] == 'K'; }
  // The key version of a sealed value; 0 for a plain one.
  static uint32_t KeyVersionOf(std::string_view stored);
  // The tenant's current key version known to this process (0: none yet).
  uint32_t CurrentVersion(std::string_view tenant) const;

 private:
  struct DataKey {
    std::string key;  // 32 bytes
    std::string kek_id;
    std::string wrapped;
  };
  struct TenantKeys {
    uint32_t current = 0;
    std::map<uint32_t, DataKey> versions;
  };

  Result<DataKey> Unwrap(std::string_view tenant, uint32_t version, std::string kek_id, std::string wrapped);
  // The key to seal with, its row present in the writer's transaction.
  Result<std::pair<uint32_t, std::string>> WriterKey(DataKeyTable& writer, std::string_view tenant);
  Status EnsureRow(DataKeyTable& writer, std::string_view tenant, uint32_t version);
  Result<std::string> ReaderKey(DataKeyTable& c, std::string_view tenant, uint32_t version);

  keys::KeyEncryptionKeys* const kek_;
  const bool all_;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, TenantKeys> tenants_;
};

// The bodies of a search page (matches and included resources of `tenant`) made plain.
Status OpenPage(BodyCipher& cipher, DataKeyTable& keys, std::string_view tenant, SearchPage& page);

// The additional authenticated data of a resource version's body, and of an idempotency
// record's response.
std::string BodyAad(std::string_view tenant, std::string_view type, std::string_view id, int64_t version);
std::string IdempotencyAad(std::string_view tenant, std::string_view key);
// An audit entry's detail (its personal part) is bound to its core, which commits to it.
std::string AuditDetailAad(std::string_view tenant, std::string_view core);
// What wraps a data key: the tenant and version it belongs to; and a named secret.
std::string DataKeyAad(std::string_view tenant, uint32_t version);
std::string SecretAad(std::string_view name);

// A wrapped key unwrapped and wrapped again under the current key-encryption key; nullopt
// when that key wraps it already (rotation of the key-encryption key).
Result<std::optional<keys::Wrapped>> Rewrapped(keys::KeyEncryptionKeys& kek, std::string_view kek_id,
                                               std::string_view wrapped, std::string_view aad);

// A data key as stored (for DecideRetirement).
struct StoredDataKey {
  std::string tenant;
  uint32_t version = 0;
  Micros created = 0;
};
// Store::RetireDataKeys for every backend: which of `keys` to delete (retired), and why
// each other is kept, given what each version seals (`usage`, KeyUsage).
std::vector<DataKeyRetirement> DecideRetirement(std::vector<StoredDataKey> keys, const std::vector<KeyUse>& usage,
                                                Micros superseded_before);

// Store::Secret for every backend, over its FindSecret and ImportSecret: the secret, or
// one made at random and stored (the first writer wins when several make it at once);
// kInternal when the one stored has another size.
Result<std::string> FindOrMakeSecret(Store& store, std::string_view name, size_t size);

// What a complete re-encryption pass leaves true: the policy, and each tenant's newest key
// version beyond the first (a first key never leaves bodies under an older one).
std::string ReencryptFingerprint(bool seals_all, const std::vector<std::pair<std::string, uint32_t>>& newest);

}  // namespace ehr::store
