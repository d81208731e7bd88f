// Helpers shared by the SQLite store tests: a temporary directory and short constructors.
#pragma once

#include <memory>
#include <string>

#include "store/sqlite/sqlite_store.h"
#include "store/store.h"

namespace ehr::store::testing {

// A fresh directory under the test temp dir, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Opens the store or fails the test (returns nullptr after recording the failure).
std::unique_ptr<Store> OpenOrDie(const SqliteOptions& options);

NewVersion Version(std::string tenant, std::string type, std::string id, int64_t version, std::string body,
                   Micros last_updated = 0);
NewVersion Deletion(std::string tenant, std::string type, std::string id, int64_t version, Micros last_updated = 0);

// Writes one version in its own Write() call.
Status PutOne(Store& store, const NewVersion& v);

}  // namespace ehr::store::testing
