// Locale data for the population generator: names, places, address and telephone
// formats of each region. Plain tables; locale.cc names its sources.
//
// Patterns: in postcode and phone patterns '#' is a random digit, '@' a random upper-case
// letter, anything else is copied.
#pragma once

#include <span>
#include <string_view>

namespace ehr::synth {

enum class Region { kUk, kDe, kFr, kUs };

struct City {
  const char* name;       // "Manchester"
  const char* district;   // Address.district: county / Landkreis / département name ("" if none)
  const char* state;      // Address.state: UK nation ("England"), German Land, French région, US state code
  const char* postcode;   // pattern, e.g. "M## #@@" (UK), "40###" (DE), "69###" (FR), "606##" (US)
  const char* phone;      // landline pattern in national format, e.g. "0161 ### ####"
  double weight;          // relative population share, for drawing where people live
};

struct Locale {
  Region region;
  const char* code;         // "uk", "de", "fr", "us"
  const char* country;      // ISO 3166 alpha-2 for Address.country: "GB", "DE", "FR", "US"
  const char* language;     // BCP 47 for Patient.communication: "en-GB", "de-DE", "fr-FR", "en-US"
  const char* language_display;  // "English (United Kingdom)", "German (Germany)", ...
  std::span<const char* const> male_given;    // common first names, most common first
  std::span<const char* const> female_given;
  std::span<const char* const> family;        // common surnames, most common first
  std::span<const City> cities;
  std::span<const char* const> streets;       // street names as written, e.g. "High Street", "Hauptstraße", "rue de la République"
  bool number_first;        // "12 High Street" (uk, fr, us) or "Hauptstraße 12" (de)
  const char* mobile;       // mobile phone pattern in national format, e.g. "07### ######"
  std::span<const char* const> hospital_names;  // patterns with {city}: "{city} General Hospital", "Klinikum {city}"
  std::span<const char* const> clinic_names;    // patterns with {city} or {family}: "{city} Medical Centre", "Praxis Dr. {family}"
  // Share of people by age band 0-9, 10-19, ..., 80-89, 90-99 (sums to about 1): the
  // region's population pyramid.
  double age_bands[10];
};

const Locale& LocaleOf(Region region);
// "uk", "de", "fr", "us" (lower case) to a Region; false for anything else.
bool ParseRegion(std::string_view code, Region& out);

}  // namespace ehr::synth
