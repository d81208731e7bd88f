// Backup and restore of a data directory (`ehr backup`, `ehr restore`; issue 8), while the
// server runs: each SQLite database (ehr.db, accounts.db, mpi.db) is copied with SQLite's
// online backup API, one read snapshot of it whatever writers do meanwhile; the archived
// audit segments (immutable once written) are copied as they are; the keyring only when
// asked (it is what makes the backup readable: kept apart by default). MANIFEST.json lists
// every file with its size and SHA-256, and is written last, so a backup without one is
// incomplete.
//
// Not copied: what the server remakes (the federation's registration mark: a restored vault
// registers every patient again, which is idempotent), TLS files, demo markers.
//
// The databases are copied one after the other, so accounts.db may be a moment newer than
// ehr.db; each is consistent in itself.
#pragma once

#include <filesystem>
#include <string>

#include "backup/manifest.h"
#include "core/status.h"

namespace ehr::backup {

// A consistent copy of the live SQLite database `from` at `to` (which must not exist).
Status CopyDatabase(const std::filesystem::path& from, const std::filesystem::path& to);

struct BackupOptions {
  bool keyrings = false;                // include each node's keyring
  std::filesystem::path keyring_file;   // a lone server's keyring kept elsewhere (--keyring)
};

// `data` into the new directory `out` (made 0700; refused when it exists and is not empty):
// a lone server's directory, or one with a node in each subdirectory holding a database (a
// federation in one process), each copied into the same subdirectory of `out`.
Result<Manifest> Backup(const std::filesystem::path& data, const std::filesystem::path& out,
                        const BackupOptions& options, const std::string& created);

// The backup `from` into the new directory `data` (refused when it exists and is not
// empty), after checking every file against the manifest: a missing, altered or extra
// file refuses the whole restore (kInvalid naming it), and nothing is written.
Result<Manifest> Restore(const std::filesystem::path& from, const std::filesystem::path& data);

}  // namespace ehr::backup
