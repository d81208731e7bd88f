#include "synth/catalog.h"

namespace ehr::synth {

std::vector<std::string_view> Words(std::string_view list) {
  std::vector<std::string_view> out;
  while (!list.empty()) {
    const size_t space = list.find(' ');
    if (space != 0) out.push_back(list.substr(0, space));
    if (space == std::string_view::npos) break;
    list.remove_prefix(space + 1);
  }
  return out;
}

namespace {

Catalog Build() {
  Catalog c;
  for (const MedicationDef& m : Medications()) c.medications.emplace(m.atc, &m);
  for (const LabDef& l : Labs()) {
    c.labs.emplace(l.loinc, &l);
    c.panel_labs[l.panel].push_back(&l);
  }
  for (const PanelDef& p : Panels()) c.panels.emplace(p.loinc, &p);
  for (const VitalDef& v : Vitals()) c.vitals.emplace(v.loinc, &v);
  for (const ProcedureDef& p : Procedures()) {
    if (*p.reason) c.procedures_for[p.reason].push_back(&p);
  }
  for (const VisitTypeDef& v : VisitTypes()) c.visit_types.emplace(v.snomed, &v);
  return c;
}

}  // namespace

const Catalog& GetCatalog() {
  static const Catalog catalog = Build();
  return catalog;
}

}  // namespace ehr::synth
