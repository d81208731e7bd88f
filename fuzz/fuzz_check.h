// The one assertion of the fuzz targets: a property that must hold for every input. On
// failure it names the target and the property and aborts, so libFuzzer (and the replay
// of the seed corpus under ctest) reports the input.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace ehr::fuzz {

inline void Check(bool ok, const char* target, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "%s: %s\n", target, what);
    std::abort();
  }
}

}  // namespace ehr::fuzz
