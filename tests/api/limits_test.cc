// Rate limits over a real socket, on a manual clock: a user's burst, then 429 with
// Retry-After until the bucket refills; users and tenants apart; the login endpoint per
// client address.
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
