// The `ehr` subcommands. Each returns the process exit code.
#pragma once

namespace ehr::cli {

int Serve(int argc, char** argv);   // ehr serve ...
int Import(int argc, char** argv);  // ehr import ...
int FhirPath(int argc, char** argv);  // ehr fhirpath EXPRESSION [FILE]
int Reindex(int argc, char** argv);   // ehr reindex --data DIR
int Synth(int argc, char** argv);     // ehr synth --region R --patients N --out DIR
int User(int argc, char** argv);      // ehr user add|list|disable|enable|reset-password|set-roles
int Token(int argc, char** argv);     // ehr token --data DIR --user NAME
int Client(int argc, char** argv);
int Keys(int argc, char** argv);
int Federation(int argc, char** argv);  // ehr federation node-key --data DIR | pepper      // ehr keys rotate|status|reencrypt --data DIR
int Backup(int argc, char** argv);   // ehr backup --data DIR --out NEW_DIR
int Restore(int argc, char** argv);  // ehr restore --from BACKUP --data NEW_DIR
int Audit(int argc, char** argv);     // ehr audit verify|erase --data DIR    // ehr client add|list (SMART apps and backend services)

}  // namespace ehr::cli
