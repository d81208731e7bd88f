// Lookups over the code tables (tables.h), built once: by code, and the labs of each panel.
#pragma once

#include <string_view>
#include <unordered_map>
#include <vector>

#include "synth/tables.h"

namespace ehr::synth {

struct Catalog {
  std::unordered_map<std::string_view, const MedicationDef*> medications;  // by ATC
  std::unordered_map<std::string_view, const LabDef*> labs;                // by LOINC
  std::unordered_map<std::string_view, const PanelDef*> panels;            // by LOINC
  std::unordered_map<std::string_view, std::vector<const LabDef*>> panel_labs;
  std::unordered_map<std::string_view, const VitalDef*> vitals;  // by LOINC
  std::unordered_map<std::string_view, std::vector<const ProcedureDef*>> procedures_for;  // by condition SNOMED
  std::unordered_map<std::string_view, const VisitTypeDef*> visit_types;  // by SNOMED
};

const Catalog& GetCatalog();

// The space-separated words of a table field.
std::vector<std::string_view> Words(std::string_view list);

}  // namespace ehr::synth
