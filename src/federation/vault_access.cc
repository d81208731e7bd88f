#include "federation/vault_access.h"

#include <algorithm>
#include <strings.h>

namespace ehr::federation {

bool IsFederatedRole(std::string_view role) { return role == "DOCTOR" || role == "NURSE"; }

bool IsFederated(const security::Principal& who) {
  return who.authenticated && who.client_id.rfind(kNodeClientPrefix, 0) == 0;
}

FederatedAuthenticator::FederatedAuthenticator(security::Authenticator& local, const security::NodeVerifier& verifier,
                                               const FederationConfig& config,
                                               std::vector<std::string> allowed_regions, std::string tenant,
                                               bool allow_emergency)
    : local_(local),
      verifier_(verifier),
      config_(config),
      allowed_regions_(std::move(allowed_regions)),
      tenant_(std::move(tenant)),
      allow_emergency_(allow_emergency) {}

Result<security::Principal> FederatedAuthenticator::Authenticate(const net::Request& request) {
  const std::string_view authorization = request.GetHeader("Authorization");
  if (authorization.size() < 5 || strncasecmp(authorization.data(), "Node ", 5) != 0) {
    return local_.Authenticate(request);
  }
  EHR_ASSIGN_OR_RETURN(security::NodeClaims claims, verifier_.VerifyHeader(authorization));
  const Node* node = config_.Find(claims.issuer);
  if (node == nullptr || node->role != "gateway") {
    return Status::Forbidden("federation: only the federation's gateways read across the border");
  }
  if (claims.user.empty()) return Status::Forbidden("federation: a cross-border read names its clinician");
  if (claims.region != node->region) {
    return Status::Forbidden("federation: the requesting region is not the gateway's");
  }
  if (!allowed_regions_.empty() &&
      std::find(allowed_regions_.begin(), allowed_regions_.end(), claims.region) == allowed_regions_.end()) {
    return Status::Forbidden("federation: this vault does not answer requests from region " + claims.region);
  }
  security::Principal p;
  p.authenticated = true;
  p.tenant = tenant_;
  p.subject = claims.user + "@" + claims.issuer;
  p.username = p.subject;
  p.client_id = std::string(kNodeClientPrefix) + claims.issuer;
  p.consent_actors = {std::string(kFederationActor), std::string(kFederationActor) + "-" + claims.region};
  if (claims.purpose == "ETREAT") {
    if (!allow_emergency_) return Status::Forbidden("federation: this vault does not grant emergency access across the border");
    p.emergency = true;  // the gateway's clinician broke the glass there, with a reason it recorded
  }
  for (const std::string& role : claims.roles) {
    if (IsFederatedRole(role)) p.roles.push_back(role);
  }
  return p;
}

Status FederatedAuthorizer::Authorize(const security::Principal& who, const security::Action& action) {
  if (!IsFederated(who)) return local_.Authorize(who, action);
  if (who.roles.empty()) return Status::Forbidden("federation: only clinicians read across the border");
  static constexpr std::string_view kReads[] = {"read", "vread", "search-type", "search-system", "operation"};
  const bool reads = std::find(std::begin(kReads), std::end(kReads), action.interaction) != std::end(kReads);
  if (!reads || action.compartment_patient.empty()) {
    return Status::Forbidden("federation: a cross-border request reads one patient's record only");
  }
  return Status::Ok();
}

security::Reach FederatedAuthorizer::ReachOf(const security::Principal& who, const security::Action& action) {
  if (!IsFederated(who)) return local_.ReachOf(who, action);
  security::Reach reach;  // everyone's records, narrowed to the one patient
  reach.only = action.compartment_patient;
  return reach;
}

}  // namespace ehr::federation
