// Storage of the identity module: user accounts, login sessions with their refresh tokens,
// and the server's token signing keys. Kept apart from clinical data (its own database),
// so that a region's clinical store can be copied for research without credentials, and
// credentials can be protected separately. One interface; a backend per folder.
//
// Implementations are thread-safe. No method logs or returns secrets it was not given:
// passwords never reach this layer (only Argon2id hashes), refresh tokens only as SHA-256.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "keys/kek.h"

namespace ehr::store {

struct UserRecord {
  std::string id;        // stable, random: the token subject
  std::string username;  // unique, lower case
  std::string password_hash;
  std::vector<std::string> roles;    // ADMIN, DOCTOR, ...
  std::vector<std::string> tenants;  // the tenants the user may act in; the first is the default
  std::string fhir_user;             // "Practitioner/123", "Patient/9"; empty when none
  bool disabled = false;
  int failed_logins = 0;     // consecutive failures since the last success
  Micros locked_until = 0;   // no login before this time
  std::string totp_secret;   // raw bytes; empty: no second factor enrolled
  bool totp_confirmed = false;
  int64_t totp_last_step = 0;                      // the last accepted time step (no replay)
  std::vector<std::string> recovery_code_hashes;  // SHA-256 hex of unused recovery codes
  Micros created = 0;
  Micros password_changed = 0;
};

// A login: the refresh tokens it hands out form one family, revoked together.
struct SessionRecord {
  std::string id;
  std::string user_id;  // a user's id, or "client:" + client id for a backend service
  std::string tenant;
  std::string scope;
  Micros created = 0;
  Micros last_seen = 0;
  Micros expires = 0;  // absolute end, whatever the activity
  bool revoked = false;
  std::string client_id;  // the SMART app the session was granted to; empty: a direct login
  std::string patient;    // SMART launch context: the patient id in context
  std::string encounter;
};

// A registered SMART app or backend service.
struct ClientRecord {
  std::string id;
  std::string name;
  std::vector<std::string> redirect_uris;  // exact matches only
  std::string secret_hash;  // SHA-256 hex of the client secret; empty: public or key-based
  std::string jwks;         // JSON Web Key Set for private_key_jwt (backend services); empty: none
  std::string scope;        // the most it may be granted
  std::vector<std::string> roles;  // for a backend service: the roles its tokens act with
  std::string tenant;              // for a backend service: its tenant
  bool disabled = false;
  Micros created = 0;
};

struct SigningKeyRecord {
  std::string kid;
  std::string private_pem;
  Micros created = 0;
  Micros retired = 0;  // 0: the active key; else still published until its tokens expire
};

// An emergency override ("break the glass"): a clinician declared, with a reason, that
// they must reach patients they are not assigned to. It lasts until `expires` for the
// session it was declared in. Kept for the privacy officers' review.
struct BreakGlassRecord {
  std::string id;
  std::string tenant;
  std::string user_id;
  std::string username;
  std::string session_id;
  std::string reason;
  Micros started = 0;
  Micros expires = 0;
};

enum class RefreshOutcome { kRotated, kReused, kUnknown };

struct Rotation {
  RefreshOutcome outcome = RefreshOutcome::kUnknown;
  SessionRecord session;  // for kRotated and kReused
};

class AccountStore {
 public:
  virtual ~AccountStore() = default;

  virtual Result<std::optional<UserRecord>> UserByName(std::string_view username) = 0;
  virtual Result<std::optional<UserRecord>> UserById(std::string_view id) = 0;
  virtual Result<std::vector<UserRecord>> Users() = 0;
  virtual Status InsertUser(const UserRecord& user) = 0;  // kConflict when the name is taken
  virtual Status UpdateUser(const UserRecord& user) = 0;  // by id; kNotFound when absent

  // A new session whose first refresh token has SHA-256 `refresh_hash`.
  virtual Status InsertSession(const SessionRecord& session, std::string_view refresh_hash) = 0;
  virtual Result<std::optional<SessionRecord>> Session(std::string_view id) = 0;
  virtual Status RevokeSession(std::string_view id) = 0;
  virtual Status RevokeUserSessions(std::string_view user_id) = 0;
  virtual Status TouchSession(std::string_view id, Micros last_seen) = 0;
  // One atomic exchange of a refresh token. When `old_hash` is the current token of a
  // session, it is spent and `new_hash` becomes current (kRotated). When it was spent
  // before, somebody replayed it: the session is revoked (kReused). Otherwise kUnknown.
  // The session's last_seen is left alone: the caller judges idleness from it first.
  virtual Result<Rotation> RotateRefresh(std::string_view old_hash, std::string_view new_hash) = 0;

  virtual Status InsertClient(const ClientRecord& client) = 0;  // kConflict when the id is taken
  virtual Result<std::optional<ClientRecord>> Client(std::string_view id) = 0;
  virtual Result<std::vector<ClientRecord>> Clients() = 0;

  virtual Status InsertBreakGlass(const BreakGlassRecord& record) = 0;
  // The newest first, at most `limit`: of `tenant` (every tenant when empty), started at
  // or after `since`.
  virtual Result<std::vector<BreakGlassRecord>> BreakGlassSince(std::string_view tenant, Micros since, int limit) = 0;
  // The declarations of `session_id` still in force at `now`.
  virtual Result<std::vector<BreakGlassRecord>> ActiveBreakGlass(std::string_view session_id, Micros now) = 0;

  virtual Result<std::vector<SigningKeyRecord>> SigningKeys() = 0;
  virtual Status InsertSigningKey(const SigningKeyRecord& key) = 0;
  virtual Status RetireSigningKey(std::string_view kid, Micros when) = 0;
  virtual Status DeleteSigningKey(std::string_view kid) = 0;
  // The key-encryption key versions its signing keys are wrapped under (keys/kek.h ids).
  virtual Result<std::vector<std::string>> KekIdsInUse() = 0;
};

// The SQLite backend: `path` is created when missing (WAL, synchronous=FULL: an account
// change or a revocation is on disk before it is acknowledged). With `kek`, the private keys
// of token signing keys are kept wrapped by it (AES-256-GCM bound to their kid), and on
// open, keys an earlier version kept in plain text are wrapped and keys wrapped under an
// older version of `kek` are wrapped again under its current one (after `ehr keys
// rotate`, so that the old version can be retired); `kek` must outlive the store.
Result<std::unique_ptr<AccountStore>> OpenSqliteAccountStore(const std::string& path,
                                                             keys::KeyEncryptionKeys* kek = nullptr);

// The PostgreSQL backend (store/postgres/account_store.cc), in the account_* tables of a
// clinical store's database (postgres/schema.h, migration 9: kInvalid before it). `conninfo`:
// the server's role. Signing keys wrapped and rewrapped on open as above.
Result<std::unique_ptr<AccountStore>> OpenPostgresAccountStore(const std::string& conninfo,
                                                               keys::KeyEncryptionKeys* kek = nullptr);

}  // namespace ehr::store
