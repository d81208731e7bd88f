#include "store/sqlite/wal_sync.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace ehr::store::sqlite {
namespace {

Status SyncFailed(const char* what, int err) {
  return Status::Unavailable(std::string("storage: ") + what + ": " + std::strerror(err));
}

// fsync of the directory holding `path`, so that a newly created file's entry is durable.
Status SyncDirectoryOf(const std::string& path) {
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return SyncFailed("cannot open the database directory", errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  return rc == 0 ? Status::Ok() : SyncFailed("cannot sync the database directory", err);
}

}  // namespace

WalSync::~WalSync() {
  if (fd_ >= 0) ::close(fd_);
}

Status WalSync::Sync() {
  if (fd_ < 0) {
    int fd = ::open(wal_path_.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return SyncFailed("cannot open the write-ahead log", errno);
    if (Status dir = SyncDirectoryOf(wal_path_); !dir.ok()) {
      ::close(fd);
      return dir;
    }
    fd_ = fd;
  }
  int rc;
  do {
    rc = ::fdatasync(fd_);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) return SyncFailed("cannot sync the write-ahead log", errno);
  return Status::Ok();
}

}  // namespace ehr::store::sqlite
