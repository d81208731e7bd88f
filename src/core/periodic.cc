#include "core/periodic.h"

#include <utility>

namespace ehr {

Periodic::Periodic(std::chrono::milliseconds interval, std::function<void(const Stopping&)> run)
    : interval_(interval), run_(std::move(run)), thread_([this] { Loop(); }) {}

Periodic::~Periodic() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Periodic::Loop() {
  const Stopping stopping = [this] {
    std::lock_guard lock(mu_);
    return stop_;
  };
  while (!stopping()) {
    run_(stopping);
    std::unique_lock lock(mu_);
    if (wake_.wait_for(lock, interval_, [this] { return stop_; })) return;
  }
}

}  // namespace ehr
