// The manifest of a backup (`ehr backup`, cli/backup.cc): what files it holds, with their
// sizes and SHA-256, so that `ehr restore` refuses a damaged or altered backup before it
// writes anything.
//
//   {"format": 1, "created": "2026-11-24T06:30:00Z", "keyring": false,
//    "files": [{"path": "ehr.db", "bytes": 1234, "sha256": "64 hex digits"}, ...]}
//
// Paths are relative, '/'-separated, of letters, digits and . _ - only, no part empty or
// starting with '.', at most 8 parts: a manifest read from backup media names nothing
// outside the directory it is restored into.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace ehr::backup {

struct FileEntry {
  std::string path;
  uint64_t bytes = 0;
  std::string sha256;  // lower-case hex
};

struct Manifest {
  std::string created;  // UTC, ISO 8601
  bool keyring = false;  // whether the key-encryption keys are in the backup
  std::vector<FileEntry> files;
};

bool IsSafePath(std::string_view path);
std::string WriteManifest(const Manifest& manifest);
// kInvalid naming the member at fault ("files[2].path: ...").
Result<Manifest> ParseManifest(std::string_view text);

}  // namespace ehr::backup
