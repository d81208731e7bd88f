// One patient's record: the Patient and everything that happened to them in the history
// window, written to a Sink. Deterministic: depends only on the options and the slot.
#pragma once

#include <cstdint>
#include <string>

#include "synth/locale.h"
#include "synth/sink.h"
#include "synth/world.h"

namespace ehr::synth {

struct Options {
  uint64_t seed = 1;
  Region region = Region::kUk;
  uint32_t patients = 100;
  int64_t end_day = 0;  // the data set's "today" (days since 1970-01-01); appointments after it are booked
  int years = 5;        // length of the history window
  double travellers = 0.02;  // share of slots holding a visitor from another region
  double duplicates = 0.03;  // share of home patients registered twice (with typos)
  bool bundles = false;
  // Write only part `part` (0-based) of `parts` equal ranges of slots: the same bytes as the
  // corresponding share of a whole run, so a large population can be made and loaded in
  // pieces. Organisations and practitioners come with part 0.
  uint32_t part = 0;
  uint32_t parts = 1;
};

// Slot `index` of `region` holds either a resident or a visitor from `home` (a resident
// of slot `home_index` there).
struct Slot {
  bool visitor = false;
  Region home = Region::kUk;
  uint32_t home_index = 0;
};
Slot SlotOf(const Options& options, Region region, uint32_t index);

// The id of the Patient of slot `index` in `region`'s output.
std::string PatientId(uint64_t seed, Region region, uint32_t index);

void WriteRecord(const Options& options, const World& world, uint32_t index, Sink& sink);

}  // namespace ehr::synth
