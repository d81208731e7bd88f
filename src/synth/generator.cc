#include "synth/generator.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "synth/world.h"

namespace ehr::synth {

namespace {

constexpr uint32_t kChunk = 64;  // patients per unit of work

class OutputFile {
 public:
  ~OutputFile() { Close(); }
  Status Open(const std::string& path) {
    file_ = std::fopen(path.c_str(), "wb");
    if (!file_) return Status::Internal("cannot create " + path);
    path_ = path;
    std::setvbuf(file_, nullptr, _IOFBF, 1 << 20);
    return Status::Ok();
  }
  Status Write(std::string_view text) {
    if (text.empty()) return Status::Ok();
    if (std::fwrite(text.data(), 1, text.size(), file_) != text.size()) return Status::Internal("cannot write " + path_);
    return Status::Ok();
  }
  Status Close() {
    if (!file_) return Status::Ok();
    const bool ok = std::fclose(file_) == 0;
    file_ = nullptr;
    return ok ? Status::Ok() : Status::Internal("cannot write " + path_);
  }
  bool is_open() const { return file_ != nullptr; }

 private:
  std::FILE* file_ = nullptr;
  std::string path_;
};

class Writer {
 public:
  Writer(const Options& options, std::string dir) : options_(options), dir_(std::move(dir)) {}

  Status Start() {
    std::error_code ec;
    std::filesystem::create_directories(dir_ + "/ground-truth", ec);
    if (ec) return Status::Internal("cannot create " + dir_ + "/ground-truth: " + ec.message());
    for (size_t t = 0; t < truth_.size(); ++t) {
      const Truth which = static_cast<Truth>(t);
      if (Status st = truth_[t].Open(dir_ + "/ground-truth/" + std::string(TruthFile(which))); !st.ok()) return st;
      if (Status st = truth_[t].Write(std::string(TruthHeader(which)) + "\n"); !st.ok()) return st;
    }
    return Status::Ok();
  }

  Status Append(const Sink& sink, GenerateStats& stats) {
    for (size_t k = 0; k < sink.ndjson.size(); ++k) {
      const std::string& text = sink.ndjson[k];
      if (text.empty()) continue;
      if (!ndjson_[k].is_open()) {
        const std::string path = dir_ + "/" + std::string(KindName(static_cast<Kind>(k))) + ".ndjson";
        if (Status st = ndjson_[k].Open(path); !st.ok()) return st;
      }
      if (Status st = ndjson_[k].Write(text); !st.ok()) return st;
      stats.bytes += text.size();
    }
    for (const auto& [name, text] : sink.files) {
      OutputFile file;
      if (Status st = file.Open(dir_ + "/" + name); !st.ok()) return st;
      if (Status st = file.Write(text); !st.ok()) return st;
      if (Status st = file.Close(); !st.ok()) return st;
      stats.bytes += text.size();
    }
    for (size_t t = 0; t < sink.truth.size(); ++t) {
      if (Status st = truth_[t].Write(sink.truth[t]); !st.ok()) return st;
      stats.truth_rows[t] += static_cast<uint64_t>(std::count(sink.truth[t].begin(), sink.truth[t].end(), '\n'));
    }
    stats.resources += sink.resources();
    for (size_t k = 0; k < sink.counts.size(); ++k) stats.counts[k] += sink.counts[k];
    return Status::Ok();
  }

  Status Finish() {
    for (OutputFile& f : ndjson_) {
      if (Status st = f.Close(); !st.ok()) return st;
    }
    for (OutputFile& f : truth_) {
      if (Status st = f.Close(); !st.ok()) return st;
    }
    return Status::Ok();
  }

 private:
  const Options& options_;
  std::string dir_;
  std::array<OutputFile, static_cast<size_t>(Kind::kCount)> ndjson_;
  std::array<OutputFile, static_cast<size_t>(Truth::kCount)> truth_;
};

std::unique_ptr<Sink> MakeChunk(const Options& options, const World& world, uint32_t begin, uint32_t end,
                                uint32_t chunk) {
  auto sink = std::make_unique<Sink>(options.bundles);
  const uint32_t first = begin + chunk * kChunk;
  const uint32_t last = std::min(end, first + kChunk);
  for (uint32_t i = first; i < last; ++i) {
    if (options.bundles) sink->BeginBundle(PatientId(options.seed, options.region, i) + ".json");
    WriteRecord(options, world, i, *sink);
    if (options.bundles) sink->EndBundle();
  }
  return sink;
}

}  // namespace

Result<GenerateStats> Generate(const Options& options, const std::string& out_dir, int threads,
                               const std::function<void(const GenerateStats&)>& progress) {
  GenerateStats stats;
  Writer writer(options, out_dir);
  if (Status st = writer.Start(); !st.ok()) return st;
  const World world = MakeWorld(options.seed, options.region, options.patients);
  if (options.parts == 0 || options.part >= options.parts) return Status::Invalid("no such part");
  const uint32_t begin = static_cast<uint32_t>(uint64_t{options.patients} * options.part / options.parts);
  const uint32_t end = static_cast<uint32_t>(uint64_t{options.patients} * (options.part + 1) / options.parts);
  if (options.part == 0) {
    Sink providers(options.bundles);
    if (options.bundles) providers.BeginBundle("0-providers.json");
    WriteWorld(world, providers);
    if (options.bundles) providers.EndBundle();
    if (Status st = writer.Append(providers, stats); !st.ok()) return st;
  }

  const uint32_t chunks = (end - begin + kChunk - 1) / kChunk;
  const uint32_t window = static_cast<uint32_t>(std::max(threads, 1)) * 4;  // chunks in memory at most
  std::mutex mu;
  std::condition_variable changed;
  std::map<uint32_t, std::unique_ptr<Sink>> done;
  uint32_t next_claim = 0;
  uint32_t next_write = 0;
  bool failed = false;

  auto work = [&] {
    for (;;) {
      uint32_t chunk;
      {
        std::unique_lock<std::mutex> lock(mu);
        changed.wait(lock, [&] { return failed || next_claim >= chunks || next_claim < next_write + window; });
        if (failed || next_claim >= chunks) return;
        chunk = next_claim++;
      }
      std::unique_ptr<Sink> sink = MakeChunk(options, world, begin, end, chunk);
      std::lock_guard<std::mutex> lock(mu);
      done.emplace(chunk, std::move(sink));
      changed.notify_all();
    }
  };
  std::vector<std::thread> workers;
  for (int t = 0; t < std::max(threads, 1); ++t) workers.emplace_back(work);

  Status status = Status::Ok();
  while (next_write < chunks) {
    std::unique_ptr<Sink> sink;
    {
      std::unique_lock<std::mutex> lock(mu);
      changed.wait(lock, [&] { return done.count(next_write) > 0; });
      sink = std::move(done[next_write]);
      done.erase(next_write);
    }
    status = writer.Append(*sink, stats);
    stats.patients = std::min<uint64_t>(end - begin, (uint64_t{next_write} + 1) * kChunk);
    std::lock_guard<std::mutex> lock(mu);
    ++next_write;
    if (!status.ok()) {
      failed = true;
      changed.notify_all();
      break;
    }
    changed.notify_all();
    if (progress) progress(stats);
  }
  for (std::thread& t : workers) t.join();
  if (!status.ok()) return status;
  if (Status st = writer.Finish(); !st.ok()) return st;
  return stats;
}

}  // namespace ehr::synth
