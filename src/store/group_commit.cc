#include "store/group_commit.h"

#include <algorithm>
#include <memory>

#include "core/log.h"

namespace ehr::store {

GroupCommit::GroupCommit(int max_batch, RunBatch run, Hold hold)
    : max_batch_(static_cast<size_t>(std::max(max_batch, 1))), run_(std::move(run)), hold_(std::move(hold)) {}

GroupCommit::~GroupCommit() { Stop(); }

void GroupCommit::Start() { writer_thread_ = std::thread([this] { WriterLoop(); }); }

void GroupCommit::Stop() {
  {
    std::unique_lock lock(mu_);
    stopping_ = true;
    work_.notify_one();
    // Queued writes still run; their callers must be out of Write() before mu_ goes away.
    idle_.wait(lock, [&] { return active_writes_ == 0; });
  }
  if (writer_thread_.joinable()) writer_thread_.join();
}

Status GroupCommit::Write(std::function<Status(WriteTxn&)> fn) {
  if (OnWriterThread()) return Status::Internal("storage: Write() called from inside a write function");
  Job job;
  job.fn = std::move(fn);
  std::unique_lock lock(mu_);
  if (stopping_) return Status::Unavailable("storage: the store is shutting down");
  queue_.push_back(&job);
  ++active_writes_;
  work_.notify_one();
  job.finished.wait(lock, [&] { return job.done; });
  Status result = std::move(job.result);
  if (--active_writes_ == 0 && stopping_) idle_.notify_all();
  return result;
}

void GroupCommit::WriteAsync(std::function<Status(WriteTxn&)> fn, std::function<void(Status)> done) {
  auto job = std::make_unique<Job>();
  job->fn = std::move(fn);
  job->done_callback = std::move(done);
  {
    std::lock_guard lock(mu_);
    if (!stopping_ && !OnWriterThread()) {
      queue_.push_back(job.release());  // owned by the queue until RunCallbacks()
      ++active_writes_;
      work_.notify_one();
      return;
    }
  }
  job->done_callback(Status::Unavailable("storage: the store is shutting down"));
}

void GroupCommit::WriterLoop() {
  std::vector<Job*> batch;
  while (true) {
    {
      std::unique_lock lock(mu_);
      work_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and every queued write is done
      const size_t n = std::min(queue_.size(), max_batch_);
      batch.assign(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    }
    bool committed = false;
    try {
      committed = run_(batch);
    } catch (...) {  // the backend's own code failing (e.g. bad_alloc): fail the batch, keep serving
      for (Job* job : batch) {
        if (job->result.ok()) job->result = Status::Internal("storage: write batch failed");
      }
    }
    if (committed && hold_) {
      hold_(batch);
      continue;
    }
    Answer(batch);
  }
}

void GroupCommit::Answer(const std::vector<Job*>& jobs) {
  std::vector<Job*> callbacks;
  {
    std::lock_guard lock(mu_);
    for (Job* job : jobs) Finish(*job, callbacks);
  }
  RunCallbacks(callbacks);
}

void GroupCommit::Finish(Job& job, std::vector<Job*>& callbacks) {
  if (job.done_callback) {
    callbacks.push_back(&job);
    return;
  }
  job.done = true;
  job.finished.notify_one();
}

void GroupCommit::RunCallbacks(std::vector<Job*>& callbacks) {
  for (Job* job : callbacks) {
    std::unique_ptr<Job> owned(job);
    try {
      owned->done_callback(std::move(owned->result));
    } catch (...) {
      log::Error("store.callback_failed", {});
    }
  }
  if (callbacks.empty()) return;
  std::lock_guard lock(mu_);
  active_writes_ -= static_cast<int>(callbacks.size());
  if (active_writes_ == 0 && stopping_) idle_.notify_all();
  callbacks.clear();
}

}  // namespace ehr::store
