#include "core/ids.h"

#include <gtest/gtest.h>

#include <set>

namespace ehr {
namespace {

TEST(Ids, UuidsAreV4AndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string u = NewUuid();
    ASSERT_EQ(u.size(), 36u);
    EXPECT_EQ(u[14], '4');
    EXPECT_TRUE(IsValidFhirId(u));
    seen.insert(u);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(Ids, FhirIdRules) {
  EXPECT_TRUE(IsValidFhirId("a.B-9"));
  EXPECT_FALSE(IsValidFhirId(""));
  EXPECT_FALSE(IsValidFhirId("has space"));
  EXPECT_FALSE(IsValidFhirId("under_score"));
  EXPECT_FALSE(IsValidFhirId(std::string(65, 'a')));
  EXPECT_TRUE(IsValidFhirId(std::string(64, 'a')));
}

TEST(Ids, Sha256) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace ehr
