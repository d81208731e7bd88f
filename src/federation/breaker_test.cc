// The gateway's circuit breakers with a manual clock: closed until three failures in a
// row, open for the cool-off, then one trial call whose outcome closes or reopens it.
#include "federation/breaker.h"

#include <gtest/gtest.h>

namespace ehr::federation {
namespace {

constexpr Micros kSecond = 1'000'000;

TEST(CircuitBreakers, OpenAfterThreeFailuresInARowUntilTheCoolOff) {
  ManualClock clock(1'000 * kSecond);
  CircuitBreakers b(clock, 3, 30 * kSecond);
  EXPECT_FALSE(b.Skip("de"));
  b.Record("de", false);
  b.Record("de", false);
  b.Record("de", true);  // a success breaks the run
  b.Record("de", false);
  b.Record("de", false);
  EXPECT_FALSE(b.Skip("de"));
  b.Record("de", false);  // three in a row
  auto skipped = b.Skip("de");
  ASSERT_TRUE(skipped);
  EXPECT_EQ(*skipped, "not called: 3 failures in a row, next try in 30 s");
  EXPECT_FALSE(b.Skip("uk")) << "regions are apart";
  clock.Advance(29 * kSecond);
  EXPECT_TRUE(b.Skip("de"));
}

TEST(CircuitBreakers, OneTrialAfterTheCoolOffClosesOrReopens) {
  ManualClock clock(1'000 * kSecond);
  CircuitBreakers b(clock, 3, 30 * kSecond);
  for (int i = 0; i < 3; ++i) b.Record("de", false);
  clock.Advance(30 * kSecond);
  EXPECT_FALSE(b.Skip("de")) << "the trial call";
  auto during = b.Skip("de");
  ASSERT_TRUE(during) << "only one trial at a time";
  EXPECT_NE(during->find("a trial call is under way"), std::string::npos);
  b.Record("de", false);  // the trial failed: open again for the whole cool-off
  EXPECT_TRUE(b.Skip("de"));
  clock.Advance(30 * kSecond);
  EXPECT_FALSE(b.Skip("de"));
  b.Record("de", true);  // the trial succeeded: closed
  EXPECT_FALSE(b.Skip("de"));
  EXPECT_FALSE(b.Skip("de"));
}

}  // namespace
}  // namespace ehr::federation
