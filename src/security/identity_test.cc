// Identity over a real account store, SQLite (a file in a temporary directory) and
// PostgreSQL (a database of its own on a server the test starts: `--accounts postgres`),
// with a manual clock: logins, lockout, refresh rotation and reuse detection, revocation,
// idle timeout, TOTP enrolment, key rotation, break-glass. A difference between the two is
// a bug.
#include "security/identity.h"
#include "security/jwt.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "security/break_glass.h"
#include "support/store_backends.h"
#include "security/totp.h"

namespace ehr::security {
namespace {

constexpr int64_t kSecond = 1000000;
constexpr char kPassword[] = "Tulip-Harbour-42";

class IdentityTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    backend_ = testing::MakeStoreBackend(GetParam());
    Reopen();
  }
  void TearDown() override {
    identity_.reset();
    accounts_.reset();
  }
  void Reopen() {
    identity_.reset();
    accounts_.reset();
    accounts_ = backend_->OpenAccounts(nullptr);
    ASSERT_NE(accounts_, nullptr);
    options_.clock = &clock_;
    options_.password_cost = PasswordCost{1, 8 * 1024 * 1024};
    options_.audience = "https://ehr.example/fhir";
    identity_ = std::move(*Identity::Open(*accounts_, options_));
  }
  void AddDoctor(std::string name = "dr.who") {
    auto u = identity_->AddUser({name, kPassword, {"DOCTOR"}, {"uk", "de"}, "Practitioner/7"});
    ASSERT_TRUE(u.ok()) << u.status().message();
  }
  Result<Tokens> Login(std::string user = "dr.who", std::string password = kPassword, std::string code = "") {
    return identity_->Login({std::move(user), std::move(password), std::move(code), ""});
  }

  std::unique_ptr<testing::StoreBackend> backend_;
  ManualClock clock_{1800000000 * kSecond};
  IdentityOptions options_;
  std::unique_ptr<store::AccountStore> accounts_;
  std::unique_ptr<Identity> identity_;
};

TEST_P(IdentityTest, LoginIssuesATokenThatAuthenticates) {
  AddDoctor();
  auto t = Login("DR.WHO");  // usernames are case-insensitive
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->expires_in, 900);
  auto p = identity_->Authenticate(t->access_token);
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_TRUE(p->authenticated);
  EXPECT_EQ(p->username, "dr.who");
  EXPECT_EQ(p->tenant, "uk");  // the first tenant is the default
  EXPECT_EQ(p->roles, std::vector<std::string>{"DOCTOR"});
  EXPECT_EQ(p->fhir_user, "Practitioner/7");
  EXPECT_FALSE(p->mfa_enrollment_only);
  auto de = identity_->Login({"dr.who", kPassword, "", "de"});
  ASSERT_TRUE(de.ok());
  EXPECT_EQ(identity_->Authenticate(de->access_token)->tenant, "de");
  EXPECT_EQ(identity_->Login({"dr.who", kPassword, "", "fr"}).status().code(), Code::kForbidden);
  // The JWKS verifies what the server signed, and the token does not outlive 15 minutes.
  EXPECT_EQ(identity_->Jwks().Find("keys")->as_array().size(), 1u);
  clock_.Advance(931 * kSecond);  // 15 minutes and the 30 s of allowed clock skew
  EXPECT_EQ(identity_->Authenticate(t->access_token).status().code(), Code::kUnauthorized);
}

TEST_P(IdentityTest, WrongPasswordsLockTheAccountWithBackOff) {
  AddDoctor();
  EXPECT_EQ(Login("nobody").status().code(), Code::kUnauthorized);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Login("dr.who", "Wrong-Password-1").status().code(), Code::kUnauthorized);
  // Locked: even the right password fails, with the same message as a wrong one.
  auto locked = Login();
  EXPECT_EQ(locked.status().code(), Code::kUnauthorized);
  EXPECT_EQ(locked.status().message(), Login("dr.who", "Wrong-Password-1").status().message());
  // Attempts while locked do not count (else anyone could keep an account locked).
  clock_.Advance(61 * kSecond);
  EXPECT_FALSE(Login("dr.who", "Wrong-Password-1").ok());  // the sixth failure: 120 s
  EXPECT_FALSE(Login().ok());
  clock_.Advance(119 * kSecond);
  EXPECT_FALSE(Login().ok());
  clock_.Advance(2 * kSecond);
  EXPECT_TRUE(Login().ok());
  // Success resets the count.
  EXPECT_FALSE(Login("dr.who", "Wrong-Password-1").ok());
  EXPECT_TRUE(Login().ok());
}

TEST_P(IdentityTest, RefreshRotatesAndReuseRevokesTheFamily) {
  AddDoctor();
  auto first = *Login();
  clock_.Advance(60 * kSecond);
  auto second = identity_->Refresh(first.refresh_token);
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_NE(second->refresh_token, first.refresh_token);
  EXPECT_TRUE(identity_->Authenticate(second->access_token).ok());
  // The spent token is presented again (stolen, or a client bug): everything ends.
  EXPECT_EQ(identity_->Refresh(first.refresh_token).status().code(), Code::kUnauthorized);
  EXPECT_FALSE(identity_->Refresh(second->refresh_token).ok());
  EXPECT_FALSE(identity_->Authenticate(second->access_token).ok());
  EXPECT_FALSE(identity_->Authenticate(first.access_token).ok());
  EXPECT_FALSE(identity_->Refresh("made-up").ok());
  // Another login is unaffected.
  EXPECT_TRUE(Login().ok());
}

TEST_P(IdentityTest, LogoutDisableAndRoleChangesEndSessionsAtOnce) {
  AddDoctor();
  auto a = *Login();
  auto b = *Login();
  ASSERT_TRUE(identity_->Logout(*identity_->Authenticate(a.access_token)).ok());
  EXPECT_FALSE(identity_->Authenticate(a.access_token).ok());
  EXPECT_FALSE(identity_->Refresh(a.refresh_token).ok());
  EXPECT_TRUE(identity_->Authenticate(b.access_token).ok());
  ASSERT_TRUE(identity_->SetRoles("dr.who", {"NURSE"}).ok());
  EXPECT_FALSE(identity_->Authenticate(b.access_token).ok());
  auto c = *Login();
  EXPECT_EQ(identity_->Authenticate(c.access_token)->roles, std::vector<std::string>{"NURSE"});
  ASSERT_TRUE(identity_->SetDisabled("dr.who", true).ok());
  EXPECT_FALSE(identity_->Authenticate(c.access_token).ok());
  EXPECT_FALSE(Login().ok());
  ASSERT_TRUE(identity_->SetDisabled("dr.who", false).ok());
  EXPECT_TRUE(Login().ok());
}

TEST_P(IdentityTest, IdleSessionsEnd) {
  AddDoctor();
  auto t = *Login();
  clock_.Advance(600 * kSecond);
  EXPECT_TRUE(identity_->Authenticate(t.access_token).ok());  // activity at 10 min
  clock_.Advance(600 * kSecond);
  auto r = identity_->Refresh(t.refresh_token);  // at 20 min: 10 min idle, fine
  ASSERT_TRUE(r.ok()) << r.status().message();
  clock_.Advance(31 * 60 * kSecond);
  EXPECT_FALSE(identity_->Refresh(r->refresh_token).ok());
}

TEST_P(IdentityTest, SessionsAndRevocationsSurviveARestart) {
  AddDoctor();
  auto a = *Login();
  auto b = *Login();
  ASSERT_TRUE(identity_->Logout(*identity_->Authenticate(a.access_token)).ok());
  Reopen();
  EXPECT_FALSE(identity_->Authenticate(a.access_token).ok());
  EXPECT_TRUE(identity_->Authenticate(b.access_token).ok());  // the signing key persisted
  EXPECT_TRUE(identity_->Refresh(b.refresh_token).ok());
}

TEST_P(IdentityTest, SigningKeysRotateAndOldTokensStayValidUntilTheyExpire) {
  AddDoctor();
  auto old_token = *Login();
  clock_.Advance(30LL * 86400 * kSecond + kSecond);
  auto fresh = *identity_->MintTokens("dr.who", "", "");  // a new session for the new key
  (void)fresh;
  Reopen();  // rotation happens when the keys are loaded
  EXPECT_EQ(identity_->Jwks().Find("keys")->as_array().size(), 2u);
  auto now_token = *identity_->MintTokens("dr.who", "", "");
  EXPECT_TRUE(identity_->Authenticate(now_token.access_token).ok());
  clock_.Advance(3600 * kSecond);
  Reopen();
  EXPECT_EQ(identity_->Jwks().Find("keys")->as_array().size(), 1u);
  EXPECT_FALSE(identity_->Authenticate(old_token.access_token).ok());
}

TEST_P(IdentityTest, IdTokensAreRs256WithAKeyMadeOnceKeptAndRotated) {
  AddDoctor();
  EXPECT_EQ(identity_->Jwks().Find("keys")->as_array().size(), 1u) << "no RSA key until an ID token is asked for";
  const Principal who = *identity_->Authenticate(Login()->access_token);
  auto first = DecodeJwt(*identity_->IdToken(who, "app"));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->alg(), "RS256");
  EXPECT_EQ(first->claims.GetString("aud"), "app");
  EXPECT_EQ(identity_->Jwks().Find("keys")->as_array().size(), 2u);
  Reopen();
  EXPECT_EQ(DecodeJwt(*identity_->IdToken(who, "app"))->kid(), first->kid()) << "kept across a restart";
  clock_.Advance(30LL * 86400 * kSecond + kSecond);
  Reopen();
  const auto rotated = DecodeJwt(*identity_->IdToken(who, "app"));
  EXPECT_NE(rotated->kid(), first->kid());
  bool old_published = false;
  const json::Value jwks = identity_->Jwks();
  for (const auto& k : jwks.Find("keys")->as_array()) old_published |= k.GetString("kid") == first->kid();
  EXPECT_TRUE(old_published) << "the retired key stays published while its tokens live";
}

TEST_P(IdentityTest, AdminsMustEnrolASecondFactor) {
  auto password = identity_->Bootstrap("");
  ASSERT_TRUE(password.ok() && password->has_value());
  EXPECT_TRUE(CheckPasswordPolicy(**password, "admin").ok());
  EXPECT_FALSE(identity_->Bootstrap("")->has_value());  // only once
  auto t = Login("admin", **password);
  ASSERT_TRUE(t.ok());
  auto p = *identity_->Authenticate(t->access_token);
  EXPECT_TRUE(p.mfa_enrollment_only);
  EXPECT_EQ(t->scope, "mfa-enroll");
  auto enrol = identity_->BeginTotp(p);
  ASSERT_TRUE(enrol.ok());
  EXPECT_EQ(enrol->uri.rfind("otpauth://totp/EHR:admin?secret=" + enrol->secret_base32, 0), 0u);
  EXPECT_FALSE(identity_->ConfirmTotp(p, "000000").ok());
  auto user = **accounts_->UserByName("admin");
  const std::string code = Hotp(user.totp_secret, static_cast<uint64_t>(clock_.Now() / kSecond / kTotpStepSeconds));
  auto recovery = identity_->ConfirmTotp(p, code);
  ASSERT_TRUE(recovery.ok()) << recovery.status().message();
  EXPECT_EQ(recovery->size(), 10u);
  EXPECT_FALSE(identity_->Authenticate(t->access_token).ok());  // the enrolment session ended
  // From now on a code is required, each code works once, and recovery codes work once.
  EXPECT_EQ(Login("admin", **password).status().code(), Code::kUnauthorized);
  EXPECT_FALSE(Login("admin", **password, code).ok());  // already used for the enrolment
  clock_.Advance(30 * kSecond);
  const std::string next = Hotp(user.totp_secret, static_cast<uint64_t>(clock_.Now() / kSecond / kTotpStepSeconds));
  auto full = Login("admin", **password, next);
  ASSERT_TRUE(full.ok()) << full.status().message();
  EXPECT_FALSE(identity_->Authenticate(full->access_token)->mfa_enrollment_only);
  EXPECT_TRUE(Login("admin", **password, (*recovery)[3]).ok());
  EXPECT_FALSE(Login("admin", **password, (*recovery)[3]).ok());
}

TEST_P(IdentityTest, AccountChecks) {
  EXPECT_FALSE(identity_->AddUser({"x", kPassword, {"DOCTOR"}, {}, ""}).ok());
  EXPECT_FALSE(identity_->AddUser({"dr.who", "short", {"DOCTOR"}, {}, ""}).ok());
  EXPECT_FALSE(identity_->AddUser({"dr.who", kPassword, {"WIZARD"}, {}, ""}).ok());
  EXPECT_FALSE(identity_->AddUser({"dr.who", kPassword, {}, {}, ""}).ok());
  EXPECT_FALSE(identity_->AddUser({"dr.who", kPassword, {"DOCTOR"}, {"a b"}, ""}).ok());
  AddDoctor();
  EXPECT_EQ(identity_->AddUser({"Dr.Who", kPassword, {"DOCTOR"}, {}, ""}).status().code(), Code::kConflict);
  EXPECT_EQ(identity_->Users()->size(), 1u);
  EXPECT_EQ(identity_->Users()->front().password_hash.rfind("$argon2id$", 0), 0u);
  ASSERT_TRUE(identity_->SetPassword("dr.who", "Another-Tulip-43").ok());
  EXPECT_FALSE(Login().ok());
  EXPECT_TRUE(Login("dr.who", "Another-Tulip-43").ok());
}

class BreakGlassTest : public IdentityTest {};

TEST_P(BreakGlassTest, DeclaredWithAReasonForOneSessionUntilItExpires) {
  AddDoctor();
  ASSERT_TRUE(identity_->AddUser({"clerk", kPassword, {"CLERK"}, {}, ""}).ok());
  auto tokens = Login();
  ASSERT_TRUE(tokens.ok());
  auto doctor = identity_->Authenticate(tokens->access_token);
  ASSERT_TRUE(doctor.ok());
  BreakGlass glass(*accounts_, clock_, 60 * 60 * kSecond);
  EXPECT_FALSE(glass.Active(*doctor));
  EXPECT_EQ(glass.Declare(*doctor, "  ").status().code(), Code::kInvalid);
  EXPECT_EQ(glass.Declare(*doctor, "bad\nreason").status().code(), Code::kInvalid);
  EXPECT_EQ(glass.Declare(*doctor, std::string(501, 'x')).status().code(), Code::kInvalid);
  auto clerk_tokens = Login("clerk");
  ASSERT_TRUE(clerk_tokens.ok());
  auto clerk = identity_->Authenticate(clerk_tokens->access_token);
  ASSERT_TRUE(clerk.ok());
  EXPECT_EQ(glass.Declare(*clerk, "curious").status().code(), Code::kForbidden);

  auto declared = glass.Declare(*doctor, "unconscious patient in the emergency department");
  ASSERT_TRUE(declared.ok()) << declared.status().message();
  EXPECT_EQ(declared->expires, clock_.Now() + 60 * 60 * kSecond);
  EXPECT_TRUE(glass.Active(*doctor));
  // Declaring again while one is in force records nothing new.
  EXPECT_TRUE(glass.Declare(*doctor, "again").ok());
  auto recent = glass.Recent("", 0, 10);
  ASSERT_TRUE(recent.ok());
  ASSERT_EQ(recent->size(), 1u);
  EXPECT_EQ((*recent)[0].username, "dr.who");
  EXPECT_EQ((*recent)[0].reason, "unconscious patient in the emergency department");
  // Another login of the same doctor has not broken the glass.
  auto second = identity_->Authenticate(Login()->access_token);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(glass.Active(*second));
  // It survives a restart of the server (a new BreakGlass over the same store)...
  BreakGlass restarted(*accounts_, clock_, 60 * 60 * kSecond);
  EXPECT_TRUE(restarted.Active(*doctor));
  // ...and ends on time.
  clock_.Advance(60 * 60 * kSecond + 1);
  EXPECT_FALSE(glass.Active(*doctor));
  EXPECT_FALSE(restarted.Active(*doctor));
}

auto BackendName = [](const ::testing::TestParamInfo<std::string>& info) { return info.param; };
INSTANTIATE_TEST_SUITE_P(Backends, IdentityTest, ::testing::ValuesIn(testing::StoreBackendNames()), BackendName);
INSTANTIATE_TEST_SUITE_P(Backends, BreakGlassTest, ::testing::ValuesIn(testing::StoreBackendNames()), BackendName);

}  // namespace
}  // namespace ehr::security
