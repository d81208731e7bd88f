// The node's administrative commands in its audit log (issue 7: every administrative
// action produces an entry): `ehr keys rotate|retire`, `ehr audit erase|export`, `ehr user`
// (but list), `ehr client add`, `ehr token`, `ehr backup`, `ehr restore`, `ehr reindex`, `ehr
// federation reconcile --repair` and `ehr federation witness-reset` record what they did (re-encryption and archiving are
// routine, as the server's own jobs are), as a security-alert entry (audit/entry.h) whose
// user is the operating-system account that ran the command ("cli:<name>") and whose client
// is "ehr-cli". Recorded right after the action succeeded (before it, for those that show
// what they disclose: export, token), in a write of its own (the store changes of these
// commands are not single write transactions); a failure to record is the command's failure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cli/args.h"
#include "core/status.h"
#include "store/store.h"

namespace ehr::cli {

struct AdminRecord {
  std::string subtype;      // "keys-rotate", "audit-erase"...
  std::string tenant = "default";  // the tenant concerned; node-wide actions: "default"
  std::string patient;      // the patient concerned (an export of their entries), in the erasable detail
  std::vector<std::string> entities;  // what it acted on, without personal data ("kek/file:2")
  std::string outcome_text;  // what it did, counts only ("retired 1 key-encryption key")
  std::string user;          // who did it; empty: this process's account (CommandUser)
};

Status RecordAdministration(store::Store& store, const AdminRecord& record);

// For the commands that do not otherwise open the node's store (`ehr user`, `ehr client`,
// `ehr token`, `ehr backup`): records in it (SQLite DATA/ehr.db, or `--store`,
// cli/store_choice.h). A node that has never started has no log yet: the command then says
// on stderr that it was not recorded, and succeeds.
Status RecordInNodeLog(const Args& args, const AdminRecord& record);

// The nodes of the data directory `data`: itself when it holds a node's database (ehr.db),
// else each subdirectory that does (`ehr serve` without --role: vault-uk, mpi, gateway...).
std::vector<std::string> NodeDirectories(const std::string& data);

// `args` for the node in `dir` of the data directory `data`: the key store flags are a lone
// node's; a subdirectory's node keeps its keyring beside its database.
Args NodeArgs(const Args& args, const std::string& data, const std::string& dir);

// RecordInNodeLog in every node of --data (`ehr backup` of a federation in one process
// records in each node's log). The key store flags are a lone node's: in a federation in
// one process each node keeps its keyring in its own directory.
Status RecordInNodeLogs(const Args& args, const AdminRecord& record);

// A restore in each node's log. `ehr restore` leaves a mark (kRestoreMark: who restored
// which backup) in each node it restored, then records it at once where the node's keys are
// there (restored with the keyring, or given --keyring / a PKCS#11 token); where they are
// not yet (a backup without its keyring, the default), the node records it when it next
// opens (`ehr serve`, ServeNode::Open), so a restored node never serves without the restore
// in its log. The mark is removed once recorded (a crash between the two records it twice).
inline constexpr char kRestoreMark[] = "restore.pending";
Status MarkRestore(const std::string& node_dir, const std::string& backup_created, size_t files);
// Records the restore marked in `node_dir`, if any, and removes the mark.
Status RecordPendingRestore(store::Store& store, const std::string& node_dir);
// The same for `ehr restore`, opening the node of `node_dir` (in the data directory `data`)
// with the key store flags of `args`: false, with nothing done, when its keyring is not
// there yet.
Result<bool> RecordRestoreNow(const Args& args, const std::string& data, const std::string& node_dir);

// "cli:" and the name of the account running this process (its uid when it has none).
std::string CommandUser();

}  // namespace ehr::cli
