// Calendar arithmetic for the generator: days since 1970-01-01 to and from civil dates
// (Howard Hinnant's public-domain algorithms), and FHIR date / dateTime text.
#pragma once

#include <cstdint>
#include <string>

namespace ehr::synth {

struct Civil {
  int year;
  int month;  // 1-12
  int day;    // 1-31
};

int64_t DaysFromCivil(Civil c);
Civil CivilFromDays(int64_t days);
// Parses YYYY-MM-DD; false if malformed or not a real date.
bool ParseDate(const std::string& text, int64_t& days);

// Appends "YYYY-MM-DD".
void AppendDate(std::string& out, int64_t days);
std::string DateText(int64_t days);
// A moment as minutes since 1970-01-01T00:00Z, appended as "YYYY-MM-DDThh:mm:00Z".
void AppendDateTime(std::string& out, int64_t minutes);
std::string DateTimeText(int64_t minutes);

// Whole years between a birth date and a day.
int AgeOn(int64_t birth, int64_t day);

}  // namespace ehr::synth
