// The key management tables of the SQLite store (body_cipher.h): data keys by tenant and
// version, named secrets, and what rotation and re-encryption do to them and to bodies.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "keys/kek.h"
#include "store/sqlite/body_cipher.h"
#include "store/sqlite/db.h"
#include "store/store.h"

namespace ehr::store::sqlite {

// Bodies as read made plain (a record's or a page's tenant is the caller's).
Status OpenRecord(BodyCipher& cipher, Connection& c, std::string_view tenant, VersionRecord& r);
Status OpenPage(BodyCipher& cipher, Connection& c, std::string_view tenant, SearchPage& page);

Result<std::vector<KeyUse>> KeyUsage(Connection& c);
// Writer, in a transaction: Store::RetireDataKeys.
Result<std::vector<DataKeyRetirement>> RetireDataKeys(Connection& writer, Micros superseded_before);
Result<std::vector<std::string>> KekIdsInUse(Connection& c);

// Writer, in a transaction: a new data key version for every tenant that has keys, then
// every data key and secret not under the current key-encryption key rewrapped.
Result<int> RotateDataKeys(Connection& writer, keys::KeyEncryptionKeys& kek);

// Writer, in a transaction: one step of re-encryption of resource bodies (Store::Reencrypt);
// `fingerprint_out`: the key versions it worked to, for the mark once everything is done.
Result<ReencryptStep> Reencrypt(Connection& writer, BodyCipher& cipher, int64_t after_seq, int limit,
                                std::string& fingerprint_out);
// Writer, in a transaction: the responses kept for idempotency keys after `after` in
// (tenant, key) order, up to `limit`, moved onto their tenant's current key; `after`
// advances and `rewritten` counts. Returns how many were looked at (< limit: the end).
struct IdempotencyCursor {
  std::string tenant, key;
};
Result<int> ReencryptIdempotency(Connection& writer, BodyCipher& cipher, IdempotencyCursor& after, int limit,
                                 int64_t& rewritten);
// Writer, in a transaction: a complete pass is recorded (nothing to do until keys change).
Status WriteReencryptMark(Connection& writer, const std::string& fingerprint, int64_t through_seq);

// A named secret, unwrapped; nullopt when there is none yet.
Result<std::optional<std::string>> ReadSecret(Connection& c, keys::KeyEncryptionKeys& kek, std::string_view name);
// Writer: stores `bytes` under `name` unless a secret of that name exists.
Status InsertSecret(Connection& writer, keys::KeyEncryptionKeys& kek, std::string_view name, std::string_view bytes);

}  // namespace ehr::store::sqlite
