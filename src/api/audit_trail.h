// What one request did, for the audit log (audit/entry.h): the interaction, the resources
// it disclosed grouped by patient (IHE BALP: one entry per patient whose data was
// returned), the query, and whether its write transaction already recorded it (writes
// append their entries in the transaction of the change: api/audit_record.cc).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "audit/entry.h"
#include "store/store.h"

namespace ehr::api {

class AuditTrail {
 public:
  // A resource returned to the caller. `name_it`: the entry names the resource (reads);
  // searches name the patients and the query only.
  void Disclosed(const store::VersionRecord& rec, bool name_it);
  void Query(std::string query) { query_ = std::move(query); }
  // A patient's record was touched without a resource to show for it (e.g. $everything
  // of a record the caller may not see).
  void Touched(std::string patient);
  // The write transaction recorded the request's entries (with its outcome).
  void MarkRecorded() { recorded_ = true; }
  bool recorded() const { return recorded_; }
  bool disclosed() const { return !by_patient_.empty() || disclosed_other_; }

  // The entries to append: `base` with the patient, resources and query of each.
  std::vector<audit::Event> Events(const audit::Event& base) const;

 private:
  std::map<std::string, std::vector<std::string>> by_patient_;  // patient -> resources named
  std::vector<std::string> other_;  // resources outside any patient's record
  bool disclosed_other_ = false;
  std::string query_;
  bool recorded_ = false;
};

// Appends audit entries of many requests in one store write: each request's entries wait in
// a queue, and one write job at a time takes everything queued when the writer runs it (one
// savepoint and one commit for all, instead of one per read). `done` is called once the
// entries are durable, or with the error, on a store thread.
class AuditBatcher {
 public:
  explicit AuditBatcher(store::Store& store) : store_(store) {}
  void Append(std::vector<store::AuditAppend> entries, std::function<void(Status)> done);

 private:
  struct Pending {
    std::vector<store::AuditAppend> entries;
    std::function<void(Status)> done;
  };
  void Schedule();  // under mu_

  store::Store& store_;
  std::mutex mu_;
  std::vector<Pending> queue_;  // guarded by mu_
  bool scheduled_ = false;      // guarded by mu_: a job that will take the queue is on its way
};

// An event as the store appends it (encoded: audit/entry.h).
store::AuditAppend AppendOf(const audit::Event& e);

// The restful interaction code (or the operation) of a request, for AuditEvent.subtype,
// and its AuditEvent.action (C R U D E).
struct AuditInteraction {
  std::string subtype;
  std::string action;
};

}  // namespace ehr::api
