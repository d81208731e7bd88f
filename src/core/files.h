// Durability of the files the server writes itself (segment files, marks, the keyring,
// backups; SQLite syncs its own).
#pragma once

#include <filesystem>

#include "core/status.h"

namespace ehr {

// Syncs the directory `dir`, so that the files created, renamed or removed in it survive a
// crash. kUnavailable naming it when it cannot be opened or synced.
Status SyncDirectory(const std::filesystem::path& dir);

}  // namespace ehr
