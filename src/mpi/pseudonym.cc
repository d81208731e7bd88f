#include "mpi/pseudonym.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <tuple>

#include "core/secrets.h"
#include "mpi/national_id.h"

namespace ehr::mpi {
namespace {

std::string_view TypeOf(NationalIdKind kind) {
  switch (kind) {
    case NationalIdKind::kNhsNumber:
      return "nhs";
    case NationalIdKind::kKvnr:
      return "kvnr";
    case NationalIdKind::kNir:
      return "nir";
    case NationalIdKind::kSsn:
      return "ssn";
  }
  return "";
}

// The canonical passport number, or kInvalid.
Result<std::string> PassportNumber(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == ' ' || c == '-') continue;
    if (!std::isalnum(static_cast<unsigned char>(c))) return Status::Invalid("a passport number has letters and digits only");
    out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  if (out.size() < 5 || out.size() > 9) return Status::Invalid("a passport number has 5 to 9 letters and digits");
  return out;
}

}  // namespace

bool IsPassportSystem(std::string_view system) {
  if (system.size() != kPassportSystemPrefix.size() + 3 || system.substr(0, kPassportSystemPrefix.size()) != kPassportSystemPrefix) {
    return false;
  }
  const std::string_view country = system.substr(kPassportSystemPrefix.size());
  return std::all_of(country.begin(), country.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

Pseudonymizer::Pseudonymizer(std::string pepper) : Pseudonymizer(std::vector<std::string>{std::move(pepper)}) {}

Pseudonymizer::Pseudonymizer(std::vector<std::string> peppers) : peppers_(std::move(peppers)) {
  // The peppers come from the vault's key store, never from a request: a wrong size is a
  // set-up bug, and a short pepper would make pseudonyms guessable.
  if (peppers_.empty() || peppers_.size() > 2) throw std::invalid_argument("one pepper, or two while rotating");
  for (const std::string& p : peppers_) {
    if (p.size() != kPepperBytes) throw std::invalid_argument("a pseudonym pepper has 32 bytes");
  }
}

std::string Pseudonymizer::Fingerprint() const {
  std::string out;
  for (const std::string& p : peppers_) {
    if (!out.empty()) out.push_back(',');
    out += PepperId(p);
  }
  return out;
}

std::string PepperId(std::string_view pepper) {
  // Names a pepper without revealing it: a MAC keyed by the pepper over a fixed label.
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_size = 0;
  static constexpr std::string_view kLabel = "ehr federation pepper id";
  HMAC(EVP_sha256(), pepper.data(), static_cast<int>(pepper.size()), reinterpret_cast<const unsigned char*>(kLabel.data()),
       kLabel.size(), mac, &mac_size);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(mac), 8));
}

Result<std::vector<PatientPseudonym>> Pseudonymizer::All(std::string_view system, std::string_view value) const {
  std::vector<PatientPseudonym> out;
  for (size_t i = 0; i < peppers_.size(); ++i) {
    EHR_ASSIGN_OR_RETURN(PatientPseudonym p, Under(peppers_[i], system, value));
    out.push_back(std::move(p));
  }
  return out;
}

Result<PatientPseudonym> Pseudonymizer::Pseudonym(std::string_view system, std::string_view value) const {
  return Under(peppers_.front(), system, value);
}

Result<PatientPseudonym> Pseudonymizer::Under(const std::string& pepper, std::string_view system,
                                              std::string_view value) const {
  std::optional<NationalIdKind> kind = KindOfSystem(system);
  const bool passport = !kind && IsPassportSystem(system);
  if (!kind && !passport) return Status::Invalid("not the system of a national health identifier or a passport");
  EHR_ASSIGN_OR_RETURN(std::string canonical, passport ? PassportNumber(value) : NormalizeNationalId(*kind, value));

  // The system is in the MAC so that equal digits of two countries' numbers differ.
  std::string input(passport ? system : SystemOf(*kind));
  input.push_back('|');
  input.append(canonical);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_size = 0;
  const bool done = HMAC(EVP_sha256(), pepper.data(), static_cast<int>(pepper.size()),
                         reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_size) != nullptr;
  OPENSSL_cleanse(input.data(), input.size());
  OPENSSL_cleanse(canonical.data(), canonical.size());
  // Only an allocation failure inside OpenSSL gets here.
  if (!done) return Status::Internal("pseudonym: HMAC-SHA-256 failed");
  return PatientPseudonym{std::string(passport ? "passport" : TypeOf(*kind)),
                          HexEncode(std::string_view(reinterpret_cast<const char*>(mac), mac_size))};
}

std::vector<PatientPseudonym> Pseudonymizer::Linkable(const json::Value& patient, int* invalid) const {
  std::vector<PatientPseudonym> out;
  const json::Value* identifiers = patient.is_object() ? patient.Find("identifier") : nullptr;
  if (identifiers == nullptr || !identifiers->is_array()) return out;
  for (const json::Value& identifier : identifiers->as_array()) {
    const std::string_view system = identifier.GetString("system");
    if (system.empty()) continue;
    Result<std::vector<PatientPseudonym>> each = All(system, identifier.GetString("value"));
    if (each.ok()) {
      out.insert(out.end(), each->begin(), each->end());
    } else if (invalid != nullptr && each.status().code() == Code::kInvalid &&
               (KindOfSystem(system) || IsPassportSystem(system))) {
      ++*invalid;  // a national id system with a value that is not one
    }
  }
  const auto key = [](const PatientPseudonym& p) { return std::tie(p.type, p.pseudonym); };
  std::sort(out.begin(), out.end(), [&](const PatientPseudonym& a, const PatientPseudonym& b) { return key(a) < key(b); });
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Result<std::vector<PatientPseudonym>> Pseudonymizer::OfPatient(const json::Value& patient) const {
  if (!patient.is_object() || patient.GetString("resourceType") != "Patient") {
    return Status::Invalid("pseudonyms: not a Patient resource");
  }
  std::vector<PatientPseudonym> out;
  const json::Value* identifiers = patient.Find("identifier");
  if (identifiers == nullptr) return out;
  if (!identifiers->is_array()) return Status::Invalid("identifier must be an array", "Patient.identifier");
  const json::Array& list = identifiers->as_array();
  for (size_t i = 0; i < list.size(); ++i) {
    const json::Value& identifier = list[i];
    if (!identifier.is_object()) continue;  // the validator's business, not a national identifier
    if (!KindOfSystem(identifier.GetString("system")) && !IsPassportSystem(identifier.GetString("system"))) continue;
    const std::string where = "Patient.identifier[" + std::to_string(i) + "]";
    const json::Value* value = identifier.Find("value");
    // A national identifier's system without a value (e.g. a data-absent-reason extension)
    // names no one: nothing to link.
    if (value == nullptr) continue;
    if (!value->is_string()) return Status::Invalid("a national identifier's value must be a string", where + ".value");
    Result<std::vector<PatientPseudonym>> each = All(identifier.GetString("system"), value->as_string());
    if (!each.ok()) {
      Status st = each.take_status();
      if (st.code() != Code::kInvalid) return st;
      return Status::Invalid(st.message(), where);
    }
    for (PatientPseudonym& one : *each) out.push_back(std::move(one));
  }
  const auto key = [](const PatientPseudonym& p) { return std::tie(p.type, p.pseudonym); };
  std::sort(out.begin(), out.end(),
            [&](const PatientPseudonym& a, const PatientPseudonym& b) { return key(a) < key(b); });
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace ehr::mpi
