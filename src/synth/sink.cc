#include "synth/sink.h"

namespace ehr::synth {

std::string_view KindName(Kind kind) {
  static constexpr std::string_view kNames[] = {
      "Organization", "Practitioner", "PractitionerRole", "Patient", "Coverage", "CareTeam",
      "AllergyIntolerance", "Condition", "Appointment", "Encounter", "ServiceRequest", "Observation",
      "DiagnosticReport", "MedicationRequest", "Procedure", "Immunization", "DocumentReference", "Claim"};
  static_assert(std::size(kNames) == static_cast<size_t>(Kind::kCount));
  return kNames[static_cast<size_t>(kind)];
}

std::string_view TruthFile(Truth truth) {
  static constexpr std::string_view kFiles[] = {"travellers.csv", "duplicates.csv", "note_entities.csv",
                                                "readmissions.csv"};
  return kFiles[static_cast<size_t>(truth)];
}

std::string_view TruthHeader(Truth truth) {
  static constexpr std::string_view kHeaders[] = {
      "region,patient_id,home_region,home_patient_id,identifier_system,identifier_value",
      "region,patient_id,duplicate_id,differences",
      "note_id,patient_id,entity_type,system,code,text,begin,end,assertion",
      "region,patient_id,index_encounter_id,readmission_encounter_id,days_after_discharge"};
  return kHeaders[static_cast<size_t>(truth)];
}

std::string& Sink::Begin(Kind kind) {
  if (!bundles_) return ndjson[static_cast<size_t>(kind)];
  std::string& out = files.back().second;
  if (!first_entry_) out.push_back(',');
  first_entry_ = false;
  out.append("\n{\"resource\":");
  return out;
}

void Sink::Finish(Kind kind, std::string_view id) {
  ++resources_;
  ++counts[static_cast<size_t>(kind)];
  if (!bundles_) {
    ndjson[static_cast<size_t>(kind)].push_back('\n');
    return;
  }
  std::string& out = files.back().second;
  out.append(",\"request\":{\"method\":\"PUT\",\"url\":\"");
  out.append(KindName(kind));
  out.push_back('/');
  out.append(id);
  out.append("\"}}");
}

void Sink::AddTruth(Truth truth_file, std::string_view csv_row) {
  std::string& out = truth[static_cast<size_t>(truth_file)];
  out.append(csv_row);
  out.push_back('\n');
}

void Sink::BeginBundle(std::string name) {
  files.emplace_back(std::move(name), "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[");
  first_entry_ = true;
}

void Sink::EndBundle() { files.back().second.append("\n]}\n"); }

}  // namespace ehr::synth
