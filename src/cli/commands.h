// The `ehr` subcommands. Each returns the process exit code.
#pragma once

namespace ehr::cli {

int Serve(int argc, char** argv);   // ehr serve ...
int Import(int argc, char** argv);  // ehr import ...

}  // namespace ehr::cli
