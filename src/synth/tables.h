// The clinical code tables the population generator draws from: conditions, medications,
// laboratory tests, vital signs, immunisations, procedures, allergies and the symptoms that
// notes mention. Small and embedded (a few hundred rows), each row with real codes:
// SNOMED CT, ICD-10 (WHO ICD-10 / ICD-10-CM spellings without the dot are both accepted by
// the generator; the table holds them with the dot, e.g. "E11.9"), LOINC with UCUM units,
// RxNorm and ATC, CVX, CPT and OPS. tables.cc names the sources of codes and prevalences.
//
// Rows refer to each other by key strings (the SNOMED code of a condition, the ATC code of
// a medication, the LOINC code of a test), so that tables.cc stays plain data.
#pragma once

#include <span>

namespace ehr::synth {

// Who a row applies to.
enum class Sex : char { kAny = 'a', kFemale = 'f', kMale = 'm' };
inline bool Applies(Sex sex, bool female) { return sex == Sex::kAny || (sex == Sex::kFemale) == female; }

struct ConditionDef {
  const char* snomed;   // SNOMED CT concept id, e.g. "44054006"
  const char* icd10;    // ICD-10 code with its dot, e.g. "E11.9"
  const char* display;  // SNOMED preferred term, e.g. "Type 2 diabetes mellitus"
  // Share of people who have had the condition by age 80 (0..1), and the ages between which
  // it starts; the generator spreads onsets uniformly over [onset_min, onset_max].
  double prevalence;
  int onset_min;
  int onset_max;
  Sex sex;
  bool chronic;          // chronic: never resolves; else resolves after resolve_days
  int resolve_days;      // typical duration of an acute condition (0 for chronic)
  const char* meds;      // ATC codes of medications prescribed for it, space-separated ("" none)
  const char* labs;      // LOINC codes monitored for it, space-separated ("" none)
  const char* symptoms;  // SNOMED codes of its symptoms (keys of kSymptoms), space-separated
  // Lab that goes out of range with it, in the direction given: "4548-4 high" (HbA1c high)
  // or "" when none.
  const char* abnormal;
  bool inpatient;        // onset usually brings an inpatient admission (e.g. stroke, MI)
};

struct MedicationDef {
  const char* atc;      // ATC code, e.g. "A10BA02"
  const char* rxnorm;   // RxNorm code of a clinical drug (SCD), e.g. "860975"
  const char* display;  // RxNorm name, e.g. "24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet"
  const char* dose;     // dosage instruction text, e.g. "500 mg twice daily with meals"
};

struct LabDef {
  const char* loinc;    // e.g. "2345-7"
  const char* display;  // LOINC long common name, e.g. "Glucose [Mass/volume] in Serum or Plasma"
  const char* unit;     // UCUM code, e.g. "mg/dL"; "" for a unitless value
  double low;           // reference range (inclusive) for adults
  double high;
  double critical_low;  // values beyond these are critical (0 when none on that side)
  double critical_high;
  int decimals;         // how values are rounded
  const char* panel;    // LOINC code of the panel (DiagnosticReport) it belongs to, e.g. "24323-8"
};

// Panels: the DiagnosticReport a set of labs is reported under.
struct PanelDef {
  const char* loinc;    // e.g. "24323-8"
  const char* display;  // e.g. "Comprehensive metabolic 2000 panel - Serum or Plasma"
  const char* cpt;      // CPT code billed for it, e.g. "80053"
  const char* ops;      // "" (labs are not OPS procedures)
};

struct VitalDef {
  const char* loinc;    // e.g. "8867-4"
  const char* display;  // "Heart rate"
  const char* unit;     // UCUM, e.g. "/min"
  double mean;          // adult mean and standard deviation
  double sd;
  double low;           // normal range (for interpretation)
  double high;
  int decimals;
};

struct ImmunizationDef {
  const char* cvx;      // CVX code, e.g. "140"
  const char* display;  // "Influenza, seasonal, injectable, preservative free"
  const char* snomed;   // SNOMED CT vaccine product code when known, else ""
  int min_age;          // given from this age (years) ...
  int max_age;          // ... to this age
  int every_years;      // repeated every N years (1 for yearly flu); 0 = once
};

struct ProcedureDef {
  const char* snomed;   // e.g. "73761001"
  const char* display;  // "Colonoscopy"
  const char* cpt;      // e.g. "45378"
  const char* ops;      // German OPS code, e.g. "1-650.2"
  const char* reason;   // SNOMED code of the condition it is done for, or "" for screening
  int min_age;          // screening age band (when reason is "")
  int max_age;
  int every_years;      // screening interval (0 = only for its reason)
  bool inpatient;       // needs an admission
  Sex sex = Sex::kAny;  // screening meant for one sex (mammography, cervical smear)
};

struct AllergyDef {
  const char* snomed;    // substance or allergy concept, e.g. "91936005" (penicillin allergy)
  const char* display;
  const char* category;  // AllergyIntolerance.category: food, medication, environment, biologic
  double prevalence;
  const char* reaction_snomed;   // manifestation, e.g. "247472004"
  const char* reaction_display;  // "Hives"
};

// Symptoms, for notes: what the patient reports or denies.
struct SymptomDef {
  const char* snomed;   // e.g. "29857009"
  const char* display;  // SNOMED term, "Chest pain"
  const char* phrase;   // how a note says it, lower case: "chest pain"
};

// Encounter reasons for ordinary visits with no condition behind them (check-ups).
struct VisitTypeDef {
  const char* snomed;   // e.g. "185349003"
  const char* display;  // "Encounter for check up"
  const char* cpt;      // e.g. "99213"
};

std::span<const ConditionDef> Conditions();
std::span<const MedicationDef> Medications();
std::span<const LabDef> Labs();
std::span<const PanelDef> Panels();
std::span<const VitalDef> Vitals();
std::span<const ImmunizationDef> Immunizations();
std::span<const ProcedureDef> Procedures();
std::span<const AllergyDef> Allergies();
std::span<const SymptomDef> Symptoms();
std::span<const VisitTypeDef> VisitTypes();

}  // namespace ehr::synth
