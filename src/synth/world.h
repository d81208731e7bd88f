// The care providers of a region: hospitals and clinics (Organization), their doctors and
// nurses (Practitioner, PractitionerRole). Made once per run from the seed; patients are
// registered with a clinic and a hospital of their region.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "synth/locale.h"
#include "synth/sink.h"

namespace ehr::synth {

struct Organization {
  std::string id;
  std::string name;
  bool hospital = false;
  std::string line;
  std::string city;
  std::string postcode;
  std::string phone;
  std::string mrn_system;  // the system of the medical record numbers it assigns
  std::vector<size_t> staff;  // indices into World::practitioners
};

struct Practitioner {
  std::string id;
  std::string role_id;  // its PractitionerRole
  bool female = false;
  std::string given;
  std::string family;
  bool doctor = true;  // else a nurse
  const char* specialty_code = "";
  const char* specialty_display = "";
  std::string licence;  // GMC / LANR / RPPS / NPI number
  size_t organization = 0;
};

struct World {
  Region region = Region::kUk;
  std::vector<Organization> organizations;
  std::vector<size_t> hospitals;  // indices into organizations
  std::vector<size_t> clinics;
  std::vector<Practitioner> practitioners;
};

// A deterministic resource id (UUID form) for a key.
std::string Uuid(uint64_t key);

World MakeWorld(uint64_t seed, Region region, uint32_t patients);
// Writes the world's Organization, Practitioner and PractitionerRole resources.
void WriteWorld(const World& world, Sink& sink);

}  // namespace ehr::synth
