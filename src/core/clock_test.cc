#include "core/clock.h"

#include <gtest/gtest.h>

namespace ehr {
namespace {

TEST(Clock, FormatsInstantWithMilliseconds) {
  EXPECT_EQ(FormatInstant(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatInstant(1795363470123456LL), "2026-11-22T16:04:30.123Z");
}

TEST(Clock, HttpDateRoundTrips) {
  Micros t = 1795363470000000LL;
  std::string s = FormatHttpDate(t);
  EXPECT_EQ(s, "Sun, 22 Nov 2026 16:04:30 GMT");
  auto back = ParseHttpDate(s);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, t);
  EXPECT_FALSE(ParseHttpDate("Sun, 32 Nov 2026 16:04:30 GMT").has_value());
  EXPECT_FALSE(ParseHttpDate("yesterday").has_value());
}

TEST(Clock, ParsesInstantsWithPrecisionAndZones) {
  EXPECT_EQ(*ParseInstant("1970-01-01"), 0);
  EXPECT_EQ(*ParseInstant("1970"), 0);
  EXPECT_EQ(*ParseInstant("1970-01-01T01:00:00+01:00"), 0);
  EXPECT_EQ(*ParseInstant("1970-01-01T00:00:00.5Z"), 500000);
  EXPECT_FALSE(ParseInstant("1970-01-01T00:00:00").has_value());  // zone required
  EXPECT_FALSE(ParseInstant("2021-02-29").has_value());
  EXPECT_FALSE(ParseInstant("2020-13-01").has_value());
  EXPECT_FALSE(ParseInstant("2020-01-01Tjunk").has_value());
}

TEST(Clock, ManualClockAdvances) {
  ManualClock c(100);
  c.Advance(5);
  EXPECT_EQ(c.Now(), 105);
}

}  // namespace
}  // namespace ehr
