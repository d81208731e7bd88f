// The MPI's HTTP API called as the server would (Handle), with a real index file and real
// node tokens: every route, who may call it, and each way a request is refused, the errors
// never quoting a pseudonym or an id.
#include "mpi/mpi_service.h"
#include "mpi/witness_wire.h"

#include <gtest/gtest.h>

#include "store/sqlite/test_util.h"

namespace ehr::mpi {
namespace {

using store::testing::TempDir;

constexpr Micros kT0 = 1'800'000'000'000'000;
const std::string kP1(64, 'a');
const std::string kP2 = std::string(63, '0') + "9";
const std::string kP3(64, 'c');

std::string Seed(char fill) { return std::string(32, fill); }

// An index whose every call fails as a busy or broken disk would.
class FailingStore final : public IndexStore {
 public:
  Status Register(std::string_view, std::string_view, const std::vector<PatientPseudonym>&) override { return Busy(); }
  Result<std::vector<Link>> Lookup(std::string_view) override { return Busy(); }
  Result<std::vector<Link>> LinksOfRegion(std::string_view) override { return Busy(); }
  Result<std::vector<LinkChange>> History(std::string_view, std::string_view) override { return Busy(); }
  Result<std::optional<audit::WitnessedHead>> Witnessed(std::string_view) override { return Busy(); }
  Result<int64_t> WitnessRefusals(std::string_view) override { return Busy(); }
  Status Witness(std::string_view, const audit::TreeHead&, std::string_view, const std::vector<std::string>&) override {
    return Busy();
  }
  Result<uint64_t> ResetWitness(std::string_view) override { return Busy(); }
  Result<std::vector<Micros>> WitnessResets(std::string_view) override { return Busy(); }

 private:
  static Status Busy() { return Status::Unavailable("storage: add a link failed: database is locked"); }
};

class MpiServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = OpenIndexStore(dir_.File("mpi.db"), clock_);
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    store_ = std::move(opened).value();
    service_ = std::make_unique<MpiService>(*store_, verifier_, Roles());
  }

  static std::map<std::string, MpiService::NodeRole, std::less<>> Roles() {
    return {{"vault-uk", {"vault", "uk"}},
            {"vault-fr", {"vault", "fr"}},
            {"gateway-fr", {"gateway", "fr"}},
            {"mpi", {"mpi", ""}}};
  }

  // A token from `signer` to `audience`, as the caller's node would make it now.
  std::string Token(const security::NodeSigner& signer, std::string audience = "mpi") {
    security::NodeClaims claims;
    claims.audience = std::move(audience);
    return "Node " + signer.Sign(std::move(claims), clock_.Now());
  }

  static net::Request Call(std::string method, std::string target, std::string authorization, std::string body = {}) {
    net::Request r;
    r.method = std::move(method);
    r.target = target;
    const size_t q = target.find('?');
    r.path = target.substr(0, q);
    if (q != std::string::npos) r.query = target.substr(q + 1);
    if (!authorization.empty()) r.headers.push_back({"Authorization", std::move(authorization)});
    r.body = std::move(body);
    r.request_id = "req-1";
    return r;
  }

  static std::string LinksBody(std::initializer_list<std::pair<std::string, std::string>> links) {
    json::Array out;
    for (const auto& [type, pseudonym] : links) {
      json::Value l = json::Value::MakeObject();
      l.Set("type", json::Value(type));
      l.Set("pseudonym", json::Value(pseudonym));
      out.push_back(std::move(l));
    }
    json::Value body = json::Value::MakeObject();
    body.Set("links", json::Value(std::move(out)));
    return json::Write(body);
  }

  static json::Value Body(const net::Response& r) {
    Result<json::Value> parsed = json::Parse(r.body);
    EXPECT_TRUE(parsed.ok()) << r.body;
    return parsed.ok() ? *parsed : json::Value();
  }

  // An error answer: `status`, {"error": ...} quoting nothing of the request.
  static void ExpectError(const net::Response& r, int status, std::initializer_list<std::string_view> secrets = {}) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.GetHeader("Content-Type"), "application/json");
    json::Value body = Body(r);
    ASSERT_TRUE(body.is_object()) << r.body;
    EXPECT_FALSE(body.GetString("error").empty()) << r.body;
    for (std::string_view secret : secrets) EXPECT_EQ(r.body.find(secret), std::string::npos) << r.body;
  }

  net::Response PutUk(std::string id, std::string body) {
    return service_->Handle(Call("PUT", "/mpi/regions/uk/patients/" + id, Token(vault_uk_), std::move(body)));
  }

  TempDir dir_;
  ManualClock clock_{kT0};
  security::NodeSigner vault_uk_ = *security::NodeSigner::FromSeed("vault-uk", Seed('u'));
  security::NodeSigner vault_fr_ = *security::NodeSigner::FromSeed("vault-fr", Seed('f'));
  security::NodeSigner gateway_ = *security::NodeSigner::FromSeed("gateway-fr", Seed('g'));
  security::NodeSigner mpi_ = *security::NodeSigner::FromSeed("mpi", Seed('m'));
  // A node with a key in the federation file but no role the MPI knows of.
  security::NodeSigner stranger_ = *security::NodeSigner::FromSeed("stranger", Seed('s'));
  security::NodeVerifier verifier_{"mpi",
                                   {{"vault-uk", vault_uk_.public_key()},
                                    {"vault-fr", vault_fr_.public_key()},
                                    {"gateway-fr", gateway_.public_key()},
                                    {"mpi", mpi_.public_key()},
                                    {"stranger", stranger_.public_key()}},
                                   clock_};
  std::unique_ptr<IndexStore> store_;
  std::unique_ptr<MpiService> service_;
};

// A vault's audit log heads at the witness: the first is kept, a larger one with its
// consistency proof replaces it, one that is not consistent (a rewritten log) is refused
// and counted, a proof from another size is sent back; only the node itself hands in its
// heads, any node reads them; and the index keeps them across a reopening.
TEST_F(MpiServiceTest, WitnessesAVaultsAuditLogHeads) {
  auto log_key = audit::TreeSigner::Generate();
  ASSERT_TRUE(log_key.ok());
  std::vector<std::string> leaves, forged;
  for (int i = 0; i < 30; ++i) {
    leaves.push_back(audit::LeafHash("entry " + std::to_string(i)));
    forged.push_back(audit::LeafHash(i < 5 ? "entry " + std::to_string(i) : "forged " + std::to_string(i)));
  }
  auto at = [](const std::vector<std::string>& l) { return [&l](uint64_t i) { return l[i]; }; };
  auto submission = [&](const std::vector<std::string>& l, uint64_t size, uint64_t time, uint64_t first) {
    WitnessSubmission s;
    s.head.head = log_key->Sign(size, audit::RootOf(size, at(l)), time);
    s.head.public_key = log_key->public_key();
    s.first = first;
    if (first > 0) s.consistency = audit::ConsistencyProof(first, size, at(l));
    return WriteWitnessSubmission(s);
  };
  auto put = [&](const security::NodeSigner& who, const std::string& body) {
    return service_->Handle(Call("PUT", "/mpi/witness/vault-uk", Token(who), body));
  };
  auto get = [&](const security::NodeSigner& who) {
    return service_->Handle(Call("GET", "/mpi/witness/vault-uk", Token(who)));
  };
  EXPECT_EQ(get(gateway_).status, 404);
  net::Response first = put(vault_uk_, submission(leaves, 10, 1000, 0));
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.route, "/mpi/witness/{node}");
  ASSERT_EQ(put(vault_uk_, submission(leaves, 20, 2000, 10)).status, 200);
  // Another node may not hand in the vault's heads; a body that is not a head is a 400.
  ExpectError(put(vault_fr_, submission(leaves, 25, 2500, 20)), 403);
  ExpectError(put(vault_uk_, R"({"tree_size": 25})"), 400);
  // A proof from a size the witness does not hold: 409 with the size held, nothing kept.
  net::Response stale = put(vault_uk_, submission(leaves, 25, 2500, 10));
  ExpectError(stale, 409);
  EXPECT_EQ(Body(stale).Find("witnessed_size")->as_int64(), 20);
  // The log rewritten after entry 5 and re-signed with the same key: refused and counted.
  net::Response forked = put(vault_uk_, submission(forged, 30, 3000, 20));
  ExpectError(forked, 409);
  EXPECT_NE(Body(forked).GetString("error").find("rewritten or forked"), std::string::npos) << forked.body;
  net::Response held = get(gateway_);
  ASSERT_EQ(held.status, 200) << held.body;
  EXPECT_EQ(Body(held).Find("tree_size")->as_int64(), 20);
  EXPECT_EQ(Body(held).Find("refusals")->as_int64(), 1);
  Result<audit::WitnessedHead> parsed = ParseWitnessedHead(held.body);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->head.root, audit::RootOf(20, at(leaves)));
  EXPECT_EQ(parsed->public_key, log_key->public_key());
  EXPECT_TRUE(audit::VerifyTreeHead(parsed->head, parsed->public_key).ok());
  // The true log goes on.
  ASSERT_EQ(put(vault_uk_, submission(leaves, 30, 3000, 20)).status, 200);
  EXPECT_EQ(service_->Handle(Call("GET", "/mpi/witness/nobody", Token(gateway_))).status, 404);
  EXPECT_EQ(service_->Handle(Call("DELETE", "/mpi/witness/vault-uk", Token(vault_uk_))).status, 405);
  // Kept in the index's database.
  store_.reset();
  auto reopened = OpenIndexStore(dir_.File("mpi.db"), clock_);
  ASSERT_TRUE(reopened.ok());
  auto newest = (*reopened)->Witnessed("vault-uk");
  ASSERT_TRUE(newest.ok() && *newest);
  EXPECT_EQ((*newest)->head.size, 30u);
  EXPECT_EQ(*(*reopened)->WitnessRefusals("vault-uk"), 1);
  // Reset by the operator (the vault was restored from a backup): the forged log's head is
  // now the first, and nothing refused before counts.
  EXPECT_EQ(*(*reopened)->ResetWitness("vault-uk"), 30u);
  EXPECT_FALSE(*(*reopened)->Witnessed("vault-uk"));
  EXPECT_EQ(*(*reopened)->WitnessRefusals("vault-uk"), 0);
  EXPECT_EQ(*(*reopened)->WitnessResets("vault-uk"), std::vector<Micros>{clock_.Now()});
  WitnessSubmission restart = *ParseWitnessSubmission(submission(forged, 25, 4000, 0));
  EXPECT_TRUE((*reopened)->Witness("vault-uk", restart.head.head, restart.head.public_key, {}).ok());
  EXPECT_EQ((**(*reopened)->Witnessed("vault-uk")).head.size, 25u);
}

TEST_F(MpiServiceTest, HealthNeedsNoToken) {
  net::Response r = service_->Handle(Call("GET", "/mpi/healthz", ""));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Body(r).GetString("status"), "ok");
  EXPECT_EQ(r.route, "/mpi/healthz");
  EXPECT_EQ(service_->Handle(Call("POST", "/mpi/healthz", "")).status, 405);
}

TEST_F(MpiServiceTest, VaultRegistersListsAndRemoves) {
  net::Response put = PutUk("p-1", LinksBody({{"nhs", kP1}, {"kvnr", kP2}, {"nhs", kP1}}));
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(Body(put).Find("links")->as_int64(), 2) << "a repeated link counts once";
  EXPECT_EQ(put.route, "/mpi/regions/{region}/patients/{id}");
  ASSERT_EQ(PutUk("p-2", LinksBody({{"nhs", kP3}})).status, 200);

  net::Response list = service_->Handle(Call("GET", "/mpi/regions/uk/patients", Token(vault_uk_)));
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(list.route, "/mpi/regions/{region}/patients");
  const json::Value listed = Body(list);
  const json::Array& links = listed.Find("links")->as_array();
  ASSERT_EQ(links.size(), 3u);
  // By patient, then by pseudonym (kP2 < kP1).
  EXPECT_EQ(links[0].GetString("patient"), "p-1");
  EXPECT_EQ(links[0].GetString("type"), "kvnr");
  EXPECT_EQ(links[0].GetString("pseudonym"), kP2);
  EXPECT_EQ(links[1].GetString("patient"), "p-1");
  EXPECT_EQ(links[1].GetString("type"), "nhs");
  EXPECT_EQ(links[1].GetString("pseudonym"), kP1);
  EXPECT_EQ(links[2].GetString("patient"), "p-2");

  // Setting the links again replaces them.
  ASSERT_EQ(PutUk("p-1", LinksBody({{"nhs", kP1}})).status, 200);
  auto history = store_->History("uk", "p-1");
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->size(), 3u) << "two adds and one remove";

  net::Response del = service_->Handle(Call("DELETE", "/mpi/regions/uk/patients/p-1", Token(vault_uk_)));
  EXPECT_EQ(del.status, 204);
  EXPECT_TRUE(del.body.empty());
  auto left = store_->LinksOfRegion("uk");
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ((*left)[0].patient, "p-2");
  EXPECT_EQ(service_->Handle(Call("DELETE", "/mpi/regions/uk/patients/p-1", Token(vault_uk_))).status, 204)
      << "deleting again is no error";

  // An empty list is a removal too.
  net::Response empty = PutUk("p-2", LinksBody({}));
  ASSERT_EQ(empty.status, 200);
  EXPECT_EQ(Body(empty).Find("links")->as_int64(), 0);
  EXPECT_TRUE(store_->LinksOfRegion("uk")->empty());
}

// A traveller registered in two regions, found by a gateway and by a vault.
TEST_F(MpiServiceTest, LookupFindsEveryRegion) {
  ASSERT_EQ(PutUk("p-1", LinksBody({{"nhs", kP1}})).status, 200);
  net::Response fr = service_->Handle(
      Call("PUT", "/mpi/regions/fr/patients/f.9", Token(vault_fr_), LinksBody({{"nhs", kP1}, {"nir", kP3}})));
  ASSERT_EQ(fr.status, 200) << fr.body;

  for (const security::NodeSigner* caller : {&gateway_, &vault_uk_}) {
    net::Response r = service_->Handle(Call("GET", "/mpi/lookup?pseudonym=" + kP1, Token(*caller)));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.route, "/mpi/lookup");
    const json::Value found = Body(r);
    const json::Array& matches = found.Find("matches")->as_array();
    ASSERT_EQ(matches.size(), 2u);
    EXPECT_EQ(matches[0].GetString("region"), "fr");
    EXPECT_EQ(matches[0].GetString("patient"), "f.9");
    EXPECT_EQ(matches[0].GetString("type"), "nhs");
    EXPECT_EQ(matches[1].GetString("region"), "uk");
    EXPECT_EQ(matches[1].GetString("patient"), "p-1");
  }
  net::Response none = service_->Handle(Call("GET", "/mpi/lookup?pseudonym=" + kP2, Token(gateway_)));
  ASSERT_EQ(none.status, 200);
  EXPECT_TRUE(Body(none).Find("matches")->as_array().empty());
}

TEST_F(MpiServiceTest, TokenRequired) {
  for (const net::Request& r :
       {Call("GET", "/mpi/lookup?pseudonym=" + kP1, ""),
        Call("PUT", "/mpi/regions/uk/patients/p-1", "", LinksBody({{"nhs", kP1}})),
        Call("GET", "/mpi/regions/uk/patients", "Bearer abc"),
        Call("GET", "/mpi/lookup?pseudonym=" + kP1, "Node not-a-token"), Call("GET", "/mpi/nowhere", "")}) {
    net::Response response = service_->Handle(r);
    ExpectError(response, 401, {"not-a-token"});
    EXPECT_EQ(response.GetHeader("WWW-Authenticate"), "Node") << r.target;
  }
  EXPECT_TRUE(store_->LinksOfRegion("uk")->empty());
}

TEST_F(MpiServiceTest, TokenForAnotherNodeOrExpired) {
  net::Response other = service_->Handle(Call("GET", "/mpi/lookup?pseudonym=" + kP1, Token(gateway_, "vault-uk")));
  ExpectError(other, 401);
  EXPECT_EQ(other.GetHeader("WWW-Authenticate"), "Node");

  const std::string token = Token(gateway_);
  clock_.Advance(10 * 60'000'000);
  ExpectError(service_->Handle(Call("GET", "/mpi/lookup?pseudonym=" + kP1, token)), 401);

  // Signed by a key the federation file does not give the issuer.
  security::NodeSigner impostor = *security::NodeSigner::FromSeed("vault-uk", Seed('x'));
  ExpectError(service_->Handle(Call("PUT", "/mpi/regions/uk/patients/p-1", Token(impostor), LinksBody({{"nhs", kP1}}))),
              401);
  EXPECT_TRUE(store_->LinksOfRegion("uk")->empty());
}

TEST_F(MpiServiceTest, OnlyTheRegionsVaultWrites) {
  const std::string body = LinksBody({{"nhs", kP1}});
  // A gateway, another region's vault, the MPI itself, a node without a role.
  ExpectError(service_->Handle(Call("PUT", "/mpi/regions/fr/patients/p-1", Token(gateway_), body)), 403);
  ExpectError(service_->Handle(Call("PUT", "/mpi/regions/uk/patients/p-1", Token(vault_fr_), body)), 403);
  ExpectError(service_->Handle(Call("DELETE", "/mpi/regions/uk/patients/p-1", Token(vault_fr_))), 403);
  ExpectError(service_->Handle(Call("GET", "/mpi/regions/uk/patients", Token(vault_fr_))), 403);
  ExpectError(service_->Handle(Call("GET", "/mpi/regions/fr/patients", Token(gateway_))), 403);
  ExpectError(service_->Handle(Call("PUT", "/mpi/regions/uk/patients/p-1", Token(mpi_), body)), 403);
  ExpectError(service_->Handle(Call("PUT", "/mpi/regions/uk/patients/p-1", Token(stranger_), body)), 403);
  EXPECT_TRUE(store_->LinksOfRegion("uk")->empty());
  EXPECT_TRUE(store_->LinksOfRegion("fr")->empty());

  // Only vaults and gateways look up.
  ExpectError(service_->Handle(Call("GET", "/mpi/lookup?pseudonym=" + kP1, Token(mpi_))), 403, {kP1});
  ExpectError(service_->Handle(Call("GET", "/mpi/lookup?pseudonym=" + kP1, Token(stranger_))), 403, {kP1});
}

TEST_F(MpiServiceTest, BadRequestsQuoteNothing) {
  const std::string bad_id = "p_1!secret";
  ExpectError(PutUk(net::PercentEncode(bad_id), LinksBody({{"nhs", kP1}})), 400, {kP1, "secret"});
  ExpectError(PutUk(std::string(65, 'x'), LinksBody({{"nhs", kP1}})), 400, {kP1});
  ExpectError(
      service_->Handle(Call("DELETE", "/mpi/regions/uk/patients/" + net::PercentEncode(bad_id), Token(vault_uk_))), 400,
      {"secret"});
  ExpectError(PutUk("p-1", "{not json " + kP1), 400, {kP1});
  ExpectError(PutUk("p-1", "[]"), 400);
  ExpectError(PutUk("p-1", R"({"links": {}})"), 400);
  ExpectError(PutUk("p-1", R"({"links": ["x"]})"), 400);
  ExpectError(PutUk("p-1", LinksBody({{"driving-licence", kP1}})), 400, {kP1, "driving-licence"});
  ExpectError(PutUk("p-1", LinksBody({{"nhs", "ABCDEF" + kP1.substr(6)}})), 400, {"ABCDEF"});
  ExpectError(PutUk("p-1", LinksBody({{"nhs", kP1.substr(1)}})), 400, {kP1.substr(1)});
  ExpectError(PutUk("p-1", R"({"links": [{"type": "nhs", "pseudonym": 12}]})"), 400);
  ExpectError(PutUk("p-1", LinksBody({{"nhs", kP1}, {"kvnr", kP1}})), 400, {kP1});
  std::string many = R"({"links": [)";
  for (int i = 0; i < 17; ++i) many += std::string(i ? "," : "") + R"({"type": "nhs", "pseudonym": ")" + kP1 + "\"}";
  ExpectError(PutUk("p-1", many + "]}"), 400, {kP1});
  EXPECT_TRUE(store_->LinksOfRegion("uk")->empty());

  ExpectError(service_->Handle(Call("GET", "/mpi/lookup", Token(gateway_))), 400);
  ExpectError(service_->Handle(Call("GET", "/mpi/lookup?pseudonym=" + kP1.substr(2) + "zz", Token(gateway_))), 400,
              {kP1.substr(2)});
  ExpectError(service_->Handle(Call("GET", "/mpi/lookup?pseudonym=" + std::string(64, 'A'), Token(gateway_))), 400,
              {std::string(64, 'A')});
}

TEST_F(MpiServiceTest, UnknownRoutesAndMethods) {
  ExpectError(service_->Handle(Call("GET", "/mpi/nowhere", Token(gateway_))), 404);
  ExpectError(service_->Handle(Call("GET", "/mpi/lookup/", Token(gateway_))), 404);
  ExpectError(service_->Handle(Call("GET", "/fhir/Patient", Token(gateway_))), 404);
  ExpectError(service_->Handle(Call("GET", "/mpi/regions/uk/patients/p-1/x", Token(vault_uk_))), 404);
  net::Response get = service_->Handle(Call("GET", "/mpi/regions/uk/patients/p-1", Token(vault_uk_)));
  ExpectError(get, 405);
  EXPECT_EQ(get.GetHeader("Allow"), "PUT, DELETE");
  ExpectError(service_->Handle(Call("POST", "/mpi/regions/uk/patients", Token(vault_uk_))), 405);
  ExpectError(service_->Handle(Call("POST", "/mpi/lookup?pseudonym=" + kP1, Token(gateway_))), 405);
}

TEST_F(MpiServiceTest, StoreFailureIsRetryable) {
  FailingStore failing;
  MpiService service(failing, verifier_, Roles());
  for (const net::Request& r :
       {Call("PUT", "/mpi/regions/uk/patients/p-1", Token(vault_uk_), LinksBody({{"nhs", kP1}})),
        Call("DELETE", "/mpi/regions/uk/patients/p-1", Token(vault_uk_)),
        Call("GET", "/mpi/regions/uk/patients", Token(vault_uk_)),
        Call("GET", "/mpi/lookup?pseudonym=" + kP1, Token(gateway_))}) {
    net::Response response = service.Handle(r);
    ExpectError(response, 503, {kP1, "p-1", "locked"});
    EXPECT_EQ(response.GetHeader("Retry-After"), "1");
    EXPECT_EQ(Body(response).GetString("requestId"), "req-1");
  }
}

TEST_F(MpiServiceTest, StoreWorkLeavesTheIoThread) {
  net::Request r = Call("GET", "/mpi/lookup?pseudonym=" + kP1, Token(gateway_));
  r.on_io_thread = true;
  EXPECT_TRUE(service_->Handle(r).deferred);
  net::Request health = Call("GET", "/mpi/healthz", "");
  health.on_io_thread = true;
  EXPECT_EQ(service_->Handle(health).status, 200);
}

}  // namespace
}  // namespace ehr::mpi
