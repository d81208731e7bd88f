#include "cli/admin_audit.h"

#include <pwd.h>
#include <unistd.h>

#include "api/audit_trail.h"
#include "audit/entry.h"

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

}  // namespace ehr::cli
