// The PostgreSQL layer against a real server started for the test (tests/support/
// postgres_server.h): migrations, errors, and tenant isolation enforced by PostgreSQL
// itself: a session of the application role set to tenant A cannot read, change or add
// tenant B's rows, even with hand-written SQL that names B.
#include <gtest/gtest.h>

#include <climits>
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "store/postgres/pg.h"
#include "store/postgres/schema.h"
#include "store/postgres/text_words.h"
#include "support/postgres_server.h"

namespace ehr::store::pg {
namespace {

class PostgresTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new testing::PostgresServer(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    auto admin = Connection::Open(server_->ConnectionString());
    ASSERT_TRUE(admin.ok()) << admin.status().message();
    admin_ = std::move(*admin);
    // A fresh database per test, owned by the superuser; the server's role is not one.
    db_ = "t" + std::to_string(++count_);
    ASSERT_TRUE(admin_->Exec("CREATE DATABASE " + db_).ok());
    (void)admin_->Exec("CREATE ROLE ehr_app LOGIN PASSWORD 'app-secret-1'");
    auto owner = Connection::Open(server_->ConnectionString("postgres", db_));
    ASSERT_TRUE(owner.ok()) << owner.status().message();
    owner_ = std::move(*owner);
  }

  std::unique_ptr<Connection> App() {
    auto app = Connection::Open(server_->ConnectionString("ehr_app", db_, "app-secret-1"));
    EXPECT_TRUE(app.ok()) << app.status().message();
    return app.ok() ? std::move(*app) : nullptr;
  }

  static Status Insert(Connection& c, const std::string& tenant, const std::string& id) {
    return c.Query("INSERT INTO resource_version (tenant, type, id, version, last_updated, deleted, method, body, "
                   "is_current) VALUES ($1, 'Patient', $2, 1, 0, false, 'POST', 'x', true)",
                   {tenant, id})
        .status();
  }

  static testing::PostgresServer* server_;
  static int count_;
  std::unique_ptr<Connection> admin_, owner_;
  std::string db_;
};

testing::PostgresServer* PostgresTest::server_ = nullptr;
int PostgresTest::count_ = 0;

// Migrations 6 and 8 keep the words written before them: text_word's words become the
// numbers the writer now computes (text_words.h WordHash), then move into their version's
// text_index row. They stay the tenant's, in the table and through text_matches, the
// function that reads the table's GIN index past row-level security.
TEST_F(PostgresTest, MigrationsKeepTheWordsWrittenBefore) {
  ASSERT_TRUE(Migrate(*owner_, "ehr_app", 5).ok());
  auto app = App();
  ASSERT_TRUE(app);
  const std::vector<std::tuple<std::string, std::string, char, std::string, std::string>> rows = {
      {"a", "Patient", 'n', "heart", "7"}, {"a", "Observation", 'c', "h\xc3\xa9morragie", "8"}, {"b", "Patient", 'c', "8867", "9"}};
  std::string every = "{";
  for (const auto& [tenant, type, field, word, seq] : rows) {
    every += (every.size() > 1 ? "," : "") + std::to_string(WordHash(type, field, word));
    ASSERT_TRUE(app->Exec("BEGIN").ok());
    ASSERT_TRUE(app->Query("SELECT set_config('ehr.tenant', $1, true)", {tenant}).ok());
    ASSERT_TRUE(app->Query("INSERT INTO text_index (tenant, type, seq) VALUES ($1, $2, $3::bigint)", {tenant, type, seq}).ok());
    ASSERT_TRUE(app->Query("INSERT INTO text_word (tenant, type, field, word, seq) VALUES ($1, $2, $3::\"char\", $4, "
                           "$5::bigint)",
                           {tenant, type, std::string(1, field), word, seq})
                    .ok());
    ASSERT_TRUE(app->Exec("COMMIT").ok());
  }
  every += "}";
  ASSERT_TRUE(Migrate(*owner_, "ehr_app").ok());
  for (const auto& [tenant, type, field, word, seq] : rows) {
    ASSERT_TRUE(app->Exec("BEGIN").ok());
    ASSERT_TRUE(app->Query("SELECT set_config('ehr.tenant', $1, true)", {tenant}).ok());
    auto found = app->Query("SELECT count(*) FILTER (WHERE $1::bigint = ANY(words) AND seq = $2::bigint), count(*) "
                            "FROM text_index",
                            {std::to_string(WordHash(type, field, word)), seq});
    ASSERT_TRUE(found.ok()) << found.status().message();
    EXPECT_EQ(found->Int(0, 0), 1) << word;
    EXPECT_EQ(found->Int(0, 1), tenant == "a" ? 2 : 1) << "row-level security holds after the migration: " << tenant;
    auto matched = app->Query("SELECT count(*) FROM text_matches($1::bigint[], NULL)", {every});
    ASSERT_TRUE(matched.ok()) << matched.status().message();
    EXPECT_EQ(matched->Int(0, 0), tenant == "a" ? 2 : 1) << "text_matches finds the session tenant's only: " << tenant;
    ASSERT_TRUE(app->Exec("COMMIT").ok());
  }
  auto none = app->Query("SELECT count(*) FROM text_matches($1::bigint[], NULL)", {every});
  ASSERT_TRUE(none.ok()) << none.status().message();
  EXPECT_EQ(none->Int(0, 0), 0) << "no tenant set, no words";
  EXPECT_FALSE(app->Query("SELECT count(*) FROM text_word").ok()) << "text_word is gone";
}

TEST_F(PostgresTest, MigratesOnceAndRefusesANewerSchema) {
  auto first = Migrate(*owner_, "ehr_app");
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(*first, 0);
  auto second = Migrate(*owner_, "ehr_app");
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_EQ(*second, kSchemaVersion);
  auto versions = owner_->Query("SELECT count(*) FROM schema_version");
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(versions->Int(0, 0), kSchemaVersion);
  ASSERT_TRUE(owner_->Exec("INSERT INTO schema_version VALUES (99)").ok());
  auto newer = Migrate(*owner_, "ehr_app");
  ASSERT_FALSE(newer.ok());
  EXPECT_NE(newer.status().message().find("newer than this ehr"), std::string::npos);
  EXPECT_FALSE(Migrate(*owner_, "ehr_app; DROP TABLE x").ok()) << "a role name is never spliced in as given";
}

TEST_F(PostgresTest, ATenantsSessionCannotReachAnotherTenantsRowsEvenByHand) {
  ASSERT_TRUE(Migrate(*owner_, "ehr_app").ok());
  auto app = App();
  ASSERT_NE(app, nullptr);
  // Tenant B's rows, written in B's own transaction.
  ASSERT_TRUE(app->Exec("BEGIN").ok());
  ASSERT_TRUE(SetTenant(*app, "b").ok());
  ASSERT_TRUE(Insert(*app, "b", "pb1").ok());
  ASSERT_TRUE(app->Exec("COMMIT").ok());

  ASSERT_TRUE(app->Exec("BEGIN").ok());
  ASSERT_TRUE(SetTenant(*app, "a").ok());
  ASSERT_TRUE(Insert(*app, "a", "pa1").ok());
  // Reading B by name: nothing.
  auto read = app->Query("SELECT count(*) FROM resource_version WHERE tenant = 'b'");
  ASSERT_TRUE(read.ok()) << read.status().message();
  EXPECT_EQ(read->Int(0, 0), 0);
  auto all = app->Query("SELECT tenant FROM resource_version");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1);
  EXPECT_EQ(all->Text(0, 0), "a");
  // Changing or deleting B's rows: nothing changes.
  auto updated = app->Query("UPDATE resource_version SET body = 'stolen' WHERE tenant = 'b' RETURNING id");
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(updated->size(), 0);
  auto deleted = app->Query("DELETE FROM resource_version WHERE tenant = 'b' RETURNING id");
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->size(), 0);
  // Moving one's own row to B, or adding one to B: refused by PostgreSQL.
  EXPECT_EQ(app->Query("UPDATE resource_version SET tenant = 'b' WHERE id = 'pa1'").status().code(), Code::kForbidden);
  ASSERT_TRUE(app->Exec("ROLLBACK").ok());
  ASSERT_TRUE(app->Exec("BEGIN").ok());
  ASSERT_TRUE(SetTenant(*app, "a").ok());
  Status smuggled = Insert(*app, "b", "pb2");
  EXPECT_EQ(smuggled.code(), Code::kForbidden) << smuggled.message();
  EXPECT_NE(smuggled.message().find("row-level security"), std::string::npos) << smuggled.message();
  ASSERT_TRUE(app->Exec("ROLLBACK").ok());

  // Without a tenant (it lapses with its transaction): no row at all, and no write.
  auto none = app->Query("SELECT count(*) FROM resource_version");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->Int(0, 0), 0);
  EXPECT_EQ(Insert(*app, "a", "pa2").code(), Code::kForbidden);
  // Nor can the role turn the policy off.
  EXPECT_EQ(app->Exec("ALTER TABLE resource_version DISABLE ROW LEVEL SECURITY").code(), Code::kForbidden);
  // row_security off makes a query that a policy would filter fail: it never sees more.
  ASSERT_TRUE(app->Exec("SET row_security = off").ok());
  auto bypass = app->Query("SELECT count(*) FROM resource_version WHERE tenant = 'b'");
  EXPECT_FALSE(bypass.ok());
  EXPECT_EQ(bypass.status().code(), Code::kForbidden) << bypass.status().message();
  ASSERT_TRUE(app->Exec("RESET row_security").ok());

  // B's row is intact, as its owner sees it.
  auto intact = owner_->Query("SELECT body FROM resource_version WHERE tenant = 'b'");
  ASSERT_TRUE(intact.ok());
  ASSERT_EQ(intact->size(), 1);
  EXPECT_EQ(intact->Text(0, 0), "\\x78");  // bytea 'x', unchanged
}

TEST_F(PostgresTest, ErrorsAreMappedAndAnUnreachableServerIsUnavailable) {
  ASSERT_TRUE(Migrate(*owner_, "ehr_app").ok());
  auto app = App();
  ASSERT_NE(app, nullptr);
  ASSERT_TRUE(app->Exec("BEGIN").ok());
  ASSERT_TRUE(SetTenant(*app, "a").ok());
  ASSERT_TRUE(Insert(*app, "a", "p1").ok());
  Status again = Insert(*app, "a", "p1");
  EXPECT_EQ(again.code(), Code::kConflict) << again.message();
  ASSERT_TRUE(app->Exec("ROLLBACK").ok());
  EXPECT_EQ(app->Exec("SELEKT 1").code(), Code::kInvalid);
  EXPECT_EQ(SetTenant(*app, "").code(), Code::kInvalid);
  auto wrong = Connection::Open(server_->ConnectionString("ehr_app", db_, "not-the-password"));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), Code::kUnavailable);
  EXPECT_EQ(wrong.status().message().find("not-the-password"), std::string::npos);
  auto nowhere = Connection::Open("host=127.0.0.1 port=1 user=x dbname=x connect_timeout=2");
  EXPECT_EQ(nowhere.status().code(), Code::kUnavailable);
  // libpq would quote the malformed part, here the password.
  for (const char* bad : {"postgresql://u:p%zzsecret@127.0.0.1/x", "host=127.0.0.1 password='secret"}) {
    auto malformed = Connection::Open(bad);
    ASSERT_FALSE(malformed.ok()) << bad;
    EXPECT_EQ(malformed.status().code(), Code::kInvalid) << malformed.status().message();
    EXPECT_EQ(malformed.status().message().find("secret"), std::string::npos) << malformed.status().message();
  }
}

// Pipelining (Connection::Send): sent statements run in order before the next Run, in its
// round trip; one that fails fails that Run (whose own statement then does not run), a
// statement first prepared in a failed pipeline is prepared again, and Exec still runs
// its statements (the writer's ROLLBACK) after a failure.
TEST_F(PostgresTest, SentStatementsRunBeforeTheNextAndReportTheirFailures) {
  ASSERT_TRUE(owner_->Exec("CREATE TABLE p (n integer PRIMARY KEY)").ok());
  ASSERT_TRUE(owner_->Exec("BEGIN").ok());
  ASSERT_TRUE(owner_->Send("INSERT INTO p VALUES ($1::integer)", {"1"}).ok());
  ASSERT_TRUE(owner_->Send("INSERT INTO p VALUES ($1::integer)", {"2"}).ok());
  auto seen = owner_->Run("SELECT count(*) FROM p");
  ASSERT_TRUE(seen.ok()) << seen.status().message();
  EXPECT_EQ(seen->Int(0, 0), 2);
  EXPECT_TRUE(owner_->Sync().ok()) << "nothing sent: nothing to wait for";

  ASSERT_TRUE(owner_->Exec("SAVEPOINT s").ok());
  ASSERT_TRUE(owner_->Send("INSERT INTO p VALUES ($1::integer)", {"1"}).ok());  // a duplicate
  ASSERT_TRUE(owner_->Send("INSERT INTO p VALUES ($1::integer)", {"3"}).ok());
  auto failed = owner_->Run("UPDATE p SET n = n + 100 RETURNING n");
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), Code::kConflict) << failed.status().message();
  EXPECT_TRUE(owner_->failed_transaction());
  ASSERT_TRUE(owner_->Exec("ROLLBACK TO SAVEPOINT s").ok());
  auto after = owner_->Run("SELECT count(*), max(n) FROM p");
  ASSERT_TRUE(after.ok()) << after.status().message();
  EXPECT_EQ(after->Int(0, 0), 2) << "nothing of the failed pipeline stayed";
  EXPECT_EQ(after->Int(0, 1), 2);

  // A statement prepared in the failed pipeline: it works when sent again.
  ASSERT_TRUE(owner_->Send("INSERT INTO p VALUES ($1::integer)", {"2"}).ok());  // a duplicate
  ASSERT_TRUE(owner_->Send("INSERT INTO p SELECT $1::integer + 10", {"4"}).ok());
  EXPECT_EQ(owner_->Sync().code(), Code::kConflict);
  ASSERT_TRUE(owner_->Exec("ROLLBACK TO SAVEPOINT s").ok());
  // Exec runs its statement whatever a sent one did, and reports the sent one's failure.
  ASSERT_TRUE(owner_->Send("INSERT INTO p VALUES ($1::integer)", {"2"}).ok());
  EXPECT_EQ(owner_->Exec("ROLLBACK TO SAVEPOINT s").code(), Code::kConflict);
  EXPECT_FALSE(owner_->failed_transaction()) << "the rollback ran";
  ASSERT_TRUE(owner_->Send("INSERT INTO p SELECT $1::integer + 10", {"5"}).ok());
  ASSERT_TRUE(owner_->Exec("COMMIT").ok());
  auto committed = owner_->Query("SELECT string_agg(n::text, ',' ORDER BY n) FROM p");
  ASSERT_TRUE(committed.ok());
  EXPECT_EQ(committed->String(0, 0), "1,2,15");
}

TEST_F(PostgresTest, SentStatementsHandTheirRowsOverInOrder) {
  ASSERT_TRUE(owner_->Exec("CREATE TABLE q (n integer PRIMARY KEY)").ok());
  std::vector<int64_t> seen;
  auto keep = [&seen](const Rows& r) {
    seen.push_back(r.Int(0, 0));
    return Status::Ok();
  };
  const std::string insert = "INSERT INTO q VALUES ($1::integer) RETURNING n * 10";
  ASSERT_TRUE(owner_->Send(insert, {"1"}, keep).ok());
  ASSERT_TRUE(owner_->Send(insert, {"2"}, keep).ok());
  EXPECT_TRUE(seen.empty()) << "nothing has come back yet";
  auto count = owner_->Run("SELECT count(*) FROM q");
  ASSERT_TRUE(count.ok()) << count.status().message();
  EXPECT_EQ(count->Int(0, 0), 2);
  EXPECT_EQ(seen, (std::vector<int64_t>{10, 20}));

  // A handler's error is the next Run's (or Sync's), though the server saw none: the
  // statements after it ran.
  ASSERT_TRUE(owner_->Send(insert, {"3"}, [](const Rows&) { return Status::Conflict("refused by the handler"); }).ok());
  ASSERT_TRUE(owner_->Send(insert, {"4"}, keep).ok());
  auto refused = owner_->Run("SELECT count(*) FROM q");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().message(), "refused by the handler");
  EXPECT_FALSE(owner_->failed_transaction());
  EXPECT_EQ(seen, (std::vector<int64_t>{10, 20, 40}));
  ASSERT_TRUE(owner_->Send(insert, {"5"}, [](const Rows&) { return Status::Invalid("again"); }).ok());
  EXPECT_EQ(owner_->Sync().message(), "again");
  auto all = owner_->Query("SELECT count(*) FROM q");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->Int(0, 0), 5);

  // A failed statement's handler is not called; it fails the pipeline as before.
  bool called = false;
  ASSERT_TRUE(owner_->Send(insert, {"1"}, [&called](const Rows&) {
                      called = true;
                      return Status::Ok();
                    })
                  .ok());
  EXPECT_EQ(owner_->Sync().code(), Code::kConflict);
  EXPECT_FALSE(called);
}

TEST_F(PostgresTest, BinaryArraysArriveAsTheyWereBuilt) {
  BinaryArray text(BinaryArray::Of::kText), ints(BinaryArray::Of::kBigint), reals(BinaryArray::Of::kFloat8),
      none(BinaryArray::Of::kText);
  for (std::string_view v : {std::string_view("plain"), std::string_view(""), std::string_view("quote \" and \\ , {}"),
                             std::string_view("Zoë Þór 日本"), std::string_view("nul\0inside", 10)}) {
    text.Add(v);
  }
  for (int64_t v : {int64_t{0}, int64_t{-1}, int64_t{1} << 40, INT64_MIN, INT64_MAX}) ints.Add(v);
  for (double v : {0.0, -2.5, 1e300, 4.9e-324}) reals.Add(v);
  auto rows = owner_->Run(
      "SELECT array_to_json($1::text[])::text, $2::bigint[]::text, $3::float8[] = ARRAY[0, -2.5, 1e300, 4.9e-324]::float8[], "
      "cardinality($4::text[]), ($2::bigint[])[2:1] = '{}'",
      {text.Build(), ints.Build(), reals.Build(), none.Build()});
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  EXPECT_EQ(rows->String(0, 0), R"(["plain","","quote \" and \\ , {}","Zoë Þór 日本","nulinside"])")
      << "NUL left out, as in ArrayLiteral";
  EXPECT_EQ(rows->String(0, 1), "{0,-1,1099511627776,-9223372036854775808,9223372036854775807}");
  EXPECT_TRUE(rows->Bool(0, 2));
  EXPECT_EQ(rows->Int(0, 3), 0);
  EXPECT_TRUE(rows->Bool(0, 4)) << "an empty slice is an empty array";
}

}  // namespace
}  // namespace ehr::store::pg
