// A synthetic person: who they are, independent of any record about them. The same person
// (seed, home region, index) is the same in every run and every region's output, which is
// how a cross-border traveller's records in two regions describe one person.
#pragma once

#include <cstdint>
#include <string>

#include "synth/locale.h"
#include "synth/rng.h"

namespace ehr::synth {

struct Person {
  Region home = Region::kUk;
  uint32_t index = 0;
  bool female = false;
  int64_t birth = 0;  // days since 1970-01-01
  std::string given;
  std::string middle;  // "" for most
  std::string family;
  std::string line;    // street address
  std::string city;
  std::string district;
  std::string state;
  std::string postcode;
  std::string country;  // ISO alpha-2
  std::string phone;    // landline, national format
  std::string mobile;
  std::string national_system;
  std::string national_id;  // canonical form, valid check digits
};

// The person in slot `index` of `home`, aged as of `end_day` by the home region's pyramid.
Person MakePerson(uint64_t seed, Region home, uint32_t index, int64_t end_day);

// Fills a pattern ('#' digit, '@' letter).
std::string FillPattern(Rng& rng, const char* pattern);

// A national identifier with valid check digits for `person` (the NIR encodes sex, year and
// month of birth and the département of `postcode`).
std::string MakeNationalId(Rng& rng, Region region, bool female, int64_t birth, const std::string& postcode);

// A realistic keying error in `text` (transposed, dropped, doubled or substituted letter);
// `what` receives its kind. UTF-8 aware: never splits a character.
std::string Typo(Rng& rng, const std::string& text, std::string& what);

}  // namespace ehr::synth
