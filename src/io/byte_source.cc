#include "io/byte_source.h"

#include <bzlib.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <utility>
#include <vector>

namespace ehr::io {
namespace {

class FileSource : public ByteSource {
 public:
  FileSource(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~FileSource() override { ::close(fd_); }
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  Result<size_t> Read(char* buf, size_t n) override {
    for (;;) {
      ssize_t got = ::read(fd_, buf, n);
      if (got >= 0) return static_cast<size_t>(got);
      if (errno != EINTR) return Status::Internal(path_ + ": read failed: " + std::strerror(errno));
    }
  }

 private:
  int fd_;
  std::string path_;
};

const char* Bz2ErrorName(int rc) {
  switch (rc) {
    case BZ_DATA_ERROR: return "corrupt data";
    case BZ_DATA_ERROR_MAGIC: return "not bz2 data";
    case BZ_MEM_ERROR: return "out of memory";
    case BZ_PARAM_ERROR: return "bad parameter";
    case BZ_CONFIG_ERROR: return "libbz2 misconfigured";
    default: return "unexpected libbz2 result";
  }
}

class Bz2Source : public ByteSource {
 public:
  Bz2Source(std::unique_ptr<ByteSource> in, std::string name)
      : in_(std::move(in)), name_(std::move(name)), input_(kInputChunk) {}
  ~Bz2Source() override { EndStream(); }
  Bz2Source(const Bz2Source&) = delete;
  Bz2Source& operator=(const Bz2Source&) = delete;

  Result<size_t> Read(char* buf, size_t n) override {
    if (!error_.ok()) return error_;
    n = std::min<size_t>(n, UINT_MAX);
    size_t produced = 0;
    while (produced == 0 && !finished_) {
      if (stream_.avail_in == 0 && !input_ended_) EHR_RETURN_IF_ERROR(Fill());
      if (!in_stream_) {
        // Between streams: more input means another concatenated stream begins.
        if (stream_.avail_in == 0) {
          if (streams_ == 0) return Fail("empty file, not bz2 data");
          finished_ = true;
          break;
        }
        EHR_RETURN_IF_ERROR(BeginStream());
      }
      stream_.next_out = buf;
      stream_.avail_out = static_cast<unsigned>(n);
      unsigned avail_in_before = stream_.avail_in;
      int rc = BZ2_bzDecompress(&stream_);
      produced = n - stream_.avail_out;
      if (rc == BZ_STREAM_END) {
        EndStream();
      } else if (rc != BZ_OK) {
        return Fail(std::string(Bz2ErrorName(rc)) + " in bz2 stream " + std::to_string(streams_));
      } else if (produced == 0 && stream_.avail_in == avail_in_before) {
        // No progress: the stream needs input that is not there.
        return Fail(input_ended_ ? "truncated bz2 data" : "libbz2 made no progress");
      }
    }
    return produced;
  }

 private:
  static constexpr size_t kInputChunk = 256 * 1024;

  Status Fail(const std::string& what) {
    error_ = Status::Invalid(name_ + ": " + what, "", "structure");
    return error_;
  }

  Status Fill() {
    Result<size_t> got = in_->Read(input_.data(), input_.size());
    if (!got.ok()) {
      error_ = got.status();
      return error_;
    }
    stream_.next_in = input_.data();
    stream_.avail_in = static_cast<unsigned>(*got);
    if (*got == 0) input_ended_ = true;
    return Status::Ok();
  }

  Status BeginStream() {
    // Init clears the counters, not the input window, which may hold the start of this stream.
    char* next_in = stream_.next_in;
    unsigned avail_in = stream_.avail_in;
    stream_ = bz_stream{};
    int rc = BZ2_bzDecompressInit(&stream_, /*verbosity=*/0, /*small=*/0);
    if (rc != BZ_OK) return Fail(Bz2ErrorName(rc));
    stream_.next_in = next_in;
    stream_.avail_in = avail_in;
    in_stream_ = true;
    ++streams_;
    return Status::Ok();
  }

  void EndStream() {
    if (in_stream_) BZ2_bzDecompressEnd(&stream_);
    in_stream_ = false;
  }

  std::unique_ptr<ByteSource> in_;
  std::string name_;
  std::vector<char> input_;
  bz_stream stream_{};
  bool in_stream_ = false;
  bool input_ended_ = false;
  bool finished_ = false;
  int streams_ = 0;
  Status error_;  // sticky: a failed source keeps failing
};

}  // namespace

Result<std::unique_ptr<ByteSource>> OpenFileSource(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    std::string msg = path + ": cannot open: " + std::strerror(err);
    if (err == ENOENT) return Status::NotFound(msg);
    return Status::Internal(msg);
  }
  return std::unique_ptr<ByteSource>(std::make_unique<FileSource>(fd, path));
}

std::unique_ptr<ByteSource> NewBz2Source(std::unique_ptr<ByteSource> compressed, std::string name) {
  return std::make_unique<Bz2Source>(std::move(compressed), std::move(name));
}

}  // namespace ehr::io
