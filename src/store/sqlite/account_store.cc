// AccountStore on SQLite (store/accounts.h): one connection behind a mutex. Account changes
// are rare and a login costs an Argon2id hash (tens of milliseconds), so one connection is
// never the bottleneck; the per-request session check is cached by the identity module.
#include <functional>
#include <mutex>
#include <set>

#include "store/accounts.h"

#include "store/account_codec.h"
#include "store/sqlite/db.h"
#include "store/sqlite/schema.h"

namespace ehr::store {
namespace {

using sqlite::Connection;
using sqlite::Stmt;

constexpr sqlite::Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE user_account (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  roles TEXT NOT NULL,
  tenants TEXT NOT NULL,
  fhir_user TEXT NOT NULL,
  disabled INTEGER NOT NULL,
  failed_logins INTEGER NOT NULL,
  locked_until INTEGER NOT NULL,
  totp_secret BLOB NOT NULL,
  totp_confirmed INTEGER NOT NULL,
  totp_last_step INTEGER NOT NULL,
  recovery_codes TEXT NOT NULL,
  created INTEGER NOT NULL,
  password_changed INTEGER NOT NULL
) STRICT;
CREATE TABLE session (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES user_account(id),
  tenant TEXT NOT NULL,
  scope TEXT NOT NULL,
  created INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  expires INTEGER NOT NULL,
  revoked INTEGER NOT NULL
) STRICT;
CREATE INDEX session_by_user ON session(user_id);
CREATE TABLE refresh_token (
  hash TEXT PRIMARY KEY,
  session_id TEXT NOT NULL REFERENCES session(id),
  spent INTEGER NOT NULL
) STRICT;
CREATE TABLE signing_key (
  kid TEXT PRIMARY KEY,
  private_pem TEXT NOT NULL,
  created INTEGER NOT NULL,
  retired INTEGER NOT NULL
) STRICT;
)sql"},
    // SMART: sessions of apps and of backend services (no user row: the foreign key goes),
    // with their launch context; registered clients.
    {2, R"sql(
CREATE TABLE session_v2 (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  tenant TEXT NOT NULL,
  scope TEXT NOT NULL,
  created INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  expires INTEGER NOT NULL,
  revoked INTEGER NOT NULL,
  client_id TEXT NOT NULL,
  patient TEXT NOT NULL,
  encounter TEXT NOT NULL
) STRICT;
INSERT INTO session_v2 SELECT *, '', '', '' FROM session;
CREATE TABLE refresh_token_v2 (
  hash TEXT PRIMARY KEY,
  session_id TEXT NOT NULL,
  spent INTEGER NOT NULL
) STRICT;
INSERT INTO refresh_token_v2 SELECT * FROM refresh_token;
DROP TABLE refresh_token;
DROP TABLE session;
ALTER TABLE session_v2 RENAME TO session;
ALTER TABLE refresh_token_v2 RENAME TO refresh_token;
CREATE INDEX session_by_user ON session(user_id);
CREATE TABLE client (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  redirect_uris TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  jwks TEXT NOT NULL,
  scope TEXT NOT NULL,
  roles TEXT NOT NULL,
  tenant TEXT NOT NULL,
  disabled INTEGER NOT NULL,
  created INTEGER NOT NULL
) STRICT;
)sql"},
    {3, R"sql(
CREATE TABLE break_glass (
  id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  user_id TEXT NOT NULL,
  username TEXT NOT NULL,
  session_id TEXT NOT NULL,
  reason TEXT NOT NULL,
  started INTEGER NOT NULL,
  expires INTEGER NOT NULL
) STRICT;
CREATE INDEX break_glass_by_session ON break_glass(session_id, expires);
CREATE INDEX break_glass_by_start ON break_glass(started);
)sql"},
};

using accounts::Join;
using accounts::JoinLines;
using accounts::Split;
using accounts::SplitLines;

constexpr std::string_view kUserColumns =
    "id, username, password_hash, roles, tenants, fhir_user, disabled, failed_logins, locked_until, totp_secret, "
    "totp_confirmed, totp_last_step, recovery_codes, created, password_changed";

UserRecord ReadUser(const Stmt& s) {
  UserRecord u;
  u.id = s.ColumnText(0);
  u.username = s.ColumnText(1);
  u.password_hash = s.ColumnText(2);
  u.roles = Split(s.ColumnText(3));
  u.tenants = Split(s.ColumnText(4));
  u.fhir_user = s.ColumnText(5);
  u.disabled = s.ColumnInt(6) != 0;
  u.failed_logins = static_cast<int>(s.ColumnInt(7));
  u.locked_until = s.ColumnInt(8);
  u.totp_secret = s.ColumnBlob(9);
  u.totp_confirmed = s.ColumnInt(10) != 0;
  u.totp_last_step = s.ColumnInt(11);
  u.recovery_code_hashes = Split(s.ColumnText(12));
  u.created = s.ColumnInt(13);
  u.password_changed = s.ColumnInt(14);
  return u;
}

// Binds every column but id (parameter 1) from parameter 2 on, in kUserColumns order.
void BindUser(Stmt& s, const UserRecord& u, std::string& roles, std::string& tenants, std::string& codes) {
  roles = Join(u.roles);
  tenants = Join(u.tenants);
  codes = Join(u.recovery_code_hashes);
  s.BindText(1, u.id).BindText(2, u.username).BindText(3, u.password_hash).BindText(4, roles).BindText(5, tenants);
  s.BindText(6, u.fhir_user).BindInt(7, u.disabled).BindInt(8, u.failed_logins).BindInt(9, u.locked_until);
  s.BindBlob(10, u.totp_secret).BindInt(11, u.totp_confirmed).BindInt(12, u.totp_last_step).BindText(13, codes);
  s.BindInt(14, u.created).BindInt(15, u.password_changed);
}

SessionRecord ReadSession(const Stmt& s) {
  SessionRecord r;
  r.id = s.ColumnText(0);
  r.user_id = s.ColumnText(1);
  r.tenant = s.ColumnText(2);
  r.scope = s.ColumnText(3);
  r.created = s.ColumnInt(4);
  r.last_seen = s.ColumnInt(5);
  r.expires = s.ColumnInt(6);
  r.revoked = s.ColumnInt(7) != 0;
  r.client_id = s.ColumnText(8);
  r.patient = s.ColumnText(9);
  r.encounter = s.ColumnText(10);
  return r;
}

BreakGlassRecord ReadBreakGlass(const Stmt& s) {
  return BreakGlassRecord{s.ColumnText(0), s.ColumnText(1), s.ColumnText(2), s.ColumnText(3),
                          s.ColumnText(4), s.ColumnText(5), s.ColumnInt(6), s.ColumnInt(7)};
}

ClientRecord ReadClient(const Stmt& s) {
  ClientRecord c;
  c.id = s.ColumnText(0);
  c.name = s.ColumnText(1);
  c.redirect_uris = SplitLines(s.ColumnText(2));
  c.secret_hash = s.ColumnText(3);
  c.jwks = s.ColumnText(4);
  c.scope = s.ColumnText(5);
  c.roles = Split(s.ColumnText(6));
  c.tenant = s.ColumnText(7);
  c.disabled = s.ColumnInt(8) != 0;
  c.created = s.ColumnInt(9);
  return c;
}

class SqliteAccountStore final : public AccountStore {
 public:
  SqliteAccountStore(std::unique_ptr<Connection> conn, keys::KeyEncryptionKeys* kek)
      : conn_(std::move(conn)), wrap_(kek) {}

  // Wraps the private keys kept in plain text (by a version before the key store, or
  // opened without one), and wraps again those under an older key-encryption key version.
  Status WrapSigningKeys() {
    if (!wrap_.enabled()) return Status::Ok();
    using Row = std::pair<std::string, std::string>;
    EHR_ASSIGN_OR_RETURN(std::vector<Row> rows,
                         All<Row>("SELECT kid, private_pem FROM signing_key", "list signing keys",
                                  [](const Stmt& s) { return Row(s.ColumnText(0), s.ColumnText(1)); }));
    for (const auto& [kid, kept] : rows) {
      if (!wrap_.Stale(kept)) continue;
      EHR_ASSIGN_OR_RETURN(std::string pem, wrap_.Unwrap(kid, kept));
      EHR_ASSIGN_OR_RETURN(std::string wrapped, wrap_.Wrap(kid, pem));
      std::lock_guard lock(mu_);
      EHR_ASSIGN_OR_RETURN(Stmt s, conn_->Prepare("UPDATE signing_key SET private_pem = ?2 WHERE kid = ?1", "wrap key"));
      s.BindText(1, kid).BindText(2, wrapped);
      EHR_RETURN_IF_ERROR(s.Run());
    }
    return Status::Ok();
  }

  Result<std::optional<UserRecord>> UserByName(std::string_view username) override {
    return OneUser("SELECT " + std::string(kUserColumns) + " FROM user_account WHERE username = ?1", username);
  }
  Result<std::optional<UserRecord>> UserById(std::string_view id) override {
    return OneUser("SELECT " + std::string(kUserColumns) + " FROM user_account WHERE id = ?1", id);
  }

  Result<std::vector<UserRecord>> Users() override {
    return All<UserRecord>("SELECT " + std::string(kUserColumns) + " FROM user_account ORDER BY username",
                           "list users", ReadUser);
  }

  Status InsertUser(const UserRecord& user) override {
    std::lock_guard lock(mu_);
    EHR_ASSIGN_OR_RETURN(Stmt s, conn_->Prepare("INSERT INTO user_account (" + std::string(kUserColumns) +
                                                    ") VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15)",
                                                "insert user"));
    std::string roles, tenants, codes;
    BindUser(s, user, roles, tenants, codes);
    Status st = s.Run();
    if (st.code() == Code::kConflict) return Status::Conflict("a user with this username exists");
    return st;
  }

  Status UpdateUser(const UserRecord& user) override {
    std::lock_guard lock(mu_);
    EHR_ASSIGN_OR_RETURN(
        Stmt s, conn_->Prepare("UPDATE user_account SET username=?2, password_hash=?3, roles=?4, tenants=?5, "
                               "fhir_user=?6, disabled=?7, failed_logins=?8, locked_until=?9, totp_secret=?10, "
                               "totp_confirmed=?11, totp_last_step=?12, recovery_codes=?13, created=?14, "
                               "password_changed=?15 WHERE id=?1",
                               "update user"));
    std::string roles, tenants, codes;
    BindUser(s, user, roles, tenants, codes);
    EHR_RETURN_IF_ERROR(s.Run());
    if (s.Changes() == 0) return Status::NotFound("no such user");
    return Status::Ok();
  }

  Status InsertSession(const SessionRecord& r, std::string_view refresh_hash) override {
    std::lock_guard lock(mu_);
    return conn_->InTransaction([&]() -> Status {
      EHR_ASSIGN_OR_RETURN(Stmt s, conn_->Prepare("INSERT INTO session VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)",
                                                  "insert session"));
      s.BindText(1, r.id).BindText(2, r.user_id).BindText(3, r.tenant).BindText(4, r.scope);
      s.BindInt(5, r.created).BindInt(6, r.last_seen).BindInt(7, r.expires).BindInt(8, r.revoked);
      s.BindText(9, r.client_id).BindText(10, r.patient).BindText(11, r.encounter);
      EHR_RETURN_IF_ERROR(s.Run());
      EHR_ASSIGN_OR_RETURN(Stmt t, conn_->Prepare("INSERT INTO refresh_token VALUES (?1, ?2, 0)", "insert refresh"));
      t.BindText(1, refresh_hash).BindText(2, r.id);
      return t.Run();
    });
  }

  Result<std::optional<SessionRecord>> Session(std::string_view id) override {
    std::lock_guard lock(mu_);
    return SessionLocked(id);
  }

  Status RevokeSession(std::string_view id) override {
    return Exec("UPDATE session SET revoked = 1 WHERE id = ?1", "revoke session", id);
  }
  Status RevokeUserSessions(std::string_view user_id) override {
    return Exec("UPDATE session SET revoked = 1 WHERE user_id = ?1", "revoke user sessions", user_id);
  }

  Status TouchSession(std::string_view id, Micros last_seen) override {
    std::lock_guard lock(mu_);
    EHR_ASSIGN_OR_RETURN(Stmt s, conn_->Prepare("UPDATE session SET last_seen = max(last_seen, ?2) WHERE id = ?1",
                                                "touch session"));
    s.BindText(1, id).BindInt(2, last_seen);
    return s.Run();
  }

  Result<Rotation> RotateRefresh(std::string_view old_hash, std::string_view new_hash) override {
    std::lock_guard lock(mu_);
    Rotation out;
    Status st = conn_->InTransaction([&]() -> Status {
      EHR_ASSIGN_OR_RETURN(Stmt s, conn_->Prepare("SELECT session_id, spent FROM refresh_token WHERE hash = ?1",
                                                  "find refresh"));
      s.BindText(1, old_hash);
      EHR_ASSIGN_OR_RETURN(bool found, s.Step());
      if (!found) return Status::Ok();  // kUnknown
      const std::string session_id = s.ColumnText(0);
      const bool spent = s.ColumnInt(1) != 0;
      EHR_ASSIGN_OR_RETURN(auto session, SessionLocked(session_id));
      if (!session) return Status::Internal("a refresh token without its session");
      out.session = *session;
      if (spent) {
        out.outcome = RefreshOutcome::kReused;
        out.session.revoked = true;
        EHR_ASSIGN_OR_RETURN(Stmt r, conn_->Prepare("UPDATE session SET revoked = 1 WHERE id = ?1", "revoke session"));
        r.BindText(1, session_id);
        return r.Run();
      }
      out.outcome = RefreshOutcome::kRotated;
      EHR_ASSIGN_OR_RETURN(Stmt u, conn_->Prepare("UPDATE refresh_token SET spent = 1 WHERE hash = ?1", "spend refresh"));
      u.BindText(1, old_hash);
      EHR_RETURN_IF_ERROR(u.Run());
      EHR_ASSIGN_OR_RETURN(Stmt i, conn_->Prepare("INSERT INTO refresh_token VALUES (?1, ?2, 0)", "insert refresh"));
      i.BindText(1, new_hash).BindText(2, session_id);
      return i.Run();
    });
    if (!st.ok()) return st;
    return out;
  }

  Status InsertClient(const ClientRecord& c) override {
    std::lock_guard lock(mu_);
    EHR_ASSIGN_OR_RETURN(Stmt s, conn_->Prepare("INSERT INTO client VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
                                                "insert client"));
    const std::string uris = JoinLines(c.redirect_uris);
    const std::string roles = Join(c.roles);
    s.BindText(1, c.id).BindText(2, c.name).BindText(3, uris).BindText(4, c.secret_hash).BindText(5, c.jwks);
    s.BindText(6, c.scope).BindText(7, roles).BindText(8, c.tenant).BindInt(9, c.disabled).BindInt(10, c.created);
    Status st = s.Run();
    if (st.code() == Code::kConflict) return Status::Conflict("a client with this id exists");
    return st;
  }

  Result<std::optional<ClientRecord>> Client(std::string_view id) override {
    std::lock_guard lock(mu_);
    EHR_ASSIGN_OR_RETURN(Stmt s, conn_->Prepare("SELECT * FROM client WHERE id = ?1", "find client"));
    s.BindText(1, id);
    EHR_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return std::optional<ClientRecord>();
    return std::optional<ClientRecord>(ReadClient(s));
  }

  Result<std::vector<ClientRecord>> Clients() override {
    return All<ClientRecord>("SELECT * FROM client ORDER BY id", "list clients", ReadClient);
  }

  Status InsertBreakGlass(const BreakGlassRecord& r) override {
    std::lock_guard lock(mu_);
    EHR_ASSIGN_OR_RETURN(Stmt s, conn_->Prepare("INSERT INTO break_glass VALUES (?1,?2,?3,?4,?5,?6,?7,?8)",
                                                "insert break-glass"));
    s.BindText(1, r.id).BindText(2, r.tenant).BindText(3, r.user_id).BindText(4, r.username);
    s.BindText(5, r.session_id).BindText(6, r.reason).BindInt(7, r.started).BindInt(8, r.expires);
    return s.Run();
  }

  Result<std::vector<BreakGlassRecord>> BreakGlassSince(std::string_view tenant, Micros since, int limit) override {
    return All<BreakGlassRecord>(
        "SELECT * FROM break_glass WHERE (?1 = '' OR tenant = ?1) AND started >= ?2 ORDER BY started DESC LIMIT ?3",
        "list break-glass", ReadBreakGlass, [&](Stmt& s) {
          s.BindText(1, tenant).BindInt(2, since).BindInt(3, limit);
        });
  }

  Result<std::vector<BreakGlassRecord>> ActiveBreakGlass(std::string_view session_id, Micros now) override {
    return All<BreakGlassRecord>("SELECT * FROM break_glass WHERE session_id = ?1 AND expires > ?2",
                                 "active break-glass", ReadBreakGlass, [&](Stmt& s) {
                                   s.BindText(1, session_id).BindInt(2, now);
                                 });
  }

  Result<std::vector<SigningKeyRecord>> SigningKeys() override {
    EHR_ASSIGN_OR_RETURN(std::vector<SigningKeyRecord> keys,
                         All<SigningKeyRecord>("SELECT kid, private_pem, created, retired FROM signing_key ORDER BY created",
                                               "list signing keys", [](const Stmt& s) {
                                                 return SigningKeyRecord{s.ColumnText(0), s.ColumnText(1),
                                                                         s.ColumnInt(2), s.ColumnInt(3)};
                                               }));
    for (SigningKeyRecord& k : keys) {
      EHR_ASSIGN_OR_RETURN(k.private_pem, wrap_.Unwrap(k.kid, k.private_pem));
    }
    return keys;
  }

  Status InsertSigningKey(const SigningKeyRecord& key) override {
    EHR_ASSIGN_OR_RETURN(std::string pem, wrap_.Wrap(key.kid, key.private_pem));
    std::lock_guard lock(mu_);
    EHR_ASSIGN_OR_RETURN(Stmt s, conn_->Prepare("INSERT INTO signing_key VALUES (?1, ?2, ?3, ?4)", "insert key"));
    s.BindText(1, key.kid).BindText(2, pem).BindInt(3, key.created).BindInt(4, key.retired);
    return s.Run();
  }

  Status RetireSigningKey(std::string_view kid, Micros when) override {
    std::lock_guard lock(mu_);
    EHR_ASSIGN_OR_RETURN(Stmt s, conn_->Prepare("UPDATE signing_key SET retired = ?2 WHERE kid = ?1 AND retired = 0",
                                                "retire key"));
    s.BindText(1, kid).BindInt(2, when);
    return s.Run();
  }

  Status DeleteSigningKey(std::string_view kid) override {
    return Exec("DELETE FROM signing_key WHERE kid = ?1", "delete key", kid);
  }

 private:
  // Every row of `sql`, each made into a T by `read`.
  // `bind` sets its parameters.
  template <typename T, typename Read>
  Result<std::vector<T>> All(const std::string& sql, std::string_view operation, Read read,
                             const std::function<void(Stmt&)>& bind = nullptr) {
    std::lock_guard lock(mu_);
    EHR_ASSIGN_OR_RETURN(Stmt s, conn_->Prepare(sql, operation));
    if (bind) bind(s);
    std::vector<T> out;
    while (true) {
      EHR_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      out.push_back(read(s));
    }
    return out;
  }

  Result<std::optional<UserRecord>> OneUser(const std::string& sql, std::string_view key) {
    std::lock_guard lock(mu_);
    EHR_ASSIGN_OR_RETURN(Stmt s, conn_->Prepare(sql, "find user"));
    s.BindText(1, key);
    EHR_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return std::optional<UserRecord>();
    return std::optional<UserRecord>(ReadUser(s));
  }

  Result<std::optional<SessionRecord>> SessionLocked(std::string_view id) {
    EHR_ASSIGN_OR_RETURN(Stmt s, conn_->Prepare("SELECT id, user_id, tenant, scope, created, last_seen, expires, "
                                                "revoked, client_id, patient, encounter FROM session WHERE id = ?1",
                                                "find session"));
    s.BindText(1, id);
    EHR_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return std::optional<SessionRecord>();
    return std::optional<SessionRecord>(ReadSession(s));
  }

  Status Exec(std::string_view sql, std::string_view operation, std::string_view param) {
    std::lock_guard lock(mu_);
    EHR_ASSIGN_OR_RETURN(Stmt s, conn_->Prepare(sql, operation));
    s.BindText(1, param);
    return s.Run();
  }

  Result<std::vector<std::string>> KekIdsInUse() override {
    EHR_ASSIGN_OR_RETURN(std::vector<std::string> kept,
                         All<std::string>("SELECT private_pem FROM signing_key", "list signing keys",
                                          [](const Stmt& s) { return s.ColumnText(0); }));
    std::set<std::string> ids;
    for (const std::string& k : kept) {
      if (std::string id = accounts::SigningKeyWrap::KekIdOf(k); !id.empty()) ids.insert(std::move(id));
    }
    return std::vector<std::string>(ids.begin(), ids.end());
  }

  std::mutex mu_;
  std::unique_ptr<Connection> conn_;  // GUARDED_BY(mu_)
  const accounts::SigningKeyWrap wrap_;  // without a key-encryption key: keys kept as given
};

}  // namespace

Result<std::unique_ptr<AccountStore>> OpenSqliteAccountStore(const std::string& path, keys::KeyEncryptionKeys* kek) {
  EHR_ASSIGN_OR_RETURN(auto conn, Connection::Open(path, sqlite::OpenMode::kReadWriteCreate));
  EHR_RETURN_IF_ERROR(conn->ExecScript("PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;", "account pragmas"));
  EHR_ASSIGN_OR_RETURN(std::string mode, conn->QueryText("PRAGMA journal_mode = WAL", "enable WAL"));
  if (mode != "wal") return Status::Internal("the account database cannot use WAL");
  EHR_RETURN_IF_ERROR(conn->ExecScript("PRAGMA synchronous = FULL;", "account pragmas"));
  EHR_RETURN_IF_ERROR(sqlite::Migrate(*conn, kMigrations, Clock::System().Now()));
  auto store = std::make_unique<SqliteAccountStore>(std::move(conn), kek);
  EHR_RETURN_IF_ERROR(store->WrapSigningKeys());
  return std::unique_ptr<AccountStore>(std::move(store));
}

}  // namespace ehr::store
