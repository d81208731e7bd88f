#include "backup/manifest.h"

#include <set>

#include "fhir/json/value.h"

namespace ehr::backup {
namespace {

Status Invalid(const std::string& where, const std::string& what) { return Status::Invalid(where + ": " + what); }

bool IsHex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

bool IsSafePath(std::string_view path) {
  if (path.empty() || path.size() > 512) return false;
  int parts = 0;
  size_t start = 0;
  while (start <= path.size()) {
    const size_t slash = path.find('/', start);
    const std::string_view part = path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (part.empty() || part.front() == '.' || ++parts > 8) return false;
    for (char c : part) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                      c == '_' || c == '-';
      if (!ok) return false;
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return true;
}

std::string WriteManifest(const Manifest& manifest) {
  json::Value files = json::Value::MakeArray();
  for (const FileEntry& f : manifest.files) {
    json::Value entry = json::Value::MakeObject();
    entry.Set("path", json::Value(f.path));
    entry.Set("bytes", json::Value::MakeInt(static_cast<int64_t>(f.bytes)));
    entry.Set("sha256", json::Value(f.sha256));
    files.as_array().push_back(std::move(entry));
  }
  json::Value out = json::Value::MakeObject();
  out.Set("format", json::Value::MakeInt(1));
  out.Set("created", json::Value(manifest.created));
  out.Set("keyring", json::Value(manifest.keyring));
  out.Set("files", std::move(files));
  return json::Write(out) + "\n";
}

Result<Manifest> ParseManifest(std::string_view text) {
  json::ParseOptions options;
  options.max_depth = 4;
  Result<json::Value> parsed = json::Parse(text, options);
  if (!parsed.ok()) return Status::Invalid("the manifest is not JSON: " + parsed.status().message());
  if (!parsed->is_object()) return Status::Invalid("the manifest is not a JSON object");
  const json::Value& m = *parsed;
  for (const auto& [name, value] : m.as_object()) {
    if (name != "format" && name != "created" && name != "keyring" && name != "files") {
      return Invalid(name, "unknown member");
    }
  }
  const json::Value* format = m.Find("format");
  if (format == nullptr || !format->is_number() || format->as_int64() != 1) return Invalid("format", "not 1");
  Manifest out;
  const json::Value* created = m.Find("created");
  if (created == nullptr || !created->is_string()) return Invalid("created", "missing");
  out.created = created->as_string();
  const json::Value* keyring = m.Find("keyring");
  if (keyring == nullptr || !keyring->is_bool()) return Invalid("keyring", "not true or false");
  out.keyring = keyring->as_bool();
  const json::Value* files = m.Find("files");
  if (files == nullptr || !files->is_array()) return Invalid("files", "not an array");
  std::set<std::string> seen;
  for (size_t i = 0; i < files->as_array().size(); ++i) {
    const std::string where = "files[" + std::to_string(i) + "]";
    const json::Value& f = files->as_array()[i];
    if (!f.is_object()) return Invalid(where, "not an object");
    FileEntry e;
    const json::Value* path = f.Find("path");
    if (path == nullptr || !path->is_string() || !IsSafePath(path->as_string())) {
      return Invalid(where + ".path", "not a relative path of letters, digits, '.', '_' and '-'");
    }
    e.path = path->as_string();
    if (!seen.insert(e.path).second) return Invalid(where + ".path", "listed twice");
    const json::Value* bytes = f.Find("bytes");
    const auto size = bytes != nullptr && bytes->is_number() && bytes->is_integer_text() ? bytes->as_int64() : std::nullopt;
    if (!size || *size < 0) return Invalid(where + ".bytes", "not a size");
    e.bytes = static_cast<uint64_t>(*size);
    const json::Value* sha = f.Find("sha256");
    if (sha == nullptr || !sha->is_string() || !IsHex64(sha->as_string())) return Invalid(where + ".sha256", "not 64 hex digits");
    e.sha256 = sha->as_string();
    out.files.push_back(std::move(e));
  }
  return out;
}

}  // namespace ehr::backup
