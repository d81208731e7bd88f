// ehr: one binary for the federated EHR platform. Wires the subcommands together.
#include <cstdio>
#include <cstring>

#include "cli/commands.h"

namespace {

void Usage() {
  std::fprintf(stderr,
               "usage: ehr COMMAND [OPTIONS]\n\n"
               "commands:\n"
               "  serve   --data DIR --listen HOST:PORT [--role vault|gateway|mpi] [--auth on|off] [--region CODE]\n"
               "          [--base-url URL] (no --role: vaults UK, DE, FR, the MPI and a gateway in one process)\n"
               "          [--token-ttl-seconds N]\n"
               "          [--workers N] [--io-threads N] [--readers N] [--durable on|off]\n"
               "          [--access-log on|off] [--max-body-mb N] [--audit on|off] [--audit-head-seconds N]\n"
               "  import  --data DIR [--threads N] [--durable on|off] [--audit on|off] FILE_OR_DIR...\n"
               "          (.json, .json.bz2, .ndjson, .ndjson.bz2)\n"
               "  fhirpath 'EXPRESSION' [FILE.json]   (resource from standard input without FILE)\n"
               "  reindex --data DIR                  (recompute the search index of every resource)\n"
               "  synth   --region uk|de|fr|us --patients N --out DIR [--seed S] [--format ndjson|bundle]\n"
               "  user    add|disable|enable|reset-password|set-roles --data DIR --user NAME\n"
               "          [--roles R1,R2] [--tenants T1,T2] [--fhir-user Patient/ID]\n"
               "          (password from EHR_USER_PASSWORD or the first line of standard input)\n"
               "  user    list --data DIR\n"
               "  token   --data DIR --user NAME [--scope S] [--tenant T] [--base-url URL] [--ttl-seconds N]\n"
               "  client  add --data DIR --id ID --scope S [--name N] [--redirect-uri U1,U2] [--confidential yes]\n"
               "          [--jwks FILE --roles R --tenant T]   (a backend service)\n"
               "  client  list --data DIR\n"
               "  audit   verify --data DIR [--public-key BASE64]   (recompute the audit log offline)\n"
               "  audit   erase --data DIR --patient ID [--tenant T] (GDPR erasure in the audit log)\n"
               "  keys    rotate|status|reencrypt --data DIR   (key rotation and re-encryption)\n"
               "  federation node-key --data DIR | pepper   (a node's public key; a new federation pepper)\n"
               "  backup  --data DIR --out NEW_DIR [--include-keyring yes]   (while the server runs)\n"
               "  restore --from BACKUP_DIR --data NEW_DIR   (checks every file against the backup's manifest)\n"
               "key store (serve, import, reindex, audit, keys): [--key-store file|pkcs11] [--keyring PATH]\n"
               "          [--pkcs11-module PATH --pkcs11-token LABEL --pkcs11-pin-file FILE] [--encrypt-bodies on|off]\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    Usage();
    return 2;
  }
  if (std::strcmp(argv[1], "serve") == 0) return ehr::cli::Serve(argc, argv);
  if (std::strcmp(argv[1], "import") == 0) return ehr::cli::Import(argc, argv);
  if (std::strcmp(argv[1], "fhirpath") == 0) return ehr::cli::FhirPath(argc, argv);
  if (std::strcmp(argv[1], "reindex") == 0) return ehr::cli::Reindex(argc, argv);
  if (std::strcmp(argv[1], "synth") == 0) return ehr::cli::Synth(argc, argv);
  if (std::strcmp(argv[1], "user") == 0) return ehr::cli::User(argc, argv);
  if (std::strcmp(argv[1], "token") == 0) return ehr::cli::Token(argc, argv);
  if (std::strcmp(argv[1], "client") == 0) return ehr::cli::Client(argc, argv);
  if (std::strcmp(argv[1], "audit") == 0) return ehr::cli::Audit(argc, argv);
  if (std::strcmp(argv[1], "keys") == 0) return ehr::cli::Keys(argc, argv);
  if (std::strcmp(argv[1], "federation") == 0) return ehr::cli::Federation(argc, argv);
  if (std::strcmp(argv[1], "backup") == 0) return ehr::cli::Backup(argc, argv);
  if (std::strcmp(argv[1], "restore") == 0) return ehr::cli::Restore(argc, argv);
  if (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "help") == 0) {
    Usage();
    return 0;
  }
  std::fprintf(stderr, "ehr: unknown command '%s'\n", argv[1]);
  Usage();
  return 2;
}
