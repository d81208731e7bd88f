#include "store/sqlite/key_tables.h"

#include <map>

#include "core/clock.h"
#include "core/secrets.h"
#include "keys/aead.h"

namespace ehr::store::sqlite {
namespace {

// A wrapped key as stored: in data_key (name = tenant, with its version) or in secret.
struct WrappedRow {
  std::string name;
  int64_t version = 0;
  std::string kek;
  std::string wrapped;
};

Result<std::vector<WrappedRow>> ReadWrapped(Connection& writer, std::string_view select) {
  std::vector<WrappedRow> rows;
  EHR_ASSIGN_OR_RETURN(Stmt read, writer.Prepare(select, "read wrapped keys"));
  while (true) {
    EHR_ASSIGN_OR_RETURN(bool row, read.Step());
    if (!row) return rows;
    rows.push_back({read.ColumnText(0), read.ColumnInt(1), read.ColumnText(2), read.ColumnBlob(3)});
  }
}

// Every data key and secret that another key-encryption key than the current one wrapped.
Status RewrapAll(Connection& writer, keys::KeyEncryptionKeys& kek) {
  EHR_ASSIGN_OR_RETURN(std::vector<WrappedRow> data_keys,
                       ReadWrapped(writer, "SELECT tenant, version, kek, wrapped FROM data_key"));
  for (const WrappedRow& r : data_keys) {
    EHR_ASSIGN_OR_RETURN(auto rewrapped, Rewrapped(kek, r.kek, r.wrapped, DataKeyAad(r.name, static_cast<uint32_t>(r.version))));
    if (!rewrapped) continue;
    EHR_ASSIGN_OR_RETURN(Stmt write, writer.Prepare("UPDATE data_key SET kek = ?1, wrapped = ?2 "
                                                    "WHERE tenant = ?3 AND version = ?4",
                                                    "rewrap data key"));
    write.BindText(1, rewrapped->kek_id).BindBlob(2, rewrapped->bytes).BindText(3, r.name).BindInt(4, r.version);
    EHR_RETURN_IF_ERROR(write.Run());
  }
  EHR_ASSIGN_OR_RETURN(std::vector<WrappedRow> secrets,
                       ReadWrapped(writer, "SELECT name, 0, kek, wrapped FROM secret"));
  for (const WrappedRow& r : secrets) {
    EHR_ASSIGN_OR_RETURN(auto rewrapped, Rewrapped(kek, r.kek, r.wrapped, SecretAad(r.name)));
    if (!rewrapped) continue;
    EHR_ASSIGN_OR_RETURN(Stmt write, writer.Prepare("UPDATE secret SET kek = ?1, wrapped = ?2 WHERE name = ?3",
                                                    "rewrap secret"));
    write.BindText(1, rewrapped->kek_id).BindBlob(2, rewrapped->bytes).BindText(3, r.name);
    EHR_RETURN_IF_ERROR(write.Run());
  }
  return Status::Ok();
}

}  // namespace

Status OpenRecord(BodyCipher& cipher, Connection& c, std::string_view tenant, VersionRecord& r) {
  if (r.deleted) return Status::Ok();
  return cipher.Open(c, tenant, BodyAad(tenant, r.type, r.id, r.version), r.body);
}

Status OpenPage(BodyCipher& cipher, Connection& c, std::string_view tenant, SearchPage& page) {
  DataKeys keys(c);
  return store::OpenPage(cipher, keys, tenant, page);
}

Result<std::vector<KeyUse>> KeyUsage(Connection& c) {
  // The 6-byte header of each sealed value decides; counted here rather than in SQL so that
  // the header layout has one definition (body_cipher.h).
  std::map<std::pair<std::string, uint32_t>, KeyUse> counts;
  for (auto [sql, field] : {std::pair{"SELECT tenant, substr(body, 1, 6) FROM resource_version WHERE body IS NOT NULL",
                                      &KeyUse::bodies},
                            std::pair{"SELECT tenant, substr(body, 1, 6) FROM idempotency WHERE body IS NOT NULL",
                                      &KeyUse::responses},
                            std::pair{"SELECT tenant, substr(detail, 1, 6) FROM audit_entry WHERE detail IS NOT NULL",
                                      &KeyUse::audit_details}}) {
    EHR_ASSIGN_OR_RETURN(Stmt read, c.Prepare(sql, "read key usage"));
    while (true) {
      EHR_ASSIGN_OR_RETURN(bool row, read.Step());
      if (!row) break;
      KeyUse& u = counts[{read.ColumnText(0), BodyCipher::KeyVersionOf(read.ColumnBlob(1))}];
      ++(u.*field);
    }
  }
  std::vector<KeyUse> out;
  for (auto& [key, use] : counts) {
    use.tenant = key.first;
    use.key_version = key.second;
    out.push_back(std::move(use));
  }
  return out;
}

Result<std::vector<DataKeyRetirement>> RetireDataKeys(Connection& writer, Micros superseded_before) {
  std::vector<StoredDataKey> stored;
  {
    EHR_ASSIGN_OR_RETURN(Stmt read, writer.Prepare("SELECT tenant, version, created FROM data_key", "read data keys"));
    while (true) {
      EHR_ASSIGN_OR_RETURN(bool row, read.Step());
      if (!row) break;
      stored.push_back({read.ColumnText(0), static_cast<uint32_t>(read.ColumnInt(1)), read.ColumnInt(2)});
    }
  }
  EHR_ASSIGN_OR_RETURN(std::vector<KeyUse> usage, KeyUsage(writer));
  std::vector<DataKeyRetirement> decided = DecideRetirement(std::move(stored), usage, superseded_before);
  for (const DataKeyRetirement& r : decided) {
    if (!r.retired) continue;
    EHR_ASSIGN_OR_RETURN(Stmt erase, writer.Prepare("DELETE FROM data_key WHERE tenant = ?1 AND version = ?2",
                                                    "retire data key"));
    erase.BindText(1, r.tenant).BindInt(2, r.version);
    EHR_RETURN_IF_ERROR(erase.Run());
  }
  return decided;
}

Result<std::vector<std::string>> KekIdsInUse(Connection& c) {
  EHR_ASSIGN_OR_RETURN(Stmt read, c.Prepare("SELECT kek FROM data_key UNION SELECT kek FROM secret ORDER BY 1",
                                            "read key-encryption keys in use"));
  std::vector<std::string> ids;
  while (true) {
    EHR_ASSIGN_OR_RETURN(bool row, read.Step());
    if (!row) break;
    ids.push_back(read.ColumnText(0));
  }
  return ids;
}

Result<int> RotateDataKeys(Connection& writer, keys::KeyEncryptionKeys& kek) {
  std::vector<std::pair<std::string, int64_t>> newest;
  {
    EHR_ASSIGN_OR_RETURN(Stmt read, writer.Prepare("SELECT tenant, max(version) FROM data_key GROUP BY tenant",
                                                   "read data key versions"));
    while (true) {
      EHR_ASSIGN_OR_RETURN(bool row, read.Step());
      if (!row) break;
      newest.emplace_back(read.ColumnText(0), read.ColumnInt(1));
    }
  }
  for (const auto& [tenant, version] : newest) {
    const auto next = static_cast<uint32_t>(version + 1);
    EHR_ASSIGN_OR_RETURN(keys::Wrapped wrapped, kek.Wrap(RandomBytes(keys::kKeyBytes), DataKeyAad(tenant, next)));
    EHR_ASSIGN_OR_RETURN(Stmt insert, writer.Prepare("INSERT INTO data_key (tenant, version, kek, wrapped, created) "
                                                     "VALUES (?1, ?2, ?3, ?4, ?5)",
                                                     "insert data key"));
    insert.BindText(1, tenant).BindInt(2, next).BindText(3, wrapped.kek_id).BindBlob(4, wrapped.bytes);
    insert.BindInt(5, Clock::System().Now());
    EHR_RETURN_IF_ERROR(insert.Run());
  }
  EHR_RETURN_IF_ERROR(RewrapAll(writer, kek));
  return static_cast<int>(newest.size());
}

namespace {

Result<std::string> Fingerprint(Connection& writer, const BodyCipher& cipher) {
  DataKeys keys(writer);
  EHR_ASSIGN_OR_RETURN(auto newest, keys.Newest());
  return ReencryptFingerprint(cipher.seals_all(), newest);
}

}  // namespace

Result<ReencryptStep> Reencrypt(Connection& writer, BodyCipher& cipher, int64_t after_seq, int limit,
                                std::string& fingerprint_out) {
  ReencryptStep step;
  step.last_seq = after_seq;
  {
    EHR_ASSIGN_OR_RETURN(Stmt max, writer.Prepare("SELECT coalesce(max(seq), 0) FROM resource_version", "read max seq"));
    EHR_ASSIGN_OR_RETURN(bool row, max.Step());
    step.max_seq = row ? max.ColumnInt(0) : 0;
  }
  EHR_ASSIGN_OR_RETURN(const std::string fingerprint, Fingerprint(writer, cipher));
  fingerprint_out = fingerprint;
  if (after_seq == 0) {
    EHR_ASSIGN_OR_RETURN(Stmt mark, writer.Prepare("SELECT fingerprint FROM reencrypt_mark WHERE id = 1",
                                                   "read re-encryption mark"));
    EHR_ASSIGN_OR_RETURN(bool row, mark.Step());
    if (row && mark.ColumnText(0) == fingerprint) {
      step.last_seq = step.max_seq;
      step.done = true;
      step.unchanged = true;
      return step;
    }
  }
  struct Row {
    int64_t seq;
    std::string tenant, type, id;
    int64_t version;
    std::string body;
  };
  std::vector<Row> rows;
  {
    EHR_ASSIGN_OR_RETURN(Stmt read, writer.Prepare("SELECT seq, tenant, type, id, version, body FROM resource_version "
                                                   "WHERE seq > ?1 AND body IS NOT NULL ORDER BY seq LIMIT ?2",
                                                   "read versions to re-encrypt"));
    read.BindInt(1, after_seq).BindInt(2, limit);
    while (true) {
      EHR_ASSIGN_OR_RETURN(bool row, read.Step());
      if (!row) break;
      rows.push_back({read.ColumnInt(0), read.ColumnText(1), read.ColumnText(2), read.ColumnText(3), read.ColumnInt(4),
                      read.ColumnBlob(5)});
    }
  }
  step.done = static_cast<int>(rows.size()) < limit;
  for (Row& r : rows) {
    step.last_seq = r.seq;
    const bool sealed = BodyCipher::IsSealed(r.body);
    if (!sealed && !cipher.seals_all()) continue;
    if (sealed) {
      EHR_ASSIGN_OR_RETURN(uint32_t current, cipher.WriterVersion(writer, r.tenant));
      if (BodyCipher::KeyVersionOf(r.body) == current) continue;
    }
    const std::string aad = BodyAad(r.tenant, r.type, r.id, r.version);
    EHR_RETURN_IF_ERROR(cipher.Open(writer, r.tenant, aad, r.body));
    EHR_ASSIGN_OR_RETURN(std::string sealed_body, cipher.Seal(writer, r.tenant, aad, r.body, /*sensitive=*/true));
    EHR_ASSIGN_OR_RETURN(Stmt update, writer.Prepare("UPDATE resource_version SET body = ?1 WHERE seq = ?2",
                                                     "re-encrypt body"));
    update.BindBlob(1, sealed_body).BindInt(2, r.seq);
    EHR_RETURN_IF_ERROR(update.Run());
    ++step.rewritten;
  }
  return step;
}

Status WriteReencryptMark(Connection& writer, const std::string& fingerprint, int64_t through_seq) {
  EHR_ASSIGN_OR_RETURN(Stmt mark, writer.Prepare("INSERT OR REPLACE INTO reencrypt_mark (id, fingerprint, through_seq) "
                                                 "VALUES (1, ?1, ?2)",
                                                 "write re-encryption mark"));
  mark.BindText(1, fingerprint).BindInt(2, through_seq);
  return mark.Run();
}

Result<int> ReencryptIdempotency(Connection& writer, BodyCipher& cipher, IdempotencyCursor& after, int limit,
                                 int64_t& rewritten) {
  struct Row {
    std::string tenant, key, body;
  };
  std::vector<Row> rows;
  {
    EHR_ASSIGN_OR_RETURN(Stmt read, writer.Prepare("SELECT tenant, key, body FROM idempotency WHERE (tenant, key) > (?1, ?2) "
                                                   "ORDER BY tenant, key LIMIT ?3",
                                                   "read idempotency responses to re-encrypt"));
    read.BindText(1, after.tenant).BindText(2, after.key).BindInt(3, limit);
    while (true) {
      EHR_ASSIGN_OR_RETURN(bool row, read.Step());
      if (!row) break;
      rows.push_back({read.ColumnText(0), read.ColumnText(1), read.ColumnBlob(2)});
    }
  }
  for (Row& r : rows) {
    after = {r.tenant, r.key};
    const bool sealed = BodyCipher::IsSealed(r.body);
    if (!sealed && !cipher.seals_all()) continue;
    if (sealed) {
      EHR_ASSIGN_OR_RETURN(uint32_t current, cipher.WriterVersion(writer, r.tenant));
      if (BodyCipher::KeyVersionOf(r.body) == current) continue;
    }
    const std::string aad = IdempotencyAad(r.tenant, r.key);
    EHR_RETURN_IF_ERROR(cipher.Open(writer, r.tenant, aad, r.body));
    EHR_ASSIGN_OR_RETURN(std::string sealed_body, cipher.Seal(writer, r.tenant, aad, r.body, /*sensitive=*/true));
    EHR_ASSIGN_OR_RETURN(Stmt update, writer.Prepare("UPDATE idempotency SET body = ?1 WHERE tenant = ?2 AND key = ?3",
                                                     "re-encrypt idempotency response"));
    update.BindBlob(1, sealed_body).BindText(2, r.tenant).BindText(3, r.key);
    EHR_RETURN_IF_ERROR(update.Run());
    ++rewritten;
  }
  return static_cast<int>(rows.size());
}

Result<std::optional<std::string>> ReadSecret(Connection& c, keys::KeyEncryptionKeys& kek, std::string_view name) {
  EHR_ASSIGN_OR_RETURN(Stmt read, c.Prepare("SELECT kek, wrapped FROM secret WHERE name = ?1", "read secret"));
  read.BindText(1, name);
  EHR_ASSIGN_OR_RETURN(bool row, read.Step());
  if (!row) return std::optional<std::string>();
  EHR_ASSIGN_OR_RETURN(std::string bytes, kek.Unwrap(read.ColumnText(0), read.ColumnBlob(1), SecretAad(name)));
  return std::optional<std::string>(std::move(bytes));
}

Status InsertSecret(Connection& writer, keys::KeyEncryptionKeys& kek, std::string_view name, std::string_view bytes) {
  EHR_ASSIGN_OR_RETURN(keys::Wrapped wrapped, kek.Wrap(bytes, SecretAad(name)));
  EHR_ASSIGN_OR_RETURN(Stmt insert, writer.Prepare("INSERT OR IGNORE INTO secret (name, kek, wrapped, created) "
                                                   "VALUES (?1, ?2, ?3, ?4)",
                                                   "insert secret"));
  insert.BindText(1, name).BindText(2, wrapped.kek_id).BindBlob(3, wrapped.bytes).BindInt(4, Clock::System().Now());
  return insert.Run();
}

}  // namespace ehr::store::sqlite
