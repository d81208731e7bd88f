#include "cli/admin_audit.h"

#include <pwd.h>
#include <unistd.h>

#include <fcntl.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "api/audit_trail.h"
#include "audit/entry.h"
#include "cli/key_store.h"
#include "cli/store_choice.h"
#include "core/files.h"

namespace ehr::cli {

std::string CommandUser() {
  const uid_t uid = ::geteuid();
  const passwd* account = ::getpwuid(uid);
  return "cli:" + (account != nullptr ? std::string(account->pw_name) : "uid-" + std::to_string(uid));
}

Status RecordAdministration(store::Store& store, const AdminRecord& record) {
  audit::Event e;
  e.type = "security-alert";
  e.subtype = record.subtype;
  e.action = "E";
  e.outcome = 0;
  e.outcome_text = record.outcome_text;
  e.tenant = record.tenant;
  e.user = record.user.empty() ? CommandUser() : record.user;
  e.client_id = "ehr-cli";
  e.address = "local";
  e.patient = record.patient;
  e.entities = record.entities;
  return store.Write([&](store::WriteTxn& txn) {
    e.recorded = txn.Now();
    return txn.AppendAudit(api::AppendOf(e)).status();
  });
}

namespace {

Status RecordInNodeLogAt(const Args& args, const std::string& dir, const AdminRecord& record) {
  EHR_ASSIGN_OR_RETURN(StoreChoice choice, ParseStoreChoice(args));
  Result<DataStore> node = OpenDataStore(args, dir, choice, 1);
  if (node.status().code() == Code::kNotFound) {
    std::fprintf(stderr, "ehr: not recorded in the audit log: %s (the node has not started yet)\n",
                 node.status().message().c_str());
    return Status::Ok();
  }
  EHR_RETURN_IF_ERROR(node.status());
  return RecordAdministration(*node->store, record);
}

}  // namespace

Args NodeArgs(const Args& args, const std::string& data, const std::string& dir) {
  Args node = args;
  if (dir != data) node.flags.erase("keyring");
  return node;
}

Status RecordInNodeLog(const Args& args, const AdminRecord& record) {
  return RecordInNodeLogAt(args, args.Get("data", "data"), record);
}

std::vector<std::string> NodeDirectories(const std::string& data) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(fs::path(data) / "ehr.db", ec)) return {data};
  std::vector<std::string> nodes;
  if (!fs::is_directory(data, ec)) return nodes;
  for (const auto& d : fs::directory_iterator(data, ec)) {
    if (d.is_directory() && fs::exists(d.path() / "ehr.db", ec)) nodes.push_back(d.path().string());
  }
  std::sort(nodes.begin(), nodes.end());
  return nodes;
}

Status RecordInNodeLogs(const Args& args, const AdminRecord& record) {
  const std::string data = args.Get("data", "data");
  std::vector<std::string> nodes = NodeDirectories(data);
  if (nodes.empty()) nodes.push_back(data);  // RecordInNodeLog says it has not started
  for (const std::string& dir : nodes) {
    EHR_RETURN_IF_ERROR(RecordInNodeLogAt(NodeArgs(args, data, dir), dir, record));
  }
  return Status::Ok();
}

Status MarkRestore(const std::string& node_dir, const std::string& backup_created, size_t files) {
  const std::string path = node_dir + "/" + kRestoreMark;
  const std::string text = "user=" + CommandUser() + "\nbackup=" + backup_created + "\nfiles=" + std::to_string(files) + "\n";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Internal("cannot create " + path);
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!written) return Status::Internal("cannot write " + path);
  return SyncDirectory(node_dir);
}

Result<bool> RecordRestoreNow(const Args& args, const std::string& data, const std::string& node_dir) {
  const Args node = NodeArgs(args, data, node_dir);
  std::error_code ec;
  if (node.Get("key-store", "file") == "file" && !std::filesystem::exists(KeyringPath(node, node_dir), ec)) return false;
  EHR_ASSIGN_OR_RETURN(StoreChoice choice, ParseStoreChoice(node));
  EHR_ASSIGN_OR_RETURN(DataStore opened, OpenDataStore(node, node_dir, choice, 1));
  EHR_RETURN_IF_ERROR(RecordPendingRestore(*opened.store, node_dir));
  return true;
}

Status RecordPendingRestore(store::Store& store, const std::string& node_dir) {
  const std::string path = node_dir + "/" + kRestoreMark;
  std::ifstream in(path);
  if (!in) return Status::Ok();
  std::map<std::string, std::string> fields;
  for (std::string line; std::getline(in, line);) {
    const size_t eq = line.find('=');
    if (eq != std::string::npos) fields[line.substr(0, eq)] = line.substr(eq + 1);
  }
  AdminRecord record;
  record.subtype = "restore";
  record.user = fields["user"].empty() ? "cli:unknown" : fields["user"];
  record.outcome_text = "restored the backup of " + fields["backup"] + " (" + fields["files"] + " files)";
  EHR_RETURN_IF_ERROR(RecordAdministration(store, record));
  if (::unlink(path.c_str()) != 0) return Status::Internal("cannot remove " + path);
  return SyncDirectory(node_dir);
}

}  // namespace ehr::cli
