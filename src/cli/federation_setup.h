// The federation roles of `ehr serve` (issue 9; federation/README.md):
//
//   --role vault|gateway|mpi     this node's role; without it, `ehr serve` runs a whole
//                                federation in one process (cli/all_in_one.h)
//   --federation FILE            the federation file (federation/config.h); a vault without
//                                one is a stand-alone FHIR server of its region
//   --node NAME                  this node's name in it (its region and address come from there)
//   --federation-pepper-file F   the federation's shared pepper (32 bytes, or 64 hex digits),
//                                or two lines of hex digits while rotating it (the new one
//                                first): kept in this node's key store; a file none of whose
//                                peppers the key store knows is refused (vaults and gateways)
//   --federation-allow R1,R2     a vault: the requesting regions it answers (default: all)
//   --federation-emergency on|off  a vault: whether a gateway's emergency (its clinician broke
//                                the glass there) overrides consents here (default on)
//   --federation-writes on|off   a vault: whether gateways' clinicians may record things about
//                                visitors here (federation/visitor_write.cc; default on)
//
// Each node's Ed25519 key is a secret of its key store (`node-signing`), made on first use;
// `ehr federation node-key --data DIR` prints its public key for the federation file, and
// `ehr federation certificate FILE` the digest that pins a node's TLS certificate there
// (its --tls-cert: served, and presented on its calls to the other nodes).
#pragma once

#include <memory>
#include <set>
#include <string>

#include "cli/args.h"
#include "federation/config.h"
#include "federation/vault_access.h"
#include "mpi/pseudonym.h"
#include "security/node_token.h"
#include "store/store.h"

namespace ehr::cli {

inline constexpr char kNodeSigningSecret[] = "node-signing";
inline constexpr char kPepperSecret[] = "federation-pepper";

const std::set<std::string>& FederationFlags();

struct FederationNode {
  std::string role;  // "" when the server is stand-alone (a vault outside any federation)
  federation::FederationConfig config;
  const federation::Node* self = nullptr;
  std::unique_ptr<security::NodeSigner> signer;
  std::unique_ptr<security::NodeVerifier> verifier;
  std::unique_ptr<mpi::Pseudonymizer> pseudonyms;  // vaults and gateways
  federation::VaultPolicy policy;                  // vaults
};

// What a node is in its federation, before its key store is consulted.
struct FederationChoice {
  std::string role;
  std::string node;    // its name in the federation file
  std::vector<std::string> peppers;  // vaults and gateways: the shared pepper (32 bytes), or two while rotating (new first)
  federation::VaultPolicy policy;    // vaults
  // --tls-cert/--tls-key: this node's certificate, presented on its calls to the others; it
  // must be one the federation file pins for it, when it pins any.
  std::string tls_cert, tls_key;
};

// --federation-allow, --federation-emergency and --federation-writes into `choice.policy`
// (`choice.role` is set: they are for vaults).
Status ParseVaultPolicy(const Args& args, FederationChoice& choice);

// Reads the flags; `store` holds this node's key store secrets. A stand-alone vault (`--role
// vault` without --federation) gets an empty FederationNode.
Result<FederationNode> OpenFederation(const Args& args, store::Store& store);

// The node `choice.node` of `config`: its signing key (the key store's `node-signing`
// secret) must be the one `config` gives, and its certificate one of those `config` pins
// for it (when it pins any); the peppers are kept in the key store, and a key store that
// knows none of them is refused. Without peppers (a command that only calls the MPI as
// this node, such as `ehr audit witness`) the node has no Pseudonymizer.
Result<FederationNode> JoinFederation(federation::FederationConfig config, const FederationChoice& choice,
                                      store::Store& store);

// This node's public key (made in its key store on first use), for a federation file.
Result<std::string> NodePublicKey(store::Store& store);

}  // namespace ehr::cli
