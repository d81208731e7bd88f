#include "cli/all_in_one.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>
#include <vector>

#include "cli/commands.h"
#include "cli/federation_setup.h"
#include "cli/key_store.h"
#include "core/secrets.h"
#include "mpi/pseudonym.h"
#include "synth/dates.h"
#include "synth/generator.h"
#include "synth/locale.h"

namespace ehr::cli {

namespace {

constexpr const char* kVaultRegions[] = {"uk", "de", "fr"};
constexpr char kDemoMarker[] = ".demo-loaded";

int Fail(const std::string& message) {
  std::fprintf(stderr, "ehr serve: %s\n", message.c_str());
  return 2;
}

struct Member {
  std::string name;    // "vault-uk", "mpi", "gateway"
  std::string role;
  std::string region;
  std::string dir;
  std::unique_ptr<ServeNode> node;
};

// Generates `patients` patients of `region` (`ehr synth`, seed 1) into `out` and imports them
// into `dir` (`ehr import`, with the key store flags of `args`), once: a marker in `dir`
// records that it was done, and a vault with a database already is left as it is.
Status LoadDemo(const Args& args, const std::string& region, int patients, const std::string& dir, const std::string& out) {
  // Once: never into a vault that has a database already (restored from a backup, say).
  if (patients <= 0 || std::filesystem::exists(dir + "/" + kDemoMarker) || std::filesystem::exists(dir + "/ehr.db")) {
    return Status::Ok();
  }
  std::fprintf(stderr, "ehr serve: generating %d patients of region %s into %s and loading them ...\n", patients,
               region.c_str(), out.c_str());
  synth::Options options;
  if (!synth::ParseRegion(region, options.region)) return Status::Invalid("no generator for region " + region);
  options.patients = static_cast<uint32_t>(patients);
  options.seed = 1;
  if (!synth::ParseDate("2026-01-01", options.end_day)) return Status::Internal("bad demo end date");
  std::error_code ec;
  std::filesystem::remove_all(out, ec);
  const int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  EHR_RETURN_IF_ERROR(synth::Generate(options, out, threads).status());
  // `ehr import` itself, so that the demo goes in exactly as an operator's import would.
  std::vector<std::string> words = {"ehr", "import", "--data", dir};
  for (const std::string& flag : KeyStoreFlags()) {
    if (args.Has(flag)) {
      words.push_back("--" + flag);
      words.push_back(args.Get(flag));
    }
  }
  words.push_back(out);
  std::vector<char*> argv;
  for (std::string& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  if (Import(static_cast<int>(words.size()), argv.data()) != 0) return Status::Internal("loading the demo patients of " + region + " failed");
  std::ofstream(dir + "/" + kDemoMarker) << patients << "\n";
  return Status::Ok();
}

// The federation's pepper: the one the first vault's key store holds, made there when new.
Result<std::string> Pepper(store::Store& first_vault) {
  return first_vault.Secret(kPepperSecret, mpi::Pseudonymizer::kPepperBytes);
}

}  // namespace

int ServeAllInOne(const Args& args, const ServeSettings& settings, const std::string& host, uint16_t port,
                  const net::TlsOptions& tls, const sigset_t& signals) {
  for (const char* flag : {"federation", "node", "federation-pepper-file", "keyring"}) {
    if (args.Has(flag)) {
      return Fail(std::string("--") + flag + " is for one node (--role); without --role every node keeps its own in its "
                  "directory under --data");
    }
  }
  auto demo_patients = ParseInt("demo-patients", args.Get("demo-patients", "300"), 0, 1000000);
  if (!demo_patients.ok()) return Fail(demo_patients.status().message());
  if (port != 0 && port > 65535 - 4) return Fail("--listen: the port must leave room for the four next ones");
  const std::string data = args.Get("data", "data");
  const std::string gateway_region = settings.region.empty() ? "uk" : settings.region;

  std::vector<Member> members;
  for (const char* region : kVaultRegions) {
    members.push_back({std::string("vault-") + region, "vault", region, data + "/vault-" + region, nullptr});
  }
  members.push_back({"mpi", "mpi", "", data + "/mpi", nullptr});
  members.push_back({"gateway", "gateway", gateway_region, data + "/gateway", nullptr});

  // Demo data first: `ehr import` opens each vault's database itself.
  for (const Member& m : members) {
    if (m.role != "vault") continue;
    std::error_code ec;
    std::filesystem::create_directories(m.dir, ec);
    if (ec) return Fail("cannot create " + m.dir + ": " + ec.message());
    if (Status st = LoadDemo(args, m.region, *demo_patients, m.dir, data + "/demo-synth/" + m.region); !st.ok()) {
      return Fail(st.message());
    }
  }

  // Each node's store and key store; its key; its address.
  ServeSettings node_settings = settings;
  node_settings.region.clear();  // each node's region comes from the federation
  federation::FederationConfig config;
  config.visitor_writes = args.Get("visitor-writes", "home");
  if (config.visitor_writes != "home" && config.visitor_writes != "local") return Fail("--visitor-writes must be home or local");
  for (size_t i = 0; i < members.size(); ++i) {
    Member& m = members[i];
    ServeSettings own = node_settings;
    if (m.role != "gateway") own.base_url.clear();  // the public address is the gateway's
    auto node = ServeNode::Open(args, own, m.dir);
    if (!node.ok()) return Fail(m.name + ": " + node.status().message());
    m.node = std::move(*node);
    auto key = NodePublicKey(m.node->store());
    if (!key.ok()) return Fail(m.name + ": " + key.status().message());
    // The gateway on --listen; the others beside it on the loopback address.
    const bool gateway = m.role == "gateway";
    const uint16_t node_port = port == 0 ? 0 : static_cast<uint16_t>(gateway ? port : port + 1 + i);
    Status listening = gateway ? m.node->Listen(host, node_port, tls) : m.node->Listen("127.0.0.1", node_port, {});
    if (!listening.ok()) return Fail(m.name + ": " + listening.message());
    config.nodes.push_back({m.name, m.role, m.region, "http://127.0.0.1:" + std::to_string(m.node->port()), *key});
  }

  auto pepper = Pepper(members.front().node->store());
  if (!pepper.ok()) return Fail("cannot read the federation pepper: " + pepper.status().message());
  for (Member& m : members) {
    FederationChoice choice;
    choice.role = m.role;
    choice.node = m.name;
    if (m.role != "mpi") choice.peppers = {*pepper};
    // The vaults' policy flags apply to every vault.
    if (m.role == "vault") {
      if (Status st = ParseVaultPolicy(args, choice); !st.ok()) return Fail(st.message());
    }
    auto joined = JoinFederation(config, choice, m.node->store());
    if (!joined.ok()) return Fail(m.name + ": " + joined.status().message());
    if (Status st = m.node->Prepare(std::move(*joined), m.name); !st.ok()) return Fail(m.name + ": " + st.message());
  }

  // The gateway's line first: it is the address clinicians use (and tests read).
  std::vector<ServeNode*> order = {members.back().node.get()};
  for (size_t i = 0; i + 1 < members.size(); ++i) order.push_back(members[i].node.get());
  for (ServeNode* node : order) std::fprintf(stderr, "ehr serve: %s\n", node->Banner().c_str());
  std::fprintf(stderr, "ehr serve: a federation in one process (data %s); the vaults register their patients at the "
                       "MPI in the background\n", data.c_str());
  std::fflush(stderr);
  return ServeUntilSignalled(order, signals);
}

}  // namespace ehr::cli
