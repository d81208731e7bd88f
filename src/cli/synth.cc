// ehr synth: writes a synthetic population of one region (see synth/generator.h).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "cli/args.h"
#include "cli/commands.h"
#include "synth/dates.h"
#include "synth/generator.h"

namespace ehr::cli {

namespace {

constexpr const char* kUsage =
    "usage: ehr synth --region uk|de|fr|us --patients N --out DIR [--seed S] [--format ndjson|bundle]\n"
    "                 [--years Y] [--end YYYY-MM-DD] [--travellers SHARE] [--duplicates SHARE] [--threads T]\n"
    "                 [--part K/N]   (only the K-th of N equal parts of the population, K from 0)\n";

Result<double> ParseShare(const std::string& flag, const std::string& value) {
  char* end = nullptr;
  const double share = std::strtod(value.c_str(), &end);
  if (value.empty() || *end != '\0' || !(share >= 0 && share <= 0.5)) {
    return Status::Invalid("--" + flag + " must be a share between 0 and 0.5");
  }
  return share;
}

}  // namespace

int Synth(int argc, char** argv) {
  Result<Args> args = ParseArgs(argc, argv, 2,
                                {"region", "patients", "seed", "out", "format", "years", "end", "travellers",
                                 "duplicates", "threads", "part"});
  if (!args.ok() || !args->positional.empty() || !args->Has("out") || !args->Has("region") ||
      !args->Has("patients")) {
    std::fprintf(stderr, "%s%s\n", kUsage, args.ok() ? "" : args.status().message().c_str());
    return 2;
  }
  synth::Options options;
  std::string problem;
  if (!synth::ParseRegion(args->Get("region"), options.region)) problem = "--region must be uk, de, fr or us";
  Result<int> patients = ParseInt("patients", args->Get("patients"), 1, 100000000);
  Result<int> years = ParseInt("years", args->Get("years", "5"), 1, 100);
  Result<int> threads = ParseInt("threads", args->Get("threads", std::to_string(std::max(1u, std::thread::hardware_concurrency()))), 1, 256);
  Result<double> travellers = ParseShare("travellers", args->Get("travellers", "0.02"));
  Result<double> duplicates = ParseShare("duplicates", args->Get("duplicates", "0.03"));
  const std::string format = args->Get("format", "ndjson");
  const std::string seed = args->Get("seed", "1");
  char* seed_end = nullptr;
  options.seed = std::strtoull(seed.c_str(), &seed_end, 10);
  for (const Status& st : {patients.status(), years.status(), threads.status(), travellers.status(), duplicates.status()}) {
    if (!st.ok() && problem.empty()) problem = st.message();
  }
  if (problem.empty() && (seed.empty() || *seed_end != '\0')) problem = "--seed must be a whole number";
  if (problem.empty() && format != "ndjson" && format != "bundle") problem = "--format must be ndjson or bundle";
  // The data set's "today" is fixed, not the clock's, so a seed always gives the same bytes.
  if (problem.empty() && !synth::ParseDate(args->Get("end", "2026-01-01"), options.end_day)) {
    problem = "--end must be a date YYYY-MM-DD";
  }
  if (problem.empty() && args->Has("part")) {
    unsigned k = 0, n = 0;
    char tail = 0;
    if (std::sscanf(args->Get("part").c_str(), "%u/%u%c", &k, &n, &tail) != 2 || n == 0 || k >= n ||
        n > static_cast<unsigned>(*patients)) {
      problem = "--part must be K/N with 0 <= K < N <= --patients";
    }
    options.part = k;
    options.parts = n;
  }
  if (!problem.empty()) {
    std::fprintf(stderr, "%sehr synth: %s\n", kUsage, problem.c_str());
    return 2;
  }
  options.patients = static_cast<uint32_t>(*patients);
  options.years = *years;
  options.travellers = *travellers;
  options.duplicates = *duplicates;
  options.bundles = format == "bundle";

  const bool tty = isatty(STDERR_FILENO);
  const auto start = std::chrono::steady_clock::now();
  auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  Result<synth::GenerateStats> stats =
      synth::Generate(options, args->Get("out"), *threads, [&](const synth::GenerateStats& s) {
        if (tty) std::fprintf(stderr, "\r%llu patients", static_cast<unsigned long long>(s.patients));
      });
  if (tty) std::fprintf(stderr, "\n");
  if (!stats.ok()) {
    std::fprintf(stderr, "ehr synth: %s\n", stats.status().message().c_str());
    return 1;
  }
  const double elapsed = seconds();
  std::printf("wrote %llu patients, %llu resources (%.1f MB) to %s in %.2f s: %.0f patients/s, %.0f resources/s\n",
              static_cast<unsigned long long>(stats->patients), static_cast<unsigned long long>(stats->resources),
              stats->bytes / 1e6, args->Get("out").c_str(), elapsed, stats->patients / elapsed,
              stats->resources / elapsed);
  for (size_t k = 0; k < stats->counts.size(); ++k) {
    std::printf("  %-20s %llu\n", std::string(synth::KindName(static_cast<synth::Kind>(k))).c_str(),
                static_cast<unsigned long long>(stats->counts[k]));
  }
  for (size_t t = 0; t < stats->truth_rows.size(); ++t) {
    std::printf("  ground-truth/%-18s %llu rows\n",
                std::string(synth::TruthFile(static_cast<synth::Truth>(t))).c_str(),
                static_cast<unsigned long long>(stats->truth_rows[t]));
  }
  return 0;
}

}  // namespace ehr::cli
