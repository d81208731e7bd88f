// National health identifiers: recognising their FHIR systems, normalising a value as
// written ("943 476 5919", "a123456780") to its canonical form, and checking its check
// digits. Vaults validate an identifier before they pseudonymise it (ARCHITECTURE.md,
// section 6); the population generator makes valid ones with the check functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace ehr::mpi {

enum class NationalIdKind {
  kNhsNumber,  // UK: 10 digits, the last a mod 11 check digit
  kKvnr,       // DE: Krankenversichertennummer, a letter, 8 digits and a check digit
  kNir,        // FR: NIR / INS, 13 characters (2A and 2B for Corsica) and a mod 97 key
  kSsn,        // US: social security number, 9 digits in three groups
};

// The identifier system URIs: https://fhir.nhs.uk/Id/nhs-number, http://fhir.de/sid/gkv/kvid-10,
// urn:oid:1.2.250.1.213.1.4.8 and http://hl7.org/fhir/sid/us-ssn.
std::string_view SystemOf(NationalIdKind kind);
std::optional<NationalIdKind> KindOfSystem(std::string_view system);

// The canonical form of `value` (spaces, hyphens and dots dropped, letters upper-cased), or
// kInvalid saying what is wrong: length, characters, check digit, a number never issued.
Result<std::string> NormalizeNationalId(NationalIdKind kind, std::string_view value);

// Check digits, for making valid numbers. NhsCheckDigit: of the first nine digits; none
// when the remainder gives 10 (no NHS number starts so). KvnrCheckDigit: of the letter and
// eight digits. NirKey: of the 13 characters (digits, or 2A/2B at the department), 1-97.
std::optional<int> NhsCheckDigit(std::string_view nine_digits);
int KvnrCheckDigit(char letter, std::string_view eight_digits);
int NirKey(std::string_view thirteen);

}  // namespace ehr::mpi
