// Envelope encryption of bodies on every store backend (SQLite, PostgreSQL): sealed at
// rest, plain through every read path, bound to their row, rotated and re-encrypted while
// reads go on.
#include "store/body_cipher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "keys/keyring.h"
#include "store/sqlite/test_util.h"
#include "support/store_backends.h"

namespace ehr::store {
namespace {

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

// An audit entry of tenant "t" about patient p1.
AuditAppend AuditEntry(std::string core, std::string detail) {
  AuditAppend e;
  e.tenant = "t";
  e.recorded = 1;
  e.action = "R";
  e.agent = "u";
  e.patient = "p1";
  e.core = std::move(core);
  e.detail = std::move(detail);
  return e;
}

class BodyCipherTest : public ::testing::TestWithParam<std::string> {
 protected:
  BodyCipherTest() : backend_(ehr::testing::MakeStoreBackend(GetParam())) {}
  void SetUp() override {
    auto ring = keys::Keyring::OpenOrCreate(dir_.File("keyring"));
    ASSERT_TRUE(ring.ok()) << ring.status().message();
    kek_ = std::move(*ring);
  }
  std::unique_ptr<Store> Open(bool all, keys::KeyEncryptionKeys* kek = nullptr, int readers = 4) {
    return backend_->OpenWithKeys(kek != nullptr ? kek : kek_.get(), all, readers);
  }
  bool sqlite() const { return GetParam() == "sqlite"; }
  // The body of a version as stored, read by whoever holds the database.
  std::string Stored(const std::string& id, int version = 1) {
    auto rows = backend_->RawColumn("SELECT body FROM resource_version WHERE id = '" + id +
                                    "' AND version = " + std::to_string(version));
    EXPECT_TRUE(rows.ok() && rows->size() == 1) << id;
    return rows.ok() && rows->size() == 1 ? rows->front() : std::string();
  }
  // Moves the stored body of `from` to the row of `to`.
  void MoveBody(const std::string& from, const std::string& to) {
    ASSERT_TRUE(backend_->RawExec("UPDATE resource_version SET body = (SELECT body FROM resource_version WHERE id = '" +
                                  from + "') WHERE id = '" + to + "'")
                    .ok());
  }
  // Nothing the database holds shows `text` in plain: the SQLite file and its WAL, or
  // PostgreSQL's rows.
  void ExpectNowhere(const std::string& text) {
    if (sqlite()) {
      auto files = backend_->RawColumn("SELECT file FROM pragma_database_list WHERE name = 'main'");
      ASSERT_TRUE(files.ok() && files->size() == 1);
      EXPECT_EQ(FileBytes(files->front()).find(text), std::string::npos);
      EXPECT_EQ(FileBytes(files->front() + "-wal").find(text), std::string::npos);
      return;
    }
    for (const char* sql : {"SELECT body FROM resource_version WHERE body IS NOT NULL", "SELECT body FROM idempotency",
                            "SELECT detail FROM audit_entry WHERE detail IS NOT NULL", "SELECT wrapped FROM secret"}) {
      auto rows = backend_->RawColumn(sql);
      ASSERT_TRUE(rows.ok()) << rows.status().message();
      for (const std::string& row : *rows) EXPECT_EQ(row.find(text), std::string::npos) << sql;
    }
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

  std::unique_ptr<ehr::testing::StoreBackend> backend_;
  TempDir dir_;
  std::unique_ptr<keys::Keyring> kek_;
};

TEST_P(BodyCipherTest, SealedAtRestPlainOnEveryReadPath) {
  auto store = Open(true);
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

  const std::string stored = Stored("p1");
  EXPECT_TRUE(BodyCipher::IsSealed(stored));
  EXPECT_EQ(BodyCipher::KeyVersionOf(stored), 1u);
  // Nothing in the database holds the name in plain text.
  ExpectNowhere(kName);
}

TEST_P(BodyCipherTest, ABodyMovedToAnotherRowDoesNotDecrypt) {
  auto store = Open(true);
  ASSERT_TRUE(PutOne(*store, Version("t", "Patient", "p1", 1, PatientBody("p1"))).ok());
  ASSERT_TRUE(PutOne(*store, Version("t", "Patient", "p2", 1, PatientBody("p2"))).ok());
  MoveBody("p1", "p2");
  auto moved = store->ReadCurrent("t", "Patient", "p2");
  EXPECT_EQ(moved.status().code(), Code::kInternal);
  EXPECT_EQ(moved.status().message().find(kName), std::string::npos);
  EXPECT_TRUE(store->ReadCurrent("t", "Patient", "p1").ok());
  // Another tenant's key does not open it either.
  ASSERT_TRUE(PutOne(*store, Version("u", "Patient", "p3", 1, PatientBody("p3"))).ok());
  MoveBody("p3", "p1");
  EXPECT_FALSE(store->ReadCurrent("t", "Patient", "p1").ok());
}

TEST_P(BodyCipherTest, WithoutEncryptionOnlySensitiveBodiesAreSealed) {
  auto store = Open(false);
  NewVersion sensitive = Version("t", "Patient", "p1", 1, PatientBody("p1"));
  sensitive.sensitive = true;
  ASSERT_TRUE(PutOne(*store, sensitive).ok());
  ASSERT_TRUE(PutOne(*store, Version("t", "Patient", "p2", 1, PatientBody("p2"))).ok());
  EXPECT_EQ((*store->ReadCurrent("t", "Patient", "p1"))->body, PatientBody("p1"));
  EXPECT_TRUE(BodyCipher::IsSealed(Stored("p1")));
  EXPECT_EQ(Stored("p2"), PatientBody("p2"));
  EXPECT_EQ(Usage(*store), (std::map<uint32_t, int64_t>{{0, 1}, {1, 1}}));
}

TEST_P(BodyCipherTest, TurningEncryptionOnSealsOldBodiesInTheBackground) {
  {
    auto plain = Open(false);
    for (int i = 0; i < 20; ++i) {
      const std::string id = "p" + std::to_string(i);
      ASSERT_TRUE(PutOne(*plain, Version("t", "Patient", id, 1, PatientBody(id))).ok());
    }
  }
  auto store = Open(true);
  EXPECT_EQ(Usage(*store), (std::map<uint32_t, int64_t>{{0, 20}}));
  EXPECT_EQ((*store->ReadCurrent("t", "Patient", "p3"))->body, PatientBody("p3"));  // plain rows still read
  ReencryptAll(*store);
  EXPECT_EQ(Usage(*store), (std::map<uint32_t, int64_t>{{1, 20}}));
  EXPECT_EQ((*store->ReadCurrent("t", "Patient", "p3"))->body, PatientBody("p3"));
}

// A rotation moves the responses kept for idempotency keys too, which are kept for good.
TEST_P(BodyCipherTest, RotationReencryptsIdempotencyResponses) {
  auto store = Open(true);
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
    auto bodies = backend_->RawColumn("SELECT body FROM idempotency");
    EXPECT_TRUE(bodies.ok());
    if (bodies.ok()) {
      for (const std::string& body : *bodies) out[BodyCipher::KeyVersionOf(body)]++;
    }
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

TEST_P(BodyCipherTest, AKeyMadeInARolledBackWriteIsMadeAgain) {
  auto store = Open(true);
  Status failed = store->Write([](WriteTxn& txn) -> Status {
    EHR_RETURN_IF_ERROR(txn.Put(Version("t", "Patient", "gone", 1, PatientBody("gone"))));
    return Status::Conflict("the job fails after its Put");
  });
  EXPECT_EQ(failed.code(), Code::kConflict);
  ASSERT_TRUE(PutOne(*store, Version("t", "Patient", "p1", 1, PatientBody("p1"))).ok());
  store.reset();
  auto reopened = Open(true);  // a fresh cache: the key must come from the table
  EXPECT_EQ((*reopened->ReadCurrent("t", "Patient", "p1"))->body, PatientBody("p1"));
  EXPECT_FALSE((*reopened->ReadCurrent("t", "Patient", "gone")).has_value());
}

TEST_P(BodyCipherTest, RotationUnderLoadNeverFailsARead) {
  auto store = Open(true);
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
  // A second opening of the database (as `ehr keys rotate` in another process) rotates the
  // key-encryption key and the data keys; the serving store sees the new version.
  {
    auto cli_ring = keys::Keyring::OpenOrCreate(dir_.File("keyring"));
    ASSERT_TRUE(cli_ring.ok());
    ASSERT_TRUE((*cli_ring)->Rotate().ok());
    auto cli = Open(true, cli_ring->get(), 1);
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
  EXPECT_EQ(BodyCipher::KeyVersionOf(Stored("p5")), 2u);
}

TEST_P(BodyCipherTest, SecretsAreStableWrappedAndSized) {
  std::string first;
  {
    auto store = Open(true);
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
  // Every secret is now wrapped by the new key-encryption key.
  auto keks = backend_->RawColumn("SELECT DISTINCT kek FROM secret");
  ASSERT_TRUE(keks.ok());
  EXPECT_EQ(*keks, std::vector<std::string>{"file:2"});
  auto reopened = Open(true);
  EXPECT_EQ(*reopened->Secret("cursor", 32), first);
  ExpectNowhere(first);

  reopened.reset();
  auto keyless = backend_->OpenWithKeys(nullptr, true);
  EXPECT_EQ(keyless->Secret("cursor", 32).status().code(), Code::kUnavailable);
}

// Retirement deletes a data key version once nothing is sealed with it (bodies and
// responses re-encrypted, audit details archived or erased) and its successor is old
// enough; never the current one; reads go on; usage counts every kind of sealed value.
TEST_P(BodyCipherTest, RetirementDeletesOnlyVersionsNothingIsSealedWith) {
  auto store = Open(true);
  ASSERT_TRUE(PutOne(*store, Version("t", "Patient", "p1", 1, PatientBody("p1"))).ok());
  IdempotencyRecord response;
  response.request_hash = "h";
  response.status = 201;
  response.headers_json = "{}";
  response.body = PatientBody("p1");
  response.created = 1;
  ASSERT_TRUE(store->Write([&](WriteTxn& txn) { return txn.PutIdempotency("t", "key-1", response); }).ok());
  AuditAppend e = AuditEntry("core-0", "patient=p1");
  ASSERT_TRUE(store->Write([&](WriteTxn& txn) { return txn.AppendAudit(e).status(); }).ok());
  auto usage = store->KeyUsage();
  ASSERT_TRUE(usage.ok());
  ASSERT_EQ(usage->size(), 1u);
  EXPECT_EQ((*usage)[0].key_version, 1u);
  EXPECT_EQ((*usage)[0].bodies, 1);
  EXPECT_EQ((*usage)[0].responses, 1);
  EXPECT_EQ((*usage)[0].audit_details, 1);

  auto decided = [&](Micros superseded_before) {
    std::map<uint32_t, std::string> out;  // version -> "retired" or why kept
    auto r = store->RetireDataKeys(superseded_before);
    EXPECT_TRUE(r.ok()) << r.status().message();
    if (!r.ok()) return out;
    for (const DataKeyRetirement& k : *r) {
      if (k.tenant == "t") out[k.version] = k.retired ? "retired" : k.kept_because;
    }
    return out;
  };
  const Micros later = Clock::System().Now() + 3'600'000'000;  // as if the rotation were an hour old
  EXPECT_EQ(decided(later), (std::map<uint32_t, std::string>{{1, "the current version"}}));
  ASSERT_TRUE(store->RotateDataKeys().ok());
  EXPECT_EQ(decided(0)[1], "its successor is recent (servers may still seal with it)");
  EXPECT_EQ(decided(later)[1], "it seals 1 bodies, 1 idempotency responses, 1 audit details");
  ReencryptAll(*store);
  EXPECT_EQ(decided(later)[1], "it seals 0 bodies, 0 idempotency responses, 1 audit details")
      << "an audit entry's detail keeps its key until archived or erased: the log is append-only";
  auto erased = store->EraseAuditDetail("t", "p1");
  ASSERT_TRUE(erased.ok()) << erased.status().message();
  EXPECT_EQ(decided(later), (std::map<uint32_t, std::string>{{1, "retired"}, {2, "the current version"}}));
  EXPECT_EQ(decided(later), (std::map<uint32_t, std::string>{{2, "the current version"}})) << "gone";
  EXPECT_EQ(*backend_->RawColumn("SELECT CAST(version AS TEXT) FROM data_key WHERE tenant = 't'"), std::vector<std::string>{"2"});
  EXPECT_EQ((*store->ReadCurrent("t", "Patient", "p1"))->body, PatientBody("p1"));
  EXPECT_EQ((*store->GetIdempotency("t", "key-1"))->body, PatientBody("p1"));
  auto reopened = Open(true);
  EXPECT_EQ((*reopened->ReadCurrent("t", "Patient", "p1"))->body, PatientBody("p1")) << "after a restart too";
  EXPECT_EQ(*reopened->KekIdsInUse(), std::vector<std::string>{"file:1"});
}

TEST_P(BodyCipherTest, AuditDetailsAreSealedAndBoundToTheirEntry) {
  auto store = Open(false);  // sealed whenever the store has keys
  AuditAppend e = AuditEntry("core-0", std::string("query=identifier=ssn|") + kName);
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
  ExpectNowhere(kName);

  // A detail moved to another entry does not decrypt: verification gets the stored bytes
  // (and so names the entry), a search fails. (Its guard taken away first, by whoever holds
  // the database.)
  ASSERT_TRUE(backend_->RawExec(std::string(sqlite() ? "DROP TRIGGER audit_entry_no_update"
                                                     : "DROP TRIGGER audit_entry_guard ON audit_entry") +
                                "; UPDATE audit_entry SET detail = (SELECT detail FROM audit_entry WHERE seq = 1) "
                                "WHERE seq = 2")
                  .ok());
  auto reopened = Open(false);
  auto moved = reopened->AuditRange(0, 2);
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(*(*moved)[0].detail, e.detail);
  EXPECT_NE(*(*moved)[1].detail, e.detail);
  EXPECT_FALSE(reopened->AuditSearch(q).ok());
}

INSTANTIATE_TEST_SUITE_P(Backends, BodyCipherTest, ::testing::ValuesIn(ehr::testing::StoreBackendNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace ehr::store
