// The federation file (federation/config.h) on arbitrary input: never crashes; a refusal is
// kInvalid and says why; an accepted file keeps every rule of the header (one MPI, one vault
// per region, unique names and keys, regions, urls, deadline, pinned certificates), its look-ups agree with its
// nodes, and written back as a file it parses to the same configuration.
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "federation/config.h"
#include "fhir/json/value.h"
#include "fuzz_check.h"
#include "net/certificate.h"
#include "security/node_token.h"

namespace {

void Check(bool ok, const char* what) { ehr::fuzz::Check(ok, "fuzz_federation_config", what); }

std::string WriteBack(const ehr::federation::FederationConfig& config) {
  using ehr::json::Value;
  Value nodes = Value::MakeArray();
  for (const ehr::federation::Node& node : config.nodes) {
    Value n = Value::MakeObject();
    n.Set("name", Value(node.name));
    n.Set("role", Value(node.role));
    if (!node.region.empty()) n.Set("region", Value(node.region));
    n.Set("url", Value(node.url));
    n.Set("key", Value(ehr::security::NodeKeyText(node.public_key)));
    if (!node.certificates.empty()) {
      Value pins = Value::MakeArray();
      for (const std::string& pin : node.certificates) pins.as_array().push_back(Value(pin));
      n.Set("certificates", std::move(pins));
    }
    nodes.as_array().push_back(std::move(n));
  }
  Value file = Value::MakeObject();
  file.Set("deadlineMs", Value::MakeInt(config.deadline_ms));
  file.Set("visitorWrites", Value(config.visitor_writes));
  file.Set("nodes", std::move(nodes));
  return ehr::json::Write(file);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ehr;
  using namespace ehr::federation;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  Result<FederationConfig> config = ParseFederationConfig(input);
  if (!config.ok()) {
    Check(config.status().code() == Code::kInvalid && !config.status().message().empty(),
          "a refusal must be kInvalid and say why");
    return 0;
  }
  Check(config->deadline_ms >= 100 && config->deadline_ms <= 60000, "the deadline is within 100..60000 ms");
  int mpis = 0;
  std::set<std::string> names, keys, vault_regions;
  size_t vaults = 0;
  for (const Node& node : config->nodes) {
    Check(names.insert(node.name).second, "names are unique");
    Check(keys.insert(node.public_key).second, "keys are unique");
    Check(node.public_key.size() == 32, "a key is 32 bytes");
    Check(config->Find(node.name) == &node, "Find finds each node");
    Check(node.url.starts_with("http://") || node.url.starts_with("https://"), "a url is http(s)");
    Check(node.url.find('/', node.url.find("//") + 2) == std::string::npos, "a url has no path");
    for (const std::string& pin : node.certificates) {
      Check(ehr::net::IsCertificateDigest(pin), "a pinned certificate is a sha256 digest");
      Check(node.url.starts_with("https://"), "a pinned node is reached over https");
    }
    Check(config->Certificates().count(node.name) == (node.certificates.empty() ? 0u : 1u),
          "Certificates lists the pinned nodes");
    if (node.role == "mpi") {
      ++mpis;
      Check(node.region.empty(), "the MPI has no region");
      Check(config->Mpi() == &node, "Mpi finds the MPI");
      continue;
    }
    Check(node.role == "vault" || node.role == "gateway", "a role is vault, mpi or gateway");
    Check(node.region.size() >= 2 && node.region.size() <= 8, "a region is 2 to 8 letters");
    for (char c : node.region) Check(c >= 'a' && c <= 'z', "a region is lower-case letters");
    if (node.role == "vault") {
      Check(vault_regions.insert(node.region).second, "one vault per region");
      Check(config->VaultOf(node.region) == &node, "VaultOf finds each vault");
      const auto listed = config->Vaults();
      Check(vaults < listed.size() && listed[vaults] == &node, "Vaults lists the vaults in file order");
      ++vaults;
    }
  }
  Check(mpis == 1, "exactly one MPI");
  Check(config->Vaults().size() == vaults, "Vaults lists every vault");
  Check(config->Keys().size() == config->nodes.size(), "Keys has every node");

  Result<FederationConfig> again = ParseFederationConfig(WriteBack(*config));
  Check(again.ok(), "a configuration written back parses");
  Check(config->visitor_writes == "home" || config->visitor_writes == "local", "visitorWrites is home or local");
  Check(again->deadline_ms == config->deadline_ms && again->visitor_writes == config->visitor_writes &&
            again->nodes.size() == config->nodes.size(),
        "a configuration written back parses to itself");
  for (size_t i = 0; i < config->nodes.size(); ++i) {
    const Node& a = config->nodes[i];
    const Node& b = again->nodes[i];
    Check(
        a.name == b.name && a.role == b.role && a.region == b.region && a.url == b.url && a.public_key == b.public_key &&
            a.certificates == b.certificates,
        "a configuration written back parses to itself");
  }
  return 0;
}
