// The counting of unauthenticated requests (api/denial_tally.h): the first of a window are
// admitted one by one, the rest counted per address; a window's count is drained once it
// ended, every count at shutdown; past the most addresses followed, the rest share a count.
#include "api/denial_tally.h"

#include <gtest/gtest.h>

namespace ehr::api {
namespace {

TEST(DenialTally, CountsBeyondTheFirstOfAWindowPerAddress) {
  DenialTally tally(2, 1000);
  EXPECT_TRUE(tally.Admit("a", 0));
  EXPECT_TRUE(tally.Admit("a", 10));
  EXPECT_FALSE(tally.Admit("a", 20));
  EXPECT_FALSE(tally.Admit("a", 30));
  EXPECT_TRUE(tally.Admit("b", 40)) << "each address has its own";
  EXPECT_TRUE(tally.Drain(500, false).empty()) << "the window has not ended";
  auto ended = tally.Drain(1000, false);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].address, "a");
  EXPECT_EQ(ended[0].count, 2);
  EXPECT_EQ(ended[0].from, 20);
  EXPECT_EQ(ended[0].to, 30);
  EXPECT_TRUE(tally.Drain(5000, false).empty()) << "drained once";
  // A new window admits again; a window that ends on the next request keeps its count.
  EXPECT_TRUE(tally.Admit("a", 6000));
  EXPECT_TRUE(tally.Admit("a", 6001));
  EXPECT_FALSE(tally.Admit("a", 6002));
  EXPECT_TRUE(tally.Admit("a", 7002));
  auto carried = tally.Drain(7003, false);
  ASSERT_EQ(carried.size(), 1u);
  EXPECT_EQ(carried[0].count, 1);
  EXPECT_TRUE(tally.Admit("a", 7004)) << "the second of the new window";
  EXPECT_FALSE(tally.Admit("a", 7005));
  EXPECT_FALSE(tally.Admit("a", 7006));
  auto last = tally.Drain(7007, true);
  ASSERT_EQ(last.size(), 1u) << "at shutdown, the windows still open";
  EXPECT_EQ(last[0].count, 2);
}

TEST(DenialTally, BoundedInTheAddressesItFollows) {
  DenialTally tally(0, 1000, 2);
  EXPECT_FALSE(tally.Admit("a", 0));
  EXPECT_FALSE(tally.Admit("b", 0));
  EXPECT_FALSE(tally.Admit("c", 0));
  EXPECT_FALSE(tally.Admit("d", 0));
  auto all = tally.Drain(0, true);
  ASSERT_EQ(all.size(), 3u);
  int64_t others = 0;
  for (const TalliedDenials& t : all) {
    if (t.address == DenialTally::kOtherAddresses) others = t.count;
  }
  EXPECT_EQ(others, 2);
}

}  // namespace
}  // namespace ehr::api
