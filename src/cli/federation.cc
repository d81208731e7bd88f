// `ehr federation node-key --data DIR [key store flags] [--store ...]`: this node's public
//     key (base64) for the federation file; the key is made in the node's key store on
//     first use (SQLite in DIR, or PostgreSQL: cli/store_choice.h).
// `ehr federation reconcile`: see Reconcile below; on the node's store, SQLite in DIR
//     (default) or PostgreSQL (`--store postgres://... [--store-migrate CONNINFO]`,
//     cli/store_choice.h; its keys still in DIR).
// `ehr federation pepper`: a fresh pepper (64 hex digits) for a new federation, to hand to
//     every vault and gateway (--federation-pepper-file) over a secure channel.
// `ehr federation certificate CERT.pem`: the pin of a TLS certificate for the federation
//     file's `certificates` (net/certificate.h).
// `ehr federation witness-reset --data MPI_DIR --node NAME`: at the MPI, forgets the head of
//     NAME's audit log it witnessed and the refusals since (audit/witness.h; kept in mpi.db,
//     no longer counted), after NAME was legitimately restored from a backup: its next head
//     starts again. Recorded in the MPI node's audit log.
#include <cstdio>
#include <filesystem>

#include "cli/admin_audit.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/federation_setup.h"
#include "cli/key_store.h"
#include "cli/store_choice.h"
#include "core/clock.h"
#include "core/secrets.h"
#include "federation/registrar.h"
#include "mpi/index_store.h"
#include "net/certificate.h"
#include "security/node_token.h"

namespace ehr::cli {
namespace {

int Usage(const std::string& why) {
  std::fprintf(stderr,
               "usage: ehr federation node-key --data DIR [--key-store file|pkcs11 ...] [--store sqlite|postgres://...]\n"
               "       ehr federation pepper\n"
               "       ehr federation witness-reset --data MPI_DIR --node NAME   (after NAME was restored from a backup)\n"
               "       ehr federation certificate CERT.pem   (its pin for the federation file)\n"
               "       ehr federation reconcile --data DIR --federation FILE --node NAME --federation-pepper-file F\n"
               "                                [--repair yes] [--tls-cert FILE --tls-key FILE] [--store sqlite|postgres://...]\n"
               "                                [--store-migrate CONNINFO]   (exit 3: differences left)\n%s%s",
               why.c_str(), why.empty() ? "" : "\n");
  return 2;
}

// `ehr federation reconcile --data DIR --federation F --node NAME --federation-pepper-file P
// [--repair] [--tls-cert F --tls-key K] [--store ...]`: a vault's Patients against the MPI's links of its region (the
// server may run).
int Reconcile(int argc, char** argv) {
  std::set<std::string> known = WithStoreFlags(WithKeyStoreFlags({"data", "repair", "tls-cert", "tls-key"}));
  for (const std::string& f : FederationFlags()) known.insert(f);
  Result<Args> args = ParseArgs(argc, argv, 3, known);
  if (!args.ok()) return Usage(args.status().message());
  Result<StoreChoice> choice = ParseStoreChoice(*args);
  if (!choice.ok()) return Usage(choice.status().message());
  args->flags["role"] = "vault";
  auto opened = OpenDataStore(*args, args->Get("data", "data"), *choice, 2);
  if (!opened.ok()) {
    std::fprintf(stderr, "ehr federation: %s\n", opened.status().message().c_str());
    return 1;
  }
  auto fed = OpenFederation(*args, *opened->store);
  if (fed.ok() && fed->role.empty()) fed = Status::Invalid("reconcile needs --federation FILE");
  if (!fed.ok()) {
    std::fprintf(stderr, "ehr federation: %s\n", fed.status().message().c_str());
    return 1;
  }
  federation::RegistrarOptions ro;
  ro.region = fed->self->region;
  ro.mpi_url = fed->config.Mpi()->url;
  ro.mpi_node = fed->config.Mpi()->name;
  ro.call = fed->config.CallOptions(*fed->config.Mpi(), ro.call.timeout_ms);
  federation::MpiRegistrar registrar(*opened->store, *fed->pseudonyms, *fed->signer, Clock::System(), ro);
  const bool repair = args->Get("repair", "no") != "no";
  auto report = registrar.Reconcile(repair);
  if (!report.ok()) {
    std::fprintf(stderr, "ehr federation: %s\n", report.status().message().c_str());
    return 1;
  }
  std::printf("patients with a national id: %d\nmissing or different at the MPI: %d\nat the MPI only: %d\nrepaired: %d\n",
              report->patients, report->missing, report->extra, report->repaired);
  if (repair) {  // a change to the MPI's links: an administrative action
    const std::string what = "repaired " + std::to_string(report->repaired) + " of " +
                             std::to_string(report->missing + report->extra) + " differences at the MPI";
    if (Status st = RecordAdministration(*opened->store, {"federation-reconcile", "default", "", {}, what}); !st.ok()) {
      std::fprintf(stderr, "ehr federation: recording it in the audit log: %s\n", st.message().c_str());
      return 1;
    }
  }
  return (report->missing + report->extra == report->repaired) ? 0 : 3;
}

// `ehr federation witness-reset --data MPI_DIR --node NAME`.
int WitnessReset(int argc, char** argv) {
  Result<Args> args = ParseArgs(argc, argv, 3, WithStoreFlags(WithKeyStoreFlags({"data", "node"})));
  if (!args.ok()) return Usage(args.status().message());
  const std::string data = args->Get("data", "data"), node = args->Get("node");
  if (node.empty()) return Usage("witness-reset needs --node NAME");
  std::error_code ec;
  if (!std::filesystem::exists(data + "/mpi.db", ec)) {
    std::fprintf(stderr, "ehr federation: no MPI index at %s/mpi.db\n", data.c_str());
    return 1;
  }
  auto index = mpi::OpenIndexStore(data + "/mpi.db", Clock::System());
  Result<uint64_t> forgotten = index.ok() ? (*index)->ResetWitness(node) : Result<uint64_t>(index.status());
  if (!forgotten.ok()) {
    std::fprintf(stderr, "ehr federation: %s\n", forgotten.status().message().c_str());
    return 1;
  }
  const std::string what = "reset the witness of " + node + "'s audit log (it held a head of " +
                           std::to_string(*forgotten) + " entries)";
  if (Status st = RecordInNodeLog(*args, {"witness-reset", "default", "", {"node/" + node}, what}); !st.ok()) {
    std::fprintf(stderr, "ehr federation: recording it in the audit log: %s\n", st.message().c_str());
    return 1;
  }
  std::printf("%s; its next head starts again\n", what.c_str());
  return 0;
}

}  // namespace

int Federation(int argc, char** argv) {
  if (argc < 3) return Usage("");
  const std::string verb = argv[2];
  if (verb == "reconcile") return Reconcile(argc, argv);
  if (verb == "witness-reset") return WitnessReset(argc, argv);
  Result<Args> args = ParseArgs(argc, argv, 3, WithStoreFlags(WithKeyStoreFlags({"data"})));
  if (!args.ok()) return Usage(args.status().message());
  if (verb == "pepper") {
    const std::string pepper = RandomBytes(mpi::Pseudonymizer::kPepperBytes);
    for (unsigned char c : pepper) std::printf("%02x", c);
    std::printf("\n");
    return 0;
  }
  if (verb == "certificate") {
    // A TLS certificate's pin for the federation file (net/certificate.h).
    if (args->positional.size() != 1) return Usage("ehr federation certificate takes one PEM file");
    Result<std::string> digest = net::CertificateFileDigest(args->positional[0]);
    if (!digest.ok()) {
      std::fprintf(stderr, "ehr federation: %s\n", digest.status().message().c_str());
      return 1;
    }
    std::printf("%s\n", digest->c_str());
    return 0;
  }
  if (verb != "node-key") return Usage("unknown command " + verb);
  Result<StoreChoice> choice = ParseStoreChoice(*args);
  if (!choice.ok()) return Usage(choice.status().message());
  // The node's data directory may be new: its key store (and SQLite database) are made here.
  const std::string data = args->Get("data", "data");
  std::error_code ec;
  std::filesystem::create_directories(data, ec);
  auto keys = OpenKeyStore(*args, data);
  if (!keys.ok()) {
    std::fprintf(stderr, "ehr federation: %s\n", keys.status().message().c_str());
    return 1;
  }
  auto store = OpenStore(*choice, data, *keys, StoreTuning{1, true});
  if (!store.ok()) {
    std::fprintf(stderr, "ehr federation: %s\n", store.status().message().c_str());
    return 1;
  }
  auto key = NodePublicKey(**store);
  if (!key.ok()) {
    std::fprintf(stderr, "ehr federation: %s\n", key.status().message().c_str());
    return 1;
  }
  std::printf("%s\n", security::NodeKeyText(*key).c_str());
  return 0;
}

}  // namespace ehr::cli
