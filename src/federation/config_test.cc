// The federation file: the header's example parses into the nodes it names, and each kind
// of mistake is refused with kInvalid naming where it is ("nodes[2].key: ...").
#include "federation/config.h"

#include <gtest/gtest.h>

#include "security/node_token.h"

namespace ehr::federation {
namespace {

std::string Key(char fill) { return std::string(32, fill); }

// `text` with $a, $b, ... replaced by the base64 of Key('a'), Key('b'), ...
std::string WithKeys(std::string text) {
  for (size_t at = text.find('$'); at != std::string::npos; at = text.find('$', at)) {
    text.replace(at, 2, security::NodeKeyText(Key(text[at + 1])));
  }
  return text;
}

constexpr std::string_view kMpi = R"({"name": "mpi", "role": "mpi", "url": "http://127.0.0.1:9100", "key": "$m"})";
constexpr std::string_view kVaultUk =
    R"({"name": "vault-uk", "role": "vault", "region": "uk", "url": "http://127.0.0.1:9101", "key": "$u"})";
constexpr std::string_view kGatewayFr =
    R"({"name": "gateway-fr", "role": "gateway", "region": "fr", "url": "https://gw.example.fr", "key": "$g"})";

// A file of the three nodes above with `node` fourth (nodes[3]).
std::string WithFourth(std::string_view node) {
  return WithKeys(R"({"nodes": [)" + std::string(kMpi) + ", " + std::string(kVaultUk) + ", " + std::string(kGatewayFr) +
                  ", " + std::string(node) + "]}");
}

TEST(FederationConfig, ParsesTheNodesOfTheFile) {
  auto config = ParseFederationConfig(WithKeys(R"({
    "deadlineMs": 1500,
    "visitorWrites": "local",
    "nodes": [
      {"name": "vault-fr",   "role": "vault",   "region": "fr", "url": "https://vault.example.fr:8443", "key": "$f"},
      {"name": "mpi",        "role": "mpi",     "url": "http://127.0.0.1:9100", "key": "$m"},
      {"name": "vault-uk",   "role": "vault",   "region": "uk", "url": "http://127.0.0.1:9101", "key": "$u"},
      {"name": "gateway-fr", "role": "gateway", "region": "fr", "url": "http://[::1]:9104", "key": "$g"}
    ]
  })"));
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->deadline_ms, 1500);
  EXPECT_EQ(config->visitor_writes, "local");
  ASSERT_EQ(config->nodes.size(), 4u);
  const Node* mpi = config->Mpi();
  ASSERT_NE(mpi, nullptr);
  EXPECT_EQ(mpi->name, "mpi");
  EXPECT_EQ(mpi->region, "");
  EXPECT_EQ(mpi->url, "http://127.0.0.1:9100");
  EXPECT_EQ(mpi->public_key, Key('m'));
  ASSERT_NE(config->VaultOf("uk"), nullptr);
  EXPECT_EQ(config->VaultOf("uk")->name, "vault-uk");
  EXPECT_EQ(config->VaultOf("fr")->url, "https://vault.example.fr:8443");
  EXPECT_EQ(config->VaultOf("de"), nullptr);
  const std::vector<const Node*> vaults = config->Vaults();
  ASSERT_EQ(vaults.size(), 2u);  // in file order
  EXPECT_EQ(vaults[0]->name, "vault-fr");
  EXPECT_EQ(vaults[1]->name, "vault-uk");
  ASSERT_NE(config->Find("gateway-fr"), nullptr);
  EXPECT_EQ(config->Find("gateway-fr")->role, "gateway");
  EXPECT_EQ(config->Find("gateway-fr")->region, "fr");
  EXPECT_EQ(config->Find("gateway"), nullptr);
  const auto keys = config->Keys();
  EXPECT_EQ(keys, (std::map<std::string, std::string, std::less<>>{
                      {"gateway-fr", Key('g')}, {"mpi", Key('m')}, {"vault-fr", Key('f')}, {"vault-uk", Key('u')}}));
}

TEST(FederationConfig, AnMpiAloneWithTheDefaultDeadline) {
  auto config = ParseFederationConfig(WithKeys(R"({"nodes": [)" + std::string(kMpi) + "]}"));
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->deadline_ms, 2000);
  EXPECT_TRUE(config->Vaults().empty());
  EXPECT_EQ(config->Keys().size(), 1u);
}

TEST(FederationConfig, AcceptsTheEdgesOfEachRule) {
  for (const std::string& node : {
           std::string(R"({"name": "v", "role": "vault", "region": "ab", "url": "http://h", "key": "$x"})"),
           std::string(R"({"name": "v", "role": "vault", "region": "abcdefgh", "url": "https://h:1", "key": "$x"})"),
           std::string(R"({"name": "v", "role": "vault", "region": "de", "url": "http://h:65535", "key": "$x"})"),
           std::string(
               R"({"name": "Node_2.a-b", "role": "gateway", "region": "uk", "url": "http://10.0.0.1", "key": "$x"})"),
           std::string(R"({"name": ")" + std::string(64, 'n') +
                       R"(", "role": "gateway", "region": "uk", "url": "http://[fe80::1]", "key": "$x"})"),
       }) {
    auto config = ParseFederationConfig(WithFourth(node));
    EXPECT_TRUE(config.ok()) << node << ": " << config.status().message();
  }
  for (int ms : {100, 60000}) {
    auto config = ParseFederationConfig(
        WithKeys(R"({"deadlineMs": )" + std::to_string(ms) + R"(, "nodes": [)" + std::string(kMpi) + "]}"));
    ASSERT_TRUE(config.ok()) << ms << ": " << config.status().message();
    EXPECT_EQ(config->deadline_ms, ms);
  }
}

struct Refusal {
  std::string file;
  std::string message;  // the whole diagnostics
};

void ExpectRefusals(const std::vector<Refusal>& refusals) {
  for (const Refusal& r : refusals) {
    auto config = ParseFederationConfig(r.file);
    ASSERT_FALSE(config.ok()) << r.file;
    EXPECT_EQ(config.status().code(), Code::kInvalid);
    EXPECT_EQ(config.status().message(), r.message) << r.file;
    // The location is the issue's expression as well, for an OperationOutcome.
    const std::string& expression = config.status().issues().front().expression;
    if (!expression.empty()) {
      EXPECT_EQ(r.message.rfind(expression + ": ", 0), 0u) << r.message;
    }
  }
}

TEST(FederationConfig, RefusesAFileThatIsNotTheObjectDescribed) {
  const std::string mpi = WithKeys(std::string(kMpi));
  ExpectRefusals({
      {"[]", "the federation file is not a JSON object"},
      {"{}", "nodes: missing"},
      {R"({"nodes": {}})", "nodes: not an array"},
      {R"({"nodes": []})", "nodes: no node has the role mpi"},
      {R"({"nodes": [)" + mpi + R"(], "deadline": 2000})", "deadline: unknown member (deadlineMs, nodes, visitorWrites)"},
      {R"({"Nodes": [)" + mpi + "]}", "Nodes: unknown member (deadlineMs, nodes, visitorWrites)"},
      {R"({"visitorWrites": "gateway", "nodes": [)" + mpi + "]}", R"(visitorWrites: not "home" or "local")"},
      {R"({"visitorWrites": true, "nodes": [)" + mpi + "]}", R"(visitorWrites: not "home" or "local")"},
      {R"({"deadlineMs": 99, "nodes": [)" + mpi + "]}",
       "deadlineMs: not a whole number of milliseconds from 100 to 60000"},
      {R"({"deadlineMs": 60001, "nodes": [)" + mpi + "]}",
       "deadlineMs: not a whole number of milliseconds from 100 to 60000"},
      {R"({"deadlineMs": 1500.5, "nodes": [)" + mpi + "]}",
       "deadlineMs: not a whole number of milliseconds from 100 to 60000"},
      {R"({"deadlineMs": "2000", "nodes": [)" + mpi + "]}",
       "deadlineMs: not a whole number of milliseconds from 100 to 60000"},
      {R"({"deadlineMs": 1e3, "nodes": [)" + mpi + "]}",
       "deadlineMs: not a whole number of milliseconds from 100 to 60000"},
      {R"({"deadlineMs": 18446744073709553000, "nodes": [)" + mpi + "]}",
       "deadlineMs: not a whole number of milliseconds from 100 to 60000"},
      {R"({"nodes": [)" + mpi + ", 7]}", "nodes[1]: not an object"},
  });
  auto not_json = ParseFederationConfig(R"({"nodes": [)");
  ASSERT_FALSE(not_json.ok());
  EXPECT_EQ(not_json.status().code(), Code::kInvalid);
  EXPECT_EQ(not_json.status().message().rfind("the federation file is not JSON: ", 0), 0u)
      << not_json.status().message();
  // Duplicate members are refused by the parser: the second would silently win otherwise.
  EXPECT_FALSE(ParseFederationConfig(R"({"nodes": [)" + mpi + R"(], "nodes": []})").ok());
}

TEST(FederationConfig, RefusesABadNode) {
  ExpectRefusals({
      {WithFourth(R"({"role": "vault", "region": "de", "url": "http://h", "key": "$x"})"), "nodes[3].name: missing"},
      {WithFourth(R"({"name": 4, "role": "vault", "region": "de", "url": "http://h", "key": "$x"})"),
       "nodes[3].name: not a string"},
      {WithFourth(R"({"name": "", "role": "vault", "region": "de", "url": "http://h", "key": "$x"})"),
       "nodes[3].name: not a node name (1 to 64 letters, digits, '-', '_' or '.')"},
      {WithFourth(R"({"name": "vault de", "role": "vault", "region": "de", "url": "http://h", "key": "$x"})"),
       "nodes[3].name: not a node name (1 to 64 letters, digits, '-', '_' or '.')"},
      {WithFourth(R"({"name": ")" + std::string(65, 'n') +
                  R"(", "role": "vault", "region": "de", "url": "http://h", "key": "$x"})"),
       "nodes[3].name: not a node name (1 to 64 letters, digits, '-', '_' or '.')"},
      {WithFourth(R"({"name": "v", "region": "de", "url": "http://h", "key": "$x"})"), "nodes[3].role: missing"},
      {WithFourth(R"({"name": "v", "role": "archive", "region": "de", "url": "http://h", "key": "$x"})"),
       "nodes[3].role: not a role (vault, mpi or gateway)"},
      {WithFourth(R"({"name": "v", "role": "Vault", "region": "de", "url": "http://h", "key": "$x"})"),
       "nodes[3].role: not a role (vault, mpi or gateway)"},
      {WithFourth(R"({"name": "v", "role": "vault", "region": "de", "url": "http://h", "key": "$x", "port": 1})"),
       "nodes[3].port: unknown member (name, role, region, url, key, certificates)"},
      {WithFourth(R"({"name": "v", "role": "vault", "region": "de", "url": "http://h"})"), "nodes[3].key: missing"},
  });
}

TEST(FederationConfig, RefusesRolesWithoutTheirRegionOrDoubled) {
  ExpectRefusals({
      {WithFourth(R"({"name": "v", "role": "vault", "url": "http://h", "key": "$x"})"), "nodes[3].region: missing"},
      {WithFourth(R"({"name": "g", "role": "gateway", "url": "http://h", "key": "$x"})"), "nodes[3].region: missing"},
      {WithFourth(R"({"name": "m2", "role": "mpi", "url": "http://h", "key": "$x"})"),
       "nodes[3].role: a second MPI (nodes[0])"},
      {WithFourth(R"({"name": "m2", "role": "mpi", "region": "uk", "url": "http://h", "key": "$x"})"),
       "nodes[3].region: the MPI serves every region and has none"},
      {WithFourth(R"({"name": "vault-uk2", "role": "vault", "region": "uk", "url": "http://h", "key": "$x"})"),
       "nodes[3].region: a second vault for region uk (nodes[1])"},
      {WithFourth(R"({"name": "vault-uk", "role": "vault", "region": "de", "url": "http://h", "key": "$x"})"),
       "nodes[3].name: also the name of nodes[1]"},
      {WithFourth(R"({"name": "v", "role": "vault", "region": "de", "url": "http://h", "key": "$u"})"),
       "nodes[3].key: the key of nodes[1] too"},
      {WithKeys(R"({"nodes": [)" + std::string(kVaultUk) + "]}"), "nodes: no node has the role mpi"},
  });
  // A second gateway in a region is fine: several front doors, one vault.
  EXPECT_TRUE(
      ParseFederationConfig(
          WithFourth(R"({"name": "gateway-fr2", "role": "gateway", "region": "fr", "url": "http://h", "key": "$x"})"))
          .ok());
}

TEST(FederationConfig, RefusesABadRegion) {
  for (const std::string region : {"u", "abcdefghi", "UK", "u1", "u-k", "", "ük"}) {
    ExpectRefusals({{WithFourth(R"({"name": "v", "role": "vault", "region": ")" + region +
                                R"(", "url": "http://h", "key": "$x"})"),
                     "nodes[3].region: not a region (2 to 8 lower-case letters)"}});
  }
  ExpectRefusals({{WithFourth(R"({"name": "v", "role": "vault", "region": ["de"], "url": "http://h", "key": "$x"})"),
                   "nodes[3].region: not a string"}});
}

TEST(FederationConfig, RefusesAUrlThatIsNotABaseUrl) {
  for (const std::string url : {"",
                                "127.0.0.1:9100",
                                "ftp://h",
                                "HTTP://h",
                                "http://",
                                "http://h/",
                                "http://h:9100/",
                                "http://h/fhir",
                                "http://h?x=1",
                                "http://h#f",
                                "http://user@h",
                                "http://h:",
                                "http://h:0",
                                "http://h:65536",
                                "http://h:123456",
                                "http://h:8x",
                                "http://h:-1",
                                "http://h h",
                                "http://-h",
                                "http://.h",
                                "http://[::1",
                                "http://[]",
                                "http://[::1]x",
                                "http://[::1]:",
                                "http://[g::1]",
                                "http://h:80:80",
                                " http://h",
                                "http://h\\n"}) {
    ExpectRefusals(
        {{WithFourth(R"({"name": "v", "role": "vault", "region": "de", "url": ")" + url + R"(", "key": "$x"})"),
          "nodes[3].url: not http(s)://host[:port] without a path"}});
  }
}

TEST(FederationConfig, RefusesAKeyThatIsNot32BytesOfBase64) {
  const std::string key = security::NodeKeyText(Key('x'));
  for (const std::string& bad : {std::string(), security::NodeKeyText(Key('x').substr(1)),
                                 security::NodeKeyText(Key('x') + "y"), key.substr(0, key.size() - 1), key + "=",
                                 " " + key, std::string("eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHg-")}) {
    ExpectRefusals(
        {{WithFourth(R"({"name": "v", "role": "vault", "region": "de", "url": "http://h", "key": ")" + bad + R"("})"),
          "nodes[3].key: not 32 bytes of base64"}});
  }
  ExpectRefusals({{WithFourth(R"({"name": "v", "role": "vault", "region": "de", "url": "http://h", "key": 32})"),
                   "nodes[3].key: not a string"}});
}

// A node's pinned certificates: kept in file order, listed for the verifier, and handed to
// a call to that node with this node's own certificate; each kind of mistake refused.
TEST(FederationConfig, PinsANodesCertificates) {
  const std::string a = "sha256:" + std::string(64, 'a'), b = "sha256:" + std::string(64, 'b');
  auto config = ParseFederationConfig(WithFourth(
      R"({"name": "vault-de", "role": "vault", "region": "de", "url": "https://v.example.de", "key": "$d",
          "certificates": [")" + a + R"(", ")" + b + R"("]})"));
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_TRUE(config->PinsCertificates());
  EXPECT_EQ(config->VaultOf("de")->certificates, (std::vector<std::string>{a, b}));
  EXPECT_TRUE(config->VaultOf("uk")->certificates.empty());
  const auto pins = config->Certificates();
  ASSERT_EQ(pins.size(), 1u) << "only pinned nodes are listed";
  EXPECT_EQ(pins.at("vault-de"), (std::vector<std::string>{a, b}));
  config->own_cert_file = "/etc/ehr/node.pem";
  config->own_key_file = "/etc/ehr/node.key";
  const net::FetchOptions to_de = config->CallOptions(*config->VaultOf("de"), 1234);
  EXPECT_EQ(to_de.pinned_certificates, (std::vector<std::string>{a, b}));
  EXPECT_EQ(to_de.client_cert_file, "/etc/ehr/node.pem");
  EXPECT_EQ(to_de.client_key_file, "/etc/ehr/node.key");
  EXPECT_EQ(to_de.timeout_ms, 1234);
  EXPECT_TRUE(config->CallOptions(*config->Mpi(), 10).pinned_certificates.empty());
  EXPECT_FALSE(ParseFederationConfig(WithFourth(R"({"name": "v", "role": "vault", "region": "de", "url": "https://h", "key": "$d"})"))
                   ->PinsCertificates());

  auto node = [](const std::string& url, const std::string& pins) {
    return WithFourth(R"({"name": "v", "role": "vault", "region": "de", "url": ")" + url + R"(", "key": "$d", "certificates": )" +
                      pins + "}");
  };
  const std::string not_digest = R"(: not "sha256:" and 64 lower-case hex digits (ehr federation certificate FILE prints it))";
  ExpectRefusals({
      {node("https://h", "[]"), "nodes[3].certificates: not a non-empty array"},
      {node("https://h", "\"" + a + "\""), "nodes[3].certificates: not a non-empty array"},
      {node("https://h", "[\"" + a + "\", 7]"), "nodes[3].certificates[1]" + not_digest},
      {node("https://h", "[\"sha256:" + std::string(64, 'A') + "\"]"), "nodes[3].certificates[0]" + not_digest},
      {node("https://h", "[\"sha1:" + std::string(40, 'a') + "\"]"), "nodes[3].certificates[0]" + not_digest},
      {node("http://127.0.0.1:9", "[\"" + a + "\"]"), "nodes[3].url: not https, though the node's certificates are pinned"},
  });
}

}  // namespace
}  // namespace ehr::federation
