#include "support/ehr_process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace ehr::testing {

EhrProcess EhrProcess::Serve(const std::vector<std::string>& args,
                             const std::vector<std::pair<std::string, std::string>>& env,
                             const std::string& log_path) {
  const char* binary = std::getenv("EHR_BINARY");
  if (!binary) throw std::runtime_error("EHR_BINARY not set");
  std::vector<std::string> argv = {binary, "serve", "--listen", "127.0.0.1:0"};
  // A stand-alone vault unless the test says which node (without --role, `ehr serve` runs a
  // whole federation: tests/federation/all_in_one_test.cc).
  const bool all_in_one = std::find(args.begin(), args.end(), "--all-in-one") != args.end();
  if (!all_in_one && std::find(args.begin(), args.end(), "--role") == args.end()) {
    argv.insert(argv.end(), {"--role", "vault"});
  }
  for (const std::string& a : args) {
    if (a != "--all-in-one") argv.push_back(a);
  }
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe");
  EhrProcess p;
  p.pid = fork();
  if (p.pid == 0) {
    dup2(fds[1], 2);
    close(fds[0]);
    for (const auto& [name, value] : env) setenv(name.c_str(), value.c_str(), 1);
    std::vector<char*> raw;
    for (std::string& a : argv) raw.push_back(a.data());
    raw.push_back(nullptr);
    execv(binary, raw.data());
    _exit(127);
  }
  close(fds[1]);
  FILE* err = fdopen(fds[0], "r");
  char line[1024];
  while (fgets(line, sizeof line, err)) {
    std::string s(line);
    p.output += s;
    const std::string listening = "://127.0.0.1:";  // after http or https
    size_t at = s.find(listening);
    if (at != std::string::npos) {
      p.port = static_cast<uint16_t>(std::stoi(s.substr(at + listening.size())));
      break;
    }
  }
  if (p.port == 0) {
    fclose(err);  // it exited: everything it said is in `output`
    return p;
  }
  FILE* log = log_path.empty() ? nullptr : fopen(log_path.c_str(), "w");
  if (log) fputs(p.output.c_str(), log);
  std::thread([err, log] {
    char buf[4096];
    while (fgets(buf, sizeof buf, err)) {
      if (log) {
        fputs(buf, log);
        fflush(log);
      }
    }
    fclose(err);
    if (log) fclose(log);
  }).detach();
  return p;
}

int EhrProcess::Stop(int signal) {
  if (pid <= 0) return -1;
  kill(pid, signal);
  int status = 0;
  waitpid(pid, &status, 0);
  pid = -1;  // reaped: its number may be another process's by now
  return status;
}

int EhrProcess::Wait() {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::pair<int, std::string> RunEhr(const std::string& args) {
  return RunCommand(std::string(std::getenv("EHR_BINARY")) + " " + args);
}

std::pair<int, std::string> RunCommand(const std::string& command) {
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return {-1, "popen failed"};
  // fread, not fgets: the output may be binary (a segment's entries through gzip -dc), and
  // appending fgets' buffer as a C string cut it at each NUL byte (a flaky test followed).
  std::string out;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::string LastLine(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  const size_t nl = s.rfind('\n');
  return nl == std::string::npos ? s : s.substr(nl + 1);
}

std::string NodeKey(const std::string& data) {
  auto [code, out] = RunEhr("federation node-key --data " + data);
  if (code != 0) throw std::runtime_error("ehr federation node-key: " + out);
  return LastLine(out);
}

void WritePepper(const std::string& path) {
  auto [code, pepper] = RunEhr("federation pepper");
  if (code != 0) throw std::runtime_error("ehr federation pepper: " + pepper);
  std::ofstream(path) << LastLine(pepper);
  std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

}  // namespace ehr::testing
