// The node's administrative commands in its audit log (issue 7: every administrative
// action produces an entry): `ehr keys rotate|retire`, `ehr audit erase|export`, `ehr user`
// (but list), `ehr client add`, `ehr token`, `ehr backup`, `ehr reindex` and `ehr
// federation reconcile --repair` record what they did (re-encryption and archiving are
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
};

Status RecordAdministration(store::Store& store, const AdminRecord& record);

// For the commands that do not otherwise open the node's store (`ehr user`, `ehr client`,
// `ehr token`, `ehr backup`): records in it (SQLite DATA/ehr.db, or `--store`,
// cli/store_choice.h). A node that has never started has no log yet: the command then says
// on stderr that it was not recorded, and succeeds.
Status RecordInNodeLog(const Args& args, const AdminRecord& record);

// "cli:" and the name of the account running this process (its uid when it has none).
std::string CommandUser();

}  // namespace ehr::cli
