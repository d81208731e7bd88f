// store::GroupCommit: the write queue every backend shares. Write(fn) queues fn for one
// writer thread, which takes every queued job (up to max_batch) and hands them to the
// backend's batch runner: the backend runs each job in its own savepoint of one shared
// transaction, commits once, and leaves each job's status in its result. The callers are
// then answered, each with its own status; or, when the backend must make the commit durable
// first (SQLite syncs its WAL off the writer: sqlite/wal_sync.h), the committed batch is
// handed to `hold`, and the backend answers it itself later with Answer().
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "core/status.h"
#include "store/store.h"

namespace ehr::store {

class GroupCommit {
 public:
  struct Job {
    std::function<Status(WriteTxn&)> fn;
    Status result;
    bool done = false;                   // guarded by the queue's mutex
    std::condition_variable finished;    // signalled under it, so the waiter outlives it
    // WriteAsync: called when done instead of waking a waiter; the job is then deleted.
    std::function<void(Status)> done_callback;
  };
  // Runs the batch in one transaction and sets each job's result; true when it committed.
  using RunBatch = std::function<bool(const std::vector<Job*>& batch)>;
  // Takes a committed batch to answer later (Answer); nullptr: committed batches are answered at once.
  using Hold = std::function<void(std::vector<Job*>& batch)>;

  GroupCommit(int max_batch, RunBatch run, Hold hold = nullptr);
  ~GroupCommit();  // Stop()
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  void Start();
  // Refuses new writes, waits until every queued write is answered (a held batch must still
  // be answered), and stops the writer thread. Idempotent.
  void Stop();

  Status Write(std::function<Status(WriteTxn&)> fn);
  void WriteAsync(std::function<Status(WriteTxn&)> fn, std::function<void(Status)> done);
  bool OnWriterThread() const { return std::this_thread::get_id() == writer_thread_.get_id(); }

  // Answers jobs whose results are set (the backend's Hold, once they are durable).
  void Answer(const std::vector<Job*>& jobs);

 private:
  void WriterLoop();
  void Finish(Job& job, std::vector<Job*>& callbacks);  // under mu_
  void RunCallbacks(std::vector<Job*>& callbacks);      // not under mu_

  const size_t max_batch_;
  const RunBatch run_;
  const Hold hold_;

  std::mutex mu_;
  std::condition_variable work_;  // queue_ gained a job, or stopping_ was set
  std::deque<Job*> queue_;        // guarded by mu_; jobs live on their callers' stacks (or on the heap: WriteAsync)
  bool stopping_ = false;         // guarded by mu_
  int active_writes_ = 0;         // guarded by mu_; callers inside Write(), and unanswered WriteAsync jobs
  std::condition_variable idle_;  // active_writes_ dropped to 0 while stopping_
  std::thread writer_thread_;
};

}  // namespace ehr::store
