// AccountStore on PostgreSQL (store/accounts.h; the account_* tables of schema.h migration 9),
// for a server whose clinical store is PostgreSQL (`--accounts postgres`): one connection
// behind a mutex, as the SQLite account database has (logins cost an Argon2id hash; the
// per-request session check is cached by the identity module). A refresh token's exchange
// locks its row (FOR UPDATE), so that two servers on one database cannot both spend it.
#include <mutex>
#include <set>

#include "store/account_codec.h"
#include "store/accounts.h"
#include "store/postgres/pg.h"
#include "store/postgres/schema.h"

namespace ehr::store {
namespace {

using accounts::Join;
using accounts::JoinLines;
using accounts::Split;
using accounts::SplitLines;
using pg::Connection;
using pg::Param;
using pg::Rows;

constexpr char kUserColumns[] =
    "id, username, password_hash, roles, tenants, fhir_user, disabled, failed_logins, locked_until, totp_secret, "
    "totp_confirmed, totp_last_step, recovery_codes, created, password_changed";
constexpr char kSessionColumns[] =
    "id, user_id, tenant, scope, created, last_seen, expires, revoked, client_id, patient, encounter";
constexpr char kClientColumns[] = "id, name, redirect_uris, secret_hash, jwks, scope, roles, tenant, disabled, created";
constexpr char kBreakGlassColumns[] = "id, tenant, user_id, username, session_id, reason, started, expires";

UserRecord ReadUser(const Rows& r, int i) {
  UserRecord u;
  u.id = r.String(i, 0);
  u.username = r.String(i, 1);
  u.password_hash = r.String(i, 2);
  u.roles = Split(r.String(i, 3));
  u.tenants = Split(r.String(i, 4));
  u.fhir_user = r.String(i, 5);
  u.disabled = r.Bool(i, 6);
  u.failed_logins = static_cast<int>(r.Int(i, 7));
  u.locked_until = r.Int(i, 8);
  u.totp_secret = r.String(i, 9);
  u.totp_confirmed = r.Bool(i, 10);
  u.totp_last_step = r.Int(i, 11);
  u.recovery_code_hashes = Split(r.String(i, 12));
  u.created = r.Int(i, 13);
  u.password_changed = r.Int(i, 14);
  return u;
}

// The parameters $1..$15 in kUserColumns order.
std::vector<Param> UserParams(const UserRecord& u) {
  return {u.id,
          u.username,
          u.password_hash,
          Join(u.roles),
          Join(u.tenants),
          u.fhir_user,
          Param::Bool(u.disabled),
          Param::Int(u.failed_logins),
          Param::Int(u.locked_until),
          Param::Bytes(u.totp_secret),
          Param::Bool(u.totp_confirmed),
          Param::Int(u.totp_last_step),
          Join(u.recovery_code_hashes),
          Param::Int(u.created),
          Param::Int(u.password_changed)};
}

SessionRecord ReadSession(const Rows& r, int i) {
  SessionRecord s;
  s.id = r.String(i, 0);
  s.user_id = r.String(i, 1);
  s.tenant = r.String(i, 2);
  s.scope = r.String(i, 3);
  s.created = r.Int(i, 4);
  s.last_seen = r.Int(i, 5);
  s.expires = r.Int(i, 6);
  s.revoked = r.Bool(i, 7);
  s.client_id = r.String(i, 8);
  s.patient = r.String(i, 9);
  s.encounter = r.String(i, 10);
  return s;
}

ClientRecord ReadClient(const Rows& r, int i) {
  ClientRecord c;
  c.id = r.String(i, 0);
  c.name = r.String(i, 1);
  c.redirect_uris = SplitLines(r.String(i, 2));
  c.secret_hash = r.String(i, 3);
  c.jwks = r.String(i, 4);
  c.scope = r.String(i, 5);
  c.roles = Split(r.String(i, 6));
  c.tenant = r.String(i, 7);
  c.disabled = r.Bool(i, 8);
  c.created = r.Int(i, 9);
  return c;
}

BreakGlassRecord ReadBreakGlass(const Rows& r, int i) {
  return BreakGlassRecord{r.String(i, 0), r.String(i, 1), r.String(i, 2), r.String(i, 3),
                          r.String(i, 4), r.String(i, 5), r.Int(i, 6),   r.Int(i, 7)};
}

template <typename T, typename Read>
std::vector<T> All(const Rows& rows, Read read) {
  std::vector<T> out;
  for (int i = 0; i < rows.size(); ++i) out.push_back(read(rows, i));
  return out;
}

class PostgresAccountStore final : public AccountStore {
 public:
  PostgresAccountStore(std::unique_ptr<Connection> conn, keys::KeyEncryptionKeys* kek)
      : conn_(std::move(conn)), wrap_(kek) {}

  // As the SQLite store does on open: private keys kept plain or under an older key-
  // encryption key version are wrapped under the current one.
  Status WrapSigningKeys() {
    if (!wrap_.enabled()) return Status::Ok();
    std::lock_guard lock(mu_);
    EHR_ASSIGN_OR_RETURN(Connection * c, Conn());
    EHR_ASSIGN_OR_RETURN(Rows rows, c->Run("SELECT kid, private_pem FROM account_signing_key"));
    for (int i = 0; i < rows.size(); ++i) {
      const std::string kid = rows.String(i, 0), kept = rows.String(i, 1);
      if (!wrap_.Stale(kept)) continue;
      EHR_ASSIGN_OR_RETURN(std::string pem, wrap_.Unwrap(kid, kept));
      EHR_ASSIGN_OR_RETURN(std::string wrapped, wrap_.Wrap(kid, pem));
      EHR_RETURN_IF_ERROR(c->Run("UPDATE account_signing_key SET private_pem = $2 WHERE kid = $1", {kid, wrapped}).status());
    }
    return Status::Ok();
  }

  Result<std::optional<UserRecord>> UserByName(std::string_view username) override {
    return OneUser(std::string("SELECT ") + kUserColumns + " FROM account_user WHERE username = $1", username);
  }
  Result<std::optional<UserRecord>> UserById(std::string_view id) override {
    return OneUser(std::string("SELECT ") + kUserColumns + " FROM account_user WHERE id = $1", id);
  }
  Result<std::vector<UserRecord>> Users() override {
    EHR_ASSIGN_OR_RETURN(Rows rows, Run(std::string("SELECT ") + kUserColumns + " FROM account_user ORDER BY username", {}));
    return All<UserRecord>(rows, ReadUser);
  }

  Status InsertUser(const UserRecord& user) override {
    Status st = Run(std::string("INSERT INTO account_user (") + kUserColumns +
                        ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)",
                    UserParams(user))
                    .status();
    if (st.code() == Code::kConflict) return Status::Conflict("a user with this username exists");
    return st;
  }

  Status UpdateUser(const UserRecord& user) override {
    EHR_ASSIGN_OR_RETURN(Rows rows, Run("UPDATE account_user SET username=$2, password_hash=$3, roles=$4, tenants=$5, "
                                        "fhir_user=$6, disabled=$7, failed_logins=$8, locked_until=$9, totp_secret=$10, "
                                        "totp_confirmed=$11, totp_last_step=$12, recovery_codes=$13, created=$14, "
                                        "password_changed=$15 WHERE id=$1 RETURNING id",
                                        UserParams(user)));
    if (rows.size() == 0) return Status::NotFound("no such user");
    return Status::Ok();
  }

  Status InsertSession(const SessionRecord& r, std::string_view refresh_hash) override {
    return InTransaction([&](Connection& c) -> Status {
      EHR_RETURN_IF_ERROR(c.Run(std::string("INSERT INTO account_session (") + kSessionColumns +
                                    ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)",
                                {r.id, r.user_id, r.tenant, r.scope, Param::Int(r.created), Param::Int(r.last_seen),
                                 Param::Int(r.expires), Param::Bool(r.revoked), r.client_id, r.patient, r.encounter})
                              .status());
      return c.Run("INSERT INTO account_refresh_token (hash, session_id, spent) VALUES ($1, $2, false)",
                   {refresh_hash, r.id})
          .status();
    });
  }

  Result<std::optional<SessionRecord>> Session(std::string_view id) override {
    std::lock_guard lock(mu_);
    EHR_ASSIGN_OR_RETURN(Connection * c, Conn());
    return SessionOn(*c, id, false);
  }

  Status RevokeSession(std::string_view id) override {
    return Run("UPDATE account_session SET revoked = true WHERE id = $1", {id}).status();
  }
  Status RevokeUserSessions(std::string_view user_id) override {
    return Run("UPDATE account_session SET revoked = true WHERE user_id = $1", {user_id}).status();
  }
  Status TouchSession(std::string_view id, Micros last_seen) override {
    return Run("UPDATE account_session SET last_seen = greatest(last_seen, $2::bigint) WHERE id = $1",
               {id, Param::Int(last_seen)})
        .status();
  }

  Result<Rotation> RotateRefresh(std::string_view old_hash, std::string_view new_hash) override {
    Rotation out;
    EHR_RETURN_IF_ERROR(InTransaction([&](Connection& c) -> Status {
      EHR_ASSIGN_OR_RETURN(Rows token, c.Run("SELECT session_id, spent FROM account_refresh_token WHERE hash = $1 "
                                             "FOR UPDATE",
                                             {old_hash}));
      if (token.size() == 0) return Status::Ok();  // kUnknown
      const std::string session_id = token.String(0, 0);
      const bool spent = token.Bool(0, 1);
      EHR_ASSIGN_OR_RETURN(std::optional<SessionRecord> session, SessionOn(c, session_id, true));
      if (!session) return Status::Internal("a refresh token without its session");
      out.session = *session;
      if (spent) {
        out.outcome = RefreshOutcome::kReused;
        out.session.revoked = true;
        return c.Run("UPDATE account_session SET revoked = true WHERE id = $1", {session_id}).status();
      }
      out.outcome = RefreshOutcome::kRotated;
      EHR_RETURN_IF_ERROR(c.Run("UPDATE account_refresh_token SET spent = true WHERE hash = $1", {old_hash}).status());
      return c.Run("INSERT INTO account_refresh_token (hash, session_id, spent) VALUES ($1, $2, false)",
                   {new_hash, session_id})
          .status();
    }));
    return out;
  }

  Status InsertClient(const ClientRecord& c) override {
    Status st = Run(std::string("INSERT INTO account_client (") + kClientColumns + ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)",
                    {c.id, c.name, JoinLines(c.redirect_uris), c.secret_hash, c.jwks, c.scope, Join(c.roles), c.tenant,
                     Param::Bool(c.disabled), Param::Int(c.created)})
                    .status();
    if (st.code() == Code::kConflict) return Status::Conflict("a client with this id exists");
    return st;
  }

  Result<std::optional<ClientRecord>> Client(std::string_view id) override {
    EHR_ASSIGN_OR_RETURN(Rows rows, Run(std::string("SELECT ") + kClientColumns + " FROM account_client WHERE id = $1", {id}));
    if (rows.size() == 0) return std::optional<ClientRecord>();
    return std::optional<ClientRecord>(ReadClient(rows, 0));
  }

  Result<std::vector<ClientRecord>> Clients() override {
    EHR_ASSIGN_OR_RETURN(Rows rows, Run(std::string("SELECT ") + kClientColumns + " FROM account_client ORDER BY id", {}));
    return All<ClientRecord>(rows, ReadClient);
  }

  Status InsertBreakGlass(const BreakGlassRecord& r) override {
    return Run(std::string("INSERT INTO account_break_glass (") + kBreakGlassColumns + ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
               {r.id, r.tenant, r.user_id, r.username, r.session_id, r.reason, Param::Int(r.started),
                Param::Int(r.expires)})
        .status();
  }

  Result<std::vector<BreakGlassRecord>> BreakGlassSince(std::string_view tenant, Micros since, int limit) override {
    EHR_ASSIGN_OR_RETURN(Rows rows, Run(std::string("SELECT ") + kBreakGlassColumns +
                                            " FROM account_break_glass WHERE ($1 = '' OR tenant = $1) AND started >= "
                                            "$2::bigint ORDER BY started DESC LIMIT $3::bigint",
                                        {tenant, Param::Int(since), Param::Int(limit)}));
    return All<BreakGlassRecord>(rows, ReadBreakGlass);
  }

  Result<std::vector<BreakGlassRecord>> ActiveBreakGlass(std::string_view session_id, Micros now) override {
    EHR_ASSIGN_OR_RETURN(Rows rows, Run(std::string("SELECT ") + kBreakGlassColumns +
                                            " FROM account_break_glass WHERE session_id = $1 AND expires > $2::bigint",
                                        {session_id, Param::Int(now)}));
    return All<BreakGlassRecord>(rows, ReadBreakGlass);
  }

  Result<std::vector<SigningKeyRecord>> SigningKeys() override {
    EHR_ASSIGN_OR_RETURN(Rows rows, Run("SELECT kid, private_pem, created, retired FROM account_signing_key "
                                        "ORDER BY created, kid",
                                        {}));
    std::vector<SigningKeyRecord> keys;
    for (int i = 0; i < rows.size(); ++i) {
      SigningKeyRecord k{rows.String(i, 0), rows.String(i, 1), rows.Int(i, 2), rows.Int(i, 3)};
      EHR_ASSIGN_OR_RETURN(k.private_pem, wrap_.Unwrap(k.kid, k.private_pem));
      keys.push_back(std::move(k));
    }
    return keys;
  }

  Status InsertSigningKey(const SigningKeyRecord& key) override {
    EHR_ASSIGN_OR_RETURN(std::string pem, wrap_.Wrap(key.kid, key.private_pem));
    return Run("INSERT INTO account_signing_key (kid, private_pem, created, retired) VALUES ($1, $2, $3, $4)",
               {key.kid, pem, Param::Int(key.created), Param::Int(key.retired)})
        .status();
  }

  Status RetireSigningKey(std::string_view kid, Micros when) override {
    return Run("UPDATE account_signing_key SET retired = $2::bigint WHERE kid = $1 AND retired = 0",
               {kid, Param::Int(when)})
        .status();
  }

  Status DeleteSigningKey(std::string_view kid) override {
    return Run("DELETE FROM account_signing_key WHERE kid = $1", {kid}).status();
  }

  Result<std::vector<std::string>> KekIdsInUse() override {
    EHR_ASSIGN_OR_RETURN(Rows rows, Run("SELECT private_pem FROM account_signing_key", {}));
    std::set<std::string> ids;
    for (int i = 0; i < rows.size(); ++i) {
      if (std::string id = accounts::SigningKeyWrap::KekIdOf(rows.Text(i, 0)); !id.empty()) ids.insert(std::move(id));
    }
    return std::vector<std::string>(ids.begin(), ids.end());
  }

 private:
  // The connection, reconnected when it was lost (under mu_).
  Result<Connection*> Conn() {
    if (!conn_->healthy()) EHR_RETURN_IF_ERROR(conn_->Reconnect());
    return conn_.get();
  }

  Result<Rows> Run(const std::string& sql, const std::vector<Param>& params) {
    std::lock_guard lock(mu_);
    EHR_ASSIGN_OR_RETURN(Connection * c, Conn());
    return c->Run(sql, params);
  }

  Status InTransaction(const std::function<Status(Connection&)>& body) {
    std::lock_guard lock(mu_);
    EHR_ASSIGN_OR_RETURN(Connection * c, Conn());
    EHR_RETURN_IF_ERROR(c->Exec("BEGIN"));
    Status st = body(*c);
    if (st.ok()) st = c->Exec("COMMIT");
    if (!st.ok() && c->in_transaction()) (void)c->Exec("ROLLBACK");
    return st;
  }

  Result<std::optional<UserRecord>> OneUser(const std::string& sql, std::string_view key) {
    EHR_ASSIGN_OR_RETURN(Rows rows, Run(sql, {key}));
    if (rows.size() == 0) return std::optional<UserRecord>();
    return std::optional<UserRecord>(ReadUser(rows, 0));
  }

  Result<std::optional<SessionRecord>> SessionOn(Connection& c, std::string_view id, bool for_update) {
    EHR_ASSIGN_OR_RETURN(Rows rows, c.Run(std::string("SELECT ") + kSessionColumns + " FROM account_session WHERE id = $1" +
                                              (for_update ? " FOR UPDATE" : ""),
                                          {id}));
    if (rows.size() == 0) return std::optional<SessionRecord>();
    return std::optional<SessionRecord>(ReadSession(rows, 0));
  }

  std::mutex mu_;
  std::unique_ptr<Connection> conn_;  // GUARDED_BY(mu_)
  const accounts::SigningKeyWrap wrap_;
};

}  // namespace

Result<std::unique_ptr<AccountStore>> OpenPostgresAccountStore(const std::string& conninfo,
                                                               keys::KeyEncryptionKeys* kek) {
  EHR_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Connection::Open(conninfo));
  EHR_ASSIGN_OR_RETURN(Rows version, conn->Query("SELECT coalesce(max(version), 0) FROM schema_version"));
  if (version.Int(0, 0) < 9) {
    return Status::Invalid("postgres: the database's schema (version " + version.String(0, 0) +
                           ") predates accounts in PostgreSQL (9): migrate it first (--store-migrate)");
  }
  auto store = std::make_unique<PostgresAccountStore>(std::move(conn), kek);
  EHR_RETURN_IF_ERROR(store->WrapSigningKeys());
  return std::unique_ptr<AccountStore>(std::move(store));
}

}  // namespace ehr::store
