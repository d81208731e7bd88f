// Where generated resources go: one chunk of output, kept in memory until the writer
// thread appends it to the output files in order.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace ehr::synth {

// The resource types the generator makes, in the order their NDJSON files are named.
enum class Kind {
  kOrganization,
  kPractitioner,
  kPractitionerRole,
  kPatient,
  kCoverage,
  kCareTeam,
  kAllergyIntolerance,
  kCondition,
  kAppointment,
  kEncounter,
  kServiceRequest,
  kObservation,
  kDiagnosticReport,
  kMedicationRequest,
  kProcedure,
  kImmunization,
  kDocumentReference,
  kClaim,
  kCount
};

std::string_view KindName(Kind kind);

// Ground-truth CSV files (rows without the header).
enum class Truth { kTravellers, kDuplicates, kNoteEntities, kReadmissions, kCount };
std::string_view TruthFile(Truth truth);    // "travellers.csv"
std::string_view TruthHeader(Truth truth);  // its header line, without "\n"

class Sink {
 public:
  // bundles: each patient's resources become one transaction Bundle (PUT by id).
  explicit Sink(bool bundles) : bundles_(bundles) {}

  // Adds one resource of `kind` with `id`: its JSON text is written to the string Begin
  // returns (no copy), then Finish is called. Nothing else is added in between.
  std::string& Begin(Kind kind);
  void Finish(Kind kind, std::string_view id);
  void AddTruth(Truth truth, std::string_view csv_row);  // row without "\n"

  // Bundle mode: starts and ends the Bundle of one file (named by `name`).
  void BeginBundle(std::string name);
  void EndBundle();

  size_t resources() const { return resources_; }
  std::array<size_t, static_cast<size_t>(Kind::kCount)> counts{};

  // NDJSON text per kind; bundle files as (name, text).
  std::array<std::string, static_cast<size_t>(Kind::kCount)> ndjson;
  std::vector<std::pair<std::string, std::string>> files;
  std::array<std::string, static_cast<size_t>(Truth::kCount)> truth;

 private:
  bool bundles_;
  bool first_entry_ = true;
  size_t resources_ = 0;
};

}  // namespace ehr::synth
