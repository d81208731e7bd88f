#include "store/account_codec.h"

#include "core/base64.h"

namespace ehr::store::accounts {
namespace {

constexpr std::string_view kWrappedPrefix = "ehr-wrapped:";

std::string JoinWith(const std::vector<std::string>& items, char separator) {
  std::string out;
  for (const auto& s : items) {
    if (!out.empty()) out.push_back(separator);
    out += s;
  }
  return out;
}

std::vector<std::string> SplitAt(const std::string& text, char separator) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(separator, start);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string KeyAad(std::string_view kid) { return std::string("ehr-signing-key").append(1, '\0').append(kid); }

}  // namespace

std::string Join(const std::vector<std::string>& items) { return JoinWith(items, ','); }
std::vector<std::string> Split(const std::string& text) { return SplitAt(text, ','); }
std::string JoinLines(const std::vector<std::string>& items) { return JoinWith(items, '\n'); }
std::vector<std::string> SplitLines(const std::string& text) { return SplitAt(text, '\n'); }

std::string SigningKeyWrap::KekIdOf(std::string_view kept) {
  if (!kept.starts_with(kWrappedPrefix)) return "";
  const std::string_view rest = kept.substr(kWrappedPrefix.size());
  const size_t colon = rest.rfind(':');
  return colon == std::string_view::npos ? "" : std::string(rest.substr(0, colon));
}

bool SigningKeyWrap::Stale(std::string_view kept) const {
  return kek_ != nullptr && KekIdOf(kept) != kek_->CurrentId();
}

Result<std::string> SigningKeyWrap::Wrap(std::string_view kid, const std::string& pem) const {
  if (kek_ == nullptr) return pem;
  EHR_ASSIGN_OR_RETURN(keys::Wrapped w, kek_->Wrap(pem, KeyAad(kid)));
  return std::string(kWrappedPrefix) + w.kek_id + ":" + Base64Encode(w.bytes);
}

Result<std::string> SigningKeyWrap::Unwrap(std::string_view kid, const std::string& kept) const {
  if (!kept.starts_with(kWrappedPrefix)) return kept;
  if (kek_ == nullptr) return Status::Internal("accounts: a signing key is wrapped and no key store is configured");
  const std::string_view rest = std::string_view(kept).substr(kWrappedPrefix.size());
  const size_t colon = rest.rfind(':');
  auto bytes = colon == std::string_view::npos ? std::nullopt : Base64Decode(rest.substr(colon + 1));
  if (!bytes) return Status::Internal("accounts: a wrapped signing key is malformed");
  return kek_->Unwrap(rest.substr(0, colon), *bytes, KeyAad(kid));
}

}  // namespace ehr::store::accounts
