// The federation file (`ehr serve --federation FILE`): the nodes of a federation, their
// roles, regions, addresses and public keys (security/node_token.h), shared by every node.
//
//   {
//     "deadlineMs": 2000,
//     "visitorWrites": "home",
//     "nodes": [
//       {"name": "mpi",        "role": "mpi",     "url": "http://127.0.0.1:9100", "key": "BASE64"},
//       {"name": "vault-uk",   "role": "vault",   "region": "uk", "url": "http://127.0.0.1:9101", "key": "BASE64"},
//       {"name": "gateway-fr", "role": "gateway", "region": "fr", "url": "https://gw.fr.example:9104", "key": "BASE64",
//        "certificates": ["sha256:HEX"]}
//     ]
//   }
//
// `certificates` (optional) pins a node's TLS certificates (net/certificate.h digests; two
// while one is renewed): calls to it accept only these (instead of certificate authorities
// and host names: self-signed ones do), and its node tokens count only over connections on
// which it presented one of them (mutual TLS). A pinned node's url is https.
//
// Exactly one MPI; one vault per region; names unique; regions are lower-case codes of 2
// to 8 letters; urls http(s)://host[:port] without a path; keys 32 bytes in base64, each
// node its own (a shared key would let one sign as the other). Members other than these
// are refused, so a misspelt one cannot leave a default in force unseen.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "net/fetch.h"

namespace ehr::federation {

struct Node {
  std::string name;
  std::string role;    // "vault", "mpi" or "gateway"
  std::string region;  // vaults and gateways; empty for the MPI
  std::string url;     // base URL, no trailing slash
  std::string public_key;  // 32 bytes
  std::vector<std::string> certificates;  // pinned TLS certificates; empty: none
};

struct FederationConfig {
  std::vector<Node> nodes;
  int deadline_ms = 2000;  // a gateway's whole fan-out to the vaults
  // Where a gateway's clinician records something about a visitor: "home", the vault of the
  // region that issued the identifier they entered (else the one region holding a record);
  // "local", the vault of the gateway's own region, under a local record of the visitor
  // (made holding only the identifier when there is none), which the MPI then links.
  std::string visitor_writes = "home";

  const Node* Find(std::string_view name) const;
  const Node* Mpi() const;
  const Node* VaultOf(std::string_view region) const;
  std::vector<const Node*> Vaults() const;
  // This node's own certificate and key (`ehr serve --tls-cert/--tls-key`; not in the
  // file): presented on its calls to the others. Empty: none presented.
  std::string own_cert_file, own_key_file;

  // Node name -> public key, for security::NodeVerifier.
  std::map<std::string, std::string, std::less<>> Keys() const;
  // Node name -> pinned certificates, for security::NodeVerifier (pinned nodes only).
  std::map<std::string, std::vector<std::string>, std::less<>> Certificates() const;
  bool PinsCertificates() const;
  // How to call node `to`: its pins, this node's own certificate, the time allowed.
  net::FetchOptions CallOptions(const Node& to, int timeout_ms) const;
};

// kInvalid naming what is wrong and where ("nodes[2].key: not 32 bytes of base64").
Result<FederationConfig> ParseFederationConfig(std::string_view json);

}  // namespace ehr::federation
