// store::ConnectionPool: a backend's reader connections, each lent to one thread at a time.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

namespace ehr::store {

template <typename Conn>
class ConnectionPool {
 public:
  class Lease {
   public:
    Lease(ConnectionPool* pool, Conn* conn) : pool_(pool), conn_(conn) {}
    Lease(Lease&& other) noexcept : pool_(other.pool_), conn_(other.conn_) { other.conn_ = nullptr; }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() {
      if (conn_ != nullptr) pool_->Release(conn_);
    }
    Conn& operator*() const { return *conn_; }
    Conn* operator->() const { return conn_; }

   private:
    ConnectionPool* pool_;
    Conn* conn_;
  };

  void Add(std::unique_ptr<Conn> conn) {
    std::lock_guard lock(mu_);
    free_.push_back(conn.get());
    all_.push_back(std::move(conn));
  }

  // Blocks while every connection is lent out.
  Lease Acquire() {
    std::unique_lock lock(mu_);
    available_.wait(lock, [&] { return !free_.empty(); });
    Conn* conn = free_.back();
    free_.pop_back();
    return Lease(this, conn);
  }

 private:
  void Release(Conn* conn) {
    {
      std::lock_guard lock(mu_);
      free_.push_back(conn);
    }
    available_.notify_one();
  }

  std::mutex mu_;
  std::condition_variable available_;
  std::vector<Conn*> free_;                  // guarded by mu_
  std::vector<std::unique_ptr<Conn>> all_;  // guarded by mu_; owns every connection
};

}  // namespace ehr::store
