// ehr import: loads Bundles and NDJSON into a data directory.
//
// Files are committed in the order given (directories expand sorted by name), so a file may
// refer to resources of an earlier one through conditional references (Synthea's
// practitioner and hospital bundles come first). One thread reads, decompresses, parses
// and validates the next documents while the current one commits.
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>

#include "api/service.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "io/resource_files.h"
#include "security/pipeline.h"
#include "store/sqlite/sqlite_store.h"

namespace ehr::cli {

namespace {

constexpr size_t kNdjsonChunk = 500;

// One unit of work: a checked Bundle (or the error that stopped it) from one file.
struct Unit {
  std::string file;
  size_t entries = 0;
  Result<std::shared_ptr<api::PreparedBundle>> prepared = Status::Internal("not prepared");
  bool end_of_file = false;
};

class BoundedQueue {
 public:
  explicit BoundedQueue(size_t capacity) : capacity_(capacity) {}
  void Push(Unit u) {
    std::unique_lock<std::mutex> lock(mu_);
    not_full_.wait(lock, [this] { return items_.size() < capacity_; });
    items_.push_back(std::move(u));
    not_empty_.notify_one();
  }
  // False once the producer finished and everything was taken.
  bool Pop(Unit& out) {
    std::unique_lock<std::mutex> lock(mu_);
    not_empty_.wait(lock, [this] { return !items_.empty() || done_; });
    if (items_.empty()) return false;
    out = std::move(items_.front());
    items_.pop_front();
    not_full_.notify_one();
    return true;
  }
  void Finish() {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
    not_empty_.notify_all();
  }

 private:
  size_t capacity_;
  std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::deque<Unit> items_;  // GUARDED_BY(mu_)
  bool done_ = false;       // GUARDED_BY(mu_)
};

// Wraps loose resources (NDJSON lines) into a transaction: PUT when they carry an id, else POST.
json::Value TransactionOf(std::vector<json::Value>& resources) {
  json::Value bundle = json::Value::MakeObject();
  bundle.Set("resourceType", json::Value("Bundle"));
  bundle.Set("type", json::Value("transaction"));
  json::Array entries;
  for (auto& r : resources) {
    std::string type(r.GetString("resourceType"));
    std::string id(r.GetString("id"));
    json::Value request = json::Value::MakeObject();
    request.Set("method", json::Value(id.empty() ? "POST" : "PUT"));
    request.Set("url", json::Value(id.empty() ? type : type + "/" + id));
    json::Value entry = json::Value::MakeObject();
    entry.Set("resource", std::move(r));
    entry.Set("request", std::move(request));
    entries.push_back(std::move(entry));
  }
  resources.clear();
  bundle.Set("entry", json::Value(std::move(entries)));
  return bundle;
}

size_t EntryCount(const json::Value& bundle) {
  const json::Value* e = bundle.Find("entry");
  return e && e->is_array() ? e->as_array().size() : 0;
}

void Produce(api::FhirService& service, const api::RequestContext& ctx, const std::vector<std::string>& files,
             BoundedQueue& queue) {
  for (const auto& file : files) {
    std::vector<json::Value> loose;
    auto emit = [&](json::Value bundle) {
      Unit u;
      u.file = file;
      u.entries = EntryCount(bundle);
      u.prepared = service.PrepareBundle(std::move(bundle), ctx);
      queue.Push(std::move(u));
    };
    Status st = io::ForEachDocument(file, [&](std::string&& text) -> Status {
      EHR_ASSIGN_OR_RETURN(json::Value doc, json::Parse(text));
      std::string_view type = doc.GetString("type");
      if (doc.GetString("resourceType") == "Bundle" && (type == "batch" || type == "transaction")) {
        emit(std::move(doc));
      } else {
        loose.push_back(std::move(doc));
        if (loose.size() >= kNdjsonChunk) emit(TransactionOf(loose));
      }
      return Status::Ok();
    });
    if (!loose.empty()) emit(TransactionOf(loose));
    Unit end;
    end.file = file;
    end.end_of_file = true;
    if (!st.ok()) end.prepared = st;
    queue.Push(std::move(end));
  }
  queue.Finish();
}

}  // namespace

int Import(int argc, char** argv) {
  auto args = ParseArgs(argc, argv, 2, {"data", "durable"});
  if (!args.ok() || args->positional.empty()) {
    std::fprintf(stderr, "usage: ehr import --data DIR FILE_OR_DIR...\n%s\n",
                 args.ok() ? "" : args.status().message().c_str());
    return 2;
  }
  auto files = io::ListResourceFiles(args->positional);
  if (!files.ok()) {
    std::fprintf(stderr, "ehr import: %s\n", files.status().message().c_str());
    return 2;
  }
  std::string data = args->Get("data", "data");
  std::error_code ec;
  std::filesystem::create_directories(data, ec);
  store::SqliteOptions so;
  so.path = data + "/ehr.db";
  so.durable = args->Get("durable", "on") != "off";
  auto store = store::OpenSqliteStore(so);
  if (!store.ok()) {
    std::fprintf(stderr, "ehr import: cannot open the database: %s\n", store.status().message().c_str());
    return 2;
  }
  security::NoAuthentication authn("default");
  security::AllowAll authz;
  api::FhirService service(**store, authn, authz, {});
  api::RequestContext ctx = service.SystemContext();

  BoundedQueue queue(4);
  std::thread producer([&] { Produce(service, ctx, *files, queue); });

  const bool tty = isatty(2);
  auto start = std::chrono::steady_clock::now();
  auto last_print = start;
  size_t files_done = 0, resources = 0, failed_units = 0;
  auto progress = [&](bool final) {
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double rate = secs > 0 ? resources / secs : 0;
    size_t total = files->size();
    int width = 30;
    int filled = total ? static_cast<int>(width * files_done / total) : width;
    std::string bar(static_cast<size_t>(filled), '=');
    bar.resize(static_cast<size_t>(width), ' ');
    std::fprintf(stderr, "%s[%s] %zu/%zu files, %zu resources, %.0f resources/s, %.1f s%s", tty ? "\r" : "",
                 bar.c_str(), files_done, total, resources, rate, secs, (final || !tty) ? "\n" : "");
    std::fflush(stderr);
  };
  Unit u;
  while (queue.Pop(u)) {
    if (u.end_of_file) {
      ++files_done;
      if (!u.prepared.ok() && u.prepared.status().code() != Code::kInternal) {
        ++failed_units;
        std::fprintf(stderr, "%sehr import: %s: %s\n", tty ? "\n" : "", u.file.c_str(),
                     u.prepared.status().message().c_str());
      }
    } else if (!u.prepared.ok()) {
      ++failed_units;
      std::fprintf(stderr, "%sehr import: %s: %s\n", tty ? "\n" : "", u.file.c_str(),
                   u.prepared.status().message().c_str());
    } else {
      auto result = service.CommitBundle(**u.prepared, ctx);
      if (result.ok()) {
        resources += u.entries;
      } else {
        ++failed_units;
        const auto& issues = result.status().issues();
        std::fprintf(stderr, "%sehr import: %s: %s%s%s\n", tty ? "\n" : "", u.file.c_str(),
                     result.status().message().c_str(), issues.empty() || issues[0].expression.empty() ? "" : " at ",
                     issues.empty() ? "" : issues[0].expression.c_str());
      }
    }
    auto now = std::chrono::steady_clock::now();
    if (now - last_print > std::chrono::milliseconds(tty ? 200 : 5000)) {
      progress(false);
      last_print = now;
    }
  }
  producer.join();
  progress(true);
  if (failed_units) {
    std::fprintf(stderr, "ehr import: %zu bundle(s) failed\n", failed_units);
    return 1;
  }
  return 0;
}

}  // namespace ehr::cli
