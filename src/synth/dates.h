// Calendar text for the generator: FHIR date and dateTime from days or minutes since
// 1970-01-01 (core/civil_date.h converts to and from civil dates).
#pragma once

#include <cstdint>
#include <string>

#include "core/civil_date.h"

namespace ehr::synth {

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
