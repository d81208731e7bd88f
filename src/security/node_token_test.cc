// Node tokens: what one node signs another verifies, with every claim; and each way a token
// is refused (malformed, unknown issuer, another node's key, tampered claims, another
// audience, expired, issued in the future, too long-lived), always kUnauthorized and never
// quoting the token. Time comes from a ManualClock.
#include "security/node_token.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <cstdint>

#include "core/base64.h"
#include "fhir/json/value.h"

namespace ehr::security {
namespace {

constexpr Micros kSecond = 1'000'000;
constexpr Micros kT0 = 1'700'000'000 * kSecond;

std::string Seed(char fill) { return std::string(32, fill); }

std::string Unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

// A token over any claims text, signed with `seed` as a node would: for claims NodeSigner
// never writes (a lifetime too long, members missing or of the wrong type).
std::string SignRaw(std::string_view claims_json, std::string_view seed) {
  std::string pk(crypto_sign_PUBLICKEYBYTES, '\0'), sk(crypto_sign_SECRETKEYBYTES, '\0');
  crypto_sign_seed_keypair(reinterpret_cast<unsigned char*>(pk.data()), reinterpret_cast<unsigned char*>(sk.data()),
                           reinterpret_cast<const unsigned char*>(seed.data()));
  std::string token = Base64UrlEncode(claims_json);
  std::string signature(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(signature.data()), nullptr,
                       reinterpret_cast<const unsigned char*>(token.data()), token.size(),
                       reinterpret_cast<const unsigned char*>(sk.data()));
  return token + "." + Base64UrlEncode(signature);
}

class NodeTokenTest : public ::testing::Test {
 protected:
  NodeSigner gateway_ = *NodeSigner::FromSeed("gateway-fr", Seed('g'));
  NodeSigner mpi_ = *NodeSigner::FromSeed("mpi", Seed('m'));
  ManualClock clock_{kT0};
  NodeVerifier vault_{"vault-uk", {{"gateway-fr", gateway_.public_key()}, {"mpi", mpi_.public_key()}}, clock_};

  static NodeClaims ToVault() {
    NodeClaims claims;
    claims.audience = "vault-uk";
    return claims;
  }

  // Refused as unauthenticated, with a message that does not quote the token.
  void ExpectRefused(std::string_view token, std::string_view why) {
    SCOPED_TRACE(why);
    auto claims = vault_.Verify(token, "");
    ASSERT_FALSE(claims.ok());
    EXPECT_EQ(claims.status().code(), Code::kUnauthorized);
    EXPECT_EQ(claims.status().message(), why);
    if (token.size() >= 8) {
      EXPECT_EQ(claims.status().message().find(token.substr(0, 8)), std::string::npos);
    }
  }
};

TEST_F(NodeTokenTest, AGatewaysTokenVerifiesWithEveryClaim) {
  NodeClaims claims = ToVault();
  claims.issuer = "someone-else";  // Sign names the signer, whatever the caller wrote
  claims.user = "alice";
  claims.roles = {"physician", "auditor"};
  claims.organization = "Organization/hopital-nord";
  claims.fhir_user = "Practitioner/123";
  claims.region = "fr";
  claims.purpose = "ETREAT";
  claims.patient = "p-42";
  claims.pseudonym = std::string(64, 'a');
  claims.access = "write";
  const std::string token = gateway_.Sign(claims, kT0 - 5 * kSecond);
  auto verified = vault_.Verify(token, "");
  ASSERT_TRUE(verified.ok()) << verified.status().message();
  EXPECT_EQ(verified->issuer, "gateway-fr");
  EXPECT_EQ(verified->audience, "vault-uk");
  EXPECT_EQ(verified->issued, kT0 - 5 * kSecond);
  EXPECT_EQ(verified->expires, kT0 - 5 * kSecond + kNodeTokenLifetime);
  EXPECT_EQ(verified->user, "alice");
  EXPECT_EQ(verified->roles, (std::vector<std::string>{"physician", "auditor"}));
  EXPECT_EQ(verified->organization, "Organization/hopital-nord");
  EXPECT_EQ(verified->fhir_user, "Practitioner/123");
  EXPECT_EQ(verified->region, "fr");
  EXPECT_EQ(verified->purpose, "ETREAT");
  EXPECT_EQ(verified->patient, "p-42");
  EXPECT_EQ(verified->pseudonym, std::string(64, 'a'));
  EXPECT_EQ(verified->access, "write");
  // The claims part is the compact JSON the header describes, times in microseconds.
  auto json = json::Parse(*Base64UrlDecode(token.substr(0, token.find('.'))));
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(json->GetString("fhirUser"), "Practitioner/123");
  EXPECT_EQ(json->Find("iat")->number_text(), std::to_string(kT0 - 5 * kSecond));
  EXPECT_EQ(token.substr(token.find('.') + 1).size(), 86u);  // 64 bytes, unpadded
}

TEST_F(NodeTokenTest, ANodesOwnCallCarriesNoClinician) {
  const std::string token = mpi_.Sign(ToVault(), kT0);
  auto json = json::Parse(*Base64UrlDecode(token.substr(0, token.find('.'))));
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(json->as_object().size(), 4u) << json::Write(*json);  // iss, aud, iat, exp
  auto verified = vault_.Verify(token, "");
  ASSERT_TRUE(verified.ok()) << verified.status().message();
  EXPECT_EQ(verified->issuer, "mpi");
  EXPECT_TRUE(verified->user.empty());
  EXPECT_TRUE(verified->roles.empty());
  EXPECT_TRUE(verified->purpose.empty());
}

TEST_F(NodeTokenTest, RefusesMalformedTokens) {
  const std::string good = gateway_.Sign(ToVault(), kT0);
  const std::string claims_part = good.substr(0, good.find('.'));
  const std::string signature_part = good.substr(good.find('.') + 1);
  const std::string malformed = "the node token is malformed";
  ExpectRefused("", malformed);
  ExpectRefused(claims_part, malformed);                                         // no dot
  ExpectRefused(claims_part + signature_part, malformed);                        // no dot either
  ExpectRefused(claims_part + "." + signature_part + ".x", malformed);           // two dots
  ExpectRefused(claims_part + "." + signature_part + "=", malformed);            // padded
  ExpectRefused("*" + claims_part.substr(1) + "." + signature_part, malformed);  // not base64url
  ExpectRefused(claims_part + "." + signature_part.substr(4), malformed);        // 61 bytes
  ExpectRefused(claims_part + ".", malformed);
  ExpectRefused("." + signature_part, malformed);
  ExpectRefused(std::string(20 * 1024, 'A') + "." + signature_part, "the node token is too long");
  // Signed by a known node, but not the claims object the header describes.
  const std::string seed = Seed('g');
  const std::string iat = std::to_string(kT0), exp = std::to_string(kT0 + kNodeTokenLifetime);
  ExpectRefused(SignRaw("not json", seed), malformed);
  ExpectRefused(SignRaw("[\"gateway-fr\"]", seed), malformed);
  ExpectRefused(SignRaw(R"({"aud":"vault-uk","iat":)" + iat + R"(,"exp":)" + exp + "}", seed), malformed);
  ExpectRefused(SignRaw(R"({"iss":"gateway-fr","iat":)" + iat + R"(,"exp":)" + exp + "}", seed), malformed);
  ExpectRefused(SignRaw(R"({"iss":"gateway-fr","aud":"vault-uk","exp":)" + exp + "}", seed), malformed);
  ExpectRefused(SignRaw(R"({"iss":"gateway-fr","aud":"vault-uk","iat":)" + iat + "}", seed), malformed);
  ExpectRefused(SignRaw(R"({"iss":"gateway-fr","aud":"vault-uk","iat":")" + iat + R"(","exp":)" + exp + "}", seed),
                malformed);
  ExpectRefused(SignRaw(R"({"iss":"gateway-fr","aud":"vault-uk","iat":)" + iat + R"(.5,"exp":)" + exp + "}", seed),
                malformed);
  ExpectRefused(SignRaw(R"({"iss":"gateway-fr","aud":"vault-uk","iat":1e300,"exp":)" + exp + "}", seed), malformed);
  ExpectRefused(SignRaw(R"({"iss":["gateway-fr"],"aud":"vault-uk","iat":)" + iat + R"(,"exp":)" + exp + "}", seed),
                malformed);
  const std::string base = R"({"iss":"gateway-fr","aud":"vault-uk","iat":)" + iat + R"(,"exp":)" + exp;
  ExpectRefused(SignRaw(base + R"(,"roles":"physician"})", seed), malformed);
  ExpectRefused(SignRaw(base + R"(,"roles":["physician",1]})", seed), malformed);
  ExpectRefused(SignRaw(base + R"(,"sub":42})", seed), malformed);
  ExpectRefused(SignRaw(base + R"(,"purpose":null})", seed), malformed);
  ExpectRefused(SignRaw(base + R"(,"iat":0})", seed), malformed);  // a duplicate member
  // The same objects with well-typed members do verify: the refusals above are the types'.
  EXPECT_TRUE(vault_.Verify(SignRaw(base + R"(,"roles":["physician"],"sub":"alice"})", seed), "").ok());
  EXPECT_TRUE(vault_.Verify(SignRaw(base + R"(,"future":{"claim":true}})", seed), "").ok());
}

TEST_F(NodeTokenTest, RefusesAnUnknownIssuer) {
  auto stranger = NodeSigner::FromSeed("vault-de", Seed('d'));
  ASSERT_TRUE(stranger.ok());
  ExpectRefused(stranger->Sign(ToVault(), kT0), "the node token's issuer is not a node of the federation");
}

TEST_F(NodeTokenTest, RefusesAnotherNodesKeyUnderAKnownName) {
  // A node of the federation (or a thief of its key) writing "mpi" as the issuer.
  auto impostor = NodeSigner::FromSeed("mpi", Seed('g'));
  ASSERT_TRUE(impostor.ok());
  ExpectRefused(impostor->Sign(ToVault(), kT0), "the node token's signature is not valid");
  ExpectRefused(SignRaw(R"({"iss":"mpi","aud":"vault-uk","iat":)" + std::to_string(kT0) + R"(,"exp":)" +
                            std::to_string(kT0 + kNodeTokenLifetime) + "}",
                        Seed('g')),
                "the node token's signature is not valid");
}

TEST_F(NodeTokenTest, RefusesTamperedClaims) {
  NodeClaims claims = ToVault();
  claims.user = "alice";
  claims.roles = {"nurse"};
  const std::string token = gateway_.Sign(claims, kT0);
  ASSERT_TRUE(vault_.Verify(token, "").ok());
  const std::string signature_part = token.substr(token.find('.') + 1);
  // Promoted to physician, the original signature kept.
  auto json = json::Parse(*Base64UrlDecode(token.substr(0, token.find('.'))));
  ASSERT_TRUE(json.ok());
  json::Array roles;
  roles.emplace_back("physician");
  json->Set("roles", json::Value(std::move(roles)));
  ExpectRefused(Base64UrlEncode(json::Write(*json)) + "." + signature_part, "the node token's signature is not valid");
  // The same claims with a space more: other bytes, so not the signed ones.
  ExpectRefused(Base64UrlEncode(*Base64UrlDecode(token.substr(0, token.find('.'))) + " ") + "." + signature_part,
                "the node token's signature is not valid");
  // Any one character changed anywhere is refused, as malformed or as forged.
  for (size_t i = 0; i < token.size(); ++i) {
    std::string changed = token;
    changed[i] = changed[i] == 'A' ? 'B' : 'A';
    auto verified = vault_.Verify(changed, "");
    EXPECT_FALSE(verified.ok()) << "character " << i;
    EXPECT_EQ(verified.status().code(), Code::kUnauthorized);
  }
}

TEST_F(NodeTokenTest, RefusesATokenMeantForAnotherNode) {
  NodeClaims claims = ToVault();
  claims.audience = "vault-fr";
  ExpectRefused(gateway_.Sign(claims, kT0), "the node token is meant for another node");
  claims.audience = "";
  ExpectRefused(gateway_.Sign(claims, kT0), "the node token is meant for another node");
}

TEST_F(NodeTokenTest, ExpiresAMinuteAfterIssueGivenTheClockSkew) {
  const std::string token = gateway_.Sign(ToVault(), kT0);
  clock_.Set(kT0 + kNodeTokenLifetime + kNodeClockSkew);
  EXPECT_TRUE(vault_.Verify(token, "").ok());
  clock_.Advance(1);
  ExpectRefused(token, "the node token has expired");
  clock_.Set(kT0 + 3600 * kSecond);
  ExpectRefused(token, "the node token has expired");
}

TEST_F(NodeTokenTest, RefusesATokenIssuedInTheFuture) {
  const std::string token = gateway_.Sign(ToVault(), kT0);
  clock_.Set(kT0 - kNodeClockSkew);
  EXPECT_TRUE(vault_.Verify(token, "").ok());
  clock_.Advance(-1);
  ExpectRefused(token, "the node token was issued in the future");
}

TEST_F(NodeTokenTest, RefusesALifetimeLongerThanAMinute) {
  auto claims = [](Micros iat, Micros exp) {
    return R"({"iss":"gateway-fr","aud":"vault-uk","iat":)" + std::to_string(iat) + R"(,"exp":)" + std::to_string(exp) +
           "}";
  };
  EXPECT_TRUE(vault_.Verify(SignRaw(claims(kT0, kT0 + kNodeTokenLifetime), Seed('g')), "").ok());
  ExpectRefused(SignRaw(claims(kT0, kT0 + kNodeTokenLifetime + 1), Seed('g')),
                "the node token's lifetime is not valid");
  ExpectRefused(SignRaw(claims(kT0 - 3600 * kSecond, kT0 + 3600 * kSecond), Seed('g')),
                "the node token's lifetime is not valid");
  ExpectRefused(SignRaw(claims(kT0, kT0 - 1), Seed('g')), "the node token's lifetime is not valid");
  // Extreme times neither overflow nor pass.
  ExpectRefused(SignRaw(claims(INT64_MIN, INT64_MAX), Seed('g')), "the node token's lifetime is not valid");
  ExpectRefused(SignRaw(claims(INT64_MAX, INT64_MAX), Seed('g')), "the node token was issued in the future");
  ExpectRefused(SignRaw(claims(INT64_MIN, INT64_MIN), Seed('g')), "the node token has expired");
}

TEST_F(NodeTokenTest, VerifiesTheAuthorizationHeader) {
  const std::string token = gateway_.Sign(ToVault(), kT0);
  for (const std::string scheme : {"Node", "node", "NODE", "nOdE"}) {
    auto verified = vault_.VerifyHeader(scheme + " " + token, "");
    EXPECT_TRUE(verified.ok()) << scheme;
  }
  for (const std::string& header :
       std::vector<std::string>{"Bearer " + token, "Node  " + token, "Node\t" + token, "Node" + token, " Node " + token,
                                "Node " + token + " ", "Nodes " + token, "Node", "Node ", std::string()}) {
    auto verified = vault_.VerifyHeader(header, "");
    EXPECT_FALSE(verified.ok()) << header;
    EXPECT_EQ(verified.status().code(), Code::kUnauthorized);
    EXPECT_EQ(verified.status().message().find(token.substr(0, 8)), std::string::npos);
  }
}

TEST(NodeSigner, DerivesTheRfc8032KeyAndSignsDeterministically) {
  // RFC 8032 7.1, TEST 1.
  auto signer = NodeSigner::FromSeed("mpi", Unhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
  ASSERT_TRUE(signer.ok());
  EXPECT_EQ(signer->name(), "mpi");
  EXPECT_EQ(signer->public_key(), Unhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"));
  NodeClaims claims;
  claims.audience = "vault-uk";
  EXPECT_EQ(signer->Sign(claims, kT0), signer->Sign(claims, kT0));
  EXPECT_NE(signer->Sign(claims, kT0), signer->Sign(claims, kT0 + 1));
  EXPECT_EQ(NodeSigner::FromSeed("mpi", "short").status().code(), Code::kInvalid);
  EXPECT_EQ(NodeSigner::FromSeed("mpi", Seed('m') + "x").status().code(), Code::kInvalid);
}

TEST(NodeKey, IsStandardBase64OfExactly32Bytes) {
  const std::string key = Unhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  const std::string text = NodeKeyText(key);
  EXPECT_EQ(text, "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
  auto parsed = ParseNodeKey(text);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, key);
  for (const std::string& bad : {std::string(), std::string("11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo"),
                                 std::string("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo="),
                                 std::string("11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURp="),
                                 std::string(" 11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="),
                                 NodeKeyText(key.substr(1)), NodeKeyText(key + "x")}) {
    auto result = ParseNodeKey(bad);
    EXPECT_FALSE(result.ok()) << bad;
    EXPECT_EQ(result.status().code(), Code::kInvalid);
  }
}

// Where the federation file pins a node's TLS certificates, its tokens count only over a
// connection on which it presented one of them; other nodes' tokens are unaffected.
TEST_F(NodeTokenTest, APinnedNodesTokensCountOnlyWithItsCertificate) {
  const std::string current = "sha256:" + std::string(64, 'a'), renewed = "sha256:" + std::string(64, 'b');
  NodeVerifier pinned{"vault-uk",
                      {{"gateway-fr", gateway_.public_key()}, {"mpi", mpi_.public_key()}},
                      clock_,
                      {{"gateway-fr", {current, renewed}}}};
  const std::string token = gateway_.Sign(ToVault(), kT0);
  EXPECT_TRUE(pinned.Verify(token, current).ok());
  EXPECT_TRUE(pinned.Verify(token, renewed).ok()) << "either pin, while a certificate is renewed";
  for (const std::string& other : {std::string(), "sha256:" + std::string(64, 'c')}) {
    auto refused = pinned.VerifyHeader("Node " + token, other);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.status().code(), Code::kUnauthorized);
    EXPECT_NE(refused.status().message().find("certificate"), std::string::npos) << refused.status().message();
    EXPECT_EQ(refused.status().message().find(token), std::string::npos);
  }
  EXPECT_TRUE(pinned.Verify(mpi_.Sign(ToVault(), kT0), "").ok()) << "a node without pins calls from anywhere";
  EXPECT_TRUE(vault_.Verify(token, "").ok()) << "no pins at all: tokens alone";
}

}  // namespace
}  // namespace ehr::security
