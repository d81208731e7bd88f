// Byte streams under ForEachDocument: a file, and bz2 decompression on top of any stream.
// Internal to src/io; separate so tests can feed the decompressor data that no file holds.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "core/status.h"

namespace ehr::io {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to `n` (> 0) bytes into `buf`. Returns how many; 0 only at the end of data.
  virtual Result<size_t> Read(char* buf, size_t n) = 0;
};

// Opens `path` for reading.
Result<std::unique_ptr<ByteSource>> OpenFileSource(const std::string& path);

// Decompresses `compressed` (one or more concatenated bz2 streams) as it is read. `name`
// is used in error messages.
std::unique_ptr<ByteSource> NewBz2Source(std::unique_ptr<ByteSource> compressed, std::string name);

}  // namespace ehr::io
