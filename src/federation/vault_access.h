// A vault's side of cross-border reads (issue 9): calls from the federation's gateways,
// authenticated by node token (security/node_token.h), on behalf of a clinician there.
// The home vault decides: only gateways of the federation file, only from the requesting
// regions it allows, only the one patient whose identifier the clinician entered (the
// token's pseudonym must be one of that patient's identifiers'): reads of the record
// ($everything, read, compartment search) and, when the vault accepts them, new resources
// about the patient (a visitor's notes and observations); no other patient reachable; under its own consent checks (a
// patient opts out of cross-border sharing with a Consent denying kFederationActor) and
// audit log like any read (the entry names the clinician as user@gateway and the gateway
// as the client, node:NAME). Other calls go to the vault's own authentication and policy.
#pragma once

#include <string>
#include <vector>

#include "federation/config.h"
#include "mpi/pseudonym.h"
#include "security/node_token.h"
#include "security/pipeline.h"
#include "store/store.h"

namespace ehr::federation {

inline constexpr std::string_view kNodeClientPrefix = "node:";
// The actor a patient's Consent names to opt out of cross-border sharing (a deny provision
// with actor.reference "Organization/federation"; "Organization/federation-fr" for one
// requesting region). Cross-border requesters are these actors to the consent checks.
inline constexpr std::string_view kFederationActor = "Organization/federation";

// Roles a clinician may carry across the border (others are dropped).
bool IsFederatedRole(std::string_view role);

// What a vault allows the federation's gateways (`ehr serve --role vault` flags).
struct VaultPolicy {
  std::vector<std::string> allowed_regions;  // requesting regions answered (empty: every region of the file)
  std::string tenant = "default";            // the tenant cross-border requests see
  // A gateway's token with purpose ETREAT (its clinician broke the glass there) overrides
  // consents here (Principal::emergency) and is audited as ETREAT; false: refused (403).
  bool allow_emergency = true;
  // A gateway's clinician may record something about a visitor whose home this is (a
  // resource of the patient's compartment, create only), or register a visitor here (a
  // Patient holding only the identifier the clinician entered); false: refused (403).
  bool accept_writes = true;
};

class FederatedAuthenticator final : public security::Authenticator {
 public:
  // `store` and `pseudonyms`: to check that the patient a gateway names holds the identifier
  // whose pseudonym its token carries (the gateway cannot pick another patient).
  FederatedAuthenticator(security::Authenticator& local, const security::NodeVerifier& verifier,
                         const FederationConfig& config, store::Store& store, const mpi::Pseudonymizer& pseudonyms,
                         VaultPolicy policy);
  Result<security::Principal> Authenticate(const net::Request& request) override;

 private:
  Status CheckPatient(const security::NodeClaims& claims, const net::Request& request);

  security::Authenticator& local_;
  const security::NodeVerifier& verifier_;
  const FederationConfig& config_;
  store::Store& store_;
  const mpi::Pseudonymizer& pseudonyms_;
  VaultPolicy policy_;
};

// A cross-border principal may read the record of the one patient its token names and, with
// access "write", create resources in that patient's compartment (or, naming no patient,
// the visitor's Patient record); nothing else.
class FederatedAuthorizer final : public security::Authorizer {
 public:
  explicit FederatedAuthorizer(security::Authorizer& local) : local_(local) {}
  Status Authorize(const security::Principal& who, const security::Action& action) override;
  security::Reach ReachOf(const security::Principal& who, const security::Action& action) override;

 private:
  security::Authorizer& local_;
};

// The scope a cross-border principal carries when its token allows writing.
inline constexpr std::string_view kFederatedWriteScope = "federation/write";

bool IsFederated(const security::Principal& who);

}  // namespace ehr::federation
