// Search latency and throughput against a running server (bench/search/run.sh starts it on
// a replicated Synthea population), each figure next to a baseline measured in the same run:
//   - p50/p95/p99 of Patient?name, Patient?identifier, Observation?patient&code&date,
//     Patient/{id}/$everything (a patient with about 1,000 resources), against read by id;
//   - Observation?category&_summary=count: resources counted per second, against the same
//     count in hand-written SQL on the same database file;
//   - a chained search and an _include search of 1,000 results, against hand-written SQL
//     that returns the same resources (bodies included).
// One client, one keep-alive connection, requests one after another: latency, not load.
//
//   search_bench HOST:PORT DATABASE [REQUESTS]
//
// DATABASE: the server's SQLite file, or a PostgreSQL connection string (postgresql://...,
// a role that reads every tenant's rows) when the server runs on PostgreSQL; the
// hand-written SQL is each schema's own.
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "fhir/json/value.h"
#include "store/postgres/pg.h"
#include "support/http_client.h"

namespace ehr::bench {
namespace {

using testing::HttpClient;
using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

json::Value Json(const std::string& text) {
  Result<json::Value> v = json::Parse(text);
  if (!v.ok()) throw std::runtime_error("bad JSON from the server: " + text.substr(0, 200));
  return std::move(*v);
}

std::string Encode(std::string_view s) { return testing::UrlEncode(s); }

struct Stats {
  double p50 = 0, p95 = 0, p99 = 0, mean = 0;
};

Stats Of(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) { return ms[std::min(ms.size() - 1, static_cast<size_t>(q * static_cast<double>(ms.size())))]; };
  Stats s{at(0.50), at(0.95), at(0.99), 0};
  for (double m : ms) s.mean += m;
  s.mean /= static_cast<double>(ms.size());
  return s;
}

// The database under the server, read directly for the baselines.
class Database {
 public:
  virtual ~Database() = default;
  virtual bool postgres() const = 0;
  // Runs `sql` once (reading every value of every row); its rows.
  virtual int64_t Step(const std::string& sql) = 0;
  virtual int64_t Int(const std::string& sql) = 0;
};

class SqliteDatabase final : public Database {
 public:
  explicit SqliteDatabase(const std::string& file) {
    if (sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      throw std::runtime_error("cannot open " + file);
    }
  }
  ~SqliteDatabase() override { sqlite3_close(db_); }
  bool postgres() const override { return false; }
  int64_t Step(const std::string& sql) override {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) {
      throw std::runtime_error(std::string("SQL: ") + sqlite3_errmsg(db_) + "\n" + sql);
    }
    int64_t rows = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
      ++rows;
      for (int c = 0; c < sqlite3_column_count(s); ++c) (void)sqlite3_column_blob(s, c);  // read every value
    }
    sqlite3_finalize(s);
    return rows;
  }
  int64_t Int(const std::string& sql) override {
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr);
    int64_t v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_finalize(s);
    return v;
  }

 private:
  sqlite3* db_ = nullptr;
};

class PostgresDatabase final : public Database {
 public:
  explicit PostgresDatabase(const std::string& conninfo) {
    auto c = store::pg::Connection::Open(conninfo);
    if (!c.ok()) throw std::runtime_error(std::string(c.status().message()));
    c_ = std::move(*c);
  }
  bool postgres() const override { return true; }
  int64_t Step(const std::string& sql) override {  // libpq reads the whole result
    auto rows = c_->Query(sql);
    if (!rows.ok()) throw std::runtime_error("SQL: " + std::string(rows.status().message()) + "\n" + sql);
    return rows->size();
  }
  int64_t Int(const std::string& sql) override {
    auto rows = c_->Query(sql);
    if (!rows.ok() || rows->size() == 0) throw std::runtime_error("SQL: " + sql);
    return rows->Int(0, 0);
  }

 private:
  std::unique_ptr<store::pg::Connection> c_;
};

class Bench {
 public:
  Bench(const std::string& host, uint16_t port, const std::string& db, int requests)
      : http_(host, port), requests_(requests) {
    if (db.starts_with("postgres")) {
      db_ = std::make_unique<PostgresDatabase>(db);
    } else {
      db_ = std::make_unique<SqliteDatabase>(db);
    }
  }

  // GET target, 200 expected; the parsed body.
  json::Value Get(const std::string& target) {
    testing::HttpResult r = http_.Get(target);
    if (r.status != 200) throw std::runtime_error(target + ": HTTP " + std::to_string(r.status) + " " + r.body.substr(0, 300));
    return Json(r.body);
  }

  // `requests_` requests, one target each from `target(i)`; latencies in ms.
  Stats Time(const std::function<std::string(int)>& target) {
    for (int i = 0; i < 5; ++i) Get(target(i));  // warm the connection and caches
    std::vector<double> ms;
    for (int i = 0; i < requests_; ++i) {
      const std::string t = target(i);
      auto start = Clock::now();
      testing::HttpResult r = http_.Get(t);
      ms.push_back(Ms(Clock::now() - start));
      if (r.status != 200) throw std::runtime_error(t + ": HTTP " + std::to_string(r.status));
    }
    return Of(std::move(ms));
  }

  // Runs `sql` `times` times (every row, every column read); median ms, rows.
  std::pair<double, int64_t> Sql(const std::string& sql, int times) {
    std::vector<double> ms;
    int64_t rows = 0;
    for (int i = 0; i < times; ++i) {
      auto start = Clock::now();
      rows = db_->Step(sql);
      ms.push_back(Ms(Clock::now() - start));
    }
    std::sort(ms.begin(), ms.end());
    return {ms[ms.size() / 2], rows};
  }
  int64_t SqlInt(const std::string& sql) { return db_->Int(sql); }
  bool postgres() const { return db_->postgres(); }

  HttpClient http_;
  std::unique_ptr<Database> db_;
  int requests_;
};

struct Target {
  std::string id, family, identifier, obs_code, obs_date;
};

// The hand-written SQL of each schema (SQLite: sqlite/schema.cc; PostgreSQL: postgres/schema.cc).
struct Queries {
  std::string live, count_category, chain, include;
};

std::string Key(const char* type, const char* param) {
  return std::string("(SELECT pk FROM search_param WHERE tenant = 'default' AND type = '") + type + "' AND param = '" +
         param + "')";
}

Queries SqliteQueries() {
  Queries q;
  q.live = "is_current = 1 AND deleted = 0";
  q.count_category = "SELECT count(*) FROM token_index WHERE pk = " + Key("Observation", "category") +
                     " AND code = 'vital-signs' AND system = (SELECT id FROM token_system WHERE system = "
                     "'http://terminology.hl7.org/CodeSystem/observation-category')";
  // The best plan by hand: walk the live Observations newest first and test each subject
  // (a plain join of the four tables, sorted, takes over a second: it builds every match).
  q.chain = "SELECT o.seq, o.body FROM resource_version o WHERE o.tenant = 'default' AND o.type = 'Observation' "
            "AND o.deleted = 0 AND o.is_current = 1 AND EXISTS (SELECT 1 FROM reference_index x "
            "JOIN resource_version p ON p.tenant = 'default' AND p.type = 'Patient' AND p.id = x.target_id "
            "AND p.is_current = 1 AND p.deleted = 0 JOIN token_index g ON g.seq = p.seq AND g.pk = " +
            Key("Patient", "gender") + " AND g.code = 'male' WHERE x.seq = o.seq AND x.pk = " +
            Key("Observation", "subject") + " AND x.target_type = 'Patient') ORDER BY o.seq DESC LIMIT 50";
  q.include = "WITH m AS (SELECT o.seq, o.body FROM resource_version o WHERE o.seq IN (SELECT seq FROM token_index WHERE pk = " +
              Key("Observation", "code") +
              " AND code = '8302-2' AND system = (SELECT id FROM token_system WHERE system = 'http://loinc.org')) "
              "ORDER BY o.seq DESC LIMIT 1000) "
              "SELECT seq, body FROM m UNION SELECT p.seq, p.body FROM m JOIN reference_index x ON x.seq = m.seq "
              "AND x.pk = " + Key("Observation", "subject") +
              " JOIN resource_version p ON p.tenant = 'default' AND p.type = x.target_type AND p.id = x.target_id "
              "AND p.is_current = 1 AND p.deleted = 0";
  return q;
}

std::string Param(const char* alias, const char* type, const char* param) {
  return std::string(alias) + ".tenant = 'default' AND " + alias + ".type = '" + type + "' AND " + alias + ".param = '" +
         param + "'";
}

Queries PostgresQueries() {
  Queries q;
  q.live = "is_current AND NOT deleted";
  q.count_category = "SELECT count(*) FROM token_index t WHERE " + Param("t", "Observation", "category") +
                     " AND t.code = 'vital-signs' AND t.system = 'http://terminology.hl7.org/CodeSystem/observation-category'";
  q.chain = "SELECT o.seq, o.body FROM resource_version o WHERE o.tenant = 'default' AND o.type = 'Observation' "
            "AND o.is_current AND NOT o.deleted AND EXISTS (SELECT 1 FROM reference_index x "
            "JOIN resource_version p ON p.tenant = 'default' AND p.type = 'Patient' AND p.id = x.target_id "
            "AND p.is_current AND NOT p.deleted JOIN token_index g ON g.seq = p.seq AND " + Param("g", "Patient", "gender") +
            " AND g.code = 'male' WHERE x.seq = o.seq AND " + Param("x", "Observation", "subject") +
            " AND x.target_type = 'Patient') ORDER BY o.seq DESC LIMIT 50";
  q.include = "WITH m AS (SELECT o.seq, o.body FROM resource_version o WHERE o.seq IN (SELECT t.seq FROM token_index t "
              "WHERE " + Param("t", "Observation", "code") + " AND t.code = '8302-2' AND t.system = 'http://loinc.org') "
              "ORDER BY o.seq DESC LIMIT 1000) "
              "SELECT seq, body FROM m UNION SELECT p.seq, p.body FROM m JOIN reference_index x ON x.seq = m.seq "
              "AND " + Param("x", "Observation", "subject") +
              " JOIN resource_version p ON p.tenant = 'default' AND p.type = x.target_type AND p.id = x.target_id "
              "AND p.is_current AND NOT p.deleted";
  return q;
}

int Run(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: search_bench HOST:PORT DATABASE [REQUESTS]\n");
    return 2;
  }
  const std::string hostport = argv[1];
  const size_t colon = hostport.rfind(':');
  Bench b(hostport.substr(0, colon), static_cast<uint16_t>(std::stoi(hostport.substr(colon + 1))), argv[2],
          argc > 3 ? std::stoi(argv[3]) : 500);

  const Queries sql = b.postgres() ? PostgresQueries() : SqliteQueries();
  // Targets: random patients with their name, identifier and one observation.
  const int64_t patients =
      b.SqlInt("SELECT count(*) FROM resource_version WHERE tenant = 'default' AND type = 'Patient' AND " + sql.live);
  const int64_t resources = b.SqlInt("SELECT count(*) FROM resource_version WHERE " + sql.live);
  const int64_t observations =
      b.SqlInt("SELECT count(*) FROM resource_version WHERE tenant = 'default' AND type = 'Observation' AND " + sql.live);
  std::mt19937_64 rng(42);
  std::vector<Target> targets;
  json::Value page = b.Get("/fhir/Patient?_count=1000&_total=none&_elements=name,identifier");
  std::vector<const json::Value*> entries;
  for (const json::Value& e : page.Find("entry")->as_array()) entries.push_back(&e);
  std::shuffle(entries.begin(), entries.end(), rng);
  for (const json::Value* e : entries) {
    if (targets.size() == 100) break;
    const json::Value& p = *e->Find("resource");
    Target t;
    t.id = p.GetString("id");
    t.family = p.Find("name")->as_array()[0].GetString("family");
    const json::Value& ident = p.Find("identifier")->as_array()[0];
    t.identifier = std::string(ident.GetString("system")) + "|" + std::string(ident.GetString("value"));
    json::Value obs = b.Get("/fhir/Observation?patient=" + Encode(t.id) + "&_count=1&_total=none&_elements=code,effective");
    const json::Value* oe = obs.Find("entry");
    if (oe == nullptr || oe->as_array().empty()) continue;
    const json::Value& o = *oe->as_array()[0].Find("resource");
    const json::Value& coding = o.Find("code")->Find("coding")->as_array()[0];
    t.obs_code = std::string(coding.GetString("system")) + "|" + std::string(coding.GetString("code"));
    std::string_view when = o.GetString("effectiveDateTime");
    if (when.size() < 10) continue;
    t.obs_date = std::string(when.substr(0, 4)) + "-01-01";
    targets.push_back(std::move(t));
  }
  if (targets.size() < 10) throw std::runtime_error("too few patients with observations");
  // A patient whose compartment holds about 1,000 resources: the $everything target.
  std::string chart_id;
  int64_t chart_size = 0;
  // The oldest patients are the whole Synthea files (replicate.py's copy 0).
  json::Value oldest = b.Get("/fhir/Patient?_sort=_lastUpdated&_count=200&_total=none&_elements=id");
  for (const json::Value& e : oldest.Find("entry")->as_array()) {
    const std::string id(e.Find("resource")->GetString("id"));
    json::Value c = b.Get("/fhir/Patient/" + Encode(id) + "/*?_summary=count");
    const int64_t n = *c.Find("total")->as_int64();
    if (std::llabs(n - 1000) < std::llabs(chart_size - 1000)) {
      chart_id = id;
      chart_size = n;
    }
    if (std::llabs(chart_size - 1000) < 150) break;
  }
  const size_t n = targets.size();
  std::printf("population: %lld patients, %lld resources (%lld observations); %d requests per query, one "
              "connection\n",
              static_cast<long long>(patients), static_cast<long long>(resources),
              static_cast<long long>(observations), b.requests_);

  auto row = [](const char* name, const Stats& s, const Stats& base) {
    std::printf("| %s | p50 %.2f ms, p95 %.2f ms, p99 %.2f ms | read by id p95 %.2f ms | %.1f |\n", name, s.p50, s.p95,
                s.p99, base.p95, s.p95 / base.p95);
  };
  std::printf("\n| benchmark | result | baseline (same run) | ratio |\n|---|---|---|---|\n");
  const Stats read = b.Time([&](int i) { return "/fhir/Patient/" + Encode(targets[i % n].id); });
  std::printf("| read Patient by id | p50 %.2f ms, p95 %.2f ms, p99 %.2f ms | — | 1.0 |\n", read.p50, read.p95, read.p99);
  row("Patient?name={family}", b.Time([&](int i) { return "/fhir/Patient?name=" + Encode(targets[i % n].family); }), read);
  row("Patient?identifier={system\\|value}",
      b.Time([&](int i) { return "/fhir/Patient?identifier=" + Encode(targets[i % n].identifier); }), read);
  row("Observation?patient&code&date=ge",
      b.Time([&](int i) {
        const Target& t = targets[i % n];
        return "/fhir/Observation?patient=" + Encode(t.id) + "&code=" + Encode(t.obs_code) + "&date=ge" + t.obs_date;
      }),
      read);
  char name[128];
  std::snprintf(name, sizeof name, "Patient/{id}/$everything, %lld resources, _count=1000",
                static_cast<long long>(chart_size));
  const int saved = b.requests_;
  b.requests_ = std::max(20, saved / 10);
  row(name, b.Time([&](int) { return "/fhir/Patient/" + Encode(chart_id) + "/$everything?_count=1000"; }), read);
  b.requests_ = saved;

  // Counting: all vital-sign observations.
  const std::string category = "http://terminology.hl7.org/CodeSystem/observation-category|vital-signs";
  json::Value counted = b.Get("/fhir/Observation?category=" + Encode(category) + "&_summary=count");
  const int64_t count = *counted.Find("total")->as_int64();
  b.requests_ = 20;  // the rest are slower: fewer requests each
  const Stats count_ms = b.Time([&](int) { return "/fhir/Observation?category=" + Encode(category) + "&_summary=count"; });
  auto [sql_count_ms, sql_rows] = b.Sql(sql.count_category, 20);
  (void)sql_rows;
  std::printf("| Observation?category=vital-signs&_summary=count (%lld) | %.1f M resources counted/s (%.1f ms) | "
              "hand-written SQL %.1f M/s (%.1f ms) | %.2f |\n",
              static_cast<long long>(count), count / count_ms.p50 / 1000, count_ms.p50, count / sql_count_ms / 1000,
              sql_count_ms, sql_count_ms / count_ms.p50);

  // A chained search, first page of 50, and the same in SQL (bodies read).
  const Stats chain = b.Time([&](int) { return "/fhir/Observation?subject:Patient.gender=male&_count=50&_total=none"; });
  auto [sql_chain_ms, chain_rows] = b.Sql(sql.chain, 20);
  std::printf("| Observation?subject:Patient.gender=male, page of 50 | p50 %.2f ms, p95 %.2f ms | hand-written SQL "
              "%.2f ms (%lld rows) | %.1f |\n",
              chain.p50, chain.p95, sql_chain_ms, static_cast<long long>(chain_rows), chain.p50 / sql_chain_ms);
  // _include over 1,000 matches, and the same in SQL.
  const std::string heights = "http://loinc.org|8302-2";
  const Stats include = b.Time(
      [&](int) { return "/fhir/Observation?code=" + Encode(heights) + "&_count=1000&_total=none&_include=Observation:subject"; });
  auto [sql_include_ms, include_rows] = b.Sql(sql.include, 20);
  std::printf("| Observation?code=8302-2&_count=1000&_include=Observation:subject | p50 %.2f ms, p95 %.2f ms | "
              "hand-written SQL %.2f ms (%lld rows) | %.1f |\n",
              include.p50, include.p95, sql_include_ms, static_cast<long long>(include_rows),
              include.p50 / sql_include_ms);
  return 0;
}

}  // namespace
}  // namespace ehr::bench

int main(int argc, char** argv) {
  try {
    return ehr::bench::Run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "search_bench: %s\n", e.what());
    return 1;
  }
}
