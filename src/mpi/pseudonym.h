// Pseudonyms of national health identifiers (ARCHITECTURE.md section 6): the only thing a
// vault tells the Master Patient Index about a patient's identity.
//   pseudonym = lower-case hex of HMAC-SHA-256(pepper, system "|" canonical value)
// with the canonical value of mpi/national_id.h (so "943 476 5919" and "9434765919" agree)
// and a pepper shared by the federation's vaults, held in their key stores and never sent
// to the MPI. Without the pepper a pseudonym cannot be tested against guessed identifiers.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "fhir/json/value.h"

namespace ehr::mpi {

// Passports, for emergencies (a visitor whose national id no vault knows): the system
// names the issuing country, "http://hl7.org/fhir/sid/passport-" + ISO 3166-1 alpha-3
// ("...passport-GBR"), the pattern of the FHIR identifier registry; the number is 5 to 9
// letters and digits (ICAO 9303), compared without spaces or hyphens and upper-cased.
inline constexpr std::string_view kPassportSystemPrefix = "http://hl7.org/fhir/sid/passport-";
bool IsPassportSystem(std::string_view system);

struct PatientPseudonym {
  std::string type;       // "nhs", "kvnr", "nir", "ssn", "passport" (the identifier's kind)
  std::string pseudonym;  // 64 hex digits
  bool operator==(const PatientPseudonym&) const = default;
};

// A pepper's public name (16 hex digits; the pepper cannot be had from it): how key stores
// and mark files tell peppers apart.
std::string PepperId(std::string_view pepper);

// Rotation of the pepper: for a while the federation's nodes hold two, the new one first.
// Vaults then register each identifier under both (the MPI holds both pseudonyms), gateways
// look up both, and a node token's pseudonym may be under either; once every vault has
// registered under the new pepper, the old one is dropped and its pseudonyms go.
class Pseudonymizer {
 public:
  static constexpr size_t kPepperBytes = 32;
  explicit Pseudonymizer(std::string pepper);
  explicit Pseudonymizer(std::vector<std::string> peppers);  // one, or two (newest first)

  // kInvalid (the reason, never the value) when `system` is not a national identifier
  // system of national_id.h nor a passport system, or `value` is not a valid identifier of it.
  // Under the newest pepper.
  Result<PatientPseudonym> Pseudonym(std::string_view system, std::string_view value) const;
  // Under each pepper, newest first.
  Result<std::vector<PatientPseudonym>> All(std::string_view system, std::string_view value) const;
  // The pseudonyms of a Patient resource's national identifiers (Patient.identifier with a
  // known system) under every pepper, sorted and without repeats; identifiers of other
  // systems are skipped; an invalid national identifier is kInvalid naming its place
  // ("Patient.identifier[1]").
  Result<std::vector<PatientPseudonym>> OfPatient(const json::Value& patient) const;
  // What a vault registers for a Patient, and what a gateway's pseudonym is checked against:
  // the pseudonyms of its valid national identifiers and passports under every pepper,
  // sorted and without repeats. Unlike OfPatient, an invalid one does not refuse the rest:
  // it is skipped and counted in `invalid` (when given).
  std::vector<PatientPseudonym> Linkable(const json::Value& patient, int* invalid = nullptr) const;
  // The PepperIds of the peppers, newest first, comma-separated.
  std::string Fingerprint() const;
  size_t peppers() const { return peppers_.size(); }

 private:
  Result<PatientPseudonym> Under(const std::string& pepper, std::string_view system, std::string_view value) const;

  std::vector<std::string> peppers_;
};

}  // namespace ehr::mpi
