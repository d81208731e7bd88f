// Encryption at rest through the real `ehr serve`: bodies sealed in the database file,
// `ehr keys rotate` while clients read (no read fails, the background job moves every body
// onto the new key), and the key-encryption keys held in a real SoftHSM2 token.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "audit/tree_head.h"
#include "core/base64.h"
#include "keys/softhsm_test_util.h"
#include "support/ehr_process.h"
#include "support/test_server.h"

namespace ehr::testing {
namespace {

const std::vector<std::pair<std::string, std::string>> kJson = {{"Content-Type", "application/fhir+json"}};

std::string FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string PatientJson(int i) {
  return R"({"resourceType":"Patient","name":[{"family":"Quernheim","given":["P)" + std::to_string(i) +
         R"("]}],"identifier":[{"system":"http://hl7.org/fhir/sid/us-ssn","value":"900-55-)" +
         std::to_string(1000 + i) + R"("}]})";
}

// The cores of the audit entries (plain JSON) whose subtype is `subtype`.
std::vector<std::string> AuditCores(const std::string& db_path, const std::string& subtype) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, "SELECT core FROM audit_entry WHERE instr(core, ?1) > 0 ORDER BY seq", -1, &s, nullptr);
  const std::string needle = "\"subtype\":\"" + subtype + "\"";
  sqlite3_bind_text(s, 1, needle.c_str(), -1, SQLITE_TRANSIENT);
  std::vector<std::string> out;
  while (sqlite3_step(s) == SQLITE_ROW) out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_blob(s, 0)),
                                                        sqlite3_column_bytes(s, 0));
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

// Bodies in resource_version by their first two bytes: sealed (0x00 'K') or not.
std::pair<int, int> SealedAndPlain(const std::string& db_path) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db,
                     "SELECT sum(substr(body, 1, 2) = x'004B'), sum(substr(body, 1, 2) <> x'004B') "
                     "FROM resource_version WHERE body IS NOT NULL",
                     -1, &s, nullptr);
  std::pair<int, int> out{-1, -1};
  if (sqlite3_step(s) == SQLITE_ROW) out = {sqlite3_column_int(s, 0), sqlite3_column_int(s, 1)};
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

// The bodies `ehr keys status` counts under `key` ("v1"); -1 when it lists no such line.
long BodiesUnder(const std::string& status, const std::string& key) {
  std::istringstream lines(status);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string tenant, version;
    long bodies = -1;
    if (words >> tenant >> version >> bodies && version == key) return bodies;
  }
  return -1;
}

std::vector<std::string> CreatePatients(HttpClient& c, int n) {
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) {
    auto created = c.Send("POST", "/fhir/Patient", PatientJson(i), kJson);
    EXPECT_EQ(created.status, 201) << created.body;
    ids.emplace_back(ParseBody(created.body).GetString("id"));
  }
  return ids;
}

TEST(KeysCli, BodiesSealedAtRestAndRotatedWhileClientsRead) {
  TempDir dir;
  const std::string data = dir.path() + "/data";
  EhrProcess server = EhrProcess::Serve({"--data", data, "--auth", "off", "--reencrypt-seconds", "1"});
  ASSERT_NE(server.port, 0) << server.output;
  HttpClient c("127.0.0.1", server.port);
  const std::vector<std::string> ids = CreatePatients(c, 40);
  ASSERT_EQ(ids.size(), 40u);
  // Every body is sealed; no identifier is anywhere in the files (the keyring aside).
  EXPECT_EQ(SealedAndPlain(data + "/ehr.db"), std::make_pair(40, 0));
  const std::string files = FileBytes(data + "/ehr.db") + FileBytes(data + "/ehr.db-wal");
  EXPECT_EQ(files.find("900-55-1007"), std::string::npos);
  EXPECT_EQ(files.find("9005510"), std::string::npos);
  EXPECT_EQ(std::filesystem::status(data + "/keyring").permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);

  std::atomic<bool> stop{false};
  std::atomic<int> reads{0}, failures{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&, r] {
      HttpClient mine("127.0.0.1", server.port);
      for (size_t i = r; !stop.load(); i = (i + 3) % ids.size()) {
        auto got = mine.Get("/fhir/Patient/" + ids[i]);
        if (got.status != 200 || got.body.find("Quernheim") == std::string::npos) ++failures;
        ++reads;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto [rotated, rotate_out] = RunEhr("keys rotate --data " + data);
  EXPECT_EQ(rotated, 0) << rotate_out;
  EXPECT_NE(rotate_out.find("file:2"), std::string::npos) << rotate_out;
  // Writes after the rotation use the new key at once; the job moves the old bodies.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::string status_out;
  while (std::chrono::steady_clock::now() < deadline) {
    status_out = RunEhr("keys status --data " + data).second;
    if (BodiesUnder(status_out, "v1") <= 0 && BodiesUnder(status_out, "v2") > 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_LE(BodiesUnder(status_out, "v1"), 0) << status_out;
  EXPECT_NE(status_out.find("file:2"), std::string::npos) << status_out;
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(reads.load(), 50);
  auto by_ssn = c.Get("/fhir/Patient?identifier=http://hl7.org/fhir/sid/us-ssn|900-55-1007");
  EXPECT_NE(by_ssn.body.find("\"total\":1"), std::string::npos) << by_ssn.body.substr(0, 300);
  // The search is in the audit log, its query sealed with the entry's detail: the SSN is
  // still nowhere in the files.
  const std::string after = FileBytes(data + "/ehr.db") + FileBytes(data + "/ehr.db-wal");
  EXPECT_EQ(after.find("900-55-1007"), std::string::npos);
  EXPECT_EQ(after.find("9005510"), std::string::npos);
  EXPECT_EQ(server.Stop(SIGTERM), 0);

  // Retirement: the first key-encryption key wraps nothing any more (rotation wrapped every
  // key again) and is destroyed; the first data key still seals the audit entries' details
  // written before the rotation (the log is append-only) and is kept.
  auto [retired, retire_out] = RunEhr("keys retire --min-age-hours 0 --data " + data);
  EXPECT_EQ(retired, 0) << retire_out;
  EXPECT_NE(retire_out.find("key-encryption key file:1: retired"), std::string::npos) << retire_out;
  EXPECT_NE(retire_out.find("key-encryption key file:2: kept, the current version"), std::string::npos) << retire_out;
  EXPECT_NE(retire_out.find("data key default v1: kept, it seals 0 bodies"), std::string::npos) << retire_out;
  EXPECT_NE(retire_out.find("data key default v2: kept, the current version"), std::string::npos) << retire_out;
  const std::string keyring = FileBytes(data + "/keyring");
  EXPECT_EQ(keyring.find("\n1 "), std::string::npos) << "version 1 is gone from the keyring";
  EXPECT_NE(keyring.find("\n2 "), std::string::npos);
  // Both commands are in the audit log, as the account that ran them.
  const std::vector<std::string> rotations = AuditCores(data + "/ehr.db", "keys-rotate");
  ASSERT_EQ(rotations.size(), 1u);
  EXPECT_NE(rotations[0].find("\"user\":\"cli:"), std::string::npos) << rotations[0];
  EXPECT_NE(rotations[0].find("audit archive key version 2"), std::string::npos) << rotations[0];
  const std::vector<std::string> retirements = AuditCores(data + "/ehr.db", "keys-retire");
  ASSERT_EQ(retirements.size(), 1u);
  EXPECT_NE(retirements[0].find("retired 0 data key version(s) and 1 key-encryption key version(s)"), std::string::npos)
      << retirements[0];
  auto [verified, verify_out] = RunEhr("audit verify --data " + data);
  EXPECT_EQ(verified, 0) << verify_out;
  auto [recent, recent_out] = RunEhr("keys retire --data " + data);
  EXPECT_EQ(recent, 0) << recent_out;
  EXPECT_NE(recent_out.find("kept, the current version"), std::string::npos) << recent_out;

  // Restarted with the same keyring: everything reads.
  EhrProcess again = EhrProcess::Serve({"--data", data, "--auth", "off"});
  ASSERT_NE(again.port, 0) << again.output;
  HttpClient c2("127.0.0.1", again.port);
  EXPECT_EQ(c2.Get("/fhir/Patient/" + ids[7]).status, 200);
  again.Stop(SIGTERM);
  // Another keyring (a copy of the database without its keys) does not even start: the
  // server's own secrets do not unwrap.
  EhrProcess foreign = EhrProcess::Serve({"--data", data, "--auth", "off", "--keyring", dir.path() + "/other"});
  EXPECT_EQ(foreign.port, 0);
  EXPECT_NE(foreign.Wait(), 0);
  EXPECT_NE(foreign.output.find("is not in the keyring"), std::string::npos) << foreign.output;
}

TEST(KeysCli, TheKeysCanLiveInAPkcs11Token) {
  auto token = keys::testing::SoftHsmToken::Start("ehr-cli");
  ASSERT_TRUE(token.ok()) << token.status().message();
  TempDir dir;
  const std::string data = dir.path() + "/data";
  const std::string pin_file = dir.path() + "/pin";
  std::ofstream(pin_file) << token->pin() << "\n";
  const std::vector<std::pair<std::string, std::string>> env = {{"SOFTHSM2_CONF", token->conf_path()}};
  const std::vector<std::string> pkcs11 = {"--key-store", "pkcs11", "--pkcs11-module", token->module_path(),
                                           "--pkcs11-token", token->label(), "--pkcs11-pin-file", pin_file};
  auto with = [&](std::vector<std::string> args) {
    args.insert(args.end(), pkcs11.begin(), pkcs11.end());
    return args;
  };
  std::string id;
  {
    EhrProcess server = EhrProcess::Serve(with({"--data", data, "--auth", "off"}), env);
    ASSERT_NE(server.port, 0) << server.output;
    HttpClient c("127.0.0.1", server.port);
    id = CreatePatients(c, 1).front();
    EXPECT_EQ(server.Stop(SIGTERM), 0);
  }
  EXPECT_FALSE(std::filesystem::exists(data + "/keyring"));  // no key beside the data
  EXPECT_EQ(SealedAndPlain(data + "/ehr.db"), std::make_pair(1, 0));

  // Rotation on the token, offline re-encryption, and a restart that reads it all.
  std::string flags;
  for (const std::string& a : pkcs11) flags += " " + a;
  // (SoftHsmToken::Start set SOFTHSM2_CONF for this process and so for the commands it runs.)
  auto [code, out] = RunEhr("keys rotate --data " + data + flags);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("pkcs11:ehr-kek-2"), std::string::npos) << out;
  auto [re_code, re_out] = RunEhr("keys reencrypt --data " + data + flags);
  EXPECT_EQ(re_code, 0) << re_out;
  EXPECT_NE(re_out.find("re-encrypted 1 bodies"), std::string::npos) << re_out;
  auto [retired, retire_out] = RunEhr("keys retire --min-age-hours 0 --data " + data + flags);
  EXPECT_EQ(retired, 0) << retire_out;
  EXPECT_NE(retire_out.find("key-encryption key pkcs11:ehr-kek-1: retired"), std::string::npos) << retire_out;
  {
    EhrProcess server = EhrProcess::Serve(with({"--data", data, "--auth", "off"}), env);
    ASSERT_NE(server.port, 0) << server.output;
    HttpClient c("127.0.0.1", server.port);
    auto read = c.Get("/fhir/Patient/" + id);
    EXPECT_EQ(read.status, 200);
    EXPECT_NE(read.body.find("Quernheim"), std::string::npos);
    server.Stop(SIGTERM);
  }
  // A wrong PIN stops the server before it listens, and is not repeated in what it says.
  std::ofstream(pin_file) << "987654\n";
  EhrProcess refused = EhrProcess::Serve(with({"--data", data, "--auth", "off"}), env);
  EXPECT_EQ(refused.port, 0);
  EXPECT_NE(refused.Wait(), 0);
  EXPECT_NE(refused.output.find("CKR_PIN_INCORRECT"), std::string::npos) << refused.output;
  EXPECT_EQ(refused.output.find("987654"), std::string::npos);
}

TEST(KeysCli, SecretFilesOfEarlierVersionsMoveIntoTheKeyStore) {
  TempDir dir;
  const std::string data = dir.path() + "/data";
  std::filesystem::create_directories(data);
  const std::string seed(32, '\x07');
  std::ofstream(data + "/audit-signing.key", std::ios::binary) << seed;
  std::ofstream(data + "/cursor.key", std::ios::binary) << std::string(32, '\x09');
  EhrProcess server = EhrProcess::Serve({"--data", data, "--auth", "off"});
  ASSERT_NE(server.port, 0) << server.output;
  HttpClient c("127.0.0.1", server.port);
  ASSERT_EQ(c.Send("POST", "/audit/tree-head").status, 200);  // signs one now
  auto head = c.Get("/audit/tree-head");
  ASSERT_EQ(head.status, 200) << head.body;
  auto signer = audit::TreeSigner::FromSeed(seed);
  ASSERT_TRUE(signer.ok());
  // Heads are signed with the key that was in the file; the files are gone.
  EXPECT_EQ(ParseBody(head.body).GetString("public_key"), Base64Encode(signer->public_key()));
  EXPECT_FALSE(std::filesystem::exists(data + "/audit-signing.key"));
  EXPECT_FALSE(std::filesystem::exists(data + "/cursor.key"));
  EXPECT_EQ(server.Stop(SIGTERM), 0);
  auto [verified, out] = RunEhr("audit verify --data " + data);
  EXPECT_EQ(verified, 0) << out;
}

}  // namespace
}  // namespace ehr::testing
