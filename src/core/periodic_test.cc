#include "core/periodic.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace ehr {
namespace {

using namespace std::chrono_literals;

TEST(Periodic, RunsAtOnceThenEveryIntervalAndStopsWhenDestroyed) {
  std::atomic<int> runs{0};
  {
    Periodic p(10ms, [&runs](const Periodic::Stopping&) { ++runs; });
    for (int i = 0; i < 500 && runs < 3; ++i) std::this_thread::sleep_for(5ms);
  }
  const int seen = runs.load();
  EXPECT_GE(seen, 3);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(runs.load(), seen) << "no run after destruction";
}

TEST(Periodic, DestructionEndsALongWaitAndTellsARunToStop) {
  std::atomic<bool> started{false}, saw_stop{false};
  const auto t0 = std::chrono::steady_clock::now();
  {
    Periodic p(std::chrono::hours(1), [&](const Periodic::Stopping& stopping) {
      started = true;
      while (!stopping()) std::this_thread::sleep_for(1ms);
      saw_stop = true;
    });
    while (!started) std::this_thread::sleep_for(1ms);
  }
  EXPECT_TRUE(saw_stop);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s) << "did not wait for the hour";
}

}  // namespace
}  // namespace ehr
