// Key-encryption keys held in a PKCS#11 token (an HSM; SoftHSM2 in tests): the keys are
// generated on the token as non-extractable AES-256 secret keys and never leave it; wrap
// and unwrap are AES-256-GCM operations the token performs.
//
// Versions are secret key objects labelled "<prefix><n>" (n = 1, 2, ...); the newest is
// current and ids are "pkcs11:<label>". Stored bytes are IV (12) || ciphertext || tag (16),
// the layout of keys::Seal. Another process (`ehr keys rotate`) may add a version at any
// time: a label not yet seen here is looked up on the token again. Two processes rotating at
// the same instant may both make "<prefix><n>"; both keys then unwrap, since every key with
// a label is tried.
//
// A session the token drops (an HSM restarted, a network HSM's connection lost, another
// part of the process calling C_CloseAllSessions) is opened again and logged in with the
// PIN kept for that, and the call retried once, so the server goes on without a restart;
// a token that stays away fails each call until it is back.
//
// Threads: one session per instance, every token call under one mutex. Wraps and unwraps
// are rare (a data key is unwrapped once per tenant and cached by its user), so they are
// serialized rather than given a session pool.
//
// Within one process, instances share the loaded module (C_Initialize once, C_Finalize and
// dlclose after the last instance) and the login of a token (C_Logout after the last
// instance of it). A second instance must present the same PIN the first logged in with.
// Errors name the PKCS#11 return value (CKR_PIN_INCORRECT), never the PIN.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "keys/kek.h"

namespace ehr::keys {

struct Pkcs11Options {
  std::string module_path;  // e.g. /usr/lib/softhsm/libsofthsm2.so
  std::string token_label;
  std::string pin;  // from ReadPin(): a file or EHR_PKCS11_PIN, never the command line
  std::string key_label_prefix = "ehr-kek-";
};

// The user PIN: the contents of `pin_file` without a trailing newline, or the environment
// variable EHR_PKCS11_PIN when `pin_file` is empty.
Result<std::string> ReadPin(const std::string& pin_file);

struct Pkcs11Module;  // the loaded library, shared within the process (pkcs11_keys.cc)

class Pkcs11Keys final : public KeyEncryptionKeys {
 public:
  // Loads the module, logs in to the token labelled `token_label` and finds the key
  // versions on it, generating version 1 when there is none.
  static Result<std::unique_ptr<Pkcs11Keys>> Open(const Pkcs11Options& options);
  ~Pkcs11Keys() override;
  Pkcs11Keys(const Pkcs11Keys&) = delete;
  Pkcs11Keys& operator=(const Pkcs11Keys&) = delete;

  std::string CurrentId() const override;
  Result<Wrapped> Wrap(std::string_view key, std::string_view aad) override;
  Result<std::string> Unwrap(std::string_view kek_id, std::string_view wrapped, std::string_view aad) override;
  Result<std::string> Rotate() override;
  Result<std::vector<std::string>> Ids() override;
  Status Retire(std::string_view kek_id) override;

 private:
  using Handle = unsigned long;  // CK_OBJECT_HANDLE, CK_SESSION_HANDLE, CK_SLOT_ID

  Pkcs11Keys(Pkcs11Module* module, Handle slot, std::string token_label, std::string prefix);
  std::string LabelOf(int version) const { return prefix_ + std::to_string(version); }
  // The version number of `label`, 0 when it is not "<prefix><n>".
  int VersionOf(std::string_view label) const;
  Status Login(const std::string& pin);
  // A token call's failure (named as Failed does), noting whether it means the session is gone.
  Status FailedLocked(std::string_view call, unsigned long rv);
  // After a failure that lost the session: a new session, logged in, and the key handles
  // found again (they may differ in the new session).
  Status ReopenLocked();
  // `op` (a locked token operation), once more after reopening a session it found lost.
  template <typename Op>
  auto RetriedLocked(Op&& op) -> decltype(op());
  // Re-reads every version on the token into versions_.
  Status ScanLocked();
  // The AES secret keys on the token labelled `label`, or all of them when it is empty.
  Result<std::vector<Handle>> FindLocked(const std::string& label);
  Status GenerateLocked(int version);
  Result<std::string> EncryptLocked(Handle key, std::string_view plaintext, std::string_view aad);
  Result<std::string> UnwrapLocked(int version, const std::string& label, const std::string& unknown,
                                   std::string_view wrapped, std::string_view aad);
  // nullopt when the bytes do not authenticate under `key`.
  Result<std::optional<std::string>> DecryptLocked(Handle key, std::string_view sealed, std::string_view aad);

  Pkcs11Module* const module_;  // one reference, released by the destructor
  const Handle slot_;
  const std::string token_label_;
  const std::string prefix_;
  Handle session_ = 0;
  bool logged_in_ = false;  // holds one reference to the token's login
  std::string pin_;         // to log in again after the token dropped the session; wiped at the end
  bool session_lost_ = false;  // GUARDED_BY(mu_): the last failure said the session is gone

  mutable std::mutex mu_;
  std::map<int, std::vector<Handle>> versions_;  // GUARDED_BY(mu_); version -> keys so labelled
};

}  // namespace ehr::keys
