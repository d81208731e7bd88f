// Node tokens: how the nodes of a federation (ARCHITECTURE.md section 6; federation/config.h)
// authenticate their calls to each other, over plain HTTP or TLS. A token is
//   base64url(claims JSON) "." base64url(Ed25519 signature of the first part)
// signed with the calling node's key; the called node checks it against the public keys of
// the federation file. Tokens are short-lived (a minute) and name their audience, so one
// taken from one call cannot be replayed against another node or later; where the file
// pins a node's TLS certificates, its tokens count only over a connection on which it
// presented one of them (mutual TLS), so a token taken from a call is useless elsewhere. A gateway's call
// to a vault carries the clinician it acts for (user, roles, organisation, requesting
// region, purpose of use): the vault decides under its own policy. Sent as
//   Authorization: Node <token>
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace ehr::security {

inline constexpr std::string_view kNodeScheme = "Node";
inline constexpr Micros kNodeTokenLifetime = 60'000'000;  // a minute
inline constexpr Micros kNodeClockSkew = 30'000'000;      // tolerated between nodes' clocks

struct NodeClaims {
  std::string issuer;    // the calling node's name in the federation file
  std::string audience;  // the called node's name
  Micros issued = 0;
  Micros expires = 0;
  // The clinician a gateway acts for (all empty on a node's own calls, e.g. vault -> MPI).
  std::string user;  // their account at the gateway
  std::vector<std::string> roles;
  std::string organization;
  std::string fhir_user;  // "Practitioner/123" at the gateway, when known
  std::string region;     // the requesting region (the gateway's)
  std::string purpose;    // purpose of use, v3-ActReason: TREAT, ETREAT (emergency)...
  // What a gateway's call is about: the patient's id at the called vault (empty when the
  // call creates that record), the pseudonym of the identifier the clinician entered, which
  // the vault checks against the patient's own identifiers, and "write" when the call
  // records something about the patient (empty: it reads).
  std::string patient;
  std::string pseudonym;
  std::string access;
};

class NodeSigner {
 public:
  // `seed`: the node's 32-byte Ed25519 private key seed (from its key store).
  static Result<NodeSigner> FromSeed(std::string name, std::string_view seed);

  const std::string& name() const { return name_; }
  const std::string& public_key() const { return public_key_; }  // 32 bytes
  // A token for `claims` with issuer = name(), issued = now, expires = now + lifetime.
  std::string Sign(NodeClaims claims, Micros now) const;
  // The same as an Authorization header value: "Node <token>" (kNodeScheme).
  std::string Authorization(NodeClaims claims, Micros now) const;

 private:
  NodeSigner() = default;
  std::string name_, secret_key_, public_key_;
};

class NodeVerifier {
 public:
  // `self`: this node's name (the audience its tokens must name); `keys`: node name ->
  // 32-byte public key; `certificates`: node name -> the TLS certificates it may call from
  // (net/certificate.h digests; nodes not named may call from any connection).
  NodeVerifier(std::string self, std::map<std::string, std::string, std::less<>> keys, Clock& clock,
               std::map<std::string, std::vector<std::string>, std::less<>> certificates = {});

  // The claims of a valid token; kUnauthenticated saying why not (malformed, unknown
  // issuer, bad signature, another audience, expired, issued in the future, lifetime longer
  // than kNodeTokenLifetime, or sent over a connection without one of the certificates its
  // issuer is pinned to), never echoing the token. `client_certificate`: the certificate
  // of the connection it came over (net::Request::client_certificate; "" without one).
  Result<NodeClaims> Verify(std::string_view token, std::string_view client_certificate) const;
  // The same for an Authorization header value ("Node <token>").
  Result<NodeClaims> VerifyHeader(std::string_view authorization, std::string_view client_certificate) const;
  const std::string& self() const { return self_; }

 private:
  std::string self_;
  std::map<std::string, std::string, std::less<>> keys_;
  Clock& clock_;
  std::map<std::string, std::vector<std::string>, std::less<>> certificates_;
};

// Public keys as written in the federation file: standard base64 of the 32 bytes.
std::string NodeKeyText(std::string_view public_key);
Result<std::string> ParseNodeKey(std::string_view text);

}  // namespace ehr::security
