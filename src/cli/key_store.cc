#include "cli/key_store.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/store_choice.h"
#include "core/log.h"
#include "keys/keyring.h"
#include "keys/pkcs11_keys.h"

namespace ehr::cli {

const std::set<std::string>& KeyStoreFlags() {
  static const std::set<std::string> flags = {"key-store",    "keyring",         "pkcs11-module",
                                              "pkcs11-token", "pkcs11-pin-file", "encrypt-bodies"};
  return flags;
}

std::set<std::string> WithKeyStoreFlags(std::set<std::string> known) {
  known.insert(KeyStoreFlags().begin(), KeyStoreFlags().end());
  return known;
}

std::string KeyringPath(const Args& args, const std::string& data) { return args.Get("keyring", data + "/keyring"); }

Result<KeyStore> OpenKeyStore(const Args& args, const std::string& data) {
  KeyStore ks;
  const std::string bodies = args.Get("encrypt-bodies", "on");
  if (bodies != "on" && bodies != "off") return Status::Invalid("--encrypt-bodies must be on or off");
  ks.encrypt_bodies = bodies == "on";
  const std::string kind = args.Get("key-store", "file");
  if (kind == "file") {
    const std::string path = KeyringPath(args, data);
    EHR_ASSIGN_OR_RETURN(std::unique_ptr<keys::Keyring> ring, keys::Keyring::OpenOrCreate(path));
    ks.kek = std::move(ring);
    ks.description = "file " + path;
  } else if (kind == "pkcs11") {
    keys::Pkcs11Options options;
    options.module_path = args.Get("pkcs11-module", "/usr/lib/softhsm/libsofthsm2.so");
    options.token_label = args.Get("pkcs11-token");
    if (options.token_label.empty()) return Status::Invalid("--key-store pkcs11 needs --pkcs11-token");
    EHR_ASSIGN_OR_RETURN(options.pin, keys::ReadPin(args.Get("pkcs11-pin-file")));
    EHR_ASSIGN_OR_RETURN(std::unique_ptr<keys::Pkcs11Keys> token, keys::Pkcs11Keys::Open(options));
    ks.kek = std::move(token);
    ks.description = "pkcs11 token " + options.token_label;
  } else {
    return Status::Invalid("--key-store must be file or pkcs11");
  }
  return ks;
}

Result<DataStore> OpenDataStore(const Args& args, const std::string& data, const StoreChoice& choice, int readers) {
  std::error_code ec;
  if (choice.postgres.empty()) {
    if (!std::filesystem::exists(data + "/ehr.db", ec)) return Status::NotFound("no database at " + data + "/ehr.db");
  } else if (args.Get("key-store", "file") == "file" && !std::filesystem::exists(KeyringPath(args, data), ec)) {
    // A new keyring made here could not unwrap the database's keys: the wrong directory.
    return Status::NotFound("no keyring at " + KeyringPath(args, data) +
                            " (the PostgreSQL store's keys are in the data directory it was served with)");
  }
  DataStore out;
  EHR_ASSIGN_OR_RETURN(out.keys, OpenKeyStore(args, data));
  EHR_ASSIGN_OR_RETURN(out.store, OpenStore(choice, data, out.keys, StoreTuning{readers, true}));
  return out;
}

Result<std::string> KeyStoreSecret(store::Store& store, const std::string& name, size_t size,
                                   const std::string& legacy_file) {
  std::error_code ec;
  if (!legacy_file.empty() && std::filesystem::exists(legacy_file, ec)) {
    std::ifstream in(legacy_file, std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    const std::string legacy = bytes.str();
    if (!in || legacy.size() != size) return Status::Internal("the secret file " + legacy_file + " is malformed");
    EHR_RETURN_IF_ERROR(store.ImportSecret(name, legacy));
    EHR_ASSIGN_OR_RETURN(std::string kept, store.Secret(name, size));
    ::unlink(legacy_file.c_str());  // the key store's copy is the one in use from now on
    return kept;
  }
  return store.Secret(name, size);
}

Result<audit::TreeSigner> AuditSigner(store::Store& store, const std::string& data) {
  EHR_ASSIGN_OR_RETURN(std::string seed, KeyStoreSecret(store, kAuditSigningSecret, 32, data + "/audit-signing.key"));
  return audit::TreeSigner::FromSeed(seed);
}

std::string AuditArchiveDir(const std::string& data) { return data + "/audit-archive"; }

std::string ArchiveSecretName(uint32_t version) {
  return version <= 1 ? std::string(kAuditArchiveSecret) : std::string(kAuditArchiveSecret) + "-" + std::to_string(version);
}

Result<audit::ArchiveKeys> ArchiveKeysOf(store::Store& store, bool make) {
  audit::ArchiveKeys keys;
  if (make) {
    EHR_ASSIGN_OR_RETURN(std::string first, store.Secret(kAuditArchiveSecret, 32));
    keys.Add(1, std::move(first));
  } else {
    EHR_ASSIGN_OR_RETURN(std::optional<std::string> first, store.FindSecret(kAuditArchiveSecret));
    if (!first) return keys;
    keys.Add(1, std::move(*first));
  }
  // Versions are numbered without gaps from 1 (RotateArchiveKey) and never deleted.
  for (uint32_t version = 2;; ++version) {
    EHR_ASSIGN_OR_RETURN(std::optional<std::string> key, store.FindSecret(ArchiveSecretName(version)));
    if (!key) break;
    keys.Add(version, std::move(*key));
  }
  return keys;
}

Result<uint32_t> RotateArchiveKey(store::Store& store) {
  EHR_ASSIGN_OR_RETURN(audit::ArchiveKeys keys, ArchiveKeysOf(store, true));
  const uint32_t next = keys.current_version() + 1;
  EHR_RETURN_IF_ERROR(store.Secret(ArchiveSecretName(next), 32).status());
  return next;
}

Result<int64_t> ReencryptAll(store::Store& store, int step,
                             const std::function<bool(int64_t, int64_t, int64_t)>& progress) {
  int64_t after = 0;
  int64_t rewritten = 0;
  while (true) {
    EHR_ASSIGN_OR_RETURN(store::ReencryptStep done, store.Reencrypt(after, step));
    rewritten += done.rewritten;
    after = done.last_seq;
    if (!progress(after, done.max_seq, rewritten) || done.done) return rewritten;
  }
}

std::unique_ptr<Periodic> StartReencryptJob(store::Store& store, std::chrono::milliseconds interval) {
  return std::make_unique<Periodic>(interval, [&store](const Periodic::Stopping& stopping) {
    if (Status st = store.RefreshKeys(); !st.ok()) {
      log::Warn("keys.refresh_failed", {{"code", static_cast<int>(st.code())}});
      return;
    }
    auto last_log = std::chrono::steady_clock::now();
    bool started = false;
    auto rewritten = ReencryptAll(store, 500, [&](int64_t done, int64_t max, int64_t count) {
      const auto now = std::chrono::steady_clock::now();
      if (count > 0 && (!started || now - last_log > std::chrono::seconds(5))) {
        started = true;
        last_log = now;
        log::Info("keys.reencrypt", {{"done_seq", done}, {"max_seq", max}, {"rewritten", count}});
      }
      return !stopping();
    });
    if (!rewritten.ok()) {
      log::Warn("keys.reencrypt_failed", {{"code", static_cast<int>(rewritten.status().code())}});
    } else if (*rewritten > 0) {
      log::Info("keys.reencrypt_done", {{"rewritten", *rewritten}});
    }
  });
}

}  // namespace ehr::cli
