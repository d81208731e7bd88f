#include "api/cursor_seal.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

namespace ehr::api {
namespace {

TEST(CursorSeal, RoundTripsAndHidesTheCursor) {
  CursorSeal seal;
  const std::string cursor = "c1 birthdate 1970-01-01 Smith";
  const std::string sealed = seal.Seal("t", cursor);
  EXPECT_EQ(sealed.find("Smith"), std::string::npos);
  EXPECT_EQ(sealed.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos)
      << "base64url: no escaping in a URL";
  auto opened = seal.Open("t", sealed);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  EXPECT_EQ(*opened, cursor);
  // A fresh nonce each time: equal cursors do not give equal seals.
  std::set<std::string> seen;
  for (int i = 0; i < 20; ++i) seen.insert(seal.Seal("t", cursor));
  EXPECT_EQ(seen.size(), 20u);
  EXPECT_EQ(*seal.Open("t", seal.Seal("t", "")), "");
}

TEST(CursorSeal, RefusesAnotherTenantAnotherKeyAndAnyChange) {
  CursorSeal seal, other;
  const std::string sealed = seal.Seal("t", "position 42");
  EXPECT_EQ(seal.Open("u", sealed).status().code(), Code::kInvalid) << "bound to the tenant";
  EXPECT_EQ(other.Open("t", sealed).status().code(), Code::kInvalid) << "bound to the key";
  for (size_t i = 0; i < sealed.size(); ++i) {
    std::string changed = sealed;
    changed[i] = changed[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(seal.Open("t", changed).ok()) << i;
  }
  for (const char* junk : {"", "!!", "abc", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", "a b"}) {
    EXPECT_EQ(seal.Open("t", junk).status().code(), Code::kInvalid) << junk;
  }
  EXPECT_FALSE(seal.Open("t", sealed.substr(0, sealed.size() - 1)).ok());
  EXPECT_FALSE(seal.Open("t", std::string(100000, 'A')).ok());
}

TEST(CursorSeal, TheKeyFileIsCreatedPrivateAndReadBack) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / ("cursor-key-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "cursor.key").string();
  auto created = LoadOrCreateCursorKey(path);
  ASSERT_TRUE(created.ok()) << created.status().message();
  EXPECT_EQ(created->size(), CursorSeal::kKeyBytes);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto again = LoadOrCreateCursorKey(path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *created) << "a restart keeps the key, so links keep working";
  // Cursors sealed before the restart open after it.
  EXPECT_EQ(*CursorSeal(*again).Open("t", CursorSeal(*created).Seal("t", "x")), "x");
  std::ofstream(path, std::ios::trunc) << "short";
  EXPECT_FALSE(LoadOrCreateCursorKey(path).ok()) << "a damaged key file is an error, not silently replaced";
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ehr::api
