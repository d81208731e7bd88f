#include "keys/keyring.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace ehr::keys {
namespace {

// A directory made for one test and removed with everything in it when the test ends.
class TempDir {
 public:
  TempDir() {
    if (!::mkdtemp(dir_.data())) std::abort();
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return dir_; }

 private:
  std::string dir_ = "/tmp/ehr_keyring_XXXXXX";
};

TEST(Keyring, CreatedPrivateAndWrapsAcrossRotations) {
  TempDir dir;
  const std::string path = dir.path() + "/keyring";
  auto ring = Keyring::OpenOrCreate(path);
  ASSERT_TRUE(ring.ok()) << ring.status().message();
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ((*ring)->CurrentId(), "file:1");

  auto first = (*ring)->Wrap("data key one", "tenant a/1");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->kek_id, "file:1");
  auto rotated = (*ring)->Rotate();
  ASSERT_TRUE(rotated.ok());
  EXPECT_EQ(*rotated, "file:2");
  auto second = (*ring)->Wrap("data key two", "tenant a/2");
  EXPECT_EQ(second->kek_id, "file:2");

  // Reopened from the file: both versions unwrap, each only with its own id and AAD.
  auto reopened = Keyring::OpenOrCreate(path);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->CurrentId(), "file:2");
  EXPECT_EQ(*(*reopened)->Unwrap("file:1", first->bytes, "tenant a/1"), "data key one");
  EXPECT_EQ(*(*reopened)->Unwrap("file:2", second->bytes, "tenant a/2"), "data key two");
  EXPECT_FALSE((*reopened)->Unwrap("file:2", first->bytes, "tenant a/1").ok());
  EXPECT_FALSE((*reopened)->Unwrap("file:1", first->bytes, "tenant b/1").ok());
  EXPECT_EQ((*reopened)->Unwrap("file:9", first->bytes, "tenant a/1").status().code(), Code::kNotFound);
}

TEST(Keyring, SeesAVersionAnotherProcessAdded) {
  TempDir dir;
  const std::string path = dir.path() + "/keyring";
  auto server = Keyring::OpenOrCreate(path);
  auto cli = Keyring::OpenOrCreate(path);
  ASSERT_TRUE(server.ok() && cli.ok());
  ASSERT_TRUE((*cli)->Rotate().ok());
  auto wrapped = (*cli)->Wrap("k", "aad");
  EXPECT_EQ(*(*server)->Unwrap(wrapped->kek_id, wrapped->bytes, "aad"), "k");
}

// A server that opened the keyring before `ehr keys rotate` wraps under the new version
// (it rereads the file), and `ehr keys retire` removes an old version for good: from the
// file, so no process unwraps under it once it reopens; the current one is never retired.
TEST(Keyring, WrapsUnderAVersionAnotherProcessAddedAndRetiresOldOnes) {
  TempDir dir;
  const std::string path = dir.path() + "/keyring";
  auto server = Keyring::OpenOrCreate(path);
  auto cli = Keyring::OpenOrCreate(path);
  ASSERT_TRUE(server.ok() && cli.ok());
  auto old = (*server)->Wrap("old", "aad");
  ASSERT_TRUE((*cli)->Rotate().ok());
  auto fresh = (*server)->Wrap("new", "aad");
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh->kek_id, "file:2") << "the server wraps under the version the other process rotated to";
  EXPECT_EQ(*(*cli)->Ids(), (std::vector<std::string>{"file:1", "file:2"}));

  EXPECT_EQ((*cli)->Retire("file:2").code(), Code::kInvalid) << "the current version";
  EXPECT_EQ((*cli)->Retire("file:7").code(), Code::kNotFound);
  EXPECT_EQ((*cli)->Retire("nonsense").code(), Code::kNotFound);
  ASSERT_TRUE((*cli)->Retire("file:1").ok());
  EXPECT_EQ(*(*cli)->Ids(), (std::vector<std::string>{"file:2"}));
  auto reopened = Keyring::OpenOrCreate(path);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->Unwrap(old->kek_id, old->bytes, "aad").status().code(), Code::kNotFound);
  EXPECT_EQ(*(*reopened)->Unwrap(fresh->kek_id, fresh->bytes, "aad"), "new");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "rewritten as private as before";
  // A rotation by a process that still holds version 1 in memory does not write it back.
  ASSERT_TRUE((*server)->Rotate().ok());
  EXPECT_EQ(*(*reopened)->Ids(), (std::vector<std::string>{"file:2", "file:3"}));
}

TEST(Keyring, RefusesAFileOthersCanReadOrThatIsMalformed) {
  TempDir temp;
  const std::string dir = temp.path();
  const std::string path = dir + "/keyring";
  ASSERT_TRUE(Keyring::OpenOrCreate(path).ok());
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  EXPECT_FALSE(Keyring::OpenOrCreate(path).ok());

  const std::string bad = dir + "/bad";
  std::ofstream(bad) << "1 not-base64!\n";
  ASSERT_EQ(::chmod(bad.c_str(), 0600), 0);
  EXPECT_FALSE(Keyring::OpenOrCreate(bad).ok());
}

}  // namespace
}  // namespace ehr::keys
