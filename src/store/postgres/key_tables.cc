#include "store/postgres/key_tables.h"

#include <algorithm>
#include <map>

#include "core/clock.h"
#include "core/secrets.h"
#include "keys/aead.h"

namespace ehr::store::pg {

Result<std::optional<WrappedKey>> DataKeys::Find(std::string_view tenant, uint32_t version) {
  EHR_RETURN_IF_ERROR(Before());
  EHR_ASSIGN_OR_RETURN(Rows rows, c_.Run("SELECT version, kek, wrapped FROM data_key WHERE tenant = $1 "
                                         "AND ($2::integer = 0 OR version = $2::integer) ORDER BY version DESC LIMIT 1",
                                         {tenant, Param::Int(version)}));
  if (rows.size() == 0) return std::optional<WrappedKey>();
  return std::optional<WrappedKey>(
      WrappedKey{static_cast<uint32_t>(rows.Int(0, 0)), rows.String(0, 1), rows.String(0, 2)});
}

Result<WrappedKey> DataKeys::Insert(std::string_view tenant, const WrappedKey& key) {
  EHR_RETURN_IF_ERROR(Before());
  EHR_ASSIGN_OR_RETURN(Rows added, c_.Run("INSERT INTO data_key (tenant, version, kek, wrapped, created) "
                                          "VALUES ($1, $2::integer, $3, $4::bytea, $5::bigint) "
                                          "ON CONFLICT (tenant, version) DO NOTHING RETURNING version",
                                          {tenant, Param::Int(key.version), key.kek_id, Param::Bytes(key.wrapped),
                                           Param::Int(Clock::System().Now())}));
  if (added.size() == 1) return key;
  EHR_ASSIGN_OR_RETURN(std::optional<WrappedKey> stored, Find(tenant, key.version));
  if (!stored) return Status::Internal("encryption: a data key vanished");
  return *stored;
}

Result<std::vector<std::pair<std::string, uint32_t>>> DataKeys::Newest() {
  EHR_RETURN_IF_ERROR(Before());
  EHR_ASSIGN_OR_RETURN(Rows rows, c_.Run("SELECT tenant, max(version) FROM data_key GROUP BY tenant ORDER BY tenant"));
  std::vector<std::pair<std::string, uint32_t>> out;
  for (int i = 0; i < rows.size(); ++i) out.emplace_back(rows.String(i, 0), static_cast<uint32_t>(rows.Int(i, 1)));
  return out;
}

Result<std::vector<KeyUse>> KeyUsage(Connection& c, const std::vector<std::string>& tenants, const EnterTenant& enter) {
  std::vector<KeyUse> out;
  for (const std::string& tenant : tenants) {
    EHR_RETURN_IF_ERROR(enter(tenant));
    // The header of each sealed value decides (its layout has one definition: body_cipher.h).
    std::map<uint32_t, KeyUse> counts;
    for (auto [sql, field] :
         {std::pair{"SELECT substr(body, 1, 6) FROM resource_version WHERE tenant = $1 AND body IS NOT NULL", &KeyUse::bodies},
          std::pair{"SELECT substr(body, 1, 6) FROM idempotency WHERE tenant = $1 AND body IS NOT NULL", &KeyUse::responses},
          std::pair{"SELECT substr(detail, 1, 6) FROM audit_entry WHERE tenant = $1 AND detail IS NOT NULL",
                    &KeyUse::audit_details}}) {
      EHR_ASSIGN_OR_RETURN(Rows rows, c.Run(sql, {tenant}));
      for (int i = 0; i < rows.size(); ++i) ++(counts[BodyCipher::KeyVersionOf(rows.Text(i, 0))].*field);
    }
    for (auto& [version, use] : counts) {
      use.tenant = tenant;
      use.key_version = version;
      out.push_back(std::move(use));
    }
  }
  return out;
}

Result<std::vector<DataKeyRetirement>> RetireDataKeys(Connection& writer, const std::vector<std::string>& tenants,
                                                      const EnterTenant& enter, Micros superseded_before) {
  EHR_ASSIGN_OR_RETURN(Rows rows, writer.Run("SELECT tenant, version, created FROM data_key"));
  std::vector<StoredDataKey> stored;
  for (int i = 0; i < rows.size(); ++i) {
    stored.push_back({rows.String(i, 0), static_cast<uint32_t>(rows.Int(i, 1)), rows.Int(i, 2)});
  }
  EHR_ASSIGN_OR_RETURN(std::vector<KeyUse> usage, KeyUsage(writer, tenants, enter));
  std::vector<DataKeyRetirement> decided = DecideRetirement(std::move(stored), usage, superseded_before);
  for (const DataKeyRetirement& r : decided) {
    if (!r.retired) continue;
    EHR_RETURN_IF_ERROR(writer.Run("DELETE FROM data_key WHERE tenant = $1 AND version = $2::integer",
                                   {r.tenant, Param::Int(r.version)})
                            .status());
  }
  return decided;
}

Result<std::vector<std::string>> KekIdsInUse(Connection& c) {
  EHR_ASSIGN_OR_RETURN(Rows rows, c.Run("SELECT kek FROM data_key UNION SELECT kek FROM secret ORDER BY 1"));
  std::vector<std::string> ids;
  for (int i = 0; i < rows.size(); ++i) ids.push_back(rows.String(i, 0));
  return ids;
}

Result<int> RotateDataKeys(Connection& writer, keys::KeyEncryptionKeys& kek) {
  DataKeys keys(writer, nullptr);
  EHR_ASSIGN_OR_RETURN(auto newest, keys.Newest());
  for (const auto& [tenant, version] : newest) {
    const uint32_t next = version + 1;
    EHR_ASSIGN_OR_RETURN(keys::Wrapped wrapped, kek.Wrap(RandomBytes(keys::kKeyBytes), DataKeyAad(tenant, next)));
    EHR_RETURN_IF_ERROR(writer.Run("INSERT INTO data_key (tenant, version, kek, wrapped, created) "
                                   "VALUES ($1, $2::integer, $3, $4::bytea, $5::bigint)",
                                   {tenant, Param::Int(next), wrapped.kek_id, Param::Bytes(wrapped.bytes),
                                    Param::Int(Clock::System().Now())})
                            .status());
  }
  // Every data key and secret that another key-encryption key than the current one wraps.
  EHR_ASSIGN_OR_RETURN(Rows data_keys, writer.Run("SELECT tenant, version, kek, wrapped FROM data_key"));
  for (int i = 0; i < data_keys.size(); ++i) {
    const std::string tenant = data_keys.String(i, 0);
    const auto version = static_cast<uint32_t>(data_keys.Int(i, 1));
    EHR_ASSIGN_OR_RETURN(auto rewrapped, Rewrapped(kek, data_keys.Text(i, 2), data_keys.Text(i, 3),
                                                   DataKeyAad(tenant, version)));
    if (!rewrapped) continue;
    EHR_RETURN_IF_ERROR(writer.Run("UPDATE data_key SET kek = $1, wrapped = $2::bytea WHERE tenant = $3 "
                                   "AND version = $4::integer",
                                   {rewrapped->kek_id, Param::Bytes(rewrapped->bytes), tenant, Param::Int(version)})
                            .status());
  }
  EHR_ASSIGN_OR_RETURN(Rows secrets, writer.Run("SELECT name, kek, wrapped FROM secret"));
  for (int i = 0; i < secrets.size(); ++i) {
    const std::string name = secrets.String(i, 0);
    EHR_ASSIGN_OR_RETURN(auto rewrapped, Rewrapped(kek, secrets.Text(i, 1), secrets.Text(i, 2), SecretAad(name)));
    if (!rewrapped) continue;
    EHR_RETURN_IF_ERROR(writer.Run("UPDATE secret SET kek = $1, wrapped = $2::bytea WHERE name = $3",
                                   {rewrapped->kek_id, Param::Bytes(rewrapped->bytes), name})
                            .status());
  }
  return static_cast<int>(newest.size());
}

namespace {

// `stored` (read from a row of `tenant` described by `aad`) moved onto the tenant's current
// key: the new stored form, or nullopt when it stays as it is.
Result<std::optional<std::string>> Resealed(DataKeys& keys, BodyCipher& cipher, std::string_view tenant,
                                            const std::string& aad, std::string stored) {
  const bool sealed = BodyCipher::IsSealed(stored);
  if (!sealed && !cipher.seals_all()) return std::optional<std::string>();
  if (sealed) {
    EHR_ASSIGN_OR_RETURN(uint32_t current, cipher.WriterVersion(keys, tenant));
    if (BodyCipher::KeyVersionOf(stored) == current) return std::optional<std::string>();
  }
  EHR_RETURN_IF_ERROR(cipher.Open(keys, tenant, aad, stored));
  EHR_ASSIGN_OR_RETURN(std::string resealed, cipher.Seal(keys, tenant, aad, stored, /*sensitive=*/true));
  return std::optional<std::string>(std::move(resealed));
}

}  // namespace

Result<ReencryptStep> Reencrypt(Connection& writer, DataKeys& keys, BodyCipher& cipher,
                                const std::vector<std::string>& tenants, const EnterTenant& enter, int64_t after_seq,
                                int limit, std::string& fingerprint_out) {
  ReencryptStep step;
  step.last_seq = after_seq;
  // The newest version of any tenant: the sequence's last value (row-level security hides
  // other tenants' rows from max(seq)).
  EHR_ASSIGN_OR_RETURN(Rows last, writer.Run("SELECT CASE WHEN is_called THEN last_value ELSE 0 END "
                                             "FROM resource_version_seq_seq"));
  step.max_seq = last.Int(0, 0);
  EHR_ASSIGN_OR_RETURN(auto newest, keys.Newest());
  fingerprint_out = ReencryptFingerprint(cipher.seals_all(), newest);
  if (after_seq == 0) {
    EHR_ASSIGN_OR_RETURN(Rows mark, writer.Run("SELECT fingerprint FROM reencrypt_mark"));
    if (mark.size() == 1 && mark.Text(0, 0) == fingerprint_out) {
      step.last_seq = step.max_seq;
      step.done = true;
      step.unchanged = true;
      return step;
    }
  }
  // The next `limit` versions in seq order across tenants: up to `limit` of each, merged.
  struct Row {
    int64_t seq;
    std::string tenant, type, id;
    int64_t version;
    std::string body;
  };
  std::vector<Row> rows;
  for (const std::string& tenant : tenants) {
    EHR_RETURN_IF_ERROR(enter(tenant));
    EHR_ASSIGN_OR_RETURN(Rows found, writer.Run("SELECT seq, type, id, version, body FROM resource_version "
                                                "WHERE tenant = $1 AND seq > $2::bigint AND body IS NOT NULL "
                                                "ORDER BY seq LIMIT $3::bigint",
                                                {tenant, Param::Int(after_seq), Param::Int(limit)}));
    for (int i = 0; i < found.size(); ++i) {
      rows.push_back({found.Int(i, 0), tenant, found.String(i, 1), found.String(i, 2), found.Int(i, 3),
                      found.String(i, 4)});
    }
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.seq < b.seq; });
  if (rows.size() > static_cast<size_t>(std::max(limit, 0))) rows.resize(static_cast<size_t>(std::max(limit, 0)));
  step.done = static_cast<int>(rows.size()) < limit;
  for (Row& r : rows) {
    step.last_seq = r.seq;
    EHR_ASSIGN_OR_RETURN(auto resealed,
                         Resealed(keys, cipher, r.tenant, BodyAad(r.tenant, r.type, r.id, r.version), std::move(r.body)));
    if (!resealed) continue;
    EHR_RETURN_IF_ERROR(enter(r.tenant));
    EHR_RETURN_IF_ERROR(writer.Run("UPDATE resource_version SET body = $1::bytea WHERE seq = $2::bigint",
                                   {Param::Bytes(*resealed), Param::Int(r.seq)})
                            .status());
    ++step.rewritten;
  }
  return step;
}

Result<int> ReencryptIdempotency(Connection& writer, DataKeys& keys, BodyCipher& cipher,
                                 const std::vector<std::string>& tenants, const EnterTenant& enter,
                                 IdempotencyCursor& after, int limit, int64_t& rewritten) {
  int seen = 0;
  for (const std::string& tenant : tenants) {
    if (tenant < after.tenant || seen >= limit) continue;
    EHR_RETURN_IF_ERROR(enter(tenant));
    const std::string from = tenant == after.tenant ? after.key : std::string();
    EHR_ASSIGN_OR_RETURN(Rows found, writer.Run("SELECT key, body FROM idempotency WHERE tenant = $1 AND key > $2 "
                                                "ORDER BY key LIMIT $3::bigint",
                                                {tenant, from, Param::Int(limit - seen)}));
    for (int i = 0; i < found.size(); ++i) {
      const std::string key = found.String(i, 0);
      after = {tenant, key};
      ++seen;
      EHR_ASSIGN_OR_RETURN(auto resealed,
                           Resealed(keys, cipher, tenant, IdempotencyAad(tenant, key), found.String(i, 1)));
      if (!resealed) continue;
      EHR_RETURN_IF_ERROR(enter(tenant));
      EHR_RETURN_IF_ERROR(writer.Run("UPDATE idempotency SET body = $1::bytea WHERE tenant = $2 AND key = $3",
                                     {Param::Bytes(*resealed), tenant, key})
                              .status());
      ++rewritten;
    }
  }
  return seen;
}

Status WriteReencryptMark(Connection& writer, const std::string& fingerprint, int64_t through_seq) {
  return writer.Run("INSERT INTO reencrypt_mark (fingerprint, through_seq) VALUES ($1, $2::bigint) "
                    "ON CONFLICT (one) DO UPDATE SET fingerprint = excluded.fingerprint, "
                    "through_seq = excluded.through_seq",
                    {fingerprint, Param::Int(through_seq)})
      .status();
}

Result<std::optional<std::string>> ReadSecret(Connection& c, keys::KeyEncryptionKeys& kek, std::string_view name) {
  EHR_ASSIGN_OR_RETURN(Rows rows, c.Run("SELECT kek, wrapped FROM secret WHERE name = $1", {name}));
  if (rows.size() == 0) return std::optional<std::string>();
  EHR_ASSIGN_OR_RETURN(std::string bytes, kek.Unwrap(rows.String(0, 0), rows.String(0, 1), SecretAad(name)));
  return std::optional<std::string>(std::move(bytes));
}

Status InsertSecret(Connection& writer, keys::KeyEncryptionKeys& kek, std::string_view name, std::string_view bytes) {
  EHR_ASSIGN_OR_RETURN(keys::Wrapped wrapped, kek.Wrap(bytes, SecretAad(name)));
  return writer.Run("INSERT INTO secret (name, kek, wrapped, created) VALUES ($1, $2, $3::bytea, $4::bigint) "
                    "ON CONFLICT (name) DO NOTHING",
                    {name, wrapped.kek_id, Param::Bytes(wrapped.bytes), Param::Int(Clock::System().Now())})
      .status();
}

}  // namespace ehr::store::pg
