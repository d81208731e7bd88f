// Known-answer and negative tests of the security module's primitives: ES256 JWS (RFC 7515
// A.3), JWT checks, TOTP (RFC 6238 appendix B), Argon2id hashing and the password policy.
#include <gtest/gtest.h>

#include "core/base64.h"
#include "security/ec_key.h"
#include "security/jwt.h"
#include "security/password.h"
#include "security/totp.h"

namespace ehr::security {
namespace {

constexpr int64_t kSecond = 1000000;

// RFC 7515 appendix A.3 (ES256); test vector from the RFC (IETF Trust, BSD licence).
constexpr std::string_view kRfcToken =
    "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ."
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

json::Value RfcJwk() {
  return *json::Parse(R"({"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                          "y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"})");
}

TEST(EcKey, VerifiesTheRfc7515Es256Example) {
  auto key = EcKey::FromPublicJwk(RfcJwk());
  ASSERT_TRUE(key.ok()) << key.status().message();
  auto jwt = DecodeJwt(kRfcToken);
  ASSERT_TRUE(jwt.ok());
  EXPECT_EQ(jwt->alg(), "ES256");
  EXPECT_EQ(jwt->claims.GetString("iss"), "joe");
  EXPECT_TRUE(key->Verify(jwt->signing_input, jwt->signature));
  std::string tampered = jwt->signature;
  tampered[10] ^= 1;
  EXPECT_FALSE(key->Verify(jwt->signing_input, tampered));
  EXPECT_FALSE(key->Verify(jwt->signing_input + " ", jwt->signature));
  // The same check through VerifyJwt, just before the token's "exp" (1300819380).
  VerifyOptions options;
  options.now = 1300819300 * kSecond;
  options.issuer = "joe";
  EXPECT_TRUE(VerifyJwt(*jwt, [&](std::string_view) { return &*key; }, options).ok());
  options.now = 1300819380 * kSecond + 31 * kSecond;
  EXPECT_EQ(VerifyJwt(*jwt, [&](std::string_view) { return &*key; }, options).code(), Code::kUnauthorized);
}

TEST(EcKey, RefusesJwksThatAreNotPointsOnTheCurve) {
  json::Value jwk = RfcJwk();
  jwk.Set("y", json::Value("x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a1"));
  EXPECT_FALSE(EcKey::FromPublicJwk(jwk).ok());
  jwk = RfcJwk();
  jwk.Set("crv", json::Value("P-521"));
  EXPECT_FALSE(EcKey::FromPublicJwk(jwk).ok());
  jwk = RfcJwk();
  jwk.Set("x", json::Value("AAAA"));
  EXPECT_FALSE(EcKey::FromPublicJwk(jwk).ok());
  EXPECT_FALSE(EcKey::FromPublicJwk(json::Value("EC")).ok());
}

TEST(EcKey, SignsWhatItsPublicJwkVerifiesAndSurvivesPem) {
  for (EcAlg alg : {EcAlg::kES256, EcAlg::kES384}) {
    auto key = EcKey::Generate(alg);
    ASSERT_TRUE(key.ok());
    auto reloaded = EcKey::FromPrivatePem(key->PrivatePem());
    ASSERT_TRUE(reloaded.ok());
    EXPECT_EQ(reloaded->alg(), alg);
    auto sig = reloaded->Sign("payload");
    ASSERT_TRUE(sig.ok());
    EXPECT_EQ(sig->size(), alg == EcAlg::kES256 ? 64u : 96u);
    auto pub = EcKey::FromPublicJwk(key->PublicJwk("k1"));
    ASSERT_TRUE(pub.ok());
    EXPECT_FALSE(pub->has_private());
    EXPECT_TRUE(pub->Verify("payload", *sig));
    EXPECT_FALSE(pub->Verify("payloaD", *sig));
    EXPECT_EQ(key->PublicJwk("k1").GetString("kid"), "k1");
    EXPECT_EQ(key->PublicJwk("k1").Find("d"), nullptr);
  }
}

class JwtTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = std::make_unique<EcKey>(*EcKey::Generate());
    other_ = std::make_unique<EcKey>(*EcKey::Generate());
    options_.now = 1700000000 * kSecond;
    options_.issuer = "https://ehr.example";
    options_.audience = "https://ehr.example/fhir";
    claims_ = json::Value::MakeObject();
    claims_.Set("iss", json::Value(options_.issuer));
    claims_.Set("aud", json::Value(options_.audience));
    claims_.Set("sub", json::Value("u1"));
    claims_.Set("iat", json::Value::MakeInt(1700000000));
    claims_.Set("exp", json::Value::MakeInt(1700000000 + 900));
  }
  Status Check(std::string_view token) {
    auto jwt = DecodeJwt(token);
    if (!jwt.ok()) return jwt.status();
    return VerifyJwt(*jwt, [this](std::string_view kid) { return kid == "k1" ? key_.get() : nullptr; }, options_);
  }
  std::string Sign(const json::Value& claims, const EcKey& key, std::string_view kid = "k1") {
    return *SignJwt(claims, key, kid);
  }
  // A token with `header` as its header and `claims_` as its payload, signed (or not) as given.
  std::string Forge(std::string_view header, std::string_view signature) {
    return Base64UrlEncode(header) + "." + Base64UrlEncode(json::Write(claims_)) + "." + Base64UrlEncode(signature);
  }

  std::unique_ptr<EcKey> key_, other_;
  VerifyOptions options_;
  json::Value claims_;
};

TEST_F(JwtTest, AcceptsItsOwnTokens) { EXPECT_TRUE(Check(Sign(claims_, *key_)).ok()); }

TEST_F(JwtTest, RefusesAlgorithmConfusion) {
  EXPECT_EQ(Check(Forge(R"({"alg":"none","kid":"k1"})", "")).code(), Code::kUnauthorized);
  EXPECT_EQ(Check(Forge(R"({"alg":"HS256","kid":"k1"})", std::string(32, 'x'))).code(), Code::kUnauthorized);
  EXPECT_EQ(Check(Forge(R"({"alg":"ES384","kid":"k1"})", std::string(96, 'x'))).code(), Code::kUnauthorized);
  // A valid signature over a header that names another algorithm.
  std::string input = Base64UrlEncode(R"({"alg":"ES512","kid":"k1"})") + "." + Base64UrlEncode(json::Write(claims_));
  EXPECT_FALSE(Check(input + "." + Base64UrlEncode(*key_->Sign(input))).ok());
  EXPECT_FALSE(Check(Forge(R"({"alg":"ES256","kid":"k1","crit":["exp"]})", *key_->Sign("x"))).ok());
}

TEST_F(JwtTest, RefusesUnknownKeysAndTampering) {
  EXPECT_FALSE(Check(Sign(claims_, *other_)).ok());
  EXPECT_FALSE(Check(Sign(claims_, *key_, "k2")).ok());
  std::string token = Sign(claims_, *key_);
  json::Value admin = claims_;
  admin.Set("sub", json::Value("admin"));
  const size_t dot1 = token.find('.'), dot2 = token.rfind('.');
  EXPECT_FALSE(Check(token.substr(0, dot1 + 1) + Base64UrlEncode(json::Write(admin)) + token.substr(dot2)).ok());
  for (std::string_view bad : {"", ".", "..", "a.b.c", "a.b", "a.b.c.d", "e30.e30.", "e30.W10.AA"}) {
    EXPECT_EQ(Check(bad).code(), Code::kUnauthorized) << bad;
  }
  EXPECT_FALSE(Check(std::string(kMaxJwtBytes + 1, 'a')).ok());
}

TEST_F(JwtTest, ChecksTimeIssuerAndAudience) {
  json::Value c = claims_;
  c.Set("exp", json::Value::MakeInt(1700000000 - 31));
  EXPECT_FALSE(Check(Sign(c, *key_)).ok());
  c.Set("exp", json::Value("1700000900"));  // a string is not a NumericDate
  EXPECT_FALSE(Check(Sign(c, *key_)).ok());
  c.Remove("exp");
  EXPECT_FALSE(Check(Sign(c, *key_)).ok());
  c = claims_;
  c.Set("nbf", json::Value::MakeInt(1700000000 + 60));
  EXPECT_FALSE(Check(Sign(c, *key_)).ok());
  c = claims_;
  c.Set("iat", json::Value::MakeInt(1700000000 + 60));
  EXPECT_FALSE(Check(Sign(c, *key_)).ok());
  c = claims_;
  c.Set("iss", json::Value("https://evil.example"));
  EXPECT_FALSE(Check(Sign(c, *key_)).ok());
  c = claims_;
  c.Set("aud", json::Value("https://other.example/fhir"));
  EXPECT_FALSE(Check(Sign(c, *key_)).ok());
  json::Value auds = json::Value::MakeArray();
  auds.as_array().push_back(json::Value("x"));
  auds.as_array().push_back(json::Value(options_.audience));
  c.Set("aud", auds);
  EXPECT_TRUE(Check(Sign(c, *key_)).ok());
  options_.max_lifetime_seconds = 300;
  EXPECT_FALSE(Check(Sign(claims_, *key_)).ok());  // exp 900 s ahead
}

// RFC 6238 appendix B, SHA-1 rows (8 digits); test vectors from the RFC.
TEST(Totp, Rfc6238Vectors) {
  const std::string secret = "12345678901234567890";
  const std::pair<uint64_t, std::string> rows[] = {
      {59, "94287082"},         {1111111109, "07081804"}, {1111111111, "14050471"},
      {1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000ULL, "65353130"},
  };
  for (const auto& [time, code] : rows) EXPECT_EQ(Hotp(secret, time / 30, 8), code) << time;
}

TEST(Totp, AcceptsOneStepOfSkewAndEachCodeOnce) {
  const std::string secret = "12345678901234567890";
  const Micros now = 1111111111 * kSecond;
  const int64_t step = 1111111111 / 30;
  const std::string code = Hotp(secret, step);
  EXPECT_EQ(CheckTotp(secret, code, now, 0), step);
  EXPECT_EQ(CheckTotp(secret, code, now + 30 * kSecond, 0), step);  // the next step, late phone
  EXPECT_FALSE(CheckTotp(secret, code, now + 90 * kSecond, 0));
  EXPECT_FALSE(CheckTotp(secret, code, now, step));  // already used
  EXPECT_FALSE(CheckTotp(secret, "12345", now, 0));
  EXPECT_FALSE(CheckTotp("another secret......", code, now, 0));
}

TEST(Totp, UriForAuthenticatorApps) {
  EXPECT_EQ(Base32Encode("foobar"), "MZXW6YTBOI");
  EXPECT_EQ(TotpUri("foobar", "EHR Demo", "a.b@x"),
            "otpauth://totp/EHR%20Demo:a.b%40x?secret=MZXW6YTBOI&issuer=EHR%20Demo&algorithm=SHA1&digits=6&period=30");
}

TEST(Password, HashesVerifyAndCarryTheirCost) {
  PasswordHasher hasher(PasswordCost{1, 8 * 1024 * 1024});
  auto hash = hasher.Hash("Correct-Horse-9");
  ASSERT_TRUE(hash.ok());
  EXPECT_EQ(hash->rfind("$argon2id$", 0), 0u);
  EXPECT_TRUE(hasher.Verify(*hash, "Correct-Horse-9"));
  EXPECT_FALSE(hasher.Verify(*hash, "Correct-Horse-8"));
  EXPECT_FALSE(hasher.Verify("not a hash", "Correct-Horse-9"));
  EXPECT_NE(*hasher.Hash("Correct-Horse-9"), *hash);  // salted
  EXPECT_FALSE(hasher.NeedsRehash(*hash));
  EXPECT_TRUE(PasswordHasher(PasswordCost{2, 8 * 1024 * 1024}).NeedsRehash(*hash));
}

TEST(Password, Policy) {
  EXPECT_TRUE(CheckPasswordPolicy("Tulip-Harbour-42", "alice").ok());
  EXPECT_FALSE(CheckPasswordPolicy("Short-1a", "alice").ok());
  EXPECT_FALSE(CheckPasswordPolicy("tulip-harbour-42", "alice").ok());  // no upper case
  EXPECT_FALSE(CheckPasswordPolicy("TULIP-HARBOUR-42", "alice").ok());
  EXPECT_FALSE(CheckPasswordPolicy("Tulip-Harbour-xx", "alice").ok());  // no digit
  EXPECT_FALSE(CheckPasswordPolicy("TulipHarbour42", "alice").ok());    // no symbol
  EXPECT_FALSE(CheckPasswordPolicy(std::string(129, 'a') + "A1!", "alice").ok());
  for (std::string_view common : {"P@ssw0rd2024!", "Password123!", "1Password!!!", "Welcome2026!", "@dministrator1",
                                  "Qwerty123456!", "Passwordpassword1!", "Hospital2026#"}) {
    Status st = CheckPasswordPolicy(common, "alice");
    EXPECT_FALSE(st.ok()) << common;
    EXPECT_EQ(st.message().find(common), std::string::npos);  // never echoed
  }
  EXPECT_FALSE(CheckPasswordPolicy("Alice-Harbour-42", "alice").ok());
  EXPECT_FALSE(CheckPasswordPolicy("4lice-Harbour-42", "Alice").ok());
}

}  // namespace
}  // namespace ehr::security
