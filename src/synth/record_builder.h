// Internal to record.cc and record_write.cc: the state of one record being written.
#pragma once

#include <string>
#include <vector>

#include "synth/notes.h"
#include "synth/person.h"
#include "synth/record.h"
#include "synth/rng.h"
#include "synth/tables.h"

namespace ehr::synth {

enum class VisitKind { kWellness, kFollowUp, kOnset, kEmergency, kInpatient, kReadmission };

// Emergencies and admissions, which happen at a hospital at any hour.
bool Urgent(VisitKind kind);
// The encounter type of a visit (SNOMED CT, from VisitTypes()), also billed on its claim.
const VisitTypeDef* VisitTypeOf(VisitKind kind, int age);

struct Diagnosis {
  const ConditionDef* def = nullptr;
  int64_t onset = 0;      // day
  int64_t abatement = 0;  // day it resolved; 0 while active
  std::string id;         // the Condition's id once written
  std::vector<const MedicationDef*> meds;
};

struct Visit {
  int64_t start = 0;  // minutes since the epoch
  int64_t end = 0;
  VisitKind kind = VisitKind::kWellness;
  int diagnosis = -1;  // index into RecordBuilder::diagnoses_, or -1
  std::string id;      // Encounter id
  size_t organization = 0;
  size_t practitioner = 0;
};

// A code on a claim line.
struct ClaimLine {
  std::string system;
  std::string code;
  std::string display;
  double price = 0;
};

class RecordBuilder {
 public:
  RecordBuilder(const Options& options, const World& world, uint32_t index, Sink& sink);
  void Write();

 private:
  // record.cc: what happens
  void WriteResident();
  void WriteVisitor(const Slot& slot);
  void WriteDuplicate();
  void WriteEmergencyEpisode(size_t hospital, int64_t day);
  void DrawDiagnoses();
  std::vector<Visit> PlanVisits();
  double ReadmissionRisk(int64_t day) const;
  void WriteVisit(Visit& visit, std::vector<Visit>& visits, size_t at);
  std::vector<const char*> PanelsFor(const Visit& visit);
  void WriteFutureAppointments();

  // record_write.cc: the resources
  std::string NextId();
  void WritePatient(const Person& person, const std::string& id, const std::vector<size_t>& mrn_orgs,
                    const std::vector<std::string>& mrns, bool with_national_id);
  void WriteCoverage(bool visitor);
  void WriteEncounter(const Visit& visit, const std::string& appointment_id);
  void WriteAppointment(const std::string& id, const Visit& visit, const char* status);
  void WriteCondition(Diagnosis& d, const Visit* visit, bool problem_list);
  void WriteAllergy(const AllergyDef& a, int64_t day);
  void WriteVitals(const Visit& visit, bool full);
  std::string WriteVital(const Visit& visit, const VitalDef& def, double value);
  void WriteBloodPressure(const Visit& visit);
  void WritePanel(const Visit& visit, const char* panel, std::vector<ClaimLine>& lines);
  void WriteMedication(const Visit& visit, Diagnosis& d, const MedicationDef& m, bool chronic);
  void WriteProcedure(const Visit& visit, const ProcedureDef& p, int diagnosis, std::vector<ClaimLine>& lines);
  void WriteImmunization(const Visit& visit, const ImmunizationDef& i);
  void WriteNote(const Visit& visit, const Note& note);
  void WriteClaim(const Visit& visit, const std::vector<ClaimLine>& lines, const std::vector<int>& diagnoses);
  void WriteCareTeam();

  bool Abnormal(const char* loinc, bool& high) const;
  double Height(int64_t day) const;
  double Weight(int64_t day) const;
  int Age(int64_t day) const;
  const char* Currency() const;

  const Options& options_;
  const World& world_;
  uint32_t index_;
  Sink& sink_;
  Region region_;
  Rng rng_;
  uint64_t id_key_;
  uint64_t id_counter_ = 0;
  Person person_;
  std::string patient_id_;
  std::string patient_ref_;  // "Patient/<id>"
  std::string coverage_id_;
  size_t clinic_ = 0;
  size_t hospital_ = 0;
  size_t gp_ = 0;  // practitioner index
  double height_sd_ = 0;  // person's height and BMI as z-scores / offsets
  double bmi_ = 0;
  int64_t window_start_ = 0;  // day
  std::vector<Diagnosis> diagnoses_;
  std::vector<const AllergyDef*> allergies_;
  bool allergies_written_ = false;
  std::vector<int64_t> last_immunization_;  // per ImmunizationDef: day, or INT64_MIN
  std::vector<int64_t> last_procedure_;     // per ProcedureDef
};

}  // namespace ehr::synth
