// One audit log entry: what happened, who did it, from where, and about whom, encoded into
// the two parts the store keeps (store/store.h, AuditAppend):
//   core    what the entry says without personal data (time, tenant, action, outcome,
//           the user's account, roles, client, purpose of use, address, request id), and
//           the SHA-256 of the detail. Its leaf hash is the entry's place in the Merkle tree.
//   detail  the personal part (the patient, the resources, the query, the user's FHIR
//           identity) with 16 random bytes, so that its digest cannot be matched against
//           guessed patients. Erasure removes it; the digest in the core keeps the tree whole.
// Both are compact JSON with the members in a fixed order. They are rendered as FHIR
// AuditEvents following the IHE Basic Audit Log Patterns (BALP).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "fhir/json/value.h"

namespace ehr::audit {

struct Event {
  // What: AuditEvent.type is "rest" for a FHIR interaction (subtype the restful
  // interaction code or the operation), else a DICOM/IHE event (login, logout, ...).
  std::string type = "rest";
  std::string subtype;   // "read", "search-type", "create", "$everything", "login", "break-glass"...
  std::string action;    // C, R, U, D, E
  int outcome = 0;       // 0 success, 4 minor failure (denied, refused), 8 serious, 12 major
  std::string outcome_text;  // why it failed, without personal data
  Micros recorded = 0;
  std::string tenant;
  // Who and from where (no patient data).
  std::string user;       // the account or client id; "" when unauthenticated
  std::vector<std::string> roles;
  std::string client_id;  // the SMART app or backend service
  std::string purpose;    // purpose of use (v3-ActReason: TREAT, ETREAT, HRESCH...)
  std::string address;    // the client's network address
  std::string certificate;  // the client machine's certificate (mutual TLS): "sha256:<hex>"; "" without
  std::string request_id;
  std::string server;     // the node that recorded it (region)
  // About whom (detail).
  std::string patient;    // Patient id whose record the action touched; "" when none
  std::vector<std::string> entities;  // "Observation/5/_history/2" or "Observation/5"
  std::string query;      // the query as received (searches)
  std::string fhir_user;  // the user as a FHIR resource ("Practitioner/1"), when known
};

struct Encoded {
  std::string core;
  std::string detail;
};

// `salt` (16 bytes) is random unless given (tests).
Encoded Encode(const Event& e, std::string salt = {});

// The event an entry records. `detail` is nullopt once erased (the personal members are
// then empty). kInvalid when the core is not an entry's core, or when the detail is not
// the one the core's digest commits to.
Result<Event> Decode(std::string_view core, const std::optional<std::string>& detail);

// The entry as a FHIR R4 AuditEvent with id `index` (its place in the log). An erased
// detail shows as an entity whose description says so.
json::Value ToAuditEvent(const Event& e, uint64_t index, bool erased);

}  // namespace ehr::audit
