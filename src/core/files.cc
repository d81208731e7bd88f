#include "core/files.h"

#include <fcntl.h>
#include <unistd.h>

namespace ehr {

Status SyncDirectory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::Unavailable("cannot open the directory " + dir.string() + " to sync it");
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  return synced ? Status::Ok() : Status::Unavailable("cannot sync the directory " + dir.string());
}

}  // namespace ehr
