// Node tokens (security/node_token.h) on arbitrary input, verified by "vault-uk" holding the
// public keys of a fixed federation at a fixed time: never crashes; a refusal is
// kUnauthorized and does not quote the token; the Authorization header form agrees with the
// bare token. What verifies names a known issuer and this node, lies within the time
// bounds, re-signed by its issuer verifies to the same claims, and stops verifying when any
// one byte of it changes. corpus/node_token/ holds tokens signed with the seeds below.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "security/node_token.h"

namespace {

void Check(bool ok, const char* what) { ehr::fuzz::Check(ok, "fuzz_node_token", what); }

constexpr ehr::Micros kNow = 1'700'000'000'000'000;  // 2023-11-14T22:13:20Z

struct Federation {
  std::map<std::string, ehr::security::NodeSigner, std::less<>> signers;
  ehr::ManualClock clock{kNow};
  std::unique_ptr<ehr::security::NodeVerifier> verifier;

  Federation() {
    // Seeds: 32 times the first letter of the name.
    for (const char* name : {"mpi", "gateway-fr", "vault-uk"}) {
      signers.emplace(name, *ehr::security::NodeSigner::FromSeed(name, std::string(32, name[0])));
    }
    std::map<std::string, std::string, std::less<>> keys;
    for (const auto& [name, signer] : signers) keys.emplace(name, signer.public_key());
    verifier = std::make_unique<ehr::security::NodeVerifier>("vault-uk", std::move(keys), clock);
  }
};

// Every refusal is one of these: a message built from the token could quote it.
bool IsFixedMessage(const std::string& message) {
  for (std::string_view fixed :
       {"the node token is too long", "the node token is malformed",
        "the node token's issuer is not a node of the federation", "the node token's signature is not valid",
        "the node token is meant for another node", "the node token has expired",
        "the node token was issued in the future", "the node token's lifetime is not valid",
        "the node token came over a connection without its node's TLS certificate"}) {
    if (message == fixed) return true;
  }
  return false;
}

bool SameClaims(const ehr::security::NodeClaims& a, const ehr::security::NodeClaims& b) {
  return a.issuer == b.issuer && a.audience == b.audience && a.user == b.user && a.roles == b.roles &&
         a.organization == b.organization && a.fhir_user == b.fhir_user && a.region == b.region &&
         a.purpose == b.purpose;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ehr;
  using namespace ehr::security;
  static const Federation federation;
  const NodeVerifier& verifier = *federation.verifier;
  std::string_view input(reinterpret_cast<const char*>(data), size);

  Result<NodeClaims> claims = verifier.Verify(input, "");
  Result<NodeClaims> header = verifier.VerifyHeader("Node " + std::string(input), "");
  Check(claims.ok() == header.ok() && claims.status().message() == header.status().message(),
        "the header form must agree with the bare token");
  if (!claims.ok()) {
    Check(claims.status().code() == Code::kUnauthorized, "a refusal must be kUnauthorized");
    Check(IsFixedMessage(claims.status().message()), "a refusal must not quote the token (one of the fixed messages)");
    return 0;
  }

  Check(claims->audience == verifier.self(), "a valid token names this node");
  const auto signer = federation.signers.find(claims->issuer);
  Check(signer != federation.signers.end(), "a valid token names a known issuer");
  Check(claims->expires >= kNow - kNodeClockSkew && claims->issued <= kNow + kNodeClockSkew &&
            claims->issued <= claims->expires && claims->expires - claims->issued <= kNodeTokenLifetime,
        "a valid token lies within the time bounds");

  const std::string resigned = signer->second.Sign(*claims, claims->issued);
  Result<NodeClaims> again = verifier.Verify(resigned, "");
  Check(again.ok() && SameClaims(*again, *claims) && again->issued == claims->issued,
        "what verifies, re-signed by its issuer, verifies to the same claims");

  // Every byte is covered by the signature or the strict encoding; bounded so a long token
  // costs the fuzzer milliseconds, not seconds.
  const size_t step = input.size() <= 512 ? 1 : input.size() / 512;
  for (size_t i = 0; i < input.size(); i += step) {
    std::string changed(input);
    changed[i] = static_cast<char>(changed[i] ^ 0x01);
    Check(!verifier.Verify(changed, "").ok(), "a valid token with one byte changed must not verify");
  }
  return 0;
}
