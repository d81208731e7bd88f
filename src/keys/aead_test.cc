#include "keys/aead.h"

#include <gtest/gtest.h>

#include "core/secrets.h"

namespace ehr::keys {
namespace {

using namespace std::string_view_literals;

TEST(Aead, RoundTripsAndAuthenticatesEveryPart) {
  const std::string key = RandomBytes(kKeyBytes);
  const std::string sealed = Seal(key, "{\"resourceType\":\"Patient\"}", "default\0Patient\0p1\0001"sv);
  ASSERT_EQ(sealed.size(), 26 + kSealOverhead);
  EXPECT_EQ(sealed.find("Patient"), std::string::npos);
  auto opened = Open(key, sealed, "default\0Patient\0p1\0001"sv);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, "{\"resourceType\":\"Patient\"}");

  // Another AAD (a row moved to another resource), another key, any flipped byte: refused.
  EXPECT_FALSE(Open(key, sealed, "default\0Patient\0p2\0001"sv).ok());
  EXPECT_FALSE(Open(RandomBytes(kKeyBytes), sealed, "default\0Patient\0p1\0001"sv).ok());
  for (size_t i = 0; i < sealed.size(); ++i) {
    std::string flipped = sealed;
    flipped[i] ^= 1;
    EXPECT_FALSE(Open(key, flipped, "default\0Patient\0p1\0001"sv).ok()) << "byte " << i;
  }
  EXPECT_FALSE(Open(key, sealed.substr(0, kSealOverhead - 1), "").ok());
}

TEST(Aead, NoncesDifferSoEqualPlaintextsDoNotShow) {
  const std::string key = RandomBytes(kKeyBytes);
  EXPECT_NE(Seal(key, "same", "a"), Seal(key, "same", "a"));
  std::string out = "header";
  SealTo(key, "", "a", out);
  EXPECT_EQ(out.size(), 6 + kSealOverhead);
  auto empty = Open(key, std::string_view(out).substr(6), "a");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, "");
}

}  // namespace
}  // namespace ehr::keys
