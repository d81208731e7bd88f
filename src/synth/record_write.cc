// The FHIR resources of one record. Codes and systems as FHIR R4 and its terminology
// (terminology.hl7.org) name them.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "synth/catalog.h"
#include "synth/dates.h"
#include "synth/json_writer.h"
#include "synth/record_builder.h"

namespace ehr::synth {

namespace {

constexpr int64_t kMinutesPerDay = 1440;
constexpr const char* kSnomed = "http://snomed.info/sct";
constexpr const char* kLoinc = "http://loinc.org";
constexpr const char* kUcum = "http://unitsofmeasure.org";
constexpr const char* kRxNorm = "http://www.nlm.nih.gov/research/umls/rxnorm";
constexpr const char* kAtc = "http://www.whocc.no/atc";
constexpr const char* kCvx = "http://hl7.org/fhir/sid/cvx";
constexpr const char* kCpt = "http://www.ama-assn.org/go/cpt";
constexpr const char* kOps = "http://fhir.de/CodeSystem/bfarm/ops";
constexpr const char* kV2Identifier = "http://terminology.hl7.org/CodeSystem/v2-0203";
constexpr const char* kObservationCategory = "http://terminology.hl7.org/CodeSystem/observation-category";
constexpr const char* kInterpretation = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation";

std::string DateTime(int64_t minutes) { return DateTimeText(minutes); }

std::string Base64(std::string_view in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t n = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    out.push_back(kAlphabet[n >> 18]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(kAlphabet[(n >> 6) & 63]);
    out.push_back(kAlphabet[n & 63]);
  }
  if (i < in.size()) {
    uint32_t n = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) n |= static_cast<unsigned char>(in[i + 1]) << 8;
    out.push_back(kAlphabet[n >> 18]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? kAlphabet[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

// A CSV field: quoted when it holds a comma, quote or line break.
std::string Csv(std::string_view text) {
  if (text.find_first_of(",\"\n") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

const char* Icd10System(Region region) {
  return region == Region::kUs ? "http://hl7.org/fhir/sid/icd-10-cm" : "http://hl7.org/fhir/sid/icd-10";
}

void Period(JsonWriter& w, std::string_view key, int64_t start, int64_t end) {
  w.Object(key).Field("start", DateTime(start)).Field("end", DateTime(end)).End();
}

void Quantity(JsonWriter& w, std::string_view key, double value, int decimals, const char* unit) {
  w.Object(key).Key("value").Decimal(value, decimals);
  if (*unit) w.Field("unit", unit).Field("system", kUcum).Field("code", unit);
  w.End();
}

// Fraction of adult height reached at each age 0-18.
constexpr double kGrowth[] = {0.29, 0.44, 0.51, 0.56, 0.60, 0.64, 0.68, 0.71, 0.74, 0.77,
                              0.80, 0.83, 0.87, 0.91, 0.95, 0.97, 0.99, 1.0,  1.0};

}  // namespace

std::string RecordBuilder::NextId() { return Uuid(Mix(id_key_, ++id_counter_)); }

int RecordBuilder::Age(int64_t day) const { return AgeOn(person_.birth, day); }

const char* RecordBuilder::Currency() const {
  switch (region_) {
    case Region::kUk: return "GBP";
    case Region::kUs: return "USD";
    default: return "EUR";
  }
}

double RecordBuilder::Height(int64_t day) const {
  const int age = std::min(Age(day), 18);
  const double adult = person_.female ? 163 + 6.5 * height_sd_ : 176 + 7 * height_sd_;
  return adult * kGrowth[std::max(age, 0)];
}

double RecordBuilder::Weight(int64_t day) const {
  const int age = Age(day);
  const double bmi = age >= 18 ? bmi_ : 16 + (bmi_ - 26.5) * 0.3 + std::max(0, age - 10) * 0.5;
  const double h = Height(day) / 100;
  return bmi * h * h;
}

bool RecordBuilder::Abnormal(const char* loinc, bool& high) const {
  const size_t n = std::strlen(loinc);
  for (const Diagnosis& d : diagnoses_) {
    const char* spec = d.def->abnormal;
    if (d.id.empty() || std::strncmp(spec, loinc, n) != 0 || spec[n] != ' ') continue;
    high = std::strcmp(spec + n + 1, "high") == 0;
    return true;
  }
  return false;
}

void RecordBuilder::WritePatient(const Person& p, const std::string& id, const std::vector<size_t>& mrn_orgs,
                                 const std::vector<std::string>& mrns, bool with_national_id) {
  const Locale& home = LocaleOf(p.home);
  JsonWriter w(sink_.Begin(Kind::kPatient));
  w.Object().Field("resourceType", "Patient").Field("id", id);
  w.Array("identifier");
  if (with_national_id) {
    const bool ssn = p.home == Region::kUs;
    w.Object().Field("use", "official");
    w.Concept("type", kV2Identifier, ssn ? "SS" : "NH", ssn ? "Social Security number" : "National Health Plan Identifier");
    w.Field("system", p.national_system).Field("value", p.national_id).End();
  }
  for (size_t i = 0; i < mrn_orgs.size(); ++i) {
    const Organization& org = world_.organizations[mrn_orgs[i]];
    w.Object().Field("use", "usual").Concept("type", kV2Identifier, "MR", "Medical record number");
    w.Field("system", org.mrn_system).Field("value", mrns[i]);
    w.Object("assigner").Field("reference", "Organization/" + org.id).Field("display", org.name).End();
    w.End();
  }
  w.End();
  w.Field("active", true);
  w.Array("name").Object().Field("use", "official").Field("family", p.family).Array("given").String(p.given);
  if (!p.middle.empty()) w.String(p.middle);
  w.End().End().End();
  w.Array("telecom");
  w.Object().Field("system", "phone").Field("value", p.phone).Field("use", "home").End();
  w.Object().Field("system", "phone").Field("value", p.mobile).Field("use", "mobile").End();
  w.End();
  w.Field("gender", p.female ? "female" : "male").Field("birthDate", DateText(p.birth));
  w.Array("address").Object().Field("use", "home").Field("type", "physical").Array("line").String(p.line).End();
  w.Field("city", p.city);
  if (!p.district.empty()) w.Field("district", p.district);
  w.Field("state", p.state).Field("postalCode", p.postcode).Field("country", p.country).End().End();
  if (Age(options_.end_day) >= 18) {
    static constexpr const char* kMarital[][2] = {
        {"M", "Married"}, {"S", "Never Married"}, {"D", "Divorced"}, {"W", "Widowed"}};
    const double u = Rng(Mix(id_key_, Tag("marital"))).Real();
    const auto& m = kMarital[u < 0.5 ? 0 : u < 0.8 ? 1 : u < 0.9 ? 2 : 3];
    w.Concept("maritalStatus", "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", m[0], m[1]);
  }
  w.Array("communication").Object().Concept("language", "urn:ietf:bcp:47", home.language, home.language_display);
  w.Field("preferred", true).End().End();
  if (p.home == region_ && mrn_orgs.size() > 1) {
    const Practitioner& gp = world_.practitioners[gp_];
    w.Array("generalPractitioner").Reference("Practitioner/" + gp.id).End();
    w.Reference("managingOrganization", "Organization/" + world_.organizations[clinic_].id);
  }
  w.End();
  sink_.Finish(Kind::kPatient, id);
}

void RecordBuilder::WriteCoverage(bool visitor) {
  const int age = Age(options_.end_day);
  const char* payor = "";
  Rng pick(Mix(id_key_, Tag("payor")));
  switch (region_) {
    case Region::kUk: payor = person_.state == "Scotland" ? "NHS Scotland" : person_.state == "Wales" ? "NHS Wales"
                              : person_.state == "Northern Ireland" ? "Health and Social Care Northern Ireland"
                                                                    : "NHS England";
      break;
    case Region::kDe: {
      static constexpr const char* kKassen[] = {"AOK", "Techniker Krankenkasse", "BARMER", "DAK-Gesundheit",
                                                "IKK classic", "KKH Kaufmännische Krankenkasse"};
      payor = kKassen[pick.Below(6)];
      break;
    }
    case Region::kFr: payor = "Assurance Maladie (CPAM)"; break;
    case Region::kUs: {
      static constexpr const char* kPlans[] = {"Blue Cross Blue Shield", "Aetna", "UnitedHealthcare", "Cigna",
                                               "Medicaid"};
      payor = age >= 65 ? "Medicare" : kPlans[pick.Below(5)];
      break;
    }
  }
  coverage_id_ = NextId();
  JsonWriter w(sink_.Begin(Kind::kCoverage));
  w.Object().Field("resourceType", "Coverage").Field("id", coverage_id_).Field("status", "active");
  if (visitor) {
    w.Object("type").Field("text", "European Health Insurance Card").End();
  }
  w.Reference("beneficiary", patient_ref_);
  w.Concept("relationship", "http://terminology.hl7.org/CodeSystem/subscriber-relationship", "self", "Self");
  const int64_t start = visitor ? options_.end_day - 400 : std::max(person_.birth, window_start_);
  w.Object("period").Field("start", DateText(start)).End();
  w.Array("payor").Object().Field("display", visitor ? std::string("Health insurance of ") + LocaleOf(person_.home).country
                                                     : std::string(payor)).End().End();
  w.End();
  sink_.Finish(Kind::kCoverage, coverage_id_);
}

void RecordBuilder::WriteAppointment(const std::string& id, const Visit& visit, const char* status) {
  const Practitioner& doctor = world_.practitioners[visit.practitioner];
  JsonWriter w(sink_.Begin(Kind::kAppointment));
  w.Object().Field("resourceType", "Appointment").Field("id", id).Field("status", status);
  const bool checkup = visit.kind == VisitKind::kWellness;
  w.Concept("appointmentType", "http://terminology.hl7.org/CodeSystem/v2-0276", checkup ? "CHECKUP" : "FOLLOWUP",
            checkup ? "A routine check-up, such as an annual physical" : "A follow up visit from a previous appointment");
  w.Field("start", DateTime(visit.start)).Field("end", DateTime(visit.end));
  w.Field("minutesDuration", static_cast<int64_t>(visit.end - visit.start));
  w.Field("created", DateTime(visit.start - (14 + (visit.start % 29)) * kMinutesPerDay));
  w.Array("participant");
  w.Object().Reference("actor", patient_ref_).Field("required", "required").Field("status", "accepted").End();
  w.Object().Reference("actor", "Practitioner/" + doctor.id).Field("required", "required");
  w.Field("status", "accepted").End();
  w.End().End();
  sink_.Finish(Kind::kAppointment, id);
}

void RecordBuilder::WriteEncounter(const Visit& visit, const std::string& appointment_id) {
  const Organization& org = world_.organizations[visit.organization];
  const Practitioner& doctor = world_.practitioners[visit.practitioner];
  const bool inpatient = visit.kind == VisitKind::kInpatient || visit.kind == VisitKind::kReadmission;
  const bool emergency = visit.kind == VisitKind::kEmergency;
  JsonWriter w(sink_.Begin(Kind::kEncounter));
  w.Object().Field("resourceType", "Encounter").Field("id", visit.id).Field("status", "finished");
  w.Key("class").Coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", inpatient ? "IMP" : emergency ? "EMER" : "AMB",
                        inpatient ? "inpatient encounter" : emergency ? "emergency" : "ambulatory");
  const VisitTypeDef* type = VisitTypeOf(visit.kind, Age(visit.start / kMinutesPerDay));
  w.Array("type").Concept(kSnomed, type->snomed, type->display).End();
  w.Reference("subject", patient_ref_);
  w.Array("participant").Object();
  w.Array("type").Concept("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "ATND", "attender").End();
  w.Reference("individual", "Practitioner/" + doctor.id).End().End();
  if (!appointment_id.empty()) w.Array("appointment").Reference("Appointment/" + appointment_id).End();
  Period(w, "period", visit.start, visit.end);
  if (visit.diagnosis >= 0) {
    const ConditionDef& c = *diagnoses_[visit.diagnosis].def;
    w.Array("reasonCode").Concept(kSnomed, c.snomed, c.display).End();
  }
  if (inpatient) {
    w.Object("hospitalization");
    w.Concept("admitSource", "http://terminology.hl7.org/CodeSystem/admit-source", "emd",
              "From accident/emergency department");
    if (visit.kind == VisitKind::kReadmission) {
      w.Concept("reAdmission", "http://terminology.hl7.org/CodeSystem/v2-0092", "R", "Re-admission");
    }
    w.Concept("dischargeDisposition", "http://terminology.hl7.org/CodeSystem/discharge-disposition", "home", "Home");
    w.End();
  }
  w.Reference("serviceProvider", "Organization/" + org.id);
  w.End();
  sink_.Finish(Kind::kEncounter, visit.id);
}

void RecordBuilder::WriteCondition(Diagnosis& d, const Visit* visit, bool problem_list) {
  d.id = NextId();
  const ConditionDef& c = *d.def;
  JsonWriter w(sink_.Begin(Kind::kCondition));
  w.Object().Field("resourceType", "Condition").Field("id", d.id);
  const bool resolved = d.abatement != 0;
  w.Concept("clinicalStatus", "http://terminology.hl7.org/CodeSystem/condition-clinical", resolved ? "resolved" : "active",
            resolved ? "Resolved" : "Active");
  w.Concept("verificationStatus", "http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed", "Confirmed");
  w.Array("category").Concept("http://terminology.hl7.org/CodeSystem/condition-category",
                              problem_list ? "problem-list-item" : "encounter-diagnosis",
                              problem_list ? "Problem List Item" : "Encounter Diagnosis").End();
  w.Object("code").Array("coding").Coding(kSnomed, c.snomed, c.display);
  w.Coding(Icd10System(region_), c.icd10, "").End().Field("text", c.display).End();
  w.Reference("subject", patient_ref_);
  if (visit) w.Reference("encounter", "Encounter/" + visit->id);
  w.Field("onsetDateTime", DateText(d.onset));
  if (resolved) w.Field("abatementDateTime", DateText(d.abatement));
  w.Field("recordedDate", DateText(visit ? visit->start / kMinutesPerDay : std::max(d.onset, window_start_)));
  w.End();
  sink_.Finish(Kind::kCondition, d.id);
}

void RecordBuilder::WriteAllergy(const AllergyDef& a, int64_t day) {
  const std::string id = NextId();
  JsonWriter w(sink_.Begin(Kind::kAllergyIntolerance));
  w.Object().Field("resourceType", "AllergyIntolerance").Field("id", id);
  w.Concept("clinicalStatus", "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "active", "Active");
  w.Concept("verificationStatus", "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "confirmed",
            "Confirmed");
  w.Field("type", "allergy").Array("category").String(a.category).End();
  w.Field("criticality", std::strcmp(a.category, "medication") == 0 || std::strcmp(a.category, "food") == 0 ? "high" : "low");
  w.Concept("code", kSnomed, a.snomed, a.display);
  w.Reference("patient", patient_ref_).Field("recordedDate", DateText(day));
  w.Array("reaction").Object().Array("manifestation").Concept(kSnomed, a.reaction_snomed, a.reaction_display).End();
  w.Field("severity", rng_.Chance(0.7) ? "mild" : "moderate").End().End();
  w.End();
  sink_.Finish(Kind::kAllergyIntolerance, id);
}

std::string RecordBuilder::WriteVital(const Visit& visit, const VitalDef& def, double value) {
  const std::string id = NextId();
  JsonWriter w(sink_.Begin(Kind::kObservation));
  w.Object().Field("resourceType", "Observation").Field("id", id).Field("status", "final");
  w.Array("category").Concept(kObservationCategory, "vital-signs", "Vital Signs").End();
  w.Concept("code", kLoinc, def.loinc, def.display);
  w.Reference("subject", patient_ref_).Reference("encounter", "Encounter/" + visit.id);
  w.Field("effectiveDateTime", DateTime(visit.start + 5)).Field("issued", DateTime(visit.start + 6));
  Quantity(w, "valueQuantity", value, def.decimals, def.unit);
  w.End();
  sink_.Finish(Kind::kObservation, id);
  return id;
}

void RecordBuilder::WriteBloodPressure(const Visit& visit) {
  const Catalog& catalog = GetCatalog();
  auto systolic = catalog.vitals.find("8480-6");
  auto diastolic = catalog.vitals.find("8462-4");
  if (systolic == catalog.vitals.end() || diastolic == catalog.vitals.end()) return;
  const int64_t day = visit.start / kMinutesPerDay;
  const int age = Age(day);
  bool hypertensive = false;
  for (const Diagnosis& d : diagnoses_) {
    if (!d.id.empty() && std::strcmp(d.def->snomed, "38341003") == 0) hypertensive = true;
  }
  double sys = rng_.Normal(112 + 0.45 * std::max(0, age - 20), 11) + (hypertensive ? 18 : 0);
  double dia = rng_.Normal(72 + 0.15 * std::max(0, age - 20), 8) + (hypertensive ? 9 : 0);
  if (age < 18) {
    sys -= (18 - age) * 1.5;
    dia -= (18 - age) * 1.0;
  }
  dia = std::min(dia, sys - 20);
  const std::string id = NextId();
  JsonWriter w(sink_.Begin(Kind::kObservation));
  w.Object().Field("resourceType", "Observation").Field("id", id).Field("status", "final");
  w.Array("category").Concept(kObservationCategory, "vital-signs", "Vital Signs").End();
  w.Concept("code", kLoinc, "85354-9", "Blood pressure panel with all children optional");
  w.Reference("subject", patient_ref_).Reference("encounter", "Encounter/" + visit.id);
  w.Field("effectiveDateTime", DateTime(visit.start + 5)).Field("issued", DateTime(visit.start + 6));
  w.Array("component");
  w.Object().Concept("code", kLoinc, "8480-6", systolic->second->display);
  Quantity(w, "valueQuantity", sys, 0, "mm[Hg]");
  w.End();
  w.Object().Concept("code", kLoinc, "8462-4", diastolic->second->display);
  Quantity(w, "valueQuantity", dia, 0, "mm[Hg]");
  w.End();
  w.End().End();
  sink_.Finish(Kind::kObservation, id);
}

void RecordBuilder::WriteVitals(const Visit& visit, bool full) {
  const Catalog& catalog = GetCatalog();
  const int64_t day = visit.start / kMinutesPerDay;
  const int age = Age(day);
  auto vital = [&](const char* loinc, double value) {
    auto it = catalog.vitals.find(loinc);
    if (it != catalog.vitals.end()) WriteVital(visit, *it->second, value);
  };
  if (age >= 3) WriteBloodPressure(visit);
  vital("29463-7", Weight(day) * (1 + rng_.Normal(0, 0.01)));
  if (!full) return;
  const double child = std::max(0, 12 - age);
  vital("8867-4", rng_.Normal(74 + child * 3, 9));
  if (visit.kind == VisitKind::kWellness) {
    const double height = Height(day);
    const double weight = Weight(day);
    vital("8302-2", height);
    vital("39156-5", weight / (height / 100 * height / 100));
    return;
  }
  const bool fever = visit.diagnosis >= 0 && std::strstr(diagnoses_[visit.diagnosis].def->symptoms, "386661006");
  vital("8310-5", rng_.Normal(fever ? 38.4 : 36.8, fever ? 0.5 : 0.3));
  vital("9279-1", rng_.Normal(16 + child, 2));
  auto spo2 = catalog.vitals.find("59408-5") != catalog.vitals.end() ? "59408-5" : "2708-6";
  vital(spo2, std::min(100.0, rng_.Normal(97.4, 1.3)));
}

void RecordBuilder::WritePanel(const Visit& visit, const char* panel_code, std::vector<ClaimLine>& lines) {
  const Catalog& catalog = GetCatalog();
  auto panel = catalog.panels.find(panel_code);
  auto members = catalog.panel_labs.find(panel_code);
  if (panel == catalog.panels.end() || members == catalog.panel_labs.end()) return;
  const PanelDef& p = *panel->second;
  const Practitioner& doctor = world_.practitioners[visit.practitioner];
  const std::string order_id = NextId();
  const std::string report_id = NextId();
  const int64_t drawn = visit.start + 10;
  const int64_t resulted = drawn + 120 + rng_.Below(600);

  JsonWriter o(sink_.Begin(Kind::kServiceRequest));
  o.Object().Field("resourceType", "ServiceRequest").Field("id", order_id).Field("status", "completed");
  o.Field("intent", "order");
  o.Array("category").Concept(kSnomed, "108252007", "Laboratory procedure").End();
  o.Concept("code", kLoinc, p.loinc, p.display);
  o.Reference("subject", patient_ref_).Reference("encounter", "Encounter/" + visit.id);
  o.Field("occurrenceDateTime", DateTime(drawn)).Field("authoredOn", DateTime(visit.start + 5));
  o.Reference("requester", "Practitioner/" + doctor.id);
  o.End();
  sink_.Finish(Kind::kServiceRequest, order_id);

  std::vector<std::string> results;
  for (const LabDef* lab : members->second) {
    const double range = lab->high - lab->low;
    bool high = true;
    double value;
    if (Abnormal(lab->loinc, high)) {
      const double off = std::abs(rng_.Normal(0.3 * range, 0.3 * range));
      value = high ? lab->high + off : lab->low - off;
    } else if (lab->critical_high > 0 && rng_.Chance(0.003)) {
      value = lab->critical_high * (1 + rng_.Real() * 0.3);
    } else {
      value = rng_.Normal((lab->low + lab->high) / 2, range / 4);
    }
    static constexpr double kScale[] = {1, 10, 100, 1000, 10000};
    const double scale = kScale[std::clamp(lab->decimals, 0, 4)];
    value = std::max(0.0, std::round(value * scale) / scale);
    const char* flag = "N";
    const char* flag_display = "Normal";
    if (lab->critical_high > 0 && value > lab->critical_high) {
      flag = "HH", flag_display = "Critical high";
    } else if (lab->critical_low > 0 && value < lab->critical_low) {
      flag = "LL", flag_display = "Critical low";
    } else if (value > lab->high) {
      flag = "H", flag_display = "High";
    } else if (value < lab->low) {
      flag = "L", flag_display = "Low";
    }
    const std::string id = NextId();
    JsonWriter w(sink_.Begin(Kind::kObservation));
    w.Object().Field("resourceType", "Observation").Field("id", id);
    w.Array("basedOn").Reference("ServiceRequest/" + order_id).End();
    w.Field("status", "final");
    w.Array("category").Concept(kObservationCategory, "laboratory", "Laboratory").End();
    w.Concept("code", kLoinc, lab->loinc, lab->display);
    w.Reference("subject", patient_ref_).Reference("encounter", "Encounter/" + visit.id);
    w.Field("effectiveDateTime", DateTime(drawn)).Field("issued", DateTime(resulted));
    Quantity(w, "valueQuantity", value, lab->decimals, lab->unit);
    w.Array("interpretation").Concept(kInterpretation, flag, flag_display).End();
    w.Array("referenceRange").Object();
    Quantity(w, "low", lab->low, lab->decimals, lab->unit);
    Quantity(w, "high", lab->high, lab->decimals, lab->unit);
    w.End().End();
    w.End();
    sink_.Finish(Kind::kObservation, id);
    results.push_back(id);
  }

  JsonWriter r(sink_.Begin(Kind::kDiagnosticReport));
  r.Object().Field("resourceType", "DiagnosticReport").Field("id", report_id);
  r.Array("basedOn").Reference("ServiceRequest/" + order_id).End();
  r.Field("status", "final");
  r.Array("category").Concept("http://terminology.hl7.org/CodeSystem/v2-0074", "LAB", "Laboratory").End();
  r.Concept("code", kLoinc, p.loinc, p.display);
  r.Reference("subject", patient_ref_).Reference("encounter", "Encounter/" + visit.id);
  r.Field("effectiveDateTime", DateTime(drawn)).Field("issued", DateTime(resulted));
  r.Array("performer").Reference("Organization/" + world_.organizations[visit.organization].id).End();
  r.Array("result");
  for (const std::string& id : results) r.Reference("Observation/" + id);
  r.End().End();
  sink_.Finish(Kind::kDiagnosticReport, report_id);
  if (*p.cpt) lines.push_back({kCpt, p.cpt, p.display, 20.0 + 5 * results.size()});
}

void RecordBuilder::WriteMedication(const Visit& visit, Diagnosis& d, const MedicationDef& m, bool chronic) {
  d.meds.push_back(&m);
  const std::string id = NextId();
  JsonWriter w(sink_.Begin(Kind::kMedicationRequest));
  w.Object().Field("resourceType", "MedicationRequest").Field("id", id);
  w.Field("status", chronic && d.abatement == 0 ? "active" : "completed").Field("intent", "order");
  w.Object("medicationCodeableConcept").Array("coding").Coding(kRxNorm, m.rxnorm, m.display).Coding(kAtc, m.atc, "");
  w.End().Field("text", m.display).End();
  w.Reference("subject", patient_ref_).Reference("encounter", "Encounter/" + visit.id);
  w.Field("authoredOn", DateTime(visit.start + 10));
  w.Reference("requester", "Practitioner/" + world_.practitioners[visit.practitioner].id);
  w.Array("reasonReference").Reference("Condition/" + d.id).End();
  w.Array("dosageInstruction").Object().Field("sequence", 1).Field("text", m.dose).End().End();
  w.End();
  sink_.Finish(Kind::kMedicationRequest, id);
}

void RecordBuilder::WriteProcedure(const Visit& visit, const ProcedureDef& p, int diagnosis,
                                   std::vector<ClaimLine>& lines) {
  const std::string id = NextId();
  const int64_t start = visit.start + 30;
  JsonWriter w(sink_.Begin(Kind::kProcedure));
  w.Object().Field("resourceType", "Procedure").Field("id", id).Field("status", "completed");
  w.Concept("code", kSnomed, p.snomed, p.display);
  w.Reference("subject", patient_ref_).Reference("encounter", "Encounter/" + visit.id);
  w.Object("performedPeriod").Field("start", DateTime(start)).Field("end", DateTime(start + 30 + rng_.Below(90))).End();
  w.Array("performer").Object().Reference("actor", "Practitioner/" + world_.practitioners[visit.practitioner].id);
  w.End().End();
  if (diagnosis >= 0 && !diagnoses_[diagnosis].id.empty()) {
    w.Array("reasonReference").Reference("Condition/" + diagnoses_[diagnosis].id).End();
  }
  w.End();
  sink_.Finish(Kind::kProcedure, id);
  if (region_ == Region::kDe && *p.ops) {
    lines.push_back({kOps, p.ops, p.display, p.inpatient ? 2400.0 : 180.0});
  } else if (*p.cpt) {
    lines.push_back({kCpt, p.cpt, p.display, p.inpatient ? 3100.0 : 240.0});
  }
}

void RecordBuilder::WriteImmunization(const Visit& visit, const ImmunizationDef& v) {
  const std::string id = NextId();
  JsonWriter w(sink_.Begin(Kind::kImmunization));
  w.Object().Field("resourceType", "Immunization").Field("id", id).Field("status", "completed");
  w.Concept("vaccineCode", kCvx, v.cvx, v.display);
  w.Reference("patient", patient_ref_).Reference("encounter", "Encounter/" + visit.id);
  w.Field("occurrenceDateTime", DateTime(visit.start + 20)).Field("primarySource", true);
  w.Field("lotNumber", FillPattern(rng_, "@@####"));
  w.End();
  sink_.Finish(Kind::kImmunization, id);
}

void RecordBuilder::WriteNote(const Visit& visit, const Note& note) {
  const std::string id = NextId();
  const char* type_code = "11506-3";
  const char* type_display = "Progress note";
  switch (visit.kind) {
    case VisitKind::kEmergency: type_code = "34111-5"; type_display = "Emergency department note"; break;
    case VisitKind::kInpatient:
    case VisitKind::kReadmission: type_code = "18842-5"; type_display = "Discharge summary"; break;
    case VisitKind::kWellness: type_code = "34117-2"; type_display = "History and physical note"; break;
    default: break;
  }
  JsonWriter w(sink_.Begin(Kind::kDocumentReference));
  w.Object().Field("resourceType", "DocumentReference").Field("id", id).Field("status", "current");
  w.Field("docStatus", "final").Concept("type", kLoinc, type_code, type_display);
  w.Array("category").Concept("http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category",
                              "clinical-note", "Clinical Note").End();
  w.Reference("subject", patient_ref_).Field("date", DateTime(visit.end));
  w.Array("author").Reference("Practitioner/" + world_.practitioners[visit.practitioner].id).End();
  w.Reference("custodian", "Organization/" + world_.organizations[visit.organization].id);
  w.Array("content").Object().Object("attachment").Field("contentType", "text/plain").Field("language", "en");
  w.Field("data", Base64(note.text)).Field("title", type_display).Field("creation", DateTime(visit.end)).End().End().End();
  w.Object("context").Array("encounter").Reference("Encounter/" + visit.id).End();
  Period(w, "period", visit.start, visit.end);
  w.End().End();
  sink_.Finish(Kind::kDocumentReference, id);
  for (const NoteEntity& e : note.entities) {
    sink_.AddTruth(Truth::kNoteEntities,
                   id + "," + patient_id_ + "," + e.type + "," + e.system + "," + e.code + "," +
                       Csv(std::string_view(note.text).substr(e.begin, e.end - e.begin)) + "," +
                       std::to_string(e.begin) + "," + std::to_string(e.end) + "," + e.assertion);
  }
}

void RecordBuilder::WriteClaim(const Visit& visit, const std::vector<ClaimLine>& lines,
                               const std::vector<int>& diagnoses) {
  const std::string id = NextId();
  const bool inpatient = visit.kind == VisitKind::kInpatient || visit.kind == VisitKind::kReadmission;
  const double visit_price = inpatient ? 1800.0 * std::max<int64_t>(1, (visit.end - visit.start) / kMinutesPerDay)
                             : visit.kind == VisitKind::kEmergency ? 350.0 : 90.0;
  JsonWriter w(sink_.Begin(Kind::kClaim));
  w.Object().Field("resourceType", "Claim").Field("id", id).Field("status", "active");
  w.Concept("type", "http://terminology.hl7.org/CodeSystem/claim-type", inpatient ? "institutional" : "professional",
            inpatient ? "Institutional" : "Professional");
  w.Field("use", "claim").Reference("patient", patient_ref_);
  Period(w, "billablePeriod", visit.start, visit.end);
  w.Field("created", DateTime(visit.end + 60));
  w.Reference("provider", "Organization/" + world_.organizations[visit.organization].id);
  w.Concept("priority", "http://terminology.hl7.org/CodeSystem/processpriority", "normal", "Normal");
  w.Array("insurance").Object().Field("sequence", 1).Field("focal", true).Reference("coverage", "Coverage/" + coverage_id_);
  w.End().End();
  if (!diagnoses.empty()) {
    w.Array("diagnosis");
    int sequence = 0;
    for (int d : diagnoses) {
      w.Object().Field("sequence", ++sequence);
      w.Object("diagnosisCodeableConcept").Array("coding").Coding(Icd10System(region_), diagnoses_[d].def->icd10, "");
      w.End().Field("text", diagnoses_[d].def->display).End().End();
    }
    w.End();
  }
  double total = 0;
  w.Array("item");
  int sequence = 0;
  for (const ClaimLine& line : lines) {
    const double price = sequence == 0 ? visit_price : line.price;
    total += price;
    w.Object().Field("sequence", ++sequence);
    w.Concept("productOrService", line.system, line.code, line.display);
    w.Field("servicedDate", DateText(visit.start / kMinutesPerDay));
    w.Array("encounter").Reference("Encounter/" + visit.id).End();
    w.Object("net").Key("value").Decimal(price, 2).Field("currency", Currency()).End();
    w.End();
  }
  w.End();
  w.Object("total").Key("value").Decimal(total, 2).Field("currency", Currency()).End();
  w.End();
  sink_.Finish(Kind::kClaim, id);
}

void RecordBuilder::WriteCareTeam() {
  const Organization& clinic = world_.organizations[clinic_];
  const std::string id = NextId();
  JsonWriter w(sink_.Begin(Kind::kCareTeam));
  w.Object().Field("resourceType", "CareTeam").Field("id", id).Field("status", "active");
  w.Array("category").Concept(kLoinc, "LA28865-6", "Longitudinal care-coordination focused care team").End();
  w.Field("name", "Primary care team").Reference("subject", patient_ref_);
  w.Object("period").Field("start", DateText(window_start_)).End();
  w.Array("participant");
  w.Object().Array("role").Concept(kSnomed, "446050000", "Primary care physician").End();
  w.Reference("member", "Practitioner/" + world_.practitioners[gp_].id).End();
  w.Object().Array("role").Concept(kSnomed, "224535009", "Registered nurse").End();
  w.Reference("member", "Practitioner/" + world_.practitioners[clinic.staff.back()].id).End();
  w.End();
  w.Array("managingOrganization").Reference("Organization/" + clinic.id).End();
  w.End();
  sink_.Finish(Kind::kCareTeam, id);
}

}  // namespace ehr::synth
