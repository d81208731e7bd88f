#include "search/sensitive_ids.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <map>
#include <stdexcept>

#include "core/base64.h"
#include "core/secrets.h"
#include "mpi/national_id.h"
#include "mpi/pseudonym.h"

namespace ehr::search {
namespace {

constexpr std::string_view kSensitiveSystems[] = {
    "https://fhir.nhs.uk/Id/nhs-number",
    "http://fhir.de/sid/gkv/kvid-10",
    "http://fhir.de/sid/pkv/kvid-10",
    "urn:oid:1.2.250.1.213.1.4.8",
    "http://hl7.org/fhir/sid/us-ssn",
    "urn:oid:2.16.840.1.113883.4.1",
    "http://hl7.org/fhir/sid/us-mbi",
    "urn:oid:2.16.840.1.113883.4.927",
    "http://hl7.org/fhir/sid/us-medicare",
    "http://ns.electronichealth.net.au/id/hi/ihi/1.0",
    "http://ns.electronichealth.net.au/id/medicare-number",
    "https://standards.digital.health.nz/ns/nhi-id",
    "http://fhir.nl/fhir/NamingSystem/bsn",
};

constexpr std::string_view kSensitiveTypeCodes[] = {"SS", "SB", "NH", "NI", "JHN", "HC", "MA",
                                                    "MC", "MB", "SN", "DL", "PPN"};

constexpr mpi::NationalIdKind kNationalIdKinds[] = {mpi::NationalIdKind::kNhsNumber, mpi::NationalIdKind::kKvnr,
                                                    mpi::NationalIdKind::kNir, mpi::NationalIdKind::kSsn};

bool IsUpperLetter(char c) { return c >= 'A' && c <= 'Z'; }

// --- Which parameters select Identifiers ---

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

// `text` split on `sep` outside parentheses and quotes.
std::vector<std::string_view> SplitTopLevel(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  int depth = 0;
  bool quoted = false;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\'') quoted = !quoted;
    if (quoted) continue;
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == sep && depth == 0) {
      out.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  out.push_back(text.substr(start));
  return out;
}

// Whether one branch of a union (`Type.a.b`, `(Type.a.ofType(Identifier))`, `Type.a.where(...)`,
// `Type.a as Identifier`) selects Identifier values, following its path through the model.
bool BranchSelectsIdentifier(std::string_view branch) {
  branch = Trim(branch);
  while (branch.size() >= 2 && branch.front() == '(' && branch.back() == ')') branch = Trim(branch.substr(1, branch.size() - 2));
  if (const size_t as = branch.find(" as "); as != std::string_view::npos) return Trim(branch.substr(as + 4)) == "Identifier";
  const std::vector<std::string_view> steps = SplitTopLevel(branch, '.');
  if (steps.size() < 2) return false;
  const fhir::TypeDef* type = fhir::FindType(Trim(steps[0]));
  if (type == nullptr) return false;
  std::string_view code = type->name;
  for (size_t i = 1; i < steps.size(); ++i) {
    const std::string_view step = Trim(steps[i]);
    const size_t paren = step.find('(');
    if (paren != std::string_view::npos) {
      const std::string_view function = step.substr(0, paren);
      if (function == "ofType" || function == "as") {
        code = Trim(step.substr(paren + 1, step.size() - paren - 2));
        type = fhir::FindType(code);
        continue;
      }
      if (function == "where" || function == "first" || function == "last") continue;  // same type
      return false;  // resolve(), exists(), ...: no Identifier
    }
    if (type == nullptr) return false;
    const auto element = std::find_if(type->elements.begin(), type->elements.end(),
                                      [&](const fhir::ElementDef& e) { return e.name == step; });
    if (element == type->elements.end()) return false;
    if (element->types.size() == 1) {
      code = element->types[0].code;
      type = element->types[0].type;
    } else {
      code = {};  // a choice: an ofType() must follow
      type = nullptr;
    }
  }
  return code == "Identifier";
}

bool ExpressionSelectsIdentifier(std::string_view expression) {
  for (std::string_view branch : SplitTopLevel(expression, '|')) {
    if (BranchSelectsIdentifier(branch)) return true;
  }
  return false;
}

// --- The sensitive identifiers of a resource ---

struct Sensitive {
  std::string system;
  std::string value;
  std::vector<std::pair<std::string, std::string>> types;  // type codings: system, code
  std::string blind;
};

bool HasSensitiveType(const json::Value& identifier) {
  const json::Value* type = identifier.Find("type");
  if (type == nullptr || !type->is_object()) return false;
  const json::Value* codings = type->Find("coding");
  if (codings == nullptr || !codings->is_array()) return false;
  return std::any_of(codings->as_array().begin(), codings->as_array().end(), [](const json::Value& coding) {
    return coding.is_object() && IsSensitiveIdentifierType(coding.GetString("system"), coding.GetString("code"));
  });
}

void CollectSensitive(const json::Value& v, int depth, std::vector<Sensitive>& out) {
  if (depth > 64) return;
  if (v.is_array()) {
    for (const json::Value& each : v.as_array()) CollectSensitive(each, depth + 1, out);
    return;
  }
  if (!v.is_object()) return;
  const json::Value* value = v.Find("value");
  if (value != nullptr && value->is_string() && !value->as_string().empty() && IsSensitiveIdentifier(v)) {
    Sensitive s{std::string(v.GetString("system")), value->as_string(), {}, {}};
    if (const json::Value* type = v.Find("type"); type != nullptr && type->is_object()) {
      if (const json::Value* codings = type->Find("coding"); codings != nullptr && codings->is_array()) {
        for (const json::Value& coding : codings->as_array()) {
          if (coding.is_object()) {
            s.types.emplace_back(std::string(coding.GetString("system")), std::string(coding.GetString("code")));
          }
        }
      }
    }
    out.push_back(std::move(s));
  }
  for (const auto& [name, member] : v.as_object()) {
    if (member.is_object() || member.is_array()) CollectSensitive(member, depth + 1, out);
  }
}

// --- Cutting a value out of the full text ---

bool IsSeparator(char c) { return c == ' ' || c == '-' || c == '.' || c == '\t'; }
char Upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

// The value without the separators people write in identifiers, letters upper-cased (as
// mpi::NormalizeNationalId compacts it).
std::string Compact(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (!IsSeparator(c)) out.push_back(Upper(c));
  }
  return out;
}

// The end of `compact` written at `at` in `text` (any case, separators between its
// characters), or npos.
size_t LooseMatchEnd(std::string_view text, size_t at, std::string_view compact) {
  size_t j = at;
  for (size_t k = 0; k < compact.size(); ++k) {
    if (k > 0) {
      while (j < text.size() && IsSeparator(text[j])) ++j;
    }
    if (j >= text.size() || Upper(text[j]) != compact[k]) return std::string_view::npos;
    ++j;
  }
  return j;
}

// `text` with every occurrence of `compact` (as LooseMatchEnd finds it) replaced by a space.
void CutOut(std::string& text, std::string_view compact) {
  if (compact.empty() || text.empty()) return;
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const size_t end = Upper(text[i]) == compact[0] ? LooseMatchEnd(text, i, compact) : std::string_view::npos;
    if (end != std::string_view::npos) {
      out.push_back(' ');
      i = end;
    } else {
      out.push_back(text[i++]);
    }
  }
  text = std::move(out);
}

bool IsOfTypeParam(std::string_view param) {
  constexpr std::string_view kSuffix = ":of-type";
  return param.size() > kSuffix.size() && param.ends_with(kSuffix);
}

}  // namespace

bool IsSensitiveSystem(std::string_view system) {
  return std::find(std::begin(kSensitiveSystems), std::end(kSensitiveSystems), system) != std::end(kSensitiveSystems) ||
         mpi::IsPassportSystem(system);
}

bool IsSensitiveIdentifierType(std::string_view system, std::string_view code) {
  if (system != kIdentifierTypeSystem && system != kIdentifierTypeSystemBeforeR4) return false;
  if (code.size() == 5 && code.starts_with("NN") && IsUpperLetter(code[2]) && IsUpperLetter(code[3]) &&
      IsUpperLetter(code[4])) {
    return true;
  }
  return std::find(std::begin(kSensitiveTypeCodes), std::end(kSensitiveTypeCodes), code) !=
         std::end(kSensitiveTypeCodes);
}

bool IsSensitiveIdentifier(const json::Value& identifier) {
  if (!identifier.is_object()) return false;
  return IsSensitiveSystem(identifier.GetString("system")) || HasSensitiveType(identifier);
}

bool IndexesIdentifiers(const fhir::SearchParamDef& def) {
  if (def.type != fhir::SearchParamType::kToken) return false;
  // Computed once for every token parameter: parsing a query asks for each of its names.
  static const auto* by_def = [] {
    auto* out = new std::map<const fhir::SearchParamDef*, bool>();
    for (const fhir::SearchParamDef& d : fhir::SearchParams()) {
      if (d.type == fhir::SearchParamType::kToken) (*out)[&d] = ExpressionSelectsIdentifier(d.expression);
    }
    return out;
  }();
  const auto it = by_def->find(&def);
  return it != by_def->end() ? it->second : ExpressionSelectsIdentifier(def.expression);
}

IdentifierBlinder::IdentifierBlinder(std::string key) : key_(std::move(key)) {
  if (key_.size() != kKeyBytes) throw std::invalid_argument("a blind-index key has 32 bytes");
}

std::unique_ptr<IdentifierBlinder> IdentifierBlinder::WithRandomKey() {
  return std::make_unique<IdentifierBlinder>(RandomBytes(kKeyBytes));
}

IdentifierBlinder::~IdentifierBlinder() { OPENSSL_cleanse(key_.data(), key_.size()); }

std::string IdentifierBlinder::Blind(std::string_view tenant, std::string_view value) const {
  std::string input;
  input.reserve(tenant.size() + 1 + value.size());
  input.append(tenant).push_back('\0');
  input.append(value);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_size = 0;
  if (HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()), reinterpret_cast<const unsigned char*>(input.data()),
           input.size(), mac, &mac_size) == nullptr) {
    // Only an allocation failure inside OpenSSL gets here: no index row may fall back to
    // the plain value.
    throw std::runtime_error("HMAC-SHA-256 failed");
  }
  OPENSSL_cleanse(input.data(), input.size());
  return std::string(kBlindPrefix) + Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(mac), mac_size));
}

std::string IdentifierBlinder::BlindIdentifier(std::string_view tenant, std::string_view system,
                                               std::string_view value) const {
  if (std::optional<mpi::NationalIdKind> kind = mpi::KindOfSystem(system)) {
    Result<std::string> canonical = mpi::NormalizeNationalId(*kind, value);
    if (canonical.ok()) return Blind(tenant, *canonical);
  }
  return Blind(tenant, value);
}

std::vector<std::string> IdentifierBlinder::AnySystemBlinds(std::string_view tenant, std::string_view value) const {
  std::vector<std::string> forms{std::string(value)};
  for (mpi::NationalIdKind kind : kNationalIdKinds) {
    Result<std::string> canonical = mpi::NormalizeNationalId(kind, value);
    if (canonical.ok() && std::find(forms.begin(), forms.end(), *canonical) == forms.end()) {
      forms.push_back(std::move(*canonical));
    }
  }
  std::vector<std::string> out;
  for (const std::string& form : forms) out.push_back(Blind(tenant, form));
  return out;
}

bool IdentifierBlinder::BlindRows(std::string_view tenant, const json::Value& resource, store::IndexRows& rows) const {
  std::vector<Sensitive> found;
  CollectSensitive(resource, 0, found);
  if (found.empty()) return false;
  for (Sensitive& s : found) s.blind = BlindIdentifier(tenant, s.system, s.value);

  for (store::TokenRow& row : rows.tokens) {
    if (IsOfTypeParam(row.param)) {
      // The row of a type coding: its identifier is the one with this value, preferably
      // the one with this coding.
      const Sensitive* match = nullptr;
      for (const Sensitive& s : found) {
        if (s.value != row.text) continue;
        const bool coded = std::find(s.types.begin(), s.types.end(), std::make_pair(row.system, row.code)) != s.types.end();
        if (match == nullptr || coded) match = &s;
        if (coded) break;
      }
      if (match != nullptr) row.text = match->blind;
      continue;
    }
    for (const Sensitive& s : found) {
      if (row.code == s.value && row.system == s.system) {
        row.code = s.blind;
        break;
      }
    }
  }
  for (const Sensitive& s : found) {
    const std::string compact = Compact(s.value);
    std::erase_if(rows.strings, [&](const store::StringRow& row) { return Compact(row.exact) == compact; });
    CutOut(rows.content, compact);
    CutOut(rows.narrative, compact);
  }
  return true;
}

std::vector<store::SearchValue> IdentifierBlinder::SearchValues(std::string_view tenant,
                                                                const store::SearchValue& value) const {
  std::vector<store::SearchValue> out;
  if (const auto* token = std::get_if<store::TokenValue>(&value)) {
    if (!token->code) return {value};
    if (token->system && IsSensitiveSystem(*token->system)) {
      return {store::TokenValue{token->system, BlindIdentifier(tenant, *token->system, *token->code)}};
    }
    out.push_back(value);
    if (token->system) {
      out.push_back(store::TokenValue{token->system, BlindIdentifier(tenant, *token->system, *token->code)});
    } else {
      for (std::string& blind : AnySystemBlinds(tenant, *token->code)) {
        out.push_back(store::TokenValue{std::nullopt, std::move(blind)});
      }
    }
    return out;
  }
  if (const auto* of_type = std::get_if<store::OfTypeValue>(&value)) {
    if (!IsSensitiveIdentifierType(of_type->type_system, of_type->type_code)) out.push_back(value);
    for (std::string& blind : AnySystemBlinds(tenant, of_type->value)) {
      out.push_back(store::OfTypeValue{of_type->type_system, of_type->type_code, std::move(blind)});
    }
    return out;
  }
  return {value};
}

}  // namespace ehr::search
