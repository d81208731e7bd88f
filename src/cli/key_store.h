// The key store as the commands that open a data directory configure it (keys/README.md):
//
//   --key-store file|pkcs11      where the key-encryption keys are (default file)
//   --keyring PATH               the keyring file (default DATA/keyring, made 0600)
//   --pkcs11-module PATH         the token's PKCS#11 library (default SoftHSM2's)
//   --pkcs11-token LABEL         the token
//   --pkcs11-pin-file FILE       its user PIN (else the environment variable EHR_PKCS11_PIN)
//   --encrypt-bodies on|off      seal every resource body (default on); bodies holding a
//                                sensitive identifier are sealed either way
#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>

#include "audit/segment_file.h"
#include "cli/args.h"
#include "core/periodic.h"
#include "keys/kek.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store.h"

namespace ehr::cli {

// The flags above, for a command's list of known flags.
const std::set<std::string>& KeyStoreFlags();
std::set<std::string> WithKeyStoreFlags(std::set<std::string> known);

struct KeyStore {
  std::unique_ptr<keys::KeyEncryptionKeys> kek;
  bool encrypt_bodies = true;
  std::string description;  // "file DATA/keyring" or "pkcs11 token LABEL", for logs (no secret)

  // Sets the store options' key fields; the KeyStore must outlive the store.
  void Configure(store::SqliteOptions& options) const {
    options.kek = kek.get();
    options.encrypt_bodies = encrypt_bodies;
  }
};

Result<KeyStore> OpenKeyStore(const Args& args, const std::string& data);
// The keyring file of the node in `data` (--keyring, else DATA/keyring).
std::string KeyringPath(const Args& args, const std::string& data);

struct StoreChoice;  // cli/store_choice.h

// The clinical store of an existing node with the key store of `args`, for the commands
// that work on a node's data (keys, audit, reindex, federation reconcile): SQLite at
// DATA/ehr.db, which must exist, or the PostgreSQL database of `choice`, whose keys are
// still those of DATA (its keyring, which must then exist, unless --keyring or
// --key-store pkcs11 says otherwise). `readers`: reader connections.
struct DataStore {
  KeyStore keys;                        // before the store: it must outlive it
  std::unique_ptr<store::Store> store;
};
Result<DataStore> OpenDataStore(const Args& args, const std::string& data, const StoreChoice& choice, int readers);

// The Ed25519 seed that signs the audit log's tree heads and archived segments.
inline constexpr char kAuditSigningSecret[] = "audit-signing";
// The key that seals archived audit segments (audit/archive.h, ArchiveOptions::keys):
// version 1 under this name, version n > 1 under "audit-archive-<n>".
inline constexpr char kAuditArchiveSecret[] = "audit-archive";

// The Ed25519 signer of the audit log's tree heads and archived segments (the key store's
// kAuditSigningSecret; a key an earlier version kept in DATA/audit-signing.key moves in).
Result<audit::TreeSigner> AuditSigner(store::Store& store, const std::string& data);
// Where a node's archived audit segments are: DATA/audit-archive.
std::string AuditArchiveDir(const std::string& data);

// Every archive key version of the key store; with `make`, version 1 is made when there is
// none (a key store without: empty ArchiveKeys).
Result<audit::ArchiveKeys> ArchiveKeysOf(store::Store& store, bool make);
// A new archive key version, newest from now on (`ehr keys rotate`); its number.
Result<uint32_t> RotateArchiveKey(store::Store& store);
// The key store's name of archive key `version`.
std::string ArchiveSecretName(uint32_t version);

// A secret of the key store (Store::Secret). When `legacy_file` (a secret kept beside the
// data by earlier versions) exists and the store has none of that name yet, its bytes move
// into the key store and the file is removed, so one secret never has two copies.
Result<std::string> KeyStoreSecret(store::Store& store, const std::string& name, size_t size,
                                   const std::string& legacy_file);

// The blind-index key of sensitive identifiers (search/sensitive_ids.h), from the key store.
inline constexpr char kBlindIndexSecret[] = "blind-index";

// Moves bodies onto their tenant's newest data key (Store::Reencrypt) in steps of `step`
// versions, each its own short write transaction, so writes go on in between.
// `progress(done_seq, max_seq, rewritten)` after each step; false stops. Returns how many
// bodies it rewrote.
Result<int64_t> ReencryptAll(store::Store& store, int step,
                             const std::function<bool(int64_t, int64_t, int64_t)>& progress);

// `ehr serve`'s background re-encryption (ReencryptJob): every `interval`, rereads the key versions (a
// rotation by `ehr keys rotate` in another process) and runs ReencryptAll, which returns
// at once when nothing changed since its last complete pass. Logs `keys.reencrypt` lines
// with progress (counts and sequence numbers only).
std::unique_ptr<Periodic> StartReencryptJob(store::Store& store, std::chrono::milliseconds interval);

}  // namespace ehr::cli
