#include "core/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <thread>
#include <cstdio>
#include <mutex>

#include "core/clock.h"

namespace ehr::log {
namespace {
std::atomic<int> g_min_level{static_cast<int>(Level::kInfo)};

// Lines are appended to a buffer that a background thread writes out every few
// milliseconds, so a request thread never waits for a write() to the terminal or a file.
// Errors are written at once. When the buffer is full (the output cannot keep up), lines
// are dropped and counted rather than blocking the server.
class Sink {
 public:
  void Append(std::string_view line, bool urgent) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!started_) {
        started_ = true;
        std::thread([this] { Loop(); }).detach();
        std::atexit([] { Instance().Flush(); });
      }
      if (buffer_.size() + line.size() > kMaxBuffered) {
        ++dropped_;
        return;
      }
      buffer_.append(line);
      if (!urgent) {
        if (buffer_.size() >= kWakeAt) wake_.notify_one();
        return;
      }
    }
    Flush();
  }
  // Writes what is buffered. The buffer is swapped out under mu_ and written under
  // write_mu_ only, so appending threads never wait for the disk.
  void Flush() {
    std::lock_guard<std::mutex> writing(write_mu_);
    std::string out;
    int fd;
    {
      std::lock_guard<std::mutex> lock(mu_);
      out.swap(buffer_);
      if (dropped_ > 0) {
        out += "{\"level\":\"warn\",\"event\":\"log_lines_dropped\",\"count\":" + std::to_string(dropped_) + "}\n";
        dropped_ = 0;
      }
      fd = fd_;
    }
    const char* p = out.data();
    size_t left = out.size();
    while (left > 0) {
      ssize_t n = ::write(fd, p, left);
      if (n <= 0) break;  // logging must never take the server down
      p += n;
      left -= static_cast<size_t>(n);
    }
  }
  void SetFd(int fd) {
    Flush();
    std::lock_guard<std::mutex> lock(mu_);
    fd_ = fd;
  }
  static Sink& Instance() {
    static Sink* sink = new Sink;  // never destroyed: the writer thread may outlive main()
    return *sink;
  }

 private:
  static constexpr size_t kWakeAt = 64 * 1024;
  static constexpr size_t kMaxBuffered = 8 * 1024 * 1024;

  void Loop() {
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        wake_.wait_for(lock, std::chrono::milliseconds(20));
      }
      Flush();
    }
  }

  std::mutex write_mu_;  // orders writers of the output; taken before mu_, never inside it
  std::mutex mu_;
  std::condition_variable wake_;
  std::string buffer_;    // GUARDED_BY(mu_)
  uint64_t dropped_ = 0;  // GUARDED_BY(mu_)
  int fd_ = 2;            // GUARDED_BY(mu_)
  bool started_ = false;  // GUARDED_BY(mu_)
};

const char* LevelName(Level l) {
  switch (l) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}
}  // namespace

Field::Field(std::string_view k, double v) : key(k), is_number(true) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  text = buf;
}

void SetMinLevel(Level level) { g_min_level = static_cast<int>(level); }
void SetOutputFd(int fd) { Sink::Instance().SetFd(fd); }
void Flush() { Sink::Instance().Flush(); }

void AppendJsonEscaped(std::string& out, std::string_view s) {
  static const char* kHex = "0123456789abcdef";
  size_t run = 0;  // start of the current run of characters that need no escape
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
  }
  out.append(s.data() + run, s.size() - run);
}

void Write(Level level, std::string_view event, std::initializer_list<Field> fields) {
  if (static_cast<int>(level) < g_min_level.load(std::memory_order_relaxed)) return;
  std::string line;
  line.reserve(256);
  line += "{\"time\":\"";
  line += FormatInstant(Clock::System().Now());
  line += "\",\"level\":\"";
  line += LevelName(level);
  line += "\",\"event\":\"";
  AppendJsonEscaped(line, event);
  line += '"';
  for (const auto& f : fields) {
    line += ",\"";
    AppendJsonEscaped(line, f.key);
    line += "\":";
    if (f.is_number) {
      line += f.text;
    } else {
      line += '"';
      AppendJsonEscaped(line, f.text);
      line += '"';
    }
  }
  line += "}\n";
  Sink::Instance().Append(line, level == Level::kError);
}

}  // namespace ehr::log
