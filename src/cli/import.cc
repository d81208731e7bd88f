// ehr import: loads Bundles and NDJSON into a data directory.
//
// Files are committed in the order given (directories expand sorted by name), so a file may
// refer to resources of an earlier one through conditional references (Synthea's
// practitioner and hospital bundles come first). Producer threads (--threads, default one
// per core) read, decompress, parse and validate the next files while the current one
// commits.
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>

#include "api/service.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/key_store.h"
#include "cli/store_choice.h"
#include "search/sensitive_ids.h"
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
  std::vector<size_t> lines;  // NDJSON: the line of each entry, for error messages
  Result<std::shared_ptr<api::PreparedBundle>> prepared = Status::Internal("not prepared");
};

// Units of several files prepared in parallel, handed out in file order. Producers claim
// files at most `window` ahead of the one being committed, and each file's queue holds at
// most `per_file` units, so memory stays bounded however large a file is.
class OrderedUnits {
 public:
  OrderedUnits(size_t files, size_t window, size_t per_file)
      : queues_(files), finished_(files, false), errors_(files), window_(window), per_file_(per_file) {}

  // The next file for a producer, or false when all are claimed.
  bool Claim(size_t& file) {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [this] { return next_claim_ >= queues_.size() || next_claim_ < consuming_ + window_; });
    if (next_claim_ >= queues_.size()) return false;
    file = next_claim_++;
    return true;
  }
  void Push(size_t file, Unit u) {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [&] { return queues_[file].size() < per_file_; });
    queues_[file].push_back(std::move(u));
    changed_.notify_all();
  }
  void Finish(size_t file, Status error) {
    std::lock_guard<std::mutex> lock(mu_);
    finished_[file] = true;
    errors_[file] = std::move(error);
    changed_.notify_all();
  }
  // Next unit in file order. When a file is complete, `file_done` reports it (with its read
  // error, if any) instead of a unit. False at the end.
  bool Pop(Unit& out, std::optional<std::pair<size_t, Status>>& file_done) {
    std::unique_lock<std::mutex> lock(mu_);
    file_done.reset();
    if (consuming_ >= queues_.size()) return false;
    changed_.wait(lock, [this] { return !queues_[consuming_].empty() || finished_[consuming_]; });
    if (!queues_[consuming_].empty()) {
      out = std::move(queues_[consuming_].front());
      queues_[consuming_].pop_front();
    } else {
      file_done.emplace(consuming_, std::move(errors_[consuming_]));
      ++consuming_;
    }
    changed_.notify_all();
    return true;
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<std::deque<Unit>> queues_;  // GUARDED_BY(mu_)
  std::vector<bool> finished_;            // GUARDED_BY(mu_)
  std::vector<Status> errors_;            // GUARDED_BY(mu_)
  size_t next_claim_ = 0;                 // GUARDED_BY(mu_)
  size_t consuming_ = 0;                  // GUARDED_BY(mu_)
  const size_t window_;
  const size_t per_file_;
};

// Wraps loose resources (NDJSON lines) into a transaction: PUT when they carry an id, else POST.
// "Bundle.entry[3].resource.birthDate" of a wrapped NDJSON chunk -> "line 17: birthDate".
std::string Locate(const std::string& expression, const std::vector<size_t>& lines) {
  const std::string prefix = "Bundle.entry[";
  if (lines.empty() || expression.rfind(prefix, 0) != 0) return expression;
  size_t close = expression.find(']');
  size_t index = std::strtoul(expression.c_str() + prefix.size(), nullptr, 10);
  if (close == std::string::npos || index >= lines.size()) return expression;
  std::string rest = expression.substr(close + 1);
  if (rest.rfind(".resource", 0) == 0) rest.erase(0, 9);
  if (!rest.empty() && rest[0] == '.') rest.erase(0, 1);
  return "line " + std::to_string(lines[index]) + (rest.empty() ? "" : ": " + rest);
}

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
             OrderedUnits& units) {
  size_t index = 0;
  while (units.Claim(index)) {
    const std::string& file = files[index];
    std::vector<json::Value> loose;
    std::vector<size_t> loose_lines;
    size_t line = 0;
    auto emit = [&](json::Value bundle) {
      Unit u;
      u.file = file;
      u.entries = EntryCount(bundle);
      u.lines = std::move(loose_lines);
      loose_lines.clear();
      u.prepared = service.PrepareBundle(std::move(bundle), ctx);
      units.Push(index, std::move(u));
    };
    Status st = io::ForEachDocument(file, [&](std::string&& text) -> Status {
      ++line;
      auto parsed = json::Parse(text);
      if (!parsed.ok()) {
        return Status::Invalid("document " + std::to_string(line) + ": " + parsed.status().message());
      }
      json::Value doc = std::move(*parsed);
      std::string_view type = doc.GetString("type");
      if (doc.GetString("resourceType") == "Bundle" && (type == "batch" || type == "transaction")) {
        emit(std::move(doc));
      } else {
        loose.push_back(std::move(doc));
        loose_lines.push_back(line);
        if (loose.size() >= kNdjsonChunk) emit(TransactionOf(loose));
      }
      return Status::Ok();
    });
    if (!loose.empty()) emit(TransactionOf(loose));
    units.Finish(index, std::move(st));
  }
}

}  // namespace

int Import(int argc, char** argv) {
  auto args = ParseArgs(argc, argv, 2, WithStoreFlags(WithKeyStoreFlags({"data", "durable", "threads", "audit"})));
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
  auto keys = OpenKeyStore(*args, data);
  if (!keys.ok()) {
    std::fprintf(stderr, "ehr import: cannot open the key store: %s\n", keys.status().message().c_str());
    return 2;
  }
  auto choice = ParseStoreChoice(*args);
  if (!choice.ok()) {
    std::fprintf(stderr, "ehr import: %s\n", choice.status().message().c_str());
    return 2;
  }
  auto store = OpenStore(*choice, data, *keys, StoreTuning{8, args->Get("durable", "on") != "off"});
  if (!store.ok()) {
    std::fprintf(stderr, "ehr import: cannot open the database: %s\n", store.status().message().c_str());
    return 2;
  }
  security::NoAuthentication authn("default");
  security::AllowAll authz;
  // Each version imported is recorded in the audit log, like any write; --audit off only
  // measures what that costs (bench/run.sh).
  api::ServiceOptions service_options;
  service_options.audit = args->Get("audit", "on") != "off";
  auto blind_key = KeyStoreSecret(**store, kBlindIndexSecret, search::IdentifierBlinder::kKeyBytes, "");
  if (!blind_key.ok()) {
    std::fprintf(stderr, "ehr import: cannot read the blind index key: %s\n", blind_key.status().message().c_str());
    return 2;
  }
  search::IdentifierBlinder blinder(std::move(*blind_key));
  service_options.blinder = &blinder;
  api::FhirService service(**store, authn, authz, service_options);
  api::RequestContext ctx = service.SystemContext();

  int default_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto threads = ParseInt("threads", args->Get("threads", std::to_string(default_threads)), 1, 64);
  if (!threads.ok()) {
    std::fprintf(stderr, "ehr import: %s\n", threads.status().message().c_str());
    return 2;
  }
  OrderedUnits units(files->size(), static_cast<size_t>(*threads) + 2, 4);
  std::vector<std::thread> producers;
  for (int i = 0; i < *threads; ++i) producers.emplace_back([&] { Produce(service, ctx, *files, units); });

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
  std::optional<std::pair<size_t, Status>> file_done;
  auto report = [&](const std::string& file, const Status& st, const std::vector<size_t>& lines) {
    ++failed_units;
    const auto& issues = st.issues();
    std::string where = issues.empty() || issues[0].expression.empty() ? "" : " at " + Locate(issues[0].expression, lines);
    std::fprintf(stderr, "%sehr import: %s: %s%s\n", tty ? "\n" : "", file.c_str(), st.message().c_str(),
                 where.c_str());
  };
  while (units.Pop(u, file_done)) {
    if (file_done) {
      ++files_done;
      if (!file_done->second.ok()) report((*files)[file_done->first], file_done->second, {});
    } else if (!u.prepared.ok()) {
      report(u.file, u.prepared.status(), u.lines);
    } else {
      auto result = service.CommitBundle(**u.prepared, ctx);
      if (result.ok()) {
        resources += u.entries;
      } else {
        report(u.file, result.status(), u.lines);
      }
    }
    auto now = std::chrono::steady_clock::now();
    if (now - last_print > std::chrono::milliseconds(tty ? 200 : 5000)) {
      progress(false);
      last_print = now;
    }
  }
  for (auto& t : producers) t.join();
  progress(true);
  if (failed_units) {
    std::fprintf(stderr, "ehr import: %zu bundle(s) failed\n", failed_units);
    return 1;
  }
  return 0;
}

}  // namespace ehr::cli
