#include "keys/softhsm_test_util.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <utility>
#include <vector>

extern char** environ;

namespace ehr::keys::testing {
namespace {

constexpr const char* kModulePath = "/usr/lib/softhsm/libsofthsm2.so";

// Runs `argv` (no shell) with its standard output discarded; its exit status or -1.
int Run(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int spawned = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return -1;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

Result<SoftHsmToken> SoftHsmToken::Start(const std::string& label) {
  if (::access(kModulePath, R_OK) != 0) return Status::Internal(std::string("no SoftHSM2 module at ") + kModulePath);
  const char* tmp = std::getenv("TMPDIR");
  std::string dir = std::string(tmp && *tmp ? tmp : "/tmp") + "/ehr_softhsm_XXXXXX";
  if (::mkdtemp(dir.data()) == nullptr) return Status::Internal("mkdtemp: " + std::string(std::strerror(errno)));
  SoftHsmToken token;
  token.dir_ = dir;  // from here the destructor removes it
  token.conf_path_ = dir + "/softhsm2.conf";
  token.module_path_ = kModulePath;
  token.label_ = label;
  token.pin_ = "1234";
  token.so_pin_ = "5678";
  if (::mkdir((dir + "/tokens").c_str(), 0700) != 0) return Status::Internal("cannot make " + dir + "/tokens");
  {
    std::ofstream conf(token.conf_path_);
    conf << "directories.tokendir = " << dir << "/tokens\n"
         << "objectstore.backend = file\n"
         << "log.level = ERROR\n";
    if (!conf) return Status::Internal("cannot write " + token.conf_path_);
  }
  ::setenv("SOFTHSM2_CONF", token.conf_path_.c_str(), 1);
  const int exit_status = Run(
      {"softhsm2-util", "--init-token", "--free", "--label", label, "--pin", token.pin_, "--so-pin", token.so_pin_});
  if (exit_status != 0) {
    return Status::Internal("softhsm2-util --init-token failed (exit status " + std::to_string(exit_status) + ")");
  }
  return token;
}

SoftHsmToken::SoftHsmToken(SoftHsmToken&& other) noexcept
    : dir_(std::exchange(other.dir_, {})),
      conf_path_(std::move(other.conf_path_)),
      module_path_(std::move(other.module_path_)),
      label_(std::move(other.label_)),
      pin_(std::move(other.pin_)),
      so_pin_(std::move(other.so_pin_)) {}

SoftHsmToken::~SoftHsmToken() {
  if (dir_.empty()) return;
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

}  // namespace ehr::keys::testing
