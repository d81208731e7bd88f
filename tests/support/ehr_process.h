// The real `ehr serve` binary ($EHR_BINARY) as a child process on a free port: started
// with the given arguments and environment, its port read from its start-up line, its
// stderr drained so it never blocks.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ehr::testing {

struct EhrProcess {
  pid_t pid = -1;
  uint16_t port = 0;  // 0: it did not get as far as listening
  std::string output;  // stderr up to the listening line (or all of it, when it exited)

  // `ehr serve --listen 127.0.0.1:0 ARGS...` with `env` added to the environment: a
  // stand-alone vault (`--role vault`) unless ARGS name a role, or hold "--all-in-one" (taken
  // out): the federation in one process that `ehr serve` without a role runs.
  // `log_path`, when given, receives everything it writes to stderr (its logs).
  static EhrProcess Serve(const std::vector<std::string>& args,
                          const std::vector<std::pair<std::string, std::string>>& env = {},
                          const std::string& log_path = "");
  // Sends `signal` and waits; the exit status as waitpid gives it (-1 when already stopped).
  int Stop(int signal);
  // Waits for an exit it makes itself (start-up failed); its exit code.
  int Wait();
};

// Runs a shell command to completion: its exit code (-1 when it did not exit normally) and
// what it wrote to stdout and stderr.
std::pair<int, std::string> RunCommand(const std::string& command);
// The same for `$EHR_BINARY ARGS` (a command such as `ehr audit verify`).
std::pair<int, std::string> RunEhr(const std::string& args);
// The last line of a command's output, without trailing blanks (what `ehr federation
// node-key`, `pepper` or `token` print last).
std::string LastLine(std::string s);

// A federation node's public key (`ehr federation node-key`), its key store made in `data`,
// and a new pepper (`ehr federation pepper`) in the file `path`, readable by its owner only;
// each throws std::runtime_error when the command fails.
std::string NodeKey(const std::string& data);
void WritePepper(const std::string& path);

}  // namespace ehr::testing
