#include "mpi/national_id.h"

#include <algorithm>
#include <cstdint>

namespace ehr::mpi {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool AllDigits(std::string_view s) { return std::all_of(s.begin(), s.end(), IsDigit); }

// The value without the separators people write in identifiers, letters upper-cased.
std::string Compact(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == ' ' || c == '-' || c == '.' || c == '\t') continue;
    out.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
  }
  return out;
}

Status Bad(std::string_view what, std::string_view why) {
  return Status::Invalid(std::string(what) + ": " + std::string(why));
}

Result<std::string> Nhs(std::string value) {
  constexpr std::string_view kWhat = "NHS number";
  if (value.size() != 10 || !AllDigits(value)) return Bad(kWhat, "must be 10 digits");
  std::optional<int> check = NhsCheckDigit(std::string_view(value).substr(0, 9));
  if (!check) return Bad(kWhat, "no NHS number has these first nine digits (their check digit would be 10)");
  if (value[9] - '0' != *check) return Bad(kWhat, "the check digit does not match");
  return value;
}

Result<std::string> Kvnr(std::string value) {
  constexpr std::string_view kWhat = "KVNR";
  if (value.size() != 10 || value[0] < 'A' || value[0] > 'Z' || !AllDigits(std::string_view(value).substr(1))) {
    return Bad(kWhat, "must be a letter and 9 digits");
  }
  if (value[9] - '0' != KvnrCheckDigit(value[0], std::string_view(value).substr(1, 8))) {
    return Bad(kWhat, "the check digit does not match");
  }
  return value;
}

Result<std::string> Nir(std::string value) {
  constexpr std::string_view kWhat = "NIR";
  if (value.size() != 15) return Bad(kWhat, "must be 13 characters and a 2-digit key");
  std::string_view body = std::string_view(value).substr(0, 13);
  const bool corsica = body.substr(5, 2) == "2A" || body.substr(5, 2) == "2B";
  std::string digits(body);
  if (corsica) digits.replace(5, 2, "00");
  if (!AllDigits(digits) || !AllDigits(std::string_view(value).substr(13))) {
    return Bad(kWhat, "must be digits (2A or 2B for a Corsican department)");
  }
  if (value[0] != '1' && value[0] != '2' && value[0] != '3' && value[0] != '4' && value[0] != '7' && value[0] != '8') {
    return Bad(kWhat, "the first digit (sex) must be 1, 2, 3, 4, 7 or 8");
  }
  const int month = (value[3] - '0') * 10 + (value[4] - '0');
  if (month < 1 || (month > 12 && month < 20) || month > 99) return Bad(kWhat, "the month of birth is out of range");
  const int key = (value[13] - '0') * 10 + (value[14] - '0');
  if (key != NirKey(body)) return Bad(kWhat, "the key does not match");
  return value;
}

Result<std::string> Ssn(std::string value) {
  constexpr std::string_view kWhat = "SSN";
  if (value.size() != 9 || !AllDigits(value)) return Bad(kWhat, "must be 9 digits");
  std::string_view area = std::string_view(value).substr(0, 3);
  if (area == "000" || area == "666" || area[0] == '9') return Bad(kWhat, "no SSN has this area number");
  if (value.substr(3, 2) == "00") return Bad(kWhat, "no SSN has group number 00");
  if (value.substr(5) == "0000") return Bad(kWhat, "no SSN has serial number 0000");
  return value;
}

}  // namespace

std::string_view SystemOf(NationalIdKind kind) {
  switch (kind) {
    case NationalIdKind::kNhsNumber:
      return "https://fhir.nhs.uk/Id/nhs-number";
    case NationalIdKind::kKvnr:
      return "http://fhir.de/sid/gkv/kvid-10";
    case NationalIdKind::kNir:
      return "urn:oid:1.2.250.1.213.1.4.8";
    case NationalIdKind::kSsn:
      return "http://hl7.org/fhir/sid/us-ssn";
  }
  return "";
}

std::optional<NationalIdKind> KindOfSystem(std::string_view system) {
  for (NationalIdKind k : {NationalIdKind::kNhsNumber, NationalIdKind::kKvnr, NationalIdKind::kNir, NationalIdKind::kSsn}) {
    if (SystemOf(k) == system) return k;
  }
  return std::nullopt;
}

Result<std::string> NormalizeNationalId(NationalIdKind kind, std::string_view value) {
  if (value.size() > 64) return Status::Invalid("a national identifier is at most 64 characters");
  std::string compact = Compact(value);
  switch (kind) {
    case NationalIdKind::kNhsNumber:
      return Nhs(std::move(compact));
    case NationalIdKind::kKvnr:
      return Kvnr(std::move(compact));
    case NationalIdKind::kNir:
      return Nir(std::move(compact));
    case NationalIdKind::kSsn:
      return Ssn(std::move(compact));
  }
  return Status::Invalid("unknown kind of national identifier");
}

// Weights 10 down to 2; the check digit is 11 minus the remainder mod 11 (11 becomes 0).
std::optional<int> NhsCheckDigit(std::string_view nine_digits) {
  if (nine_digits.size() != 9 || !AllDigits(nine_digits)) return std::nullopt;
  int sum = 0;
  for (size_t i = 0; i < 9; ++i) sum += (nine_digits[i] - '0') * static_cast<int>(10 - i);
  const int check = 11 - sum % 11;
  if (check == 10) return std::nullopt;
  return check == 11 ? 0 : check;
}

// The letter as its two-digit place in the alphabet (A = 01), then the eight digits; weights
// 1, 2, 1, 2...; a two-digit product counts as the sum of its digits; the check digit is the
// total mod 10.
int KvnrCheckDigit(char letter, std::string_view eight_digits) {
  const int place = letter - 'A' + 1;
  std::string digits = std::string(1, static_cast<char>('0' + place / 10)) + static_cast<char>('0' + place % 10);
  digits.append(eight_digits);
  int sum = 0;
  for (size_t i = 0; i < digits.size(); ++i) {
    int product = (digits[i] - '0') * (i % 2 == 0 ? 1 : 2);
    sum += product / 10 + product % 10;
  }
  return sum % 10;
}

// 97 minus the number mod 97, the Corsican departments 2A and 2B counting as 19 and 18.
int NirKey(std::string_view thirteen) {
  std::string digits(thirteen);
  if (digits.size() >= 7 && digits.substr(5, 2) == "2A") digits.replace(5, 2, "19");
  if (digits.size() >= 7 && digits.substr(5, 2) == "2B") digits.replace(5, 2, "18");
  int64_t remainder = 0;
  for (char c : digits) {
    if (!IsDigit(c)) return -1;
    remainder = (remainder * 10 + (c - '0')) % 97;
  }
  return static_cast<int>(97 - remainder);
}

}  // namespace ehr::mpi
