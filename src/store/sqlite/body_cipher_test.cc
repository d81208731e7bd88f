// Envelope encryption of bodies in the SQLite store: sealed at rest, plain through every
// read path, bound to their row, rotated and re-encrypted while reads go on.
#include "store/sqlite/body_cipher.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "keys/keyring.h"
#include "store/sqlite/test_util.h"

namespace ehr::store {
namespace {

using testing::OpenOrDie;
using testing::PutOne;
using testing::TempDir;
using testing::Version;

constexpr char kName[] = "Zwanenburg";

std::string PatientBody(const std::string& id) {
  return std::string(R"({"resourceType":"Patient","id":")") + id + R"(","name":[{"family":")" + kName + R"("}]})";
}

std::string FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Raw access to the database file, as an attacker with a copy of it would have.
class RawDb {
 public:
  explicit RawDb(const std::string& path) { sqlite3_open(path.c_str(), &db_); }
  ~RawDb() { sqlite3_close(db_); }
  std::string Body(const std::string& id, int version = 1) {
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db_, "SELECT body FROM resource_version WHERE id = ?1 AND version = ?2", -1, &s, nullptr);
    sqlite3_bind_text(s, 1, id.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(s, 2, version);
    std::string out;
    if (sqlite3_step(s) == SQLITE_ROW) {
      out.assign(static_cast<const char*>(sqlite3_column_blob(s, 0)), sqlite3_column_bytes(s, 0));
    }
    sqlite3_finalize(s);
    return out;
  }
  void SetBody(const std::string& id, const std::string& body) {
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db_, "UPDATE resource_version SET body = ?1 WHERE id = ?2", -1, &s, nullptr);
    sqlite3_bind_blob(s, 1, body.data(), static_cast<int>(body.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, id.c_str(), -1, SQLITE_TRANSIENT);
    EXPECT_EQ(sqlite3_step(s), SQLITE_DONE);
    sqlite3_finalize(s);
  }

 private:
  sqlite3* db_ = nullptr;
};

class BodyCipherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ring = keys::Keyring::OpenOrCreate(dir_.File("keyring"));
    ASSERT_TRUE(ring.ok()) << ring.status().message();
    kek_ = std::move(*ring);
  }
  SqliteOptions Options(bool all) {
    SqliteOptions o;
    o.path = dir_.File("ehr.db");
    o.durable = false;
    o.kek = kek_.get();
    o.encrypt_bodies = all;
    return o;
  }
  std::map<uint32_t, int64_t> Usage(Store& store, const std::string& tenant = "t") {
    std::map<uint32_t, int64_t> out;
    auto usage = store.KeyUsage();  // held: a range-for over *store.KeyUsage() would dangle
    EXPECT_TRUE(usage.ok());
    for (const KeyUse& u : *usage) {
      if (u.tenant == tenant) out[u.key_version] = u.bodies;
    }
    return out;
  }
  static void ReencryptAll(Store& store) {
    int64_t after = 0;
    while (true) {
      auto step = store.Reencrypt(after, 7);
      ASSERT_TRUE(step.ok()) << step.status().message();
      after = step->last_seq;
      if (step->done) return;
    }
  }

  TempDir dir_;
  std::unique_ptr<keys::Keyring> kek_;
};

TEST_F(BodyCipherTest, SealedAtRestPlainOnEveryReadPath) {
  auto store = OpenOrDie(Options(true));
  ASSERT_TRUE(PutOne(*store, Version("t", "Patient", "p1", 1, PatientBody("p1"))).ok());
  ASSERT_TRUE(PutOne(*store, Version("t", "Patient", "p1", 2, PatientBody("p1"))).ok());

  EXPECT_EQ((*store->ReadCurrent("t", "Patient", "p1"))->body, PatientBody("p1"));
  EXPECT_EQ((*store->ReadVersion("t", "Patient", "p1", 1))->body, PatientBody("p1"));
  HistoryQuery h;
  h.tenant = "t";
  auto history = store->History(h);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->entries.size(), 2u);
  for (const auto& e : history->entries) EXPECT_EQ(e.body, PatientBody("p1"));
  SearchQuery q;
  q.tenant = "t";
  q.types = {"Patient"};
  auto page = store->Search(q);
  ASSERT_TRUE(page.ok()) << page.status().message();
  ASSERT_EQ(page->matches.size(), 1u);
  EXPECT_EQ(page->matches[0].body, PatientBody("p1"));
  int seen = 0;
  ASSERT_TRUE(store->ForEachCurrent([&](const std::string&, VersionRecord&& r) {
                     EXPECT_EQ(r.body, PatientBody("p1"));
                     ++seen;
                     return Status::Ok();
                   }).ok());
  EXPECT_EQ(seen, 1);
  IdempotencyRecord idem;
  idem.request_hash = "h";
  idem.status = 201;
  idem.body = PatientBody("p1");
  ASSERT_TRUE(store->Write([&](WriteTxn& txn) { return txn.PutIdempotency("t", "key-1", idem); }).ok());
  EXPECT_EQ((*store->GetIdempotency("t", "key-1"))->body, PatientBody("p1"));
  store.reset();

  RawDb raw(dir_.File("ehr.db"));
  const std::string stored = raw.Body("p1");
  EXPECT_TRUE(sqlite::BodyCipher::IsSealed(stored));
  EXPECT_EQ(sqlite::BodyCipher::KeyVersionOf(stored), 1u);
  // Neither the database nor its WAL holds the name in plain text.
  EXPECT_EQ(FileBytes(dir_.File("ehr.db")).find(kName), std::string::npos);
  EXPECT_EQ(FileBytes(dir_.File("ehr.db-wal")).find(kName), std::string::npos);
}

TEST_F(BodyCipherTest, ABodyMovedToAnotherRowDoesNotDecrypt) {
  auto store = OpenOrDie(Options(true));
  ASSERT_TRUE(PutOne(*store, Version("t", "Patient", "p1", 1, PatientBody("p1"))).ok());
  ASSERT_TRUE(PutOne(*store, Version("t", "Patient", "p2", 1, PatientBody("p2"))).ok());
  {
    RawDb raw(dir_.File("ehr.db"));
    raw.SetBody("p2", raw.Body("p1"));
  }
  auto moved = store->ReadCurrent("t", "Patient", "p2");
  EXPECT_EQ(moved.status().code(), Code::kInternal);
  EXPECT_EQ(moved.status().message().find(kName), std::string::npos);
  EXPECT_TRUE(store->ReadCurrent("t", "Patient", "p1").ok());
  // Another tenant's key does not open it either.
  ASSERT_TRUE(PutOne(*store, Version("u", "Patient", "p3", 1, PatientBody("p3"))).ok());
  {
    RawDb raw(dir_.File("ehr.db"));
    std::string foreign = raw.Body("p3");
    raw.SetBody("p1", foreign);
  }
  EXPECT_FALSE(store->ReadCurrent("t", "Patient", "p1").ok());
}

TEST_F(BodyCipherTest, WithoutEncryptionOnlySensitiveBodiesAreSealed) {
  auto store = OpenOrDie(Options(false));
  NewVersion sensitive = Version("t", "Patient", "p1", 1, PatientBody("p1"));
  sensitive.sensitive = true;
  ASSERT_TRUE(PutOne(*store, sensitive).ok());
  ASSERT_TRUE(PutOne(*store, Version("t", "Patient", "p2", 1, PatientBody("p2"))).ok());
  EXPECT_EQ((*store->ReadCurrent("t", "Patient", "p1"))->body, PatientBody("p1"));
  RawDb raw(dir_.File("ehr.db"));
  EXPECT_TRUE(sqlite::BodyCipher::IsSealed(raw.Body("p1")));
  EXPECT_EQ(raw.Body("p2"), PatientBody("p2"));
  EXPECT_EQ(Usage(*store), (std::map<uint32_t, int64_t>{{0, 1}, {1, 1}}));
}

TEST_F(BodyCipherTest, TurningEncryptionOnSealsOldBodiesInTheBackground) {
  {
    auto plain = OpenOrDie(Options(false));
    for (int i = 0; i < 20; ++i) {
      const std::string id = "p" + std::to_string(i);
      ASSERT_TRUE(PutOne(*plain, Version("t", "Patient", id, 1, PatientBody(id))).ok());
    }
  }
  auto store = OpenOrDie(Options(true));
  EXPECT_EQ(Usage(*store), (std::map<uint32_t, int64_t>{{0, 20}}));
  EXPECT_EQ((*store->ReadCurrent("t", "Patient", "p3"))->body, PatientBody("p3"));  // plain rows still read
  ReencryptAll(*store);
  EXPECT_EQ(Usage(*store), (std::map<uint32_t, int64_t>{{1, 20}}));
  EXPECT_EQ((*store->ReadCurrent("t", "Patient", "p3"))->body, PatientBody("p3"));
}

// A rotation moves the responses kept for idempotency keys too, which are kept for good.
TEST_F(BodyCipherTest, RotationReencryptsIdempotencyResponses) {
  auto store = OpenOrDie(Options(true));
  ASSERT_TRUE(PutOne(*store, Version("t", "Patient", "p1", 1, PatientBody("p1"))).ok());
  for (int i = 0; i < 10; ++i) {
    IdempotencyRecord r;
    r.request_hash = "h";
    r.status = 201;
    r.headers_json = "{}";
    r.body = PatientBody("k" + std::to_string(i));
    r.created = 1;
    ASSERT_TRUE(store->Write([&](WriteTxn& txn) { return txn.PutIdempotency("t", "key-" + std::to_string(i), r); }).ok());
  }
  auto versions = [&] {
    std::map<uint32_t, int> out;
    sqlite3* db = nullptr;
    sqlite3_open_v2(dir_.File("ehr.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "SELECT body FROM idempotency", -1, &st, nullptr);
    while (sqlite3_step(st) == SQLITE_ROW) {
      std::string body(static_cast<const char*>(sqlite3_column_blob(st, 0)), sqlite3_column_bytes(st, 0));
      out[sqlite::BodyCipher::KeyVersionOf(body)]++;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
  };
  EXPECT_EQ(versions(), (std::map<uint32_t, int>{{1, 10}}));
  ASSERT_TRUE(store->RotateDataKeys().ok());
  ReencryptAll(*store);  // steps of 7: the responses take two transactions
  EXPECT_EQ(versions(), (std::map<uint32_t, int>{{2, 10}}));
  auto kept = store->GetIdempotency("t", "key-3");
  ASSERT_TRUE(kept.ok() && kept->has_value());
  EXPECT_EQ((*kept)->body, PatientBody("k3"));
  // The next pass finds nothing changed and looks at nothing.
  auto again = store->Reencrypt(0, 7);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->done && again->unchanged);
}

TEST_F(BodyCipherTest, AKeyMadeInARolledBackWriteIsMadeAgain) {
  auto store = OpenOrDie(Options(true));
  Status failed = store->Write([](WriteTxn& txn) -> Status {
    EHR_RETURN_IF_ERROR(txn.Put(Version("t", "Patient", "gone", 1, PatientBody("gone"))));
    return Status::Conflict("the job fails after its Put");
  });
  EXPECT_EQ(failed.code(), Code::kConflict);
  ASSERT_TRUE(PutOne(*store, Version("t", "Patient", "p1", 1, PatientBody("p1"))).ok());
  store.reset();
  auto reopened = OpenOrDie(Options(true));  // a fresh cache: the key must come from the table
  EXPECT_EQ((*reopened->ReadCurrent("t", "Patient", "p1"))->body, PatientBody("p1"));
  EXPECT_FALSE((*reopened->ReadCurrent("t", "Patient", "gone")).has_value());
}

TEST_F(BodyCipherTest, RotationUnderLoadNeverFailsARead) {
  auto store = OpenOrDie(Options(true));
  for (int i = 0; i < 200; ++i) {
    const std::string id = "p" + std::to_string(i);
    ASSERT_TRUE(PutOne(*store, Version("t", "Patient", id, 1, PatientBody(id))).ok());
  }
  std::atomic<bool> stop{false};
  std::atomic<int64_t> reads{0}, failures{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&, r] {
      for (int i = r; !stop.load(); i = (i + 7) % 200) {
        const std::string id = "p" + std::to_string(i);
        auto got = store->ReadCurrent("t", "Patient", id);
        if (!got.ok() || !got->has_value() || (*got)->body != PatientBody(id)) ++failures;
        ++reads;
      }
    });
  }
  // A second opening of the file (as `ehr keys rotate` in another process) rotates the
  // key-encryption key and the data keys; the serving store sees the new version.
  {
    auto cli_ring = keys::Keyring::OpenOrCreate(dir_.File("keyring"));
    ASSERT_TRUE(cli_ring.ok());
    ASSERT_TRUE((*cli_ring)->Rotate().ok());
    SqliteOptions o = Options(true);
    o.kek = cli_ring->get();
    o.readers = 1;
    auto cli = OpenOrDie(o);
    EXPECT_EQ(*cli->RotateDataKeys(), 1);
  }
  ASSERT_TRUE(store->RefreshKeys().ok());
  ASSERT_TRUE(PutOne(*store, Version("t", "Patient", "new", 1, PatientBody("new"))).ok());
  EXPECT_EQ(Usage(*store), (std::map<uint32_t, int64_t>{{1, 200}, {2, 1}}));
  ReencryptAll(*store);
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(reads.load(), 100);
  EXPECT_EQ(Usage(*store), (std::map<uint32_t, int64_t>{{2, 201}}));
  RawDb raw(dir_.File("ehr.db"));
  EXPECT_EQ(sqlite::BodyCipher::KeyVersionOf(raw.Body("p5")), 2u);
}

TEST_F(BodyCipherTest, SecretsAreStableWrappedAndSized) {
  std::string first;
  {
    auto store = OpenOrDie(Options(true));
    auto made = store->Secret("cursor", 32);
    ASSERT_TRUE(made.ok()) << made.status().message();
    first = *made;
    EXPECT_EQ(first.size(), 32u);
    EXPECT_EQ(*store->Secret("cursor", 32), first);
    EXPECT_NE(*store->Secret("blind-index", 32), first);
    EXPECT_FALSE(store->Secret("cursor", 16).ok());
    EXPECT_EQ(**store->FindSecret("cursor"), first);
    EXPECT_FALSE(store->FindSecret("never-made")->has_value());
    EXPECT_FALSE(store->FindSecret("never-made")->has_value()) << "finding makes nothing";
    ASSERT_TRUE(kek_->Rotate().ok());
    EXPECT_EQ(*store->RotateDataKeys(), 0);  // no tenant yet; the secrets are rewrapped
  }
  {
    // Every secret is now wrapped by the new key-encryption key.
    sqlite3* db = nullptr;
    sqlite3_open_v2(dir_.File("ehr.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "SELECT group_concat(DISTINCT kek) FROM secret", -1, &st, nullptr);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "file:2");
    sqlite3_finalize(st);
    sqlite3_close(db);
  }
  auto reopened = OpenOrDie(Options(true));
  EXPECT_EQ(*reopened->Secret("cursor", 32), first);
  EXPECT_EQ(FileBytes(dir_.File("ehr.db")).find(first), std::string::npos);

  SqliteOptions no_keys = Options(true);
  no_keys.kek = nullptr;
  reopened.reset();
  auto keyless = OpenOrDie(no_keys);
  EXPECT_EQ(keyless->Secret("cursor", 32).status().code(), Code::kUnavailable);
}

TEST_F(BodyCipherTest, AuditDetailsAreSealedAndBoundToTheirEntry) {
  auto store = OpenOrDie(Options(false));  // sealed whenever the store has keys
  AuditAppend e;
  e.tenant = "t";
  e.recorded = 1;
  e.action = "R";
  e.agent = "u";
  e.patient = "p1";
  e.core = "core-0";
  e.detail = std::string("query=identifier=ssn|") + kName;
  ASSERT_TRUE(store->Write([&](WriteTxn& txn) { return txn.AppendAudit(e).status(); }).ok());
  e.core = "core-1";
  ASSERT_TRUE(store->Write([&](WriteTxn& txn) { return txn.AppendAudit(e).status(); }).ok());
  auto range = store->AuditRange(0, 2);
  ASSERT_TRUE(range.ok());
  ASSERT_EQ(range->size(), 2u);
  EXPECT_EQ(*(*range)[0].detail, e.detail);
  AuditQuery q;
  q.tenant = "t";
  auto found = store->AuditSearch(q);
  ASSERT_TRUE(found.ok()) << found.status().message();
  ASSERT_EQ(found->size(), 2u);
  EXPECT_EQ(*(*found)[1].detail, e.detail);
  store.reset();
  EXPECT_EQ(FileBytes(dir_.File("ehr.db")).find(kName), std::string::npos);
  EXPECT_EQ(FileBytes(dir_.File("ehr.db-wal")).find(kName), std::string::npos);

  // A detail moved to another entry does not decrypt: verification gets the stored bytes
  // (and so names the entry), a search fails.
  {
    RawDb raw(dir_.File("ehr.db"));
    sqlite3* db = nullptr;
    sqlite3_open(dir_.File("ehr.db").c_str(), &db);
    ASSERT_EQ(sqlite3_exec(db, "DROP TRIGGER audit_entry_no_update; "
                               "UPDATE audit_entry SET detail = (SELECT detail FROM audit_entry WHERE seq = 1) WHERE seq = 2",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  auto reopened = OpenOrDie(Options(false));
  auto moved = reopened->AuditRange(0, 2);
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(*(*moved)[0].detail, e.detail);
  EXPECT_NE(*(*moved)[1].detail, e.detail);
  EXPECT_FALSE(reopened->AuditSearch(q).ok());
}

}  // namespace
}  // namespace ehr::store
