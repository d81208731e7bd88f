#include "synth/world.h"

#include <cstdio>

#include "synth/json_writer.h"
#include "synth/person.h"
#include "synth/rng.h"

namespace ehr::synth {

std::string Uuid(uint64_t key) {
  uint64_t s = key;
  const uint64_t hi = (SplitMix(s) & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  const uint64_t lo = (SplitMix(s) & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(36, '-');
  for (int i = 0, k = 0; i < 36; ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) continue;
    const uint64_t word = k < 16 ? hi : lo;
    out[i] = kHex[(word >> (60 - 4 * (k % 16))) & 15];
    ++k;
  }
  return out;
}

namespace {

struct Specialty {
  const char* code;  // SNOMED CT
  const char* display;
};

// SNOMED CT specialty codes used by PractitionerRole.specialty (its example value set).
constexpr Specialty kClinicSpecialties[] = {{"394814009", "General practice"}};
constexpr Specialty kHospitalSpecialties[] = {
    {"419192003", "Internal medicine"}, {"394579002", "Cardiology"},          {"773568002", "Emergency medicine"},
    {"394609007", "General surgery"},   {"394585009", "Obstetrics and gynecology"}, {"394537008", "Pediatric specialty"},
    {"394591006", "Neurology"},         {"394801008", "Trauma and orthopedics"},    {"394592004", "Clinical oncology"}};

std::string ReplaceAll(std::string text, std::string_view from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// A licence number in the form of the region's register: GMC (7 digits), LANR (9 digits),
// RPPS (11 digits), NPI (10 digits with a Luhn check over the 80840 prefix).
std::string Licence(Rng& rng, Region region) {
  switch (region) {
    case Region::kUk: return FillPattern(rng, "#######");
    case Region::kDe: return FillPattern(rng, "#########");
    case Region::kFr: return "1" + FillPattern(rng, "##########");
    case Region::kUs: {
      std::string nine = "1" + FillPattern(rng, "########");
      const std::string digits = "80840" + nine;
      int sum = 0;
      for (size_t i = 0; i < digits.size(); ++i) {
        int d = digits[digits.size() - 1 - i] - '0';
        if (i % 2 == 0) {
          d *= 2;
          if (d > 9) d -= 9;
        }
        sum += d;
      }
      return nine + static_cast<char>('0' + (10 - sum % 10) % 10);
    }
  }
  return "";
}

const char* LicenceSystem(Region region) {
  switch (region) {
    case Region::kUk: return "https://fhir.hl7.org.uk/Id/gmc-number";
    case Region::kDe: return "https://fhir.kbv.de/NamingSystem/KBV_NS_Base_ANR";
    case Region::kFr: return "urn:oid:1.2.250.1.71.4.2.1";
    case Region::kUs: return "http://hl7.org/fhir/sid/us-npi";
  }
  return "";
}

}  // namespace

World MakeWorld(uint64_t seed, Region region, uint32_t patients) {
  Rng rng(Mix(seed, static_cast<uint64_t>(region) + 1, 0, Tag("world")));
  const Locale& locale = LocaleOf(region);
  World world;
  world.region = region;
  const size_t hospitals = std::max<size_t>(2, patients / 5000);
  const size_t clinics = std::max<size_t>(4, patients / 1000);
  for (size_t i = 0; i < hospitals + clinics; ++i) {
    const bool hospital = i < hospitals;
    Organization org;
    org.id = Uuid(Mix(seed, static_cast<uint64_t>(region) + 1, i, Tag("organization")));
    org.hospital = hospital;
    // Hospitals go to the largest cities first; clinics anywhere.
    const City& city = hospital ? locale.cities[i % locale.cities.size()]
                                : locale.cities[rng.Below(static_cast<uint32_t>(locale.cities.size()))];
    const auto& names = hospital ? locale.hospital_names : locale.clinic_names;
    std::string name = names[rng.Below(static_cast<uint32_t>(names.size()))];
    name = ReplaceAll(name, "{city}", city.name);
    name = ReplaceAll(name, "{family}", locale.family[rng.Ranked(locale.family.size())]);
    if (i >= locale.cities.size() && hospital) name += " " + std::to_string(i / locale.cities.size() + 1);
    org.name = name;
    const std::string street = locale.streets[rng.Below(static_cast<uint32_t>(locale.streets.size()))];
    const std::string number = std::to_string(1 + rng.Below(120));
    org.line = locale.number_first ? number + " " + street : street + " " + number;
    org.city = city.name;
    org.postcode = FillPattern(rng, city.postcode);
    org.phone = FillPattern(rng, city.phone);
    org.mrn_system = "urn:oid:2.25." + std::to_string(Mix(seed, static_cast<uint64_t>(region) + 1, i, Tag("mrn")) >> 1);
    const size_t staff = hospital ? 12 : 3;
    for (size_t s = 0; s < staff; ++s) {
      Practitioner p;
      const size_t n = world.practitioners.size();
      p.id = Uuid(Mix(seed, static_cast<uint64_t>(region) + 1, n, Tag("practitioner")));
      p.role_id = Uuid(Mix(seed, static_cast<uint64_t>(region) + 1, n, Tag("practitioner-role")));
      p.female = rng.Chance(0.5);
      const auto& givens = p.female ? locale.female_given : locale.male_given;
      p.given = givens[rng.Ranked(givens.size())];
      p.family = locale.family[rng.Ranked(locale.family.size())];
      p.doctor = s + (hospital ? 2 : 1) < staff;  // hospitals: 10 doctors, 2 nurses; clinics: 2 and 1
      const Specialty& sp = hospital ? kHospitalSpecialties[s % std::size(kHospitalSpecialties)] : kClinicSpecialties[0];
      p.specialty_code = sp.code;
      p.specialty_display = sp.display;
      p.licence = Licence(rng, region);
      p.organization = world.organizations.size();
      org.staff.push_back(n);
      world.practitioners.push_back(std::move(p));
    }
    (hospital ? world.hospitals : world.clinics).push_back(world.organizations.size());
    world.organizations.push_back(std::move(org));
  }
  return world;
}

void WriteWorld(const World& world, Sink& sink) {
  const Locale& locale = LocaleOf(world.region);
  for (const Organization& org : world.organizations) {
    JsonWriter w(sink.Begin(Kind::kOrganization));
    w.Object().Field("resourceType", "Organization").Field("id", org.id).Field("active", true);
    w.Array("type").Concept("http://terminology.hl7.org/CodeSystem/organization-type", "prov",
                            "Healthcare Provider").End();
    w.Field("name", org.name);
    w.Array("telecom").Object().Field("system", "phone").Field("value", org.phone).Field("use", "work").End().End();
    w.Array("address").Object().Field("use", "work").Array("line").String(org.line).End();
    w.Field("city", org.city).Field("postalCode", org.postcode).Field("country", locale.country).End().End();
    w.End();
    sink.Finish(Kind::kOrganization, org.id);
  }
  for (const Practitioner& p : world.practitioners) {
    const Organization& org = world.organizations[p.organization];
    JsonWriter w(sink.Begin(Kind::kPractitioner));
    w.Object().Field("resourceType", "Practitioner").Field("id", p.id).Field("active", true);
    w.Array("identifier").Object().Field("system", LicenceSystem(world.region)).Field("value", p.licence).End().End();
    w.Array("name").Object().Field("use", "official").Field("family", p.family).Array("given").String(p.given).End();
    if (p.doctor) w.Array("prefix").String(world.region == Region::kFr ? "Dr" : "Dr.").End();
    w.End().End();
    w.Array("telecom").Object().Field("system", "phone").Field("value", org.phone).Field("use", "work").End().End();
    w.Field("gender", p.female ? "female" : "male");
    w.End();
    sink.Finish(Kind::kPractitioner, p.id);

    JsonWriter r(sink.Begin(Kind::kPractitionerRole));
    r.Object().Field("resourceType", "PractitionerRole").Field("id", p.role_id).Field("active", true);
    r.Reference("practitioner", "Practitioner/" + p.id).Reference("organization", "Organization/" + org.id);
    r.Array("code").Concept("http://terminology.hl7.org/CodeSystem/practitioner-role", p.doctor ? "doctor" : "nurse",
                            p.doctor ? "Doctor" : "Nurse").End();
    r.Array("specialty").Concept("http://snomed.info/sct", p.specialty_code, p.specialty_display).End();
    r.End();
    sink.Finish(Kind::kPractitionerRole, p.role_id);
  }
}

}  // namespace ehr::synth
