// `ehr synth`: generates a region's population in parallel and writes it to a directory,
// byte-identical for a seed whatever the number of threads.
//
// Layout of OUT:
//   ndjson:  one file per resource type, TYPE.ndjson (Organization.ndjson, Patient.ndjson, ...)
//   bundle:  0-providers.json (organisations and practitioners), then one transaction
//            Bundle per patient, PATIENT_ID.json (with the patient's duplicate registration)
//   ground-truth/travellers.csv, duplicates.csv, note_entities.csv, readmissions.csv
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>

#include "core/status.h"
#include "synth/record.h"
#include "synth/sink.h"

namespace ehr::synth {

struct GenerateStats {
  uint64_t patients = 0;  // slots written (residents and visitors)
  uint64_t resources = 0;
  uint64_t bytes = 0;
  std::array<uint64_t, static_cast<size_t>(Kind::kCount)> counts{};
  std::array<uint64_t, static_cast<size_t>(Truth::kCount)> truth_rows{};
};

// `progress` (may be empty) is called from the writing thread after each chunk.
Result<GenerateStats> Generate(const Options& options, const std::string& out_dir, int threads,
                               const std::function<void(const GenerateStats&)>& progress = {});

}  // namespace ehr::synth
