#include "security/node_token.h"

#include <sodium.h>

#include <algorithm>

#include "core/base64.h"
#include "fhir/json/value.h"

namespace ehr::security {
namespace {

// Far more than any real token (a clinician with dozens of roles), little enough that a
// hostile header costs nothing to refuse.
constexpr size_t kMaxNodeTokenBytes = 16 * 1024;

const unsigned char* Bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

// The messages say which check failed, never what the token held: the caller's logs and
// OperationOutcomes must not carry someone else's credential.
Status Unauthorized(std::string message) {
  return {Code::kUnauthorized, Issue{"error", "login", std::move(message), {}}};
}

Status Malformed() { return Unauthorized("the node token is malformed"); }

// A string claim; an optional one left out leaves `out` empty.
bool ReadString(const json::Value& claims, std::string_view name, std::string& out, bool required = false) {
  const json::Value* v = claims.Find(name);
  if (v == nullptr) return !required;
  if (!v->is_string()) return false;
  out = v->as_string();
  return true;
}

bool ReadMicros(const json::Value& claims, std::string_view name, Micros& out) {
  const json::Value* v = claims.Find(name);
  if (v == nullptr || !v->is_number() || !v->is_integer_text()) return false;
  auto i = v->as_int64();
  if (!i) return false;
  out = *i;
  return true;
}

// The members of a signed claims object. Members we do not know are ignored, as RFC 7519
// does with claims: the signature already says a node of the federation wrote them.
Result<NodeClaims> ReadClaims(const json::Value& json) {
  NodeClaims claims;
  if (!ReadString(json, "iss", claims.issuer, true) || !ReadString(json, "aud", claims.audience, true) ||
      !ReadMicros(json, "iat", claims.issued) || !ReadMicros(json, "exp", claims.expires) ||
      !ReadString(json, "sub", claims.user) || !ReadString(json, "org", claims.organization) ||
      !ReadString(json, "fhirUser", claims.fhir_user) || !ReadString(json, "region", claims.region) ||
      !ReadString(json, "purpose", claims.purpose) || !ReadString(json, "patient", claims.patient) ||
      !ReadString(json, "pseudonym", claims.pseudonym) || !ReadString(json, "access", claims.access)) {
    return Malformed();
  }
  if (const json::Value* roles = json.Find("roles")) {
    if (!roles->is_array()) return Malformed();
    for (const json::Value& role : roles->as_array()) {
      if (!role.is_string()) return Malformed();
      claims.roles.push_back(role.as_string());
    }
  }
  return claims;
}

json::Value ClaimsJson(const NodeClaims& claims) {
  json::Value out = json::Value::MakeObject();
  out.Set("iss", json::Value(claims.issuer));
  out.Set("aud", json::Value(claims.audience));
  out.Set("iat", json::Value::MakeInt(claims.issued));
  out.Set("exp", json::Value::MakeInt(claims.expires));
  auto set_if_any = [&out](std::string_view name, const std::string& value) {
    if (!value.empty()) out.Set(name, json::Value(value));
  };
  set_if_any("sub", claims.user);
  if (!claims.roles.empty()) {
    json::Array roles;
    for (const std::string& role : claims.roles) roles.emplace_back(role);
    out.Set("roles", json::Value(std::move(roles)));
  }
  set_if_any("org", claims.organization);
  set_if_any("fhirUser", claims.fhir_user);
  set_if_any("region", claims.region);
  set_if_any("purpose", claims.purpose);
  set_if_any("patient", claims.patient);
  set_if_any("pseudonym", claims.pseudonym);
  set_if_any("access", claims.access);
  return out;
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace

Result<NodeSigner> NodeSigner::FromSeed(std::string name, std::string_view seed) {
  if (sodium_init() < 0) return Status::Internal("libsodium failed to start");
  if (seed.size() != crypto_sign_SEEDBYTES) return Status::Invalid("a node's Ed25519 seed is 32 bytes");
  NodeSigner s;
  s.name_ = std::move(name);
  s.public_key_.resize(crypto_sign_PUBLICKEYBYTES);
  s.secret_key_.resize(crypto_sign_SECRETKEYBYTES);
  crypto_sign_seed_keypair(reinterpret_cast<unsigned char*>(s.public_key_.data()),
                           reinterpret_cast<unsigned char*>(s.secret_key_.data()), Bytes(seed));
  return s;
}

std::string NodeSigner::Sign(NodeClaims claims, Micros now) const {
  claims.issuer = name_;
  claims.issued = now;
  claims.expires = now + kNodeTokenLifetime;
  std::string token = Base64UrlEncode(json::Write(ClaimsJson(claims)));
  std::string signature(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(signature.data()), nullptr, Bytes(token), token.size(),
                       Bytes(secret_key_));
  token.push_back('.');
  token += Base64UrlEncode(signature);
  return token;
}

std::string NodeSigner::Authorization(NodeClaims claims, Micros now) const {
  return std::string(kNodeScheme) + " " + Sign(std::move(claims), now);
}

NodeVerifier::NodeVerifier(std::string self, std::map<std::string, std::string, std::less<>> keys, Clock& clock,
                           std::map<std::string, std::vector<std::string>, std::less<>> certificates)
    : self_(std::move(self)), keys_(std::move(keys)), clock_(clock), certificates_(std::move(certificates)) {}

Result<NodeClaims> NodeVerifier::Verify(std::string_view token, std::string_view client_certificate) const {
  if (sodium_init() < 0) return Status::Internal("libsodium failed to start");
  if (token.size() > kMaxNodeTokenBytes) return Unauthorized("the node token is too long");
  const size_t dot = token.find('.');
  if (dot == std::string_view::npos) return Malformed();
  const std::string_view signed_part = token.substr(0, dot);
  const auto signature = Base64UrlDecode(token.substr(dot + 1));  // a second dot is not base64url
  const auto claims_text = Base64UrlDecode(signed_part);
  if (!signature || signature->size() != crypto_sign_BYTES || !claims_text) return Malformed();
  json::ParseOptions options;
  options.max_depth = 4;
  auto json = json::Parse(*claims_text, options);
  if (!json.ok() || !json->is_object()) return Malformed();
  EHR_ASSIGN_OR_RETURN(NodeClaims claims, ReadClaims(*json));

  const auto key = keys_.find(claims.issuer);
  if (key == keys_.end()) return Unauthorized("the node token's issuer is not a node of the federation");
  if (key->second.size() != crypto_sign_PUBLICKEYBYTES ||
      crypto_sign_verify_detached(Bytes(*signature), Bytes(signed_part), signed_part.size(), Bytes(key->second)) != 0) {
    return Unauthorized("the node token's signature is not valid");
  }
  if (claims.audience != self_) return Unauthorized("the node token is meant for another node");
  const Micros now = clock_.Now();
  if (claims.expires < now - kNodeClockSkew) return Unauthorized("the node token has expired");
  if (claims.issued > now + kNodeClockSkew) return Unauthorized("the node token was issued in the future");
  // After the check above `issued` is at most now + skew, so the sum cannot overflow.
  if (claims.expires < claims.issued || claims.expires > claims.issued + kNodeTokenLifetime) {
    return Unauthorized("the node token's lifetime is not valid");
  }
  if (const auto pinned = certificates_.find(claims.issuer); pinned != certificates_.end() && !pinned->second.empty()) {
    if (std::find(pinned->second.begin(), pinned->second.end(), client_certificate) == pinned->second.end()) {
      return Unauthorized("the node token came over a connection without its node's TLS certificate");
    }
  }
  return claims;
}

Result<NodeClaims> NodeVerifier::VerifyHeader(std::string_view authorization, std::string_view client_certificate) const {
  const size_t space = authorization.find(' ');
  if (space == std::string_view::npos || !EqualsIgnoringCase(authorization.substr(0, space), kNodeScheme)) {
    return Unauthorized("the Authorization header does not carry a node token");
  }
  return Verify(authorization.substr(space + 1), client_certificate);
}

std::string NodeKeyText(std::string_view public_key) { return Base64Encode(public_key); }

Result<std::string> ParseNodeKey(std::string_view text) {
  auto key = Base64Decode(text);
  if (!key || key->size() != crypto_sign_PUBLICKEYBYTES) return Status::Invalid("not 32 bytes of base64");
  return std::move(*key);
}

}  // namespace ehr::security
