#include "federation/config.h"

#include <algorithm>

#include "fhir/json/value.h"
#include "net/certificate.h"
#include "security/node_token.h"

namespace ehr::federation {
namespace {

constexpr int kMinDeadlineMs = 100;
constexpr int kMaxDeadlineMs = 60000;
constexpr size_t kMaxNameBytes = 64;

Status Invalid(const std::string& where, const std::string& what) {
  return Status::Invalid(where + ": " + what, where);
}

std::string NodePath(size_t i) { return "nodes[" + std::to_string(i) + "]"; }

bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) { return IsLower(c) || (c >= 'A' && c <= 'Z') || IsDigit(c); }

// Names travel in node tokens and log lines: kept to characters that need no quoting.
bool IsName(std::string_view s) {
  return !s.empty() && s.size() <= kMaxNameBytes &&
         std::all_of(s.begin(), s.end(), [](char c) { return IsAlnum(c) || c == '-' || c == '_' || c == '.'; });
}

bool IsRegion(std::string_view s) { return s.size() >= 2 && s.size() <= 8 && std::all_of(s.begin(), s.end(), IsLower); }

// host: a DNS name or IPv4 address (letters, digits, '-', '.'), or an IPv6 address in
// brackets; then an optional port 1..65535. Nothing else: no user, path, query or fragment.
bool IsAuthority(std::string_view s) {
  std::string_view host = s, port;
  if (!s.empty() && s.front() == '[') {
    const size_t close = s.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    host = s.substr(1, close - 1);
    if (!std::all_of(host.begin(), host.end(), [](char c) {
          return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.';
        })) {
      return false;
    }
    const std::string_view rest = s.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return false;
    if (!rest.empty()) port = rest.substr(1);
    if (!rest.empty() && port.empty()) return false;
  } else {
    const size_t colon = s.find(':');
    if (colon != std::string_view::npos) {
      host = s.substr(0, colon);
      port = s.substr(colon + 1);
      if (port.empty()) return false;
    }
    if (host.empty() || host.front() == '.' || host.front() == '-' ||
        !std::all_of(host.begin(), host.end(), [](char c) { return IsAlnum(c) || c == '-' || c == '.'; })) {
      return false;
    }
  }
  if (port.empty()) return true;
  if (port.size() > 5 || !std::all_of(port.begin(), port.end(), IsDigit)) return false;
  const int number = std::stoi(std::string(port));
  return number >= 1 && number <= 65535;
}

bool IsBaseUrl(std::string_view url) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (url.starts_with(scheme)) return IsAuthority(url.substr(scheme.size()));
  }
  return false;
}

Result<std::string> StringMember(const json::Value& object, std::string_view name, const std::string& where) {
  const json::Value* v = object.Find(name);
  if (v == nullptr) return Invalid(where, "missing");
  if (!v->is_string()) return Invalid(where, "not a string");
  return v->as_string();
}

Result<Node> ParseNode(const json::Value& json, const std::string& path) {
  if (!json.is_object()) return Invalid(path, "not an object");
  for (const auto& [name, value] : json.as_object()) {
    if (name != "name" && name != "role" && name != "region" && name != "url" && name != "key" && name != "certificates") {
      return Invalid(path + "." + name, "unknown member (name, role, region, url, key, certificates)");
    }
  }
  Node node;
  EHR_ASSIGN_OR_RETURN(node.name, StringMember(json, "name", path + ".name"));
  if (!IsName(node.name)) {
    return Invalid(path + ".name", "not a node name (1 to 64 letters, digits, '-', '_' or '.')");
  }
  EHR_ASSIGN_OR_RETURN(node.role, StringMember(json, "role", path + ".role"));
  if (node.role != "vault" && node.role != "mpi" && node.role != "gateway") {
    return Invalid(path + ".role", "not a role (vault, mpi or gateway)");
  }
  if (node.role == "mpi") {
    if (json.Find("region") != nullptr) return Invalid(path + ".region", "the MPI serves every region and has none");
  } else {
    EHR_ASSIGN_OR_RETURN(node.region, StringMember(json, "region", path + ".region"));
    if (!IsRegion(node.region)) return Invalid(path + ".region", "not a region (2 to 8 lower-case letters)");
  }
  EHR_ASSIGN_OR_RETURN(node.url, StringMember(json, "url", path + ".url"));
  if (!IsBaseUrl(node.url)) return Invalid(path + ".url", "not http(s)://host[:port] without a path");
  EHR_ASSIGN_OR_RETURN(std::string key_text, StringMember(json, "key", path + ".key"));
  auto key = security::ParseNodeKey(key_text);
  if (!key.ok()) return Invalid(path + ".key", "not 32 bytes of base64");
  node.public_key = std::move(*key);
  if (const json::Value* pins = json.Find("certificates")) {
    const std::string where = path + ".certificates";
    if (!pins->is_array() || pins->as_array().empty()) return Invalid(where, "not a non-empty array");
    for (size_t i = 0; i < pins->as_array().size(); ++i) {
      const json::Value& pin = pins->as_array()[i];
      if (!pin.is_string() || !net::IsCertificateDigest(pin.as_string())) {
        return Invalid(where + "[" + std::to_string(i) + "]",
                       "not \"sha256:\" and 64 lower-case hex digits (ehr federation certificate FILE prints it)");
      }
      node.certificates.push_back(pin.as_string());
    }
    // Pins are checked in the TLS handshake: without TLS there is nothing to check them in.
    if (!node.url.starts_with("https://")) return Invalid(path + ".url", "not https, though the node's certificates are pinned");
  }
  return node;
}

}  // namespace

const Node* FederationConfig::Find(std::string_view name) const {
  for (const Node& node : nodes) {
    if (node.name == name) return &node;
  }
  return nullptr;
}

const Node* FederationConfig::Mpi() const {
  for (const Node& node : nodes) {
    if (node.role == "mpi") return &node;
  }
  return nullptr;
}

const Node* FederationConfig::VaultOf(std::string_view region) const {
  for (const Node& node : nodes) {
    if (node.role == "vault" && node.region == region) return &node;
  }
  return nullptr;
}

std::vector<const Node*> FederationConfig::Vaults() const {
  std::vector<const Node*> vaults;
  for (const Node& node : nodes) {
    if (node.role == "vault") vaults.push_back(&node);
  }
  return vaults;
}

std::map<std::string, std::string, std::less<>> FederationConfig::Keys() const {
  std::map<std::string, std::string, std::less<>> keys;
  for (const Node& node : nodes) keys.emplace(node.name, node.public_key);
  return keys;
}

std::map<std::string, std::vector<std::string>, std::less<>> FederationConfig::Certificates() const {
  std::map<std::string, std::vector<std::string>, std::less<>> pins;
  for (const Node& node : nodes) {
    if (!node.certificates.empty()) pins.emplace(node.name, node.certificates);
  }
  return pins;
}

bool FederationConfig::PinsCertificates() const {
  return std::any_of(nodes.begin(), nodes.end(), [](const Node& node) { return !node.certificates.empty(); });
}

net::FetchOptions FederationConfig::CallOptions(const Node& to, int timeout_ms) const {
  net::FetchOptions options;
  options.timeout_ms = timeout_ms;
  options.pinned_certificates = to.certificates;
  options.client_cert_file = own_cert_file;
  options.client_key_file = own_key_file;
  return options;
}

Result<FederationConfig> ParseFederationConfig(std::string_view text) {
  json::ParseOptions options;
  options.max_depth = 8;
  auto json = json::Parse(text, options);
  if (!json.ok()) return Status::Invalid("the federation file is not JSON: " + json.status().message());
  if (!json->is_object()) return Status::Invalid("the federation file is not a JSON object");
  // Every member is known: a misspelt one would otherwise leave its default in force unseen.
  for (const auto& [name, value] : json->as_object()) {
    if (name != "deadlineMs" && name != "nodes" && name != "visitorWrites") {
      return Invalid(name, "unknown member (deadlineMs, nodes, visitorWrites)");
    }
  }

  FederationConfig config;
  if (const json::Value* deadline = json->Find("deadlineMs")) {
    const auto ms = deadline->is_number() && deadline->is_integer_text() ? deadline->as_int64() : std::nullopt;
    if (!ms || *ms < kMinDeadlineMs || *ms > kMaxDeadlineMs) {
      return Invalid("deadlineMs", "not a whole number of milliseconds from 100 to 60000");
    }
    config.deadline_ms = static_cast<int>(*ms);
  }

  if (const json::Value* writes = json->Find("visitorWrites")) {
    if (!writes->is_string() || (writes->as_string() != "home" && writes->as_string() != "local")) {
      return Invalid("visitorWrites", "not \"home\" or \"local\"");
    }
    config.visitor_writes = writes->as_string();
  }

  const json::Value* nodes = json->Find("nodes");
  if (nodes == nullptr) return Invalid("nodes", "missing");
  if (!nodes->is_array()) return Invalid("nodes", "not an array");
  for (size_t i = 0; i < nodes->as_array().size(); ++i) {
    const std::string path = NodePath(i);
    EHR_ASSIGN_OR_RETURN(Node node, ParseNode(nodes->as_array()[i], path));
    // Every check against the nodes before names the earlier one, so the file can be fixed
    // from the message alone.
    for (size_t j = 0; j < config.nodes.size(); ++j) {
      const Node& earlier = config.nodes[j];
      if (earlier.name == node.name) return Invalid(path + ".name", "also the name of " + NodePath(j));
      if (node.role == "mpi" && earlier.role == "mpi")
        return Invalid(path + ".role", "a second MPI (" + NodePath(j) + ")");
      if (node.role == "vault" && earlier.role == "vault" && earlier.region == node.region) {
        return Invalid(path + ".region", "a second vault for region " + node.region + " (" + NodePath(j) + ")");
      }
      // A shared key would let either node sign as the other.
      if (earlier.public_key == node.public_key) return Invalid(path + ".key", "the key of " + NodePath(j) + " too");
    }
    config.nodes.push_back(std::move(node));
  }
  if (config.Mpi() == nullptr) return Invalid("nodes", "no node has the role mpi");
  return config;
}

}  // namespace ehr::federation
