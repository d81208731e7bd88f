#include "io/resource_files.h"

#include <algorithm>
#include <filesystem>
#include <memory>
#include <system_error>
#include <utility>

#include "io/byte_source.h"

namespace ehr::io {
namespace {

namespace fs = std::filesystem;

constexpr size_t kChunk = 1 << 20;

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool IsBlank(std::string_view line) {
  return std::all_of(line.begin(), line.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

Result<std::unique_ptr<ByteSource>> Open(const std::string& file) {
  EHR_ASSIGN_OR_RETURN(std::unique_ptr<ByteSource> source, OpenFileSource(file));
  if (EndsWith(file, ".bz2")) source = NewBz2Source(std::move(source), file);
  return source;
}

Status ReadWhole(ByteSource& source, const std::string& file, std::string* out) {
  if (!EndsWith(file, ".bz2")) out->reserve(FileSize(file) + kChunk);
  for (;;) {
    size_t old_size = out->size();
    out->resize(old_size + kChunk);
    Result<size_t> got = source.Read(out->data() + old_size, kChunk);
    if (!got.ok()) return got.take_status();
    out->resize(old_size + *got);
    if (*got == 0) return Status::Ok();
  }
}

// Reads chunks into `buffer` and hands out complete lines, keeping only the unfinished
// last line between chunks.
Status ForEachLine(ByteSource& source, const std::function<Status(std::string&&)>& fn) {
  std::string buffer;
  bool at_end = false;
  while (!at_end) {
    size_t old_size = buffer.size();
    buffer.resize(old_size + kChunk);
    Result<size_t> got = source.Read(buffer.data() + old_size, kChunk);
    if (!got.ok()) return got.take_status();
    buffer.resize(old_size + *got);
    at_end = *got == 0;

    size_t line_start = 0;
    size_t scan_from = old_size;
    for (;;) {
      size_t newline = buffer.find('\n', scan_from);
      if (newline == std::string::npos) {
        if (!at_end || line_start == buffer.size()) break;
        newline = buffer.size();  // the last line has no "\n"
      }
      std::string_view line(buffer.data() + line_start, newline - line_start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (!IsBlank(line)) EHR_RETURN_IF_ERROR(fn(std::string(line)));
      line_start = std::min(newline + 1, buffer.size());
      scan_from = line_start;
      if (newline == buffer.size()) break;
    }
    buffer.erase(0, line_start);
  }
  return Status::Ok();
}

}  // namespace

bool IsResourceFileName(std::string_view name) {
  return EndsWith(name, ".json") || EndsWith(name, ".json.bz2") || EndsWith(name, ".ndjson") ||
         EndsWith(name, ".ndjson.bz2");
}

Result<std::vector<std::string>> ListResourceFiles(const std::vector<std::string>& paths) {
  std::vector<std::string> files;
  for (const std::string& path : paths) {
    std::error_code ec;
    fs::file_status status = fs::status(path, ec);
    if (ec || !fs::exists(status)) {
      return Status::NotFound(path + ": no such file or directory");
    }
    if (fs::is_directory(status)) {
      std::vector<std::string> found;
      fs::directory_iterator it(path, ec);
      for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
        std::string name = it->path().filename().string();
        if (IsResourceFileName(name) && it->is_regular_file(ec)) found.push_back(it->path().string());
      }
      if (ec) return Status::Internal(path + ": cannot list directory: " + ec.message());
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (IsResourceFileName(path)) {
      files.push_back(path);
    } else {
      return Status::Invalid(path + ": not a resource file (.json, .ndjson, optionally .bz2)");
    }
  }
  return files;
}

Status ForEachDocument(const std::string& file, const std::function<Status(std::string&& json_text)>& fn) {
  bool ndjson = EndsWith(file, ".ndjson") || EndsWith(file, ".ndjson.bz2");
  if (!ndjson && !IsResourceFileName(file)) {
    return Status::Invalid(file + ": not a resource file (.json, .ndjson, optionally .bz2)");
  }
  EHR_ASSIGN_OR_RETURN(std::unique_ptr<ByteSource> source, Open(file));
  if (ndjson) return ForEachLine(*source, fn);
  std::string text;
  EHR_RETURN_IF_ERROR(ReadWhole(*source, file, &text));
  return fn(std::move(text));
}

uint64_t FileSize(const std::string& path) {
  std::error_code ec;
  uintmax_t size = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<uint64_t>(size);
}

}  // namespace ehr::io
