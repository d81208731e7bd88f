// Clinical notes: the text of a visit's note, and the entities it really contains (for the
// note-analysis ground truth). Notes are in English in every region.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "synth/rng.h"
#include "synth/tables.h"

namespace ehr::synth {

struct NoteEntity {
  const char* type;    // condition, medication, symptom, allergy
  const char* system;  // code system URI
  std::string code;
  size_t begin = 0;    // byte offsets of the mention in the note's UTF-8 text
  size_t end = 0;
  const char* assertion;  // present, negated, family, historical
};

struct Note {
  std::string text;
  std::vector<NoteEntity> entities;
};

struct NoteFacts {
  int age = 0;
  bool female = false;
  const char* visit = "";  // "progress", "emergency", "admission", "discharge", "wellness"
  const ConditionDef* reason = nullptr;         // what brought them (may be null)
  std::vector<const ConditionDef*> history;     // other active or past conditions
  std::vector<const MedicationDef*> medications;  // current medications
  std::vector<const MedicationDef*> started;    // started at this visit
  std::vector<const AllergyDef*> allergies;
  int stay_days = 0;  // admissions
};

// Writes the note for one visit; `rng` decides wording, negated symptoms and family history.
Note WriteNote(Rng& rng, const NoteFacts& facts);

}  // namespace ehr::synth
