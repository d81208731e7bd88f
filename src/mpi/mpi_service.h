// The Master Patient Index's HTTP API (`ehr serve --role mpi`), for the federation's nodes
// only: every call carries a node token (security/node_token.h) of a node in the federation
// file, and answers JSON (errors: {"error": "..."} with 400, 401, 403, 404, 405 or 503).
//
//   PUT    /mpi/regions/{region}/patients/{id}   {"links": [{"type": "nhs", "pseudonym": HEX64}]}
//          the vault of {region} (no other node) sets the patient's links -> 200 {"links": n}
//   DELETE /mpi/regions/{region}/patients/{id}   the same vault removes them -> 204
//   GET    /mpi/regions/{region}/patients        that vault's links, for reconciliation ->
//          200 {"links": [{"patient": ID, "type": T, "pseudonym": HEX64}]}
//   GET    /mpi/lookup?pseudonym=HEX64           any vault or gateway -> 200
//          {"matches": [{"region": R, "patient": ID, "type": T}]}
//   GET    /mpi/witness/{node}                   any node: the newest head of {node}'s audit log
//          witnessed (mpi/witness_wire.h) -> 200 {..., "refusals": n, "resets": [instants]};
//          none yet -> 404 (with the same two)
//   PUT    /mpi/witness/{node}                   {node} itself: a newer head with its
//          consistency proof (audit/witness.h) -> 200 {"tree_size": n}; refused (kept) or a
//          proof from another size than held -> 409 {"error", "witnessed_size"}
//   GET    /mpi/healthz                           no token -> 200
#pragma once

#include "mpi/index_store.h"
#include "net/http.h"
#include "security/node_token.h"

namespace ehr::mpi {

class MpiService {
 public:
  // `roles`: node name -> its role ("vault", "gateway", ...) and region, from the
  // federation file; a token's issuer must be one of them.
  struct NodeRole {
    std::string role;
    std::string region;
  };
  MpiService(IndexStore& store, const security::NodeVerifier& verifier,
             std::map<std::string, NodeRole, std::less<>> roles);
  net::Response Handle(const net::Request& request);

 private:
  net::Response Witness(const net::Request& request, std::string_view caller, std::string_view node);

  IndexStore& store_;
  const security::NodeVerifier& verifier_;
  std::map<std::string, NodeRole, std::less<>> roles_;
};

}  // namespace ehr::mpi
