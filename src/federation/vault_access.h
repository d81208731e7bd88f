// A vault's side of cross-border reads (issue 9): calls from the federation's gateways,
// authenticated by node token (security/node_token.h), on behalf of a clinician there.
// The home vault decides: only gateways of the federation file, only from the requesting
// regions it allows, only reads of one patient's record ($everything, read, compartment
// search: nothing written, no other patient reachable), under its own consent checks (a
// patient opts out of cross-border sharing with a Consent denying kFederationActor) and
// audit log like any read (the entry names the clinician as user@gateway and the gateway
// as the client, node:NAME). Other calls go to the vault's own authentication and policy.
#pragma once

#include <string>
#include <vector>

#include "federation/config.h"
#include "security/node_token.h"
#include "security/pipeline.h"

namespace ehr::federation {

inline constexpr std::string_view kNodeClientPrefix = "node:";
// The actor a patient's Consent names to opt out of cross-border sharing (a deny provision
// with actor.reference "Organization/federation"; "Organization/federation-fr" for one
// requesting region). Cross-border requesters are these actors to the consent checks.
inline constexpr std::string_view kFederationActor = "Organization/federation";

// Roles a clinician may carry across the border (others are dropped).
bool IsFederatedRole(std::string_view role);

class FederatedAuthenticator final : public security::Authenticator {
 public:
  // `allowed_regions`: requesting regions this vault answers (empty: every region of the
  // federation file). `tenant`: the tenant cross-border reads see. `allow_emergency`: a
  // gateway's token with purpose ETREAT (its clinician broke the glass there) overrides
  // consents here (Principal::emergency) and is audited as ETREAT; false: refused (403).
  FederatedAuthenticator(security::Authenticator& local, const security::NodeVerifier& verifier,
                         const FederationConfig& config, std::vector<std::string> allowed_regions, std::string tenant,
                         bool allow_emergency = true);
  Result<security::Principal> Authenticate(const net::Request& request) override;

 private:
  security::Authenticator& local_;
  const security::NodeVerifier& verifier_;
  const FederationConfig& config_;
  std::vector<std::string> allowed_regions_;
  std::string tenant_;
  bool allow_emergency_;
};

class FederatedAuthorizer final : public security::Authorizer {
 public:
  explicit FederatedAuthorizer(security::Authorizer& local) : local_(local) {}
  Status Authorize(const security::Principal& who, const security::Action& action) override;
  security::Reach ReachOf(const security::Principal& who, const security::Action& action) override;

 private:
  security::Authorizer& local_;
};

bool IsFederated(const security::Principal& who);

}  // namespace ehr::federation
