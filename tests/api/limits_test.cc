// What the public endpoints allow, over a real socket: rate limits on a manual clock (a
// user's burst, then 429 with Retry-After until the bucket refills; users apart; the login
// endpoint per client address) and self-registration (off by default; PATIENT only).
#include <gtest/gtest.h>

#include "support/test_server.h"

namespace ehr::testing {
namespace {

constexpr char kPassword[] = "Tulip-Harbour-42";
constexpr Micros kSecond = 1000000;

TEST(RateLimits, UsersGetABurstThenWaitTheirTurn) {
  ManualClock clock(1800000000 * kSecond);
  TestServerOptions o;
  o.auth = true;
  o.rate_limits = true;  // 50/s in bursts of 100 per user; 2000/s per tenant; login 5/s, bursts of 20
  o.clock = &clock;
  TestServer server(o);
  for (const char* name : {"ann", "bob"}) {
    ASSERT_TRUE(server.identity()->AddUser({name, kPassword, {"CLERK"}, {}, ""}).ok());
  }
  HttpClient c = server.Client();
  auto get = [&](const std::string& user_token) {
    return c.Send("GET", "/fhir/Patient?_count=1", "", {{"Authorization", "Bearer " + user_token}});
  };
  const std::string ann = server.identity()->MintTokens("ann", "", "")->access_token;
  const std::string bob = server.identity()->MintTokens("bob", "", "")->access_token;
  for (int i = 0; i < 100; ++i) ASSERT_EQ(get(ann).status, 200) << i;
  auto throttled = get(ann);
  EXPECT_EQ(throttled.status, 429);
  EXPECT_EQ(throttled.Header("Retry-After"), "1");
  EXPECT_NE(throttled.body.find("\"throttled\""), std::string::npos);
  EXPECT_EQ(get(bob).status, 200) << "another user has a bucket of their own";
  clock.Advance(kSecond / 10);  // 5 requests' worth
  for (int i = 0; i < 5; ++i) EXPECT_EQ(get(ann).status, 200) << i;
  EXPECT_EQ(get(ann).status, 429);
  // Logins from one address: 20, then 429, whoever they are for.
  int refused = 0;
  for (int i = 0; i < 25; ++i) {
    auto r = c.Send("POST", "/auth/login", std::string(R"({"username":")") + (i % 2 ? "ann" : "bob") +
                                               R"(","password":"Wrong-Password-1"})",
                    {{"Content-Type", "application/json"}});
    if (r.status == 429) ++refused;
  }
  EXPECT_EQ(refused, 5);
}

}  // namespace
}  // namespace ehr::testing

namespace ehr::testing {
namespace {

HttpResult Register(HttpClient& c, const std::string& body) {
  return c.Send("POST", "/auth/register", body, {{"Content-Type", "application/json"}});
}

TEST(SelfRegistration, OpensAPatientAccountOfItsOwnNewRecordOnlyWhenEnabled) {
  TestServerOptions closed;
  closed.auth = true;
  TestServer off(closed);
  HttpClient c_off = off.Client();
  const std::string body =
      R"({"username":"ada","password":"Lovelace-Engine-1843","family":"Lovelace","given":"Ada","birthDate":"1990-12-10"})";
  EXPECT_EQ(Register(c_off, body).status, 404);

  TestServerOptions open = closed;
  open.self_registration = true;
  TestServer server(open);
  HttpClient c = server.Client();
  ASSERT_TRUE(server.identity()->AddUser({"seed", kPassword, {"SERVICE"}, {}, ""}).ok());
  const std::string seed = server.identity()->MintTokens("seed", "", "")->access_token;
  auto count = [&] {
    auto r = c.Send("GET", "/fhir/Patient?_total=accurate&_count=0", "", {{"Authorization", "Bearer " + seed}});
    const json::Value b = ParseBody(r.body);
    return *b.Find("total")->as_int64();
  };
  auto other = c.Send("POST", "/fhir/Patient", R"({"resourceType":"Patient"})",
                      {{"Content-Type", "application/fhir+json"}, {"Authorization", "Bearer " + seed}});
  ASSERT_EQ(other.status, 201);
  // Refused before anything is written: a weak password, a role asked for, a bad date.
  EXPECT_EQ(Register(c, R"({"username":"ada","password":"password123","family":"L","birthDate":"1990-12-10"})").status, 400);
  EXPECT_EQ(Register(c, R"({"username":"ada","password":"Lovelace-Engine-1843","family":"L","birthDate":"1990-12-10","roles":["DOCTOR"]})").status,
            400);
  auto bad_date = Register(c, R"({"username":"ada","password":"Lovelace-Engine-1843","family":"L","birthDate":"10/12/1990"})");
  EXPECT_EQ(bad_date.status, 400);
  EXPECT_NE(bad_date.body.find("Patient.birthDate"), std::string::npos) << bad_date.body;
  EXPECT_EQ(Register(c, R"({"username":"ada","password":"Lovelace-Engine-1843","family":"L","birthDate":"2990-01-01"})").status, 400);
  EXPECT_EQ(count(), 1);
  auto made = Register(c, body);
  ASSERT_EQ(made.status, 201) << made.body;
  EXPECT_EQ(Register(c, body).status, 409) << "the name is taken";
  EXPECT_EQ(count(), 2);
  // The account reaches its own new record, and nobody else's.
  const std::string token(ParseBody(made.body).GetString("access_token"));
  auto patients = c.Send("GET", "/fhir/Patient?_total=accurate", "", {{"Authorization", "Bearer " + token}});
  ASSERT_EQ(patients.status, 200);
  const json::Value found = ParseBody(patients.body);
  EXPECT_EQ(*found.Find("total")->as_int64(), 1);
  EXPECT_EQ(found.Find("entry")->as_array()[0].Find("resource")->Find("name")->as_array()[0].GetString("family"),
            "Lovelace");
  const std::string other_id(ParseBody(other.body).GetString("id"));
  EXPECT_EQ(c.Send("GET", "/fhir/Patient/" + other_id, "", {{"Authorization", "Bearer " + token}}).status, 403);
  auto users = server.identity()->Users();
  ASSERT_TRUE(users.ok());
  for (const auto& u : *users) {
    if (u.username == "ada") {
      EXPECT_EQ(u.roles, std::vector<std::string>{"PATIENT"});
    }
  }
}

}  // namespace
}  // namespace ehr::testing
