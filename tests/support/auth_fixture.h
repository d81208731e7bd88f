// A server with --auth on and the helpers its API tests share: accounts with roles, tokens,
// authenticated requests, resources created by a SERVICE account, totals and ids of a
// searchset.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "support/test_server.h"

namespace ehr::testing {

class AuthFixture : public ::testing::Test {
 public:
  static constexpr char kPassword[] = "Tulip-Harbour-42";  // meets the password policy

 protected:
  explicit AuthFixture(TestServerOptions options = Authenticated()) : server_(std::move(options)) {}
  static TestServerOptions Authenticated() {
    TestServerOptions o;
    o.auth = true;
    return o;
  }

  // The SERVICE account Create writes with.
  void SetUpService() {
    Add("seed", {"SERVICE"});
    service_ = Token("seed");
  }
  void Add(const std::string& name, std::vector<std::string> roles, std::string fhir_user = "") {
    auto u = server_.identity()->AddUser({name, kPassword, std::move(roles), {}, std::move(fhir_user)});
    ASSERT_TRUE(u.ok()) << u.status().message();
  }
  std::string Token(const std::string& name) {
    auto t = server_.identity()->MintTokens(name, "", "");
    EXPECT_TRUE(t.ok()) << t.status().message();
    return t.ok() ? t->access_token : "";
  }
  HttpResult As(const std::string& token, const std::string& method, const std::string& path,
                const std::string& body = "", Headers extra = {}) {
    Headers h = kFhirJson;
    h.push_back({"Authorization", "Bearer " + token});
    h.insert(h.end(), extra.begin(), extra.end());
    return c_.Send(method, path, body, h);
  }
  int Status(const std::string& token, const std::string& path, Headers extra = {}) {
    return As(token, "GET", path, "", std::move(extra)).status;
  }
  std::string Create(const std::string& type, const std::string& body) {
    auto r = As(service_, "POST", "/fhir/" + type, body);
    EXPECT_EQ(r.status, 201) << r.body;
    return std::string(ParseBody(r.body).GetString("id"));
  }
  int Total(const std::string& token, const std::string& path) {
    auto r = As(token, "GET", path + (path.find('?') == std::string::npos ? "?" : "&") + "_total=accurate");
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    const json::Value body = ParseBody(r.body);
    const json::Value* t = body.Find("total");
    return t && t->as_int64() ? static_cast<int>(*t->as_int64()) : -1;
  }
  // The ids of the entries of `type` in a Bundle, sorted.
  static std::vector<std::string> Ids(const HttpResult& r, std::string_view type) {
    std::vector<std::string> out;
    const json::Value body = ParseBody(r.body);
    const json::Value* e = body.Find("entry");
    for (const auto& entry : e ? e->as_array() : json::Array{}) {
      const json::Value* res = entry.Find("resource");
      if (res && res->GetString("resourceType") == type) out.emplace_back(res->GetString("id"));
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  TestServer server_;
  HttpClient c_ = server_.Client();
  std::string service_;
};

}  // namespace ehr::testing
