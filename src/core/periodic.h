// A background task: a function run on its own thread at once and then every `interval`
// until the Periodic is destroyed. Destruction wakes the thread and waits for a run in
// progress, which should check `stopping` between its steps to end early.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace ehr {

class Periodic {
 public:
  using Stopping = std::function<bool()>;
  Periodic(std::chrono::milliseconds interval, std::function<void(const Stopping&)> run);
  ~Periodic();
  Periodic(const Periodic&) = delete;
  Periodic& operator=(const Periodic&) = delete;

 private:
  void Loop();

  const std::chrono::milliseconds interval_;
  const std::function<void(const Stopping&)> run_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;  // GUARDED_BY(mu_)
  std::thread thread_;  // last: started once everything above is ready
};

}  // namespace ehr
