#include "synth/notes.h"

#include <algorithm>
#include <cstring>
#include <string_view>

namespace ehr::synth {

namespace {

constexpr const char* kSnomed = "http://snomed.info/sct";
constexpr const char* kRxNorm = "http://www.nlm.nih.gov/research/umls/rxnorm";

class NoteBuilder {
 public:
  NoteBuilder& operator<<(std::string_view text) {
    note_.text.append(text);
    return *this;
  }
  // Appends a mention and records it.
  void Mention(std::string_view text, const char* type, const char* system, std::string_view code,
               const char* assertion) {
    NoteEntity e{type, system, std::string(code), note_.text.size(), 0, assertion};
    note_.text.append(text);
    e.end = note_.text.size();
    note_.entities.push_back(std::move(e));
  }
  Note Take() { return std::move(note_); }

 private:
  Note note_;
};

const SymptomDef* FindSymptom(std::string_view code) {
  for (const SymptomDef& s : Symptoms()) {
    if (code == s.snomed) return &s;
  }
  return nullptr;
}

std::vector<const SymptomDef*> SymptomsOf(const ConditionDef* c) {
  std::vector<const SymptomDef*> out;
  if (!c) return out;
  std::string_view list = c->symptoms;
  while (!list.empty()) {
    size_t space = list.find(' ');
    std::string_view code = list.substr(0, space);
    if (const SymptomDef* s = FindSymptom(code)) out.push_back(s);
    if (space == std::string_view::npos) break;
    list.remove_prefix(space + 1);
  }
  return out;
}

// A condition's name as a note writes it: the SNOMED term, lower case except acronyms.
std::string Phrase(const char* display) {
  std::string out(display);
  // Drop SNOMED's semantic tags such as " (disorder)".
  if (size_t paren = out.find(" ("); paren != std::string::npos && out.back() == ')') out.erase(paren);
  if (out.size() > 1 && !(out[1] >= 'A' && out[1] <= 'Z')) out[0] = static_cast<char>(std::tolower(out[0]));
  return out;
}

// The drug's name as a note writes it: the RxNorm name up to its strength.
std::string DrugPhrase(const MedicationDef& m) {
  std::string_view name = m.display;
  if (size_t hr = name.find(" HR "); hr != std::string_view::npos && hr < 4) name.remove_prefix(hr + 4);
  size_t cut = name.size();
  for (size_t i = 0; i + 1 < name.size(); ++i) {
    if (name[i] == ' ' && name[i + 1] >= '0' && name[i + 1] <= '9') {
      cut = i;
      break;
    }
  }
  return std::string(name.substr(0, cut));
}

}  // namespace

Note WriteNote(Rng& rng, const NoteFacts& f) {
  NoteBuilder b;
  const char* person = f.age < 18 ? (f.female ? "girl" : "boy") : (f.female ? "woman" : "man");
  std::vector<const SymptomDef*> present = SymptomsOf(f.reason);
  if (present.size() > 3) present.resize(3);

  if (!present.empty()) {
    b << "Chief complaint: ";
    b.Mention(present[0]->phrase, "symptom", kSnomed, present[0]->snomed, "present");
    b << ".\n\n";
  }
  b << "History of present illness: " << std::to_string(f.age) << "-year-old " << person;
  if (!present.empty()) {
    b << " presents with ";
    for (size_t i = 0; i < present.size(); ++i) {
      if (i > 0) b << (i + 1 == present.size() ? " and " : ", ");
      b.Mention(present[i]->phrase, "symptom", kSnomed, present[i]->snomed, "present");
    }
    b << " for " << std::to_string(1 + rng.Below(10)) << " days.";
  } else if (std::strcmp(f.visit, "wellness") == 0) {
    b << " attends for a routine check-up and feels well.";
  } else {
    b << " attends for review.";
  }
  // Negated symptoms: two from the table that are not among the present ones.
  std::span<const SymptomDef> all = Symptoms();
  const SymptomDef* negated[2] = {nullptr, nullptr};
  for (int k = 0; k < 2 && !all.empty(); ++k) {
    const SymptomDef& s = all[rng.Below(static_cast<uint32_t>(all.size()))];
    bool clash = std::any_of(present.begin(), present.end(), [&](const SymptomDef* p) { return p == &s; }) ||
                 (k == 1 && negated[0] == &s);
    if (!clash) negated[k] = &s;
  }
  if (negated[0] || negated[1]) {
    b << (rng.Chance(0.5) ? " Denies " : " No ");
    bool first = true;
    for (const SymptomDef* s : negated) {
      if (!s) continue;
      if (!first) b << " or ";
      first = false;
      b.Mention(s->phrase, "symptom", kSnomed, s->snomed, "negated");
    }
    b << ".";
  }
  b << "\n\n";

  if (!f.history.empty()) {
    b << "Past medical history: ";
    for (size_t i = 0; i < f.history.size(); ++i) {
      if (i > 0) b << ", ";
      b.Mention(Phrase(f.history[i]->display), "condition", kSnomed, f.history[i]->snomed, "historical");
    }
    b << ".\n";
  }
  b << "Medications: ";
  if (f.medications.empty()) {
    b << "none.\n";
  } else {
    for (size_t i = 0; i < f.medications.size(); ++i) {
      if (i > 0) b << "; ";
      b.Mention(DrugPhrase(*f.medications[i]), "medication", kRxNorm, f.medications[i]->rxnorm, "present");
      b << " " << f.medications[i]->dose;
    }
    b << ".\n";
  }
  b << "Allergies: ";
  if (f.allergies.empty()) {
    b << "no known drug allergies.\n";
  } else {
    for (size_t i = 0; i < f.allergies.size(); ++i) {
      if (i > 0) b << ", ";
      b.Mention(Phrase(f.allergies[i]->display), "allergy", kSnomed, f.allergies[i]->snomed, "present");
    }
    b << ".\n";
  }
  // Family history: a parent or sibling with a chronic condition.
  if (rng.Chance(0.4)) {
    std::span<const ConditionDef> conditions = Conditions();
    const ConditionDef& c = conditions[rng.Below(static_cast<uint32_t>(conditions.size()))];
    if (c.chronic) {
      static constexpr const char* kRelatives[] = {"Mother", "Father", "Brother", "Sister"};
      b << "Family history: " << kRelatives[rng.Below(4)] << " had ";
      b.Mention(Phrase(c.display), "condition", kSnomed, c.snomed, "family");
      b << ".\n";
    }
  }
  b << "\nAssessment and plan: ";
  if (f.reason) {
    b.Mention(Phrase(f.reason->display), "condition", kSnomed, f.reason->snomed, "present");
    b << ".";
  } else {
    b << "healthy " << person << ", no new problems.";
  }
  for (const MedicationDef* m : f.started) {
    b << " Start ";
    b.Mention(DrugPhrase(*m), "medication", kRxNorm, m->rxnorm, "present");
    b << ", " << m->dose << ".";
  }
  if (f.stay_days > 0) b << " Discharged home after " << std::to_string(f.stay_days) << " days.";
  b << " Follow up as needed.\n";
  return b.Take();
}

}  // namespace ehr::synth
