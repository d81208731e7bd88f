#include "security/jwt.h"

#include "core/base64.h"

namespace ehr::security {
namespace {

Status Unauthorized(std::string message) {
  return {Code::kUnauthorized, Issue{"error", "login", std::move(message), {}}};
}

Result<json::Value> DecodeObject(std::string_view segment) {
  auto bytes = Base64UrlDecode(segment);
  if (!bytes) return Unauthorized("the token is malformed");
  json::ParseOptions options;
  options.max_depth = 16;
  auto value = json::Parse(*bytes, options);
  if (!value.ok() || !value->is_object()) return Unauthorized("the token is malformed");
  return std::move(*value);
}

bool AudienceMatches(const json::Value* aud, std::string_view expected) {
  if (aud == nullptr) return false;
  if (aud->is_string()) return aud->as_string() == expected;
  if (!aud->is_array()) return false;
  for (const json::Value& a : aud->as_array()) {
    if (a.is_string() && a.as_string() == expected) return true;
  }
  return false;
}

}  // namespace

std::optional<int64_t> SecondsClaim(const json::Value& claims, std::string_view name) {
  const json::Value* v = claims.Find(name);
  if (v == nullptr || !v->is_number() || !v->is_integer_text()) return std::nullopt;
  return v->as_int64();
}

Result<Jwt> DecodeJwt(std::string_view token) {
  if (token.size() > kMaxJwtBytes) return Unauthorized("the token is too long");
  const size_t first = token.find('.');
  const size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return Unauthorized("the token is malformed");
  }
  Jwt jwt;
  EHR_ASSIGN_OR_RETURN(jwt.header, DecodeObject(token.substr(0, first)));
  EHR_ASSIGN_OR_RETURN(jwt.claims, DecodeObject(token.substr(first + 1, second - first - 1)));
  auto signature = Base64UrlDecode(token.substr(second + 1));
  if (!signature) return Unauthorized("the token is malformed");
  const json::Value* alg = jwt.header.Find("alg");
  if (alg == nullptr || !alg->is_string()) return Unauthorized("the token is malformed");
  // RFC 7515 4.1.11: a header naming extensions we do not implement must be refused.
  if (jwt.header.Find("crit") != nullptr) return Unauthorized("the token uses unsupported critical headers");
  jwt.signing_input = std::string(token.substr(0, second));
  jwt.signature = std::move(*signature);
  return jwt;
}

Result<std::string> SignJwtWith(const json::Value& claims, std::string_view alg, std::string_view kid,
                                std::string_view typ,
                                const std::function<Result<std::string>(std::string_view)>& sign) {
  json::Value header = json::Value::MakeObject();
  header.Set("alg", json::Value(std::string(alg)));
  header.Set("typ", json::Value(std::string(typ)));
  header.Set("kid", json::Value(std::string(kid)));
  std::string out = Base64UrlEncode(json::Write(header));
  out.push_back('.');
  out += Base64UrlEncode(json::Write(claims));
  EHR_ASSIGN_OR_RETURN(std::string signature, sign(out));
  out.push_back('.');
  out += Base64UrlEncode(signature);
  return out;
}

Result<std::string> SignJwt(const json::Value& claims, const EcKey& key, std::string_view kid, std::string_view typ) {
  return SignJwtWith(claims, EcAlgName(key.alg()), kid, typ, [&key](std::string_view input) { return key.Sign(input); });
}

Status VerifyJwt(const Jwt& jwt, const KeyLookup& keys, const VerifyOptions& options) {
  const EcKey* key = keys(jwt.kid());
  if (key == nullptr || jwt.alg() != EcAlgName(key->alg()) || !key->Verify(jwt.signing_input, jwt.signature)) {
    return Unauthorized("the token's signature is not valid");
  }
  return CheckClaims(jwt.claims, options);
}

Status CheckClaims(const json::Value& claims, const VerifyOptions& options) {
  const int64_t now = options.now / 1000000;
  const auto exp = SecondsClaim(claims, "exp");
  if (!exp || *exp + options.leeway_seconds <= now) return Unauthorized("the token has expired");
  if (options.max_lifetime_seconds > 0 && *exp > now + options.max_lifetime_seconds + options.leeway_seconds) {
    return Unauthorized("the token's expiry is too far ahead");
  }
  if (claims.Find("nbf") != nullptr) {
    auto v = SecondsClaim(claims, "nbf");
    if (!v || *v > now + options.leeway_seconds) return Unauthorized("the token is not valid yet");
  }
  if (claims.Find("iat") != nullptr) {
    auto v = SecondsClaim(claims, "iat");
    if (!v || *v > now + options.leeway_seconds) return Unauthorized("the token was issued in the future");
  }
  if (!options.issuer.empty() && claims.GetString("iss") != options.issuer) {
    return Unauthorized("the token's issuer is not trusted");
  }
  if (!options.audience.empty() && !AudienceMatches(claims.Find("aud"), options.audience)) {
    return Unauthorized("the token is not meant for this server");
  }
  return Status::Ok();
}

}  // namespace ehr::security
