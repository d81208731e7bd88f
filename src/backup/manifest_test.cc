#include "backup/manifest.h"

#include <gtest/gtest.h>

namespace ehr::backup {
namespace {

const std::string kDigest(64, 'a');

std::string WithPath(const std::string& path) {
  return R"({"format":1,"created":"x","keyring":false,"files":[{"path":")" + path + R"(","bytes":1,"sha256":")" +
         kDigest + R"("}]})";
}

TEST(BackupManifest, WrittenAndReadBack) {
  Manifest m;
  m.created = "2026-11-24T06:15:04Z";
  m.keyring = true;
  m.files = {{"ehr.db", 4096, kDigest}, {"audit-archive/audit-00000000000000000001-100.seg", 7, std::string(64, 'b')}};
  Result<Manifest> back = ParseManifest(WriteManifest(m));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->created, m.created);
  EXPECT_TRUE(back->keyring);
  ASSERT_EQ(back->files.size(), 2u);
  EXPECT_EQ(back->files[1].path, m.files[1].path);
  EXPECT_EQ(back->files[0].bytes, 4096u);
}

TEST(BackupManifest, PathsOutsideTheDirectoryAreRefused) {
  for (const char* path : {"../etc/passwd", "/etc/passwd", "a/../../b", ".keyring", "a//b", "a/", "", "a b", "a\\\\b",
                           "1/2/3/4/5/6/7/8/9"}) {
    Result<Manifest> m = ParseManifest(WithPath(path));
    EXPECT_FALSE(m.ok()) << path;
    if (!m.ok()) EXPECT_NE(m.status().message().find("files[0].path"), std::string::npos) << m.status().message();
  }
  EXPECT_TRUE(ParseManifest(WithPath("audit-archive/x.seg")).ok());
}

TEST(BackupManifest, OtherRefusalsNameTheMember) {
  const std::pair<std::string, std::string> cases[] = {
      {R"({"format":2,"created":"x","keyring":false,"files":[]})", "format"},
      {R"({"format":1,"created":"x","keyring":"no","files":[]})", "keyring"},
      {R"({"format":1,"keyring":false,"files":[]})", "created"},
      {R"({"format":1,"created":"x","keyring":false,"files":{}})", "files"},
      {R"({"format":1,"created":"x","keyring":false,"files":[],"x":1})", "x: unknown member"},
      {R"({"format":1,"created":"x","keyring":false,"files":[{"path":"a","bytes":-1,"sha256":")" + kDigest + R"("}]})",
       "files[0].bytes"},
      {R"({"format":1,"created":"x","keyring":false,"files":[{"path":"a","bytes":1,"sha256":"AA"}]})", "files[0].sha256"},
      {R"({"format":1,"created":"x","keyring":false,"files":[{"path":"a","bytes":1,"sha256":")" + kDigest +
           R"("},{"path":"a","bytes":1,"sha256":")" + kDigest + R"("}]})",
       "files[1].path: listed twice"},
      {"[]", "not a JSON object"},
  };
  for (const auto& [text, expected] : cases) {
    Result<Manifest> m = ParseManifest(text);
    ASSERT_FALSE(m.ok()) << text;
    EXPECT_NE(m.status().message().find(expected), std::string::npos) << m.status().message();
  }
}

}  // namespace
}  // namespace ehr::backup
