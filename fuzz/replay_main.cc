// Runs a fuzz target over saved inputs, for builds without libFuzzer (the normal g++ build),
// so that `ctest` replays every seed corpus and every regression file.
//
//   fuzz_x PATH...                    runs every file (directories: their files, sorted) in
//                                     this process; a crash ends it, after naming the input.
//   fuzz_x --expect-failure PATH...   runs each file in a child process and succeeds only if
//                                     every one of them crashes: for reproducers of known,
//                                     unfixed bugs. When one passes, its bug is fixed and the
//                                     file belongs in the corpus.
// Exits 0 on success, 1 on a failure, 2 on bad usage; a crash exits by its signal.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc, char*** argv);

namespace {

namespace fs = std::filesystem;

// The input being run, for the crash handler (async-signal-safe to read: set before each run).
const char* g_current_input = nullptr;

void OnCrash(int sig) {
  if (g_current_input != nullptr) {
    const char prefix[] = "\nfuzz replay: crashed on input ";
    ssize_t ignored = write(STDERR_FILENO, prefix, sizeof(prefix) - 1);
    ignored = write(STDERR_FILENO, g_current_input, strlen(g_current_input));
    ignored = write(STDERR_FILENO, "\n", 1);
    (void)ignored;
  }
  signal(sig, SIG_DFL);  // then die of the same signal, so the exit status tells what happened
  raise(sig);
}

void InstallCrashHandlers() {
  for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) signal(sig, OnCrash);
}

bool CollectInputs(const std::string& path, std::vector<std::string>* inputs) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    std::vector<std::string> found;
    for (fs::directory_iterator it(path, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file(ec)) found.push_back(it->path().string());
    }
    if (ec) {
      std::fprintf(stderr, "fuzz replay: cannot list %s: %s\n", path.c_str(), ec.message().c_str());
      return false;
    }
    std::sort(found.begin(), found.end());
    inputs->insert(inputs->end(), found.begin(), found.end());
    return true;
  }
  if (fs::is_regular_file(path, ec)) {
    inputs->push_back(path);
    return true;
  }
  std::fprintf(stderr, "fuzz replay: no such file or directory: %s\n", path.c_str());
  return false;
}

// Runs one input. The bytes sit in a heap block of exactly their size, as under libFuzzer,
// so a sanitizer build catches a read past the end.
int RunOne(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) {
    std::fprintf(stderr, "fuzz replay: cannot read %s\n", path.c_str());
    return 1;
  }
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::unique_ptr<uint8_t[]> data(new uint8_t[bytes.size()]);
  std::copy(bytes.begin(), bytes.end(), data.get());
  g_current_input = path.c_str();
  int rc = LLVMFuzzerTestOneInput(data.get(), bytes.size());
  g_current_input = nullptr;
  // libFuzzer reserves every result but 0 and -1 (reject the input).
  if (rc != 0 && rc != -1) {
    std::fprintf(stderr, "fuzz replay: target returned %d on %s\n", rc, path.c_str());
    return 1;
  }
  return 0;
}

// Runs one input in a child; true if the child failed (crashed or exited non-zero).
bool FailsInChild(const std::string& path) {
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    // Quiet the expected crash report: it is the point, not news.
    if (std::freopen("/dev/null", "w", stderr) == nullptr) _exit(3);
    _exit(RunOne(path));
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) {
    std::fprintf(stderr, "fuzz replay: cannot run a child for %s\n", path.c_str());
    return false;
  }
  return WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) != 0);
}

}  // namespace

int main(int argc, char** argv) {
  if (LLVMFuzzerInitialize != nullptr) LLVMFuzzerInitialize(&argc, &argv);
  bool expect_failure = false;
  std::vector<std::string> inputs;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--expect-failure") {
      expect_failure = true;
    } else if (!arg.empty() && arg[0] == '-') {
      std::fprintf(stderr, "usage: %s [--expect-failure] FILE_OR_DIR...\n", argv[0]);
      return 2;
    } else if (!CollectInputs(arg, &inputs)) {
      return 1;
    }
  }
  // A replay that runs nothing proves nothing: an empty or mistyped corpus is an error.
  if (inputs.empty()) {
    std::fprintf(stderr, "fuzz replay: no inputs\n");
    return 1;
  }

  if (expect_failure) {
    int fixed = 0;
    for (const std::string& path : inputs) {
      if (!FailsInChild(path)) {
        std::fprintf(stderr, "fuzz replay: %s no longer fails: its bug looks fixed, move it into the corpus\n",
                     path.c_str());
        ++fixed;
      }
    }
    std::printf("fuzz replay: %zu known-bug inputs, %zu still fail, %d pass\n", inputs.size(),
                inputs.size() - static_cast<size_t>(fixed), fixed);
    return fixed == 0 ? 0 : 1;
  }

  InstallCrashHandlers();
  for (const std::string& path : inputs) {
    if (RunOne(path) != 0) return 1;
  }
  std::printf("fuzz replay: %zu inputs ran without failure\n", inputs.size());
  return 0;
}
