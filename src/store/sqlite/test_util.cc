#include "store/sqlite/test_util.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

namespace ehr::store::testing {

TempDir::TempDir() {
  std::string pattern = ::testing::TempDir() + "ehr_store_XXXXXX";
  char* made = mkdtemp(pattern.data());
  if (made == nullptr) {
    ADD_FAILURE() << "mkdtemp failed";
    return;
  }
  path_ = made;
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::unique_ptr<Store> OpenOrDie(const SqliteOptions& options) {
  auto opened = OpenSqliteStore(options);
  if (!opened.ok()) {
    ADD_FAILURE() << "OpenSqliteStore: " << opened.status().message();
    return nullptr;
  }
  return std::move(opened).value();
}

NewVersion Version(std::string tenant, std::string type, std::string id, int64_t version, std::string body,
                   Micros last_updated) {
  NewVersion v;
  v.tenant = std::move(tenant);
  v.type = std::move(type);
  v.id = std::move(id);
  v.version = version;
  v.last_updated = last_updated;
  v.method = version == 1 ? "POST" : "PUT";
  v.body = std::move(body);
  return v;
}

NewVersion Deletion(std::string tenant, std::string type, std::string id, int64_t version, Micros last_updated) {
  NewVersion v = Version(std::move(tenant), std::move(type), std::move(id), version, "", last_updated);
  v.method = "DELETE";
  v.deleted = true;
  return v;
}

Status PutOne(Store& store, const NewVersion& v) {
  return store.Write([&](WriteTxn& txn) { return txn.Put(v); });
}

}  // namespace ehr::store::testing
