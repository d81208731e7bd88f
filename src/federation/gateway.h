// The gateway's cross-border operations (issue 9; `ehr serve --role gateway`). For a
// clinician authenticated at the gateway:
//   GET /fhir/Patient/$locate?identifier=SYSTEM|VALUE
//       which regions hold a record for this person: a Parameters resource with one
//       `match` part (region, and nothing clinical) per record.
//   GET /fhir/Patient/$federated-everything?identifier=SYSTEM|VALUE[&_since=..&_type=..]
//       every home vault's Patient/{id}/$everything, fetched in parallel within the
//       federation's deadline and merged in memory (federation/merge.h); a vault that does
//       not answer in time yields a warning entry, never a hang.
//   GET /fhir/Patient/$federated-timeline?identifier=...   the merged record's timeline rows.
//   POST /fhir/Patient/$federated-write?identifier=...   body: a resource of the patient
//       compartment about the visitor (an Observation, a DocumentReference, ...), without
//       its subject: written to the vault FederationConfig::visitor_writes names, with the
//       subject set to the patient's record there (visitor_write.cc).
// The identifier is validated (check digits: 400 naming the parameter when it is not a valid
// national id) and pseudonymised here with the federation's pepper; only the pseudonym goes to
// the MPI. A vault call refused at once (connection refused or reset) is retried within the
// deadline (after 100 ms, then 200 ms); a region whose vault failed three lookups in a row is
// not called for 30 s (breaker.h), so a region that is down costs no wait. Each vault call carries a node token naming the clinician, their roles, this
// gateway's region and the purpose of use (ETREAT when the clinician broke the glass at the
// gateway: Principal::emergency, which `ehr serve` sets after recording the declaration):
// the home vault decides. Nothing clinical is written.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "federation/breaker.h"
#include "federation/config.h"
#include "mpi/pseudonym.h"
#include "net/http.h"
#include "security/node_token.h"
#include "security/pipeline.h"

namespace ehr::federation {

// What a gateway operation did, for the gateway's own audit log (its caller records it
// before the answer leaves): no identifier in clear, only its system and pseudonym.
struct GatewayRecord {
  std::string subtype;                // "$locate", "$federated-everything", "$federated-timeline"
  std::string query;                  // "identifier=SYSTEM|pseudonym:HEX"
  std::vector<std::string> entities;  // the records found: "uk:Patient/ID"
};

class Gateway {
 public:
  Gateway(const FederationConfig& config, const mpi::Pseudonymizer& pseudonyms, const security::NodeSigner& signer,
          Clock& clock, std::string region);
  // One of the operations above.
  static bool Handles(const net::Request& request);
  net::Response Handle(const net::Request& request, const security::Principal& who, GatewayRecord& record);

 private:
  struct Match {
    std::string region;
    std::string patient;    // its id at the region's vault
    std::string pseudonym;  // under which the MPI has it (the vault's pepper, while rotating)
  };
  // The identifier a clinician entered, validated and pseudonymised, and the MPI's records of it.
  struct Located {
    std::string system, value, pseudonym;  // pseudonym: under the newest pepper
    std::vector<Match> matches;
  };
  // Fills `out`; else the answer to give (400 for the identifier, 503 without the MPI).
  std::optional<net::Response> Locate(const net::Request& request, const std::string& route, GatewayRecord& record,
                                      Located& out);
  // POST $federated-write (visitor_write.cc).
  net::Response Write(const net::Request& request, const security::Principal& who, const Located& found,
                      const std::string& route, GatewayRecord& record);
  // An Authorization header for a call to `node` for the clinician `who` about `patient`.
  std::string TokenFor(const Node& node, const security::Principal& who, const std::string& patient,
                       const std::string& pseudonym, bool write) const;

  const FederationConfig& config_;
  const mpi::Pseudonymizer& pseudonyms_;
  const security::NodeSigner& signer_;
  Clock& clock_;
  std::string region_;
  CircuitBreakers breakers_;
};

}  // namespace ehr::federation
