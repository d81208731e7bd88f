#include "cli/admin_audit.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdio>

#include "api/audit_trail.h"
#include "audit/entry.h"
#include "cli/key_store.h"
#include "cli/store_choice.h"

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
  e.user = CommandUser();
  e.client_id = "ehr-cli";
  e.address = "local";
  e.patient = record.patient;
  e.entities = record.entities;
  return store.Write([&](store::WriteTxn& txn) {
    e.recorded = txn.Now();
    return txn.AppendAudit(api::AppendOf(e)).status();
  });
}

Status RecordInNodeLog(const Args& args, const AdminRecord& record) {
  EHR_ASSIGN_OR_RETURN(StoreChoice choice, ParseStoreChoice(args));
  Result<DataStore> node = OpenDataStore(args, args.Get("data", "data"), choice, 1);
  if (node.status().code() == Code::kNotFound) {
    std::fprintf(stderr, "ehr: not recorded in the audit log: %s (the node has not started yet)\n",
                 node.status().message().c_str());
    return Status::Ok();
  }
  EHR_RETURN_IF_ERROR(node.status());
  return RecordAdministration(*node->store, record);
}

}  // namespace ehr::cli
