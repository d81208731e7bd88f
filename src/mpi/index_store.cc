// IndexStore on SQLite: one connection behind a mutex. The MPI answers a few calls per
// patient registration and per cross-region lookup, each a handful of indexed rows, so one
// connection is never the bottleneck; Register's commit waits for the disk (synchronous =
// FULL), which the vault's retry relies on.
#include "mpi/index_store.h"

#include <algorithm>
#include <map>
#include <mutex>

#include "store/sqlite/db.h"
#include "store/sqlite/schema.h"

namespace ehr::mpi {
namespace {

using store::sqlite::Connection;
using store::sqlite::Stmt;

// The schema's version is kept by store/sqlite/schema.h (its schema_version table, one row
// per applied migration): a later change is one more entry here.
constexpr store::sqlite::Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE link (
  pseudonym TEXT    NOT NULL,
  region    TEXT    NOT NULL,
  patient   TEXT    NOT NULL,
  type      TEXT    NOT NULL,
  updated   INTEGER NOT NULL,
  PRIMARY KEY (pseudonym, region, patient)
) WITHOUT ROWID, STRICT;
-- A vault's patient's links (Register) and a region's links (reconciliation).
CREATE INDEX link_by_patient ON link(region, patient);

-- seq: the order of changes; AUTOINCREMENT so that no number is ever given out twice.
CREATE TABLE link_history (
  seq       INTEGER PRIMARY KEY AUTOINCREMENT,
  at        INTEGER NOT NULL,
  op        TEXT    NOT NULL CHECK (op IN ('add', 'remove')),
  pseudonym TEXT    NOT NULL,
  region    TEXT    NOT NULL,
  patient   TEXT    NOT NULL,
  type      TEXT    NOT NULL
) STRICT;
CREATE INDEX link_history_by_patient ON link_history(region, patient, seq);
)sql"},
    {2, R"sql(
-- The heads of the nodes' audit logs this index witnessed (audit/witness.h), each extending
-- the one before; and those it refused (a log rolled back, rewritten or forked).
CREATE TABLE witnessed_head (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  node       TEXT    NOT NULL,
  size       INTEGER NOT NULL,
  root       BLOB    NOT NULL,
  timestamp  INTEGER NOT NULL,
  signature  BLOB    NOT NULL,
  public_key BLOB    NOT NULL,
  received   INTEGER NOT NULL
) STRICT;
CREATE INDEX witnessed_head_by_node ON witnessed_head(node, seq);
CREATE TABLE witness_refusal (
  seq       INTEGER PRIMARY KEY AUTOINCREMENT,
  node      TEXT    NOT NULL,
  size      INTEGER NOT NULL,
  root      BLOB    NOT NULL,
  timestamp INTEGER NOT NULL,
  reason    TEXT    NOT NULL,
  received  INTEGER NOT NULL
) STRICT;
CREATE INDEX witness_refusal_by_node ON witness_refusal(node, seq);
-- The operator's resets (`ehr federation witness-reset`, after a node was legitimately
-- restored from a backup): a node's heads and refusals up to the newest reset's seqs no
-- longer count; they stay in the tables.
CREATE TABLE witness_reset (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,
  node         TEXT    NOT NULL,
  at           INTEGER NOT NULL,
  head_seq     INTEGER NOT NULL,
  refusal_seq  INTEGER NOT NULL
) STRICT;
)sql"},
};

Link ReadLink(const Stmt& s) {
  return Link{s.ColumnText(0), s.ColumnText(1), s.ColumnText(2), s.ColumnText(3), s.ColumnInt(4)};
}

class SqliteIndexStore final : public IndexStore {
 public:
  SqliteIndexStore(std::unique_ptr<Connection> conn, Clock& clock) : conn_(std::move(conn)), clock_(clock) {}

  Status Register(std::string_view region, std::string_view patient,
                  const std::vector<PatientPseudonym>& links) override {
    if (region.empty() || patient.empty()) return Status::Invalid("index: a link needs a region and a patient");
    // pseudonym -> type; a pseudonym is of one identifier, so of one type.
    std::map<std::string, std::string, std::less<>> wanted;
    for (const PatientPseudonym& l : links) {
      if (l.pseudonym.empty() || l.type.empty()) return Status::Invalid("index: a link needs a pseudonym and a type");
      auto [it, added] = wanted.emplace(l.pseudonym, l.type);
      if (!added && it->second != l.type) return Status::Invalid("index: one pseudonym is given two types");
    }
    std::lock_guard lock(mu_);
    return conn_->InTransaction([&]() -> Status {
      EHR_ASSIGN_OR_RETURN(std::vector<Link> current, LinksOfPatient(region, patient));
      const Micros now = clock_.Now();
      for (const Link& l : current) {
        auto it = wanted.find(l.pseudonym);
        if (it != wanted.end() && it->second == l.type) {
          wanted.erase(it);  // kept as it is
          continue;
        }
        EHR_RETURN_IF_ERROR(Remove(l, now));
      }
      for (const auto& [pseudonym, type] : wanted) {
        EHR_RETURN_IF_ERROR(Add(Link{pseudonym, std::string(region), std::string(patient), type, now}));
      }
      return Status::Ok();
    });
  }

  Result<std::vector<Link>> Lookup(std::string_view pseudonym) override {
    std::lock_guard lock(mu_);
    EHR_ASSIGN_OR_RETURN(Stmt s, conn_->Prepare("SELECT pseudonym, region, patient, type, updated FROM link "
                                                "WHERE pseudonym = ?1 ORDER BY region, patient",
                                                "look up a pseudonym"));
    s.BindText(1, pseudonym);
    return ReadLinks(s);
  }

  Result<std::vector<Link>> LinksOfRegion(std::string_view region) override {
    std::lock_guard lock(mu_);
    EHR_ASSIGN_OR_RETURN(Stmt s, conn_->Prepare("SELECT pseudonym, region, patient, type, updated FROM link "
                                                "INDEXED BY link_by_patient WHERE region = ?1 "
                                                "ORDER BY patient, pseudonym",
                                                "read a region's links"));
    s.BindText(1, region);
    return ReadLinks(s);
  }

  Result<std::optional<audit::WitnessedHead>> Witnessed(std::string_view node) override {
    std::lock_guard lock(mu_);
    return NewestWitnessed(node);
  }

  Result<int64_t> WitnessRefusals(std::string_view node) override {
    std::lock_guard lock(mu_);
    EHR_ASSIGN_OR_RETURN(Stmt s, conn_->Prepare("SELECT count(*) FROM witness_refusal WHERE node = ?1 AND seq > "
                                                "(SELECT coalesce(max(refusal_seq), 0) FROM witness_reset WHERE node = ?1)",
                                                "count refusals"));
    s.BindText(1, node);
    EHR_ASSIGN_OR_RETURN(bool row, s.Step());
    return row ? s.ColumnInt(0) : 0;
  }

  Status Witness(std::string_view node, const audit::TreeHead& next, std::string_view public_key,
                 const std::vector<std::string>& proof) override {
    std::lock_guard lock(mu_);
    Status verdict;
    EHR_RETURN_IF_ERROR(conn_->InTransaction([&]() -> Status {
      EHR_ASSIGN_OR_RETURN(std::optional<audit::WitnessedHead> held, NewestWitnessed(node));
      verdict = audit::CheckExtends(held, next, public_key, proof);
      if (verdict.code() == Code::kInvalid) return Status::Ok();  // malformed: the caller's error, nothing kept
      const Micros now = clock_.Now();
      if (!verdict.ok()) {
        const std::string reason = verdict.message();  // bound by reference until the statement runs
        EHR_ASSIGN_OR_RETURN(Stmt s, conn_->Prepare("INSERT INTO witness_refusal (node, size, root, timestamp, reason, "
                                                    "received) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                                                    "record a refused head"));
        s.BindText(1, node).BindInt(2, static_cast<int64_t>(next.size)).BindBlob(3, next.root);
        s.BindInt(4, static_cast<int64_t>(next.timestamp_ms)).BindText(5, reason).BindInt(6, now);
        return s.Run();
      }
      if (held && held->head.size == next.size) return Status::Ok();  // nothing new
      EHR_ASSIGN_OR_RETURN(Stmt s, conn_->Prepare("INSERT INTO witnessed_head (node, size, root, timestamp, "
                                                  "signature, public_key, received) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                                                  "keep a witnessed head"));
      s.BindText(1, node).BindInt(2, static_cast<int64_t>(next.size)).BindBlob(3, next.root);
      s.BindInt(4, static_cast<int64_t>(next.timestamp_ms)).BindBlob(5, next.signature).BindBlob(6, public_key);
      s.BindInt(7, now);
      return s.Run();
    }));
    return verdict;
  }

  Result<uint64_t> ResetWitness(std::string_view node) override {
    std::lock_guard lock(mu_);
    uint64_t forgotten = 0;
    EHR_RETURN_IF_ERROR(conn_->InTransaction([&]() -> Status {
      EHR_ASSIGN_OR_RETURN(std::optional<audit::WitnessedHead> held, NewestWitnessed(node));
      forgotten = held ? held->head.size : 0;
      EHR_ASSIGN_OR_RETURN(Stmt s, conn_->Prepare("INSERT INTO witness_reset (node, at, head_seq, refusal_seq) VALUES "
                                                  "(?1, ?2, (SELECT coalesce(max(seq), 0) FROM witnessed_head), "
                                                  "(SELECT coalesce(max(seq), 0) FROM witness_refusal))",
                                                  "reset a witness"));
      s.BindText(1, node).BindInt(2, clock_.Now());
      return s.Run();
    }));
    return forgotten;
  }

  Result<std::vector<Micros>> WitnessResets(std::string_view node) override {
    std::lock_guard lock(mu_);
    EHR_ASSIGN_OR_RETURN(Stmt s, conn_->Prepare("SELECT at FROM witness_reset WHERE node = ?1 ORDER BY seq",
                                                "read witness resets"));
    s.BindText(1, node);
    std::vector<Micros> out;
    while (true) {
      EHR_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) return out;
      out.push_back(s.ColumnInt(0));
    }
  }

  Result<std::vector<LinkChange>> History(std::string_view region, std::string_view patient) override {
    std::lock_guard lock(mu_);
    EHR_ASSIGN_OR_RETURN(Stmt s, conn_->Prepare("SELECT seq, at, op, pseudonym, region, patient, type "
                                                "FROM link_history WHERE region = ?1 AND patient = ?2 ORDER BY seq",
                                                "read a patient's link history"));
    s.BindText(1, region).BindText(2, patient);
    std::vector<LinkChange> out;
    while (true) {
      EHR_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) return out;
      LinkChange c{s.ColumnInt(0), s.ColumnInt(1), s.ColumnText(2), {}};
      c.link = Link{s.ColumnText(3), s.ColumnText(4), s.ColumnText(5), s.ColumnText(6), c.at};
      out.push_back(std::move(c));
    }
  }

 private:
  // Under mu_.
  Result<std::optional<audit::WitnessedHead>> NewestWitnessed(std::string_view node) {
    EHR_ASSIGN_OR_RETURN(Stmt s, conn_->Prepare("SELECT size, root, timestamp, signature, public_key FROM witnessed_head "
                                                "WHERE node = ?1 AND seq > (SELECT coalesce(max(head_seq), 0) FROM "
                                                "witness_reset WHERE node = ?1) ORDER BY seq DESC LIMIT 1",
                                                "read a witnessed head"));
    s.BindText(1, node);
    EHR_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return std::optional<audit::WitnessedHead>();
    audit::WitnessedHead h;
    h.head.size = static_cast<uint64_t>(s.ColumnInt(0));
    h.head.root = s.ColumnBlob(1);
    h.head.timestamp_ms = static_cast<uint64_t>(s.ColumnInt(2));
    h.head.signature = s.ColumnBlob(3);
    h.public_key = s.ColumnBlob(4);
    return std::optional<audit::WitnessedHead>(std::move(h));
  }

  Result<std::vector<Link>> LinksOfPatient(std::string_view region, std::string_view patient) {
    EHR_ASSIGN_OR_RETURN(Stmt s, conn_->Prepare("SELECT pseudonym, region, patient, type, updated FROM link "
                                                "INDEXED BY link_by_patient WHERE region = ?1 AND patient = ?2",
                                                "read a patient's links"));
    s.BindText(1, region).BindText(2, patient);
    return ReadLinks(s);
  }

  static Result<std::vector<Link>> ReadLinks(Stmt& s) {
    std::vector<Link> out;
    while (true) {
      EHR_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) return out;
      out.push_back(ReadLink(s));
    }
  }

  // Under mu_, in a transaction.
  Status Add(const Link& l) {
    {
      EHR_ASSIGN_OR_RETURN(Stmt s, conn_->Prepare("INSERT INTO link (pseudonym, region, patient, type, updated) "
                                                  "VALUES (?1, ?2, ?3, ?4, ?5)",
                                                  "add a link"));
      s.BindText(1, l.pseudonym).BindText(2, l.region).BindText(3, l.patient).BindText(4, l.type).BindInt(5, l.updated);
      EHR_RETURN_IF_ERROR(s.Run());
    }
    return Record("add", l, l.updated);
  }

  Status Remove(const Link& l, Micros now) {
    {
      EHR_ASSIGN_OR_RETURN(
          Stmt s,
          conn_->Prepare("DELETE FROM link WHERE pseudonym = ?1 AND region = ?2 AND patient = ?3", "remove a link"));
      s.BindText(1, l.pseudonym).BindText(2, l.region).BindText(3, l.patient);
      EHR_RETURN_IF_ERROR(s.Run());
    }
    return Record("remove", l, now);
  }

  Status Record(std::string_view op, const Link& l, Micros at) {
    EHR_ASSIGN_OR_RETURN(Stmt s, conn_->Prepare("INSERT INTO link_history (at, op, pseudonym, region, patient, type) "
                                                "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                                                "record a link change"));
    s.BindInt(1, at).BindText(2, op).BindText(3, l.pseudonym).BindText(4, l.region).BindText(5, l.patient);
    s.BindText(6, l.type);
    return s.Run();
  }

  std::mutex mu_;
  std::unique_ptr<Connection> conn_;  // GUARDED_BY(mu_)
  Clock& clock_;
};

}  // namespace

Result<std::unique_ptr<IndexStore>> OpenIndexStore(const std::string& path, Clock& clock) {
  EHR_ASSIGN_OR_RETURN(auto conn, Connection::Open(path, store::sqlite::OpenMode::kReadWriteCreate));
  EHR_RETURN_IF_ERROR(conn->ExecScript("PRAGMA busy_timeout = 5000;", "index pragmas"));
  EHR_ASSIGN_OR_RETURN(std::string mode, conn->QueryText("PRAGMA journal_mode = WAL", "enable WAL"));
  if (mode != "wal") return Status::Unavailable("index: the database cannot use WAL mode");
  // FULL: every COMMIT syncs the WAL, so a registration answered is a registration kept.
  EHR_RETURN_IF_ERROR(conn->ExecScript("PRAGMA synchronous = FULL;", "index pragmas"));
  EHR_RETURN_IF_ERROR(store::sqlite::Migrate(*conn, kMigrations, clock.Now()));
  return std::unique_ptr<IndexStore>(std::make_unique<SqliteIndexStore>(std::move(conn), clock));
}

}  // namespace ehr::mpi
