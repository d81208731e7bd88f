// Proleptic Gregorian dates as days since 1970-01-01 and back (Howard Hinnant's
// public-domain algorithms). Used by FHIRPath date arithmetic and the population generator.
#pragma once

#include <cstdint>

namespace ehr {

struct CivilDate {
  int64_t year;
  int month;  // 1-12
  int day;    // 1-31
};

int64_t DaysFromCivil(int64_t year, int month, int day);
inline int64_t DaysFromCivil(const CivilDate& c) { return DaysFromCivil(c.year, c.month, c.day); }
CivilDate CivilFromDays(int64_t days);

}  // namespace ehr
