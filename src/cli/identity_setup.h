// The account database of a data directory and the Identity over it, as `ehr serve`,
// `ehr user` and `ehr token` open them.
#pragma once

#include <memory>
#include <string>

#include "cli/args.h"
#include "cli/store_choice.h"
#include "keys/kek.h"
#include "security/identity.h"
#include "security/smart.h"
#include "store/accounts.h"

namespace ehr::cli {

struct IdentityHandle {
  std::unique_ptr<keys::KeyEncryptionKeys> kek;  // when the handle opened the key store itself
  std::unique_ptr<store::AccountStore> accounts;
  std::unique_ptr<security::Identity> identity;
  std::unique_ptr<security::Smart> smart;
};

// The node's accounts (`data`/accounts.db, or PostgreSQL with `--accounts postgres`:
// cli/store_choice.h). `audience`: the FHIR base URL tokens are meant for (may be empty).
// EHR_PASSWORD_COST=low selects libsodium's minimum Argon2id cost (tests only).
// Token signing keys are kept wrapped by `kek` (store/accounts.h).
Result<IdentityHandle> OpenIdentity(const StoreChoice& choice, const std::string& data, const std::string& audience,
                                    int64_t access_ttl_seconds, keys::KeyEncryptionKeys* kek);
// The same for the account commands: the store choice and the key store from `args`
// (cli/key_store.h), the key store kept in the handle.
Result<IdentityHandle> OpenIdentity(const Args& args, const std::string& audience, int64_t access_ttl_seconds);

}  // namespace ehr::cli
