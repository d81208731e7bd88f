#include "core/base64.h"

#include <gtest/gtest.h>

namespace ehr {
namespace {

// RFC 4648 section 10 test vectors.
TEST(Base64, Rfc4648Vectors) {
  const std::pair<std::string, std::string> cases[] = {
      {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : cases) {
    EXPECT_EQ(Base64Encode(plain), encoded);
    EXPECT_EQ(Base64Decode(encoded), plain);
    std::string url = encoded;
    while (!url.empty() && url.back() == '=') url.pop_back();
    EXPECT_EQ(Base64UrlEncode(plain), url);
    EXPECT_EQ(Base64UrlDecode(url), plain);
  }
}

TEST(Base64, UrlAlphabetAndStrictness) {
  EXPECT_EQ(Base64UrlEncode(std::string("\xfb\xff\xbf", 3)), "-_-_");
  EXPECT_EQ(Base64Encode(std::string("\xfb\xff\xbf", 3)), "+/+/");
  EXPECT_FALSE(Base64UrlDecode("Zg=="));  // padding
  EXPECT_FALSE(Base64UrlDecode("Z"));     // 4n+1 characters
  EXPECT_FALSE(Base64UrlDecode("Zh"));    // unused bits set: only "Zg" encodes "f"
  EXPECT_FALSE(Base64UrlDecode("+/+/"));  // standard alphabet
  EXPECT_FALSE(Base64UrlDecode(std::string("Zg\0", 3)));
  EXPECT_FALSE(Base64Decode("Zg="));      // not a multiple of 4
  EXPECT_FALSE(Base64Decode("-_-_"));
}

}  // namespace
}  // namespace ehr
