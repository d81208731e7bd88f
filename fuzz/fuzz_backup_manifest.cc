// A backup's manifest (backup/manifest.h) on arbitrary input, as `ehr restore` reads it from
// backup media: never crashes; a refusal is kInvalid and says why; an accepted manifest names
// only safe relative paths (nothing outside the directory restored into), each once, with
// 64 lower-case hex digits of SHA-256; written back, it parses to itself.
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "backup/manifest.h"
#include "fuzz_check.h"

namespace {

void Check(bool ok, const char* what) { ehr::fuzz::Check(ok, "fuzz_backup_manifest", what); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ehr;
  using namespace ehr::backup;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  Result<Manifest> manifest = ParseManifest(input);
  if (!manifest.ok()) {
    Check(manifest.status().code() == Code::kInvalid && !manifest.status().message().empty(),
          "a refusal must be kInvalid and say why");
    return 0;
  }
  std::set<std::string> paths;
  for (const FileEntry& f : manifest->files) {
    Check(IsSafePath(f.path), "paths are safe");
    Check(f.path.find("..") == std::string::npos || f.path.find("/..") == std::string::npos, "no parent parts");
    Check(f.path.front() != '/' && f.path.front() != '.', "paths are relative and not hidden");
    Check(paths.insert(f.path).second, "each path once");
    Check(f.sha256.size() == 64, "a digest is 64 hex digits");
    for (char c : f.sha256) Check((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'), "a digest is lower-case hex");
  }
  Result<Manifest> again = ParseManifest(WriteManifest(*manifest));
  Check(again.ok(), "a manifest written back parses");
  Check(again->created == manifest->created && again->keyring == manifest->keyring &&
            again->files.size() == manifest->files.size(),
        "a manifest written back parses to itself");
  for (size_t i = 0; i < manifest->files.size(); ++i) {
    const FileEntry& a = manifest->files[i];
    const FileEntry& b = again->files[i];
    Check(a.path == b.path && a.bytes == b.bytes && a.sha256 == b.sha256, "a manifest written back parses to itself");
  }
  return 0;
}
