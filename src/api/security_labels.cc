#include "api/security_labels.h"

#include <algorithm>
#include <string>
#include <vector>

#include "fhir/json/value.h"

namespace ehr::api {
namespace {

// "system|code" of each label, sorted; nullopt when the body does not parse.
std::optional<std::vector<std::string>> Labels(std::string_view body) {
  if (body.find("\"security\"") == std::string_view::npos) return std::vector<std::string>();
  Result<json::Value> resource = json::Parse(body);
  if (!resource.ok()) return std::nullopt;
  std::vector<std::string> out;
  const json::Value* meta = resource->Find("meta");
  const json::Value* security = meta ? meta->Find("security") : nullptr;
  if (security && security->is_array()) {
    for (const json::Value& coding : security->as_array()) {
      out.push_back(std::string(coding.GetString("system")) + "|" + std::string(coding.GetString("code")));
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string Listed(const std::vector<std::string>& labels) {
  std::string out;
  for (const std::string& l : labels) out += (out.empty() ? "" : ", ") + l;
  return out.empty() ? "none" : out;
}

}  // namespace

Status CheckSecurityLabels(const security::Principal& who, const store::NewVersion& v,
                           const std::optional<store::VersionRecord>& old) {
  if (v.deleted || !who.authenticated || who.HasRole("SERVICE")) return Status::Ok();
  const bool replaces = old && !old->deleted;
  if (v.body.find("\"security\"") == std::string::npos &&
      (!replaces || old->body.find("\"security\"") == std::string::npos)) {
    return Status::Ok();  // no labels before or after
  }
  const std::optional<std::vector<std::string>> now = Labels(v.body);
  const std::optional<std::vector<std::string>> before = replaces ? Labels(old->body) : std::vector<std::string>();
  if (!now || !before) return Status::Internal("a stored resource does not parse");
  if (*now == *before) return Status::Ok();
  const bool may_add = who.HasRole("DOCTOR") || who.HasRole("NURSE");
  const bool kept = std::includes(now->begin(), now->end(), before->begin(), before->end());
  if (kept && may_add) return Status::Ok();
  Status st(Code::kForbidden,
            Issue{"error", "forbidden",
                  kept ? "only clinicians and services may add security labels (meta.security); keep them as they were ("
                             + Listed(*before) + ")"
                       : "security labels (meta.security) may not be removed or changed but by a service; send them "
                         "back as they were (" + Listed(*before) + ")",
                  v.type + ".meta.security"});
  return st;
}

}  // namespace ehr::api
