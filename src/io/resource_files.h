// Reading FHIR resources from files on disk: plain or bzip2-compressed JSON documents
// (one resource or Bundle per file) and NDJSON (one resource per line, as bulk data
// export writes them).
//
// Used by the bulk loader and tools, never on a request path. Functions are thread-safe;
// each call owns its file handles. Errors name the file (file names are not PHI) and never
// quote its content.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace ehr::io {

// True for names ending in .json, .json.bz2, .ndjson or .ndjson.bz2.
bool IsResourceFileName(std::string_view name);

// Expands `paths` into resource files, in the order given. A directory contributes its
// resource files (not recursively) sorted by name; a file is taken as it is if it has a
// resource file name. A path that does not exist, or a file with another name, is an error.
Result<std::vector<std::string>> ListResourceFiles(const std::vector<std::string>& paths);

// Calls `fn` for every JSON document in `file`:
//   .json, .json.bz2      once, with the whole (decompressed) text;
//   .ndjson, .ndjson.bz2  once per line that is not blank, with the line's text (without
//                         its "\n" or "\r\n"), streaming: memory use is bounded by the
//                         longest line, not by the file.
// bz2 files may hold several concatenated streams (as pbzip2 writes). Stops at the first
// non-OK status from `fn` and returns it unchanged. Corrupt or truncated compressed data,
// an unreadable file or an unsupported name give an error naming the file.
Status ForEachDocument(const std::string& file, const std::function<Status(std::string&& json_text)>& fn);

// Size in bytes of the file as stored (compressed size for .bz2); 0 if it cannot be read.
// Meant for progress reporting.
uint64_t FileSize(const std::string& path);

}  // namespace ehr::io
