#include "cli/federation_setup.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "cli/key_store.h"
#include "core/clock.h"
#include "net/certificate.h"

namespace ehr::cli {
namespace {

// One pepper: 32 bytes, or 64 hex digits.
Result<std::string> PepperOf(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  if (text.size() == 2 * mpi::Pseudonymizer::kPepperBytes &&
      text.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos) {
    std::string raw;
    for (size_t i = 0; i < text.size(); i += 2) raw.push_back(static_cast<char>(std::stoi(text.substr(i, 2), nullptr, 16)));
    return raw;
  }
  if (text.size() != mpi::Pseudonymizer::kPepperBytes) {
    return Status::Invalid("--federation-pepper-file must hold a pepper of 32 bytes or 64 hex digits, or two lines of "
                           "64 hex digits (the new pepper first) while rotating");
  }
  return text;
}

// The file's peppers, newest first: one pepper (32 raw bytes or 64 hex digits), or two lines
// of hex digits while the pepper is rotated.
Result<std::vector<std::string>> ReadPeppers(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Status::Invalid("cannot read --federation-pepper-file " + file);
  std::stringstream text;
  text << in.rdbuf();
  const std::string bytes = text.str();
  std::vector<std::string> lines;
  if (bytes.find_first_not_of("0123456789abcdefABCDEF\r\n ") == std::string::npos) {
    std::stringstream split(bytes);
    for (std::string line; std::getline(split, line);) {
      if (line.find_first_not_of("\r ") != std::string::npos) lines.push_back(line);
    }
  } else {
    lines.push_back(bytes);  // raw bytes
  }
  if (lines.empty() || lines.size() > 2) return Status::Invalid("--federation-pepper-file holds one pepper, or two while rotating");
  std::vector<std::string> peppers;
  for (std::string& line : lines) {
    EHR_ASSIGN_OR_RETURN(std::string pepper, PepperOf(std::move(line)));
    peppers.push_back(std::move(pepper));
  }
  if (peppers.size() == 2 && peppers[0] == peppers[1]) return Status::Invalid("--federation-pepper-file: the same pepper twice");
  return peppers;
}

// The peppers a node was ever given are kept in its key store, each under its PepperId, and
// the first one also as kPepperSecret (which earlier versions kept alone). A file none
// of whose peppers the key store knows is another federation's: refused. A rotation's file
// (new, old) is accepted because the old one is known, and the new one is kept from then on.
Status KeepPeppers(store::Store& store, const std::vector<std::string>& peppers) {
  bool any_kept = false, known = false;
  std::vector<std::string> names = {kPepperSecret};
  for (const std::string& p : peppers) names.push_back(std::string(kPepperSecret) + "-" + mpi::PepperId(p));
  for (const std::string& name : names) {
    EHR_ASSIGN_OR_RETURN(std::optional<std::string> kept, store.FindSecret(name));
    if (!kept) continue;
    any_kept = true;
    known = known || std::find(peppers.begin(), peppers.end(), *kept) != peppers.end();
  }
  if (any_kept && !known) {
    return Status::Invalid("the key store holds another federation pepper than --federation-pepper-file (when "
                           "rotating, the file holds the new pepper and the old one)");
  }
  // A new node's first pepper is its anchor: from then on it has one, whatever it is given.
  EHR_RETURN_IF_ERROR(store.ImportSecret(kPepperSecret, peppers.back()));
  for (const std::string& p : peppers) {
    EHR_RETURN_IF_ERROR(store.ImportSecret(std::string(kPepperSecret) + "-" + mpi::PepperId(p), p));
  }
  return Status::Ok();
}

}  // namespace

const std::set<std::string>& FederationFlags() {
  static const std::set<std::string> flags = {"role", "federation", "node", "federation-pepper-file",
                                              "federation-allow", "federation-emergency", "federation-writes"};
  return flags;
}

Result<FederationNode> OpenFederation(const Args& args, store::Store& store) {
  FederationChoice choice;
  choice.role = args.Get("role");
  if (choice.role != "vault" && choice.role != "gateway" && choice.role != "mpi") {
    return Status::Invalid("--role must be vault, gateway or mpi");
  }
  const std::string file = args.Get("federation");
  if (file.empty() && choice.role == "vault") {
    for (const char* flag : {"node", "federation-pepper-file", "federation-allow", "federation-emergency",
                             "federation-writes"}) {
      if (args.Has(flag)) return Status::Invalid(std::string("--") + flag + " needs --federation FILE");
    }
    return FederationNode{};
  }
  if (file.empty()) return Status::Invalid("--role " + choice.role + " needs --federation FILE");
  std::ifstream in(file, std::ios::binary);
  if (!in) return Status::Invalid("cannot read --federation " + file);
  std::stringstream text;
  text << in.rdbuf();
  EHR_ASSIGN_OR_RETURN(federation::FederationConfig config, federation::ParseFederationConfig(text.str()));
  choice.node = args.Get("node");
  if (choice.node.empty()) return Status::Invalid("--role " + choice.role + " needs --node NAME");
  if (choice.role != "mpi") {
    const std::string pepper_file = args.Get("federation-pepper-file");
    if (pepper_file.empty()) return Status::Invalid("--role " + choice.role + " needs --federation-pepper-file");
    EHR_ASSIGN_OR_RETURN(choice.peppers, ReadPeppers(pepper_file));
  }
  EHR_RETURN_IF_ERROR(ParseVaultPolicy(args, choice));
  choice.tls_cert = args.Get("tls-cert");
  choice.tls_key = args.Get("tls-key");
  return JoinFederation(std::move(config), choice, store);
}

Status ParseVaultPolicy(const Args& args, FederationChoice& choice) {
  for (const char* flag : {"federation-emergency", "federation-writes"}) {
    const std::string value = args.Get(flag, "on");
    if (value != "on" && value != "off") return Status::Invalid(std::string("--") + flag + " must be on or off");
    if (args.Has(flag) && choice.role != "vault") return Status::Invalid(std::string("--") + flag + " is for vaults");
  }
  choice.policy.allow_emergency = args.Get("federation-emergency", "on") == "on";
  choice.policy.accept_writes = args.Get("federation-writes", "on") == "on";
  const std::string allow = args.Get("federation-allow");
  if (!allow.empty()) {
    if (choice.role != "vault") return Status::Invalid("--federation-allow is for vaults");
    std::stringstream regions(allow);
    for (std::string r; std::getline(regions, r, ',');) {
      if (!r.empty()) choice.policy.allowed_regions.push_back(r);
    }
  }
  return Status::Ok();
}

Result<std::string> NodePublicKey(store::Store& store) {
  EHR_ASSIGN_OR_RETURN(std::string seed, KeyStoreSecret(store, kNodeSigningSecret, 32, ""));
  EHR_ASSIGN_OR_RETURN(security::NodeSigner signer, security::NodeSigner::FromSeed("self", seed));
  return signer.public_key();
}

Result<FederationNode> JoinFederation(federation::FederationConfig config, const FederationChoice& choice,
                                      store::Store& store) {
  FederationNode node;
  node.role = choice.role;
  node.config = std::move(config);
  const std::string& name = choice.node;
  node.self = node.config.Find(name);
  if (node.self == nullptr) return Status::Invalid("--node " + name + " is not in the federation file");
  if (node.self->role != node.role) {
    return Status::Invalid("--node " + name + " is a " + node.self->role + " in the federation file, not a " + node.role);
  }
  EHR_ASSIGN_OR_RETURN(std::string seed, KeyStoreSecret(store, kNodeSigningSecret, 32, ""));
  EHR_ASSIGN_OR_RETURN(security::NodeSigner signer, security::NodeSigner::FromSeed(name, seed));
  if (signer.public_key() != node.self->public_key) {
    return Status::Invalid("this node's key is not the one the federation file gives for " + name +
                           " (ehr federation node-key --data DIR prints it)");
  }
  node.signer = std::make_unique<security::NodeSigner>(std::move(signer));
  node.config.own_cert_file = choice.tls_cert;
  node.config.own_key_file = choice.tls_key;
  if (!node.self->certificates.empty()) {
    if (choice.tls_cert.empty() || choice.tls_key.empty()) {
      return Status::Invalid("the federation file pins the TLS certificates of " + name +
                             ": it needs --tls-cert and --tls-key (served, and presented to the other nodes)");
    }
    EHR_ASSIGN_OR_RETURN(std::string digest, net::CertificateFileDigest(choice.tls_cert));
    const std::vector<std::string>& pins = node.self->certificates;
    if (std::find(pins.begin(), pins.end(), digest) == pins.end()) {
      return Status::Invalid("--tls-cert " + choice.tls_cert + " (" + digest + ") is not one the federation file pins for " +
                             name + " (ehr federation certificate FILE prints a certificate's digest)");
    }
  }
  node.verifier =
      std::make_unique<security::NodeVerifier>(name, node.config.Keys(), Clock::System(), node.config.Certificates());
  if (node.role != "mpi" && !choice.peppers.empty()) {
    EHR_RETURN_IF_ERROR(KeepPeppers(store, choice.peppers));
    node.pseudonyms = std::make_unique<mpi::Pseudonymizer>(choice.peppers);
  }
  node.policy = choice.policy;
  return node;
}

}  // namespace ehr::cli
