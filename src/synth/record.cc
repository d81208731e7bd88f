#include "synth/record.h"

#include <algorithm>
#include <climits>
#include <cstring>

#include "synth/catalog.h"
#include "synth/dates.h"
#include "synth/record_builder.h"

namespace ehr::synth {

namespace {

constexpr int64_t kMinutesPerDay = 1440;

uint64_t RegionKey(Region region) { return static_cast<uint64_t>(region) + 1; }

}  // namespace

Slot SlotOf(const Options& options, Region region, uint32_t index) {
  Rng rng(Mix(options.seed, RegionKey(region), index, Tag("slot")));
  Slot slot;
  if (!rng.Chance(options.travellers)) return slot;
  // Visitors come from the European regions other than this one.
  Region homes[3];
  int n = 0;
  for (Region r : {Region::kUk, Region::kDe, Region::kFr}) {
    if (r != region) homes[n++] = r;
  }
  slot.visitor = true;
  slot.home = homes[rng.Below(static_cast<uint32_t>(n))];
  // A resident of the home region: a slot there that is not itself a visitor's.
  for (;;) {
    slot.home_index = rng.Below(options.patients);
    Rng there(Mix(options.seed, RegionKey(slot.home), slot.home_index, Tag("slot")));
    if (!there.Chance(options.travellers)) return slot;
  }
}

std::string PatientId(uint64_t seed, Region region, uint32_t index) {
  return Uuid(Mix(seed, RegionKey(region), index, Tag("patient")));
}

void WriteRecord(const Options& options, const World& world, uint32_t index, Sink& sink) {
  RecordBuilder(options, world, index, sink).Write();
}

bool Urgent(VisitKind kind) {
  return kind == VisitKind::kEmergency || kind == VisitKind::kInpatient || kind == VisitKind::kReadmission;
}

const VisitTypeDef* VisitTypeOf(VisitKind kind, int age) {
  const char* code = "185347001";  // encounter for problem
  switch (kind) {
    case VisitKind::kWellness: code = age < 18 ? "410620009" : "162673000"; break;
    case VisitKind::kEmergency: code = "50849002"; break;
    case VisitKind::kInpatient:
    case VisitKind::kReadmission: code = "32485007"; break;
    default: break;
  }
  const Catalog& catalog = GetCatalog();
  auto it = catalog.visit_types.find(code);
  return it != catalog.visit_types.end() ? it->second : &VisitTypes()[0];
}

RecordBuilder::RecordBuilder(const Options& options, const World& world, uint32_t index, Sink& sink)
    : options_(options),
      world_(world),
      index_(index),
      sink_(sink),
      region_(options.region),
      rng_(Mix(options.seed, RegionKey(options.region), index, Tag("record"))),
      id_key_(Mix(options.seed, RegionKey(options.region), index, Tag("ids"))),
      last_immunization_(Immunizations().size(), INT64_MIN / 2),
      last_procedure_(Procedures().size(), INT64_MIN / 2) {}

void RecordBuilder::Write() {
  const Slot slot = SlotOf(options_, region_, index_);
  patient_id_ = PatientId(options_.seed, region_, index_);
  patient_ref_ = "Patient/" + patient_id_;
  person_ = slot.visitor ? MakePerson(options_.seed, slot.home, slot.home_index, options_.end_day)
                         : MakePerson(options_.seed, region_, index_, options_.end_day);
  // Body size: a height percentile kept for life and an adult BMI.
  height_sd_ = std::clamp(rng_.Normal(0, 1), -2.5, 2.5);
  bmi_ = std::clamp(rng_.Normal(26.5, 4.5), 17.0, 45.0);
  window_start_ = std::max(person_.birth, options_.end_day - options_.years * 36525 / 100);
  clinic_ = world_.clinics[rng_.Below(static_cast<uint32_t>(world_.clinics.size()))];
  hospital_ = world_.hospitals[rng_.Below(static_cast<uint32_t>(world_.hospitals.size()))];
  gp_ = world_.organizations[clinic_].staff[rng_.Below(2)];
  if (slot.visitor) {
    WriteVisitor(slot);
  } else {
    WriteResident();
    if (rng_.Chance(options_.duplicates)) WriteDuplicate();
  }
}

void RecordBuilder::WriteResident() {
  std::vector<std::string> mrns = {FillPattern(rng_, "########"), FillPattern(rng_, "#########")};
  WritePatient(person_, patient_id_, {clinic_, hospital_}, mrns, true);
  WriteCoverage(false);

  DrawDiagnoses();
  for (const AllergyDef& a : Allergies()) {
    if (rng_.Chance(a.prevalence)) allergies_.push_back(&a);
  }

  std::vector<Visit> visits = PlanVisits();
  for (size_t i = 0; i < visits.size(); ++i) WriteVisit(visits[i], visits, i);
  // Chronic problems from before the window that no visit in it recorded.
  for (Diagnosis& d : diagnoses_) {
    if (d.id.empty() && d.def->chronic) WriteCondition(d, nullptr, true);
  }
  if (!allergies_written_) {
    for (const AllergyDef* a : allergies_) WriteAllergy(*a, window_start_);
  }
  WriteFutureAppointments();
  if (std::any_of(diagnoses_.begin(), diagnoses_.end(), [](const Diagnosis& d) { return d.def->chronic; })) {
    WriteCareTeam();
  }
}

void RecordBuilder::DrawDiagnoses() {
  const int age_now = Age(options_.end_day);
  for (const ConditionDef& c : Conditions()) {
    if (!Applies(c.sex, person_.female)) continue;
    if (!rng_.Chance(c.prevalence)) continue;
    const int onset_age = rng_.Between(c.onset_min, c.onset_max);
    if (onset_age > age_now) continue;
    Diagnosis d;
    d.def = &c;
    // A day in the year of life `onset_age`, and before the data set's end.
    d.onset = person_.birth + onset_age * 36525 / 100 + rng_.Below(365);
    while (AgeOn(person_.birth, d.onset) > onset_age) --d.onset;
    while (AgeOn(person_.birth, d.onset) < onset_age) ++d.onset;
    if (d.onset >= options_.end_day) d.onset = options_.end_day - 1;
    if (!c.chronic) {
      if (d.onset < window_start_) continue;  // acute episodes before the window left no record here
      d.abatement = d.onset + std::max(1, c.resolve_days / 2 + rng_.Between(0, std::max(1, c.resolve_days)));
      if (d.abatement >= options_.end_day) d.abatement = 0;  // still going
    }
    diagnoses_.push_back(std::move(d));
  }
  std::sort(diagnoses_.begin(), diagnoses_.end(),
            [](const Diagnosis& a, const Diagnosis& b) { return a.onset < b.onset; });
}

// The chance of a readmission within 30 days after a discharge on `day`: 6% for someone
// without chronic problems, rising with their number and with age (US and UK all-cause
// 30-day readmission rates are 12-15%; those admitted are mostly the multimorbid).
double RecordBuilder::ReadmissionRisk(int64_t day) const {
  int chronic = 0;
  for (const Diagnosis& d : diagnoses_) {
    if (d.def->chronic && d.onset < day) ++chronic;
  }
  return std::min(0.3, 0.06 + 0.015 * chronic + (Age(day) >= 75 ? 0.04 : 0.0));
}

std::vector<Visit> RecordBuilder::PlanVisits() {
  std::vector<Visit> visits;
  const int64_t end = options_.end_day;
  auto add = [&](int64_t day, VisitKind kind, int diagnosis) {
    if (day < window_start_ || day >= end) return;
    Visit v;
    v.kind = kind;
    v.diagnosis = diagnosis;
    // Office hours for planned visits, any time for emergencies.
    const int64_t minute = Urgent(kind) ? rng_.Below(24 * 60) : 8 * 60 + rng_.Below(9 * 4) * 15;
    v.start = day * kMinutesPerDay + minute;
    visits.push_back(v);
  };
  // Check-ups: children and the elderly yearly, adults every two to four years.
  for (int64_t day = window_start_ + rng_.Below(365); day < end;) {
    add(day, VisitKind::kWellness, -1);
    const int age = Age(day);
    day += age < 18 || age >= 65 ? 330 + rng_.Below(70) : 365 * rng_.Between(2, 4) + rng_.Below(60);
  }
  for (size_t i = 0; i < diagnoses_.size(); ++i) {
    const Diagnosis& d = diagnoses_[i];
    const int di = static_cast<int>(i);
    if (d.onset >= window_start_) {
      VisitKind kind = VisitKind::kOnset;
      if (d.def->inpatient) {
        kind = VisitKind::kInpatient;
      } else if (!d.def->chronic && rng_.Chance(0.12)) {
        kind = VisitKind::kEmergency;
      }
      add(d.onset, kind, di);
    }
  }
  // Reviews of the chronic problems that are treated or monitored: one schedule for the
  // patient, each review about one of the problems active then, in turn. Each year with
  // such problems carries a risk of an admission for an exacerbation, higher when they are
  // many and in old age.
  std::vector<int> reviewed;
  for (size_t i = 0; i < diagnoses_.size(); ++i) {
    const ConditionDef& c = *diagnoses_[i].def;
    if (c.chronic && (*c.meds || *c.labs)) reviewed.push_back(static_cast<int>(i));
  }
  if (!reviewed.empty()) {
    const int64_t first = std::max(diagnoses_[reviewed[0]].onset, window_start_);
    size_t turn = 0;
    for (int64_t day = first + 120 + rng_.Below(120); day < end; day += 270 + rng_.Below(180)) {
      std::vector<int> active;
      for (int i : reviewed) {
        if (diagnoses_[i].onset < day) active.push_back(i);
      }
      add(day, VisitKind::kFollowUp, active[turn++ % active.size()]);
      const double risk = std::min(0.5, 0.03 * static_cast<double>(active.size()) * (Age(day) >= 75 ? 2.5 : 1.0));
      if (rng_.Chance(risk)) {
        add(day + rng_.Below(365), VisitKind::kInpatient, active[rng_.Below(static_cast<uint32_t>(active.size()))]);
      }
    }
  }
  std::sort(visits.begin(), visits.end(), [](const Visit& a, const Visit& b) { return a.start < b.start; });
  // Lengths of stay, and readmissions within 30 days of a discharge.
  std::vector<Visit> out;
  for (Visit& v : visits) {
    if (!out.empty() && v.start < out.back().end) continue;  // one encounter at a time
    switch (v.kind) {
      case VisitKind::kWellness:
      case VisitKind::kFollowUp:
      case VisitKind::kOnset: v.end = v.start + 15 + 5 * rng_.Below(7); break;
      case VisitKind::kEmergency: v.end = v.start + 90 + rng_.Below(300); break;
      case VisitKind::kInpatient:
      case VisitKind::kReadmission: v.end = v.start + (2 + rng_.Below(7)) * kMinutesPerDay + rng_.Below(600); break;
    }
    if (v.end >= end * kMinutesPerDay) v.end = end * kMinutesPerDay - 1;
    const bool hospital = Urgent(v.kind);
    v.organization = hospital ? hospital_ : clinic_;
    const std::vector<size_t>& staff = world_.organizations[v.organization].staff;
    v.practitioner = hospital ? staff[rng_.Below(static_cast<uint32_t>(staff.size() - 2))] : gp_;
    v.id = NextId();
    out.push_back(v);
    if (v.kind == VisitKind::kInpatient && rng_.Chance(ReadmissionRisk(v.start / kMinutesPerDay))) {
      Visit again;
      again.kind = VisitKind::kReadmission;
      again.diagnosis = v.diagnosis;
      again.start = v.end + (3 + rng_.Below(26)) * kMinutesPerDay + rng_.Below(600);
      if (again.start < end * kMinutesPerDay) {
        // Visits planned between the discharge and the end of the readmission start before
        // the latter ends and are dropped by the check above, so `out` stays in order.
        again.end = again.start + (2 + rng_.Below(6)) * kMinutesPerDay;
        if (again.end >= end * kMinutesPerDay) again.end = end * kMinutesPerDay - 1;
        again.organization = hospital_;
        again.practitioner = v.practitioner;
        again.id = NextId();
        out.push_back(std::move(again));
      }
    }
  }
  return out;
}

}  // namespace ehr::synth

namespace ehr::synth {

namespace {

// The share of people offered a vaccine who take it: near complete for the childhood
// schedule; for the yearly influenza and COVID-19 vaccines (CVX 140, 208) as in UK and
// US campaigns, about three in four over 65 and fewer below.
double Uptake(const ImmunizationDef& v, int age) {
  const bool seasonal = std::strcmp(v.cvx, "140") == 0 || std::strcmp(v.cvx, "208") == 0;
  if (!seasonal) return 0.9;
  return age >= 65 ? 0.7 : age < 18 ? 0.35 : 0.25;
}

}  // namespace

std::vector<const char*> RecordBuilder::PanelsFor(const Visit& visit) {
  const Catalog& catalog = GetCatalog();
  std::vector<const char*> panels;
  auto add_lab = [&](std::string_view loinc) {
    auto it = catalog.labs.find(loinc);
    if (it == catalog.labs.end()) return;
    const char* panel = it->second->panel;
    for (const char* p : panels) {
      if (std::strcmp(p, panel) == 0) return;
    }
    panels.push_back(panel);
  };
  const int age = Age(visit.start / kMinutesPerDay);
  const Diagnosis* d = visit.diagnosis >= 0 ? &diagnoses_[visit.diagnosis] : nullptr;
  switch (visit.kind) {
    case VisitKind::kWellness:
      if (age >= 18 && rng_.Chance(0.3)) add_lab("2345-7");  // metabolic panel
      if (age >= 40 && rng_.Chance(0.3)) add_lab("2093-3");  // lipid panel
      break;
    case VisitKind::kFollowUp:
      if (d && rng_.Chance(0.5)) {
        for (std::string_view loinc : Words(d->def->labs)) add_lab(loinc);
      }
      break;
    case VisitKind::kOnset:
      if (d) {
        for (std::string_view loinc : Words(d->def->labs)) add_lab(loinc);
      }
      break;
    case VisitKind::kEmergency:
    case VisitKind::kInpatient:
    case VisitKind::kReadmission:
      add_lab("718-7");   // blood count
      add_lab("2951-2");  // electrolytes
      if (d) {
        for (std::string_view loinc : Words(d->def->labs)) add_lab(loinc);
      }
      break;
  }
  return panels;
}

void RecordBuilder::WriteVisit(Visit& visit, std::vector<Visit>& visits, size_t at) {
  const Catalog& catalog = GetCatalog();
  const int64_t day = visit.start / kMinutesPerDay;
  const int age = Age(day);
  Diagnosis* reason = visit.diagnosis >= 0 ? &diagnoses_[visit.diagnosis] : nullptr;
  std::vector<ClaimLine> lines;
  std::vector<int> claim_diagnoses;

  std::string appointment;
  if (visit.kind == VisitKind::kWellness || visit.kind == VisitKind::kFollowUp) {
    if (rng_.Chance(0.08)) {  // an earlier booking that was missed or cancelled
      Visit missed = visit;
      const int64_t back = (7 + rng_.Below(21)) * kMinutesPerDay;
      missed.start -= back;
      missed.end -= back;
      WriteAppointment(NextId(), missed, rng_.Chance(0.5) ? "noshow" : "cancelled");
    }
    appointment = NextId();
    WriteAppointment(appointment, visit, "fulfilled");
  }
  WriteEncounter(visit, appointment);
  const VisitTypeDef* type = VisitTypeOf(visit.kind, age);
  lines.push_back({"http://www.ama-assn.org/go/cpt", type->cpt, type->display, 0});

  if (!allergies_written_) {
    for (const AllergyDef* a : allergies_) WriteAllergy(*a, day);
    allergies_written_ = true;
  }
  auto prescribe = [&](Diagnosis& d) {
    std::vector<std::string_view> atcs = Words(d.def->meds);
    for (size_t k = 0; k < atcs.size() && k < 2; ++k) {
      if (k == 1 && !rng_.Chance(0.4)) break;
      auto it = catalog.medications.find(atcs[k]);
      if (it != catalog.medications.end()) WriteMedication(visit, d, *it->second, d.def->chronic);
    }
  };
  // Chronic problems that started before this visit and are not yet on record.
  for (size_t i = 0; i < diagnoses_.size(); ++i) {
    Diagnosis& d = diagnoses_[i];
    if (!d.id.empty() || !d.def->chronic || d.onset >= day || &d == reason) continue;
    WriteCondition(d, &visit, true);
    prescribe(d);
  }
  if (reason) {
    claim_diagnoses.push_back(visit.diagnosis);
    if (reason->id.empty()) {
      WriteCondition(*reason, &visit, false);
      prescribe(*reason);
    }
  }
  if (visit.kind == VisitKind::kReadmission) {
    for (size_t k = at; k-- > 0;) {
      if (visits[k].kind != VisitKind::kInpatient) continue;
      const int64_t days = (visit.start - visits[k].end) / kMinutesPerDay;
      sink_.AddTruth(Truth::kReadmissions, std::string(LocaleOf(region_).code) + "," + patient_id_ + "," +
                                               visits[k].id + "," + visit.id + "," + std::to_string(days));
      break;
    }
  }

  WriteVitals(visit, Urgent(visit.kind) || visit.kind == VisitKind::kWellness);
  for (const char* panel : PanelsFor(visit)) WritePanel(visit, panel, lines);

  if (reason && visit.kind != VisitKind::kFollowUp) {
    auto it = catalog.procedures_for.find(reason->def->snomed);
    if (it != catalog.procedures_for.end()) {
      for (const ProcedureDef* p : it->second) {
        if (rng_.Chance(0.8)) WriteProcedure(visit, *p, visit.diagnosis, lines);
      }
    }
  }
  if (visit.kind == VisitKind::kWellness) {
    const std::span<const ProcedureDef> procedures = Procedures();
    for (size_t i = 0; i < procedures.size(); ++i) {
      const ProcedureDef& p = procedures[i];
      if (*p.reason || p.every_years == 0 || age < p.min_age || age > p.max_age) continue;
      if (!Applies(p.sex, person_.female)) continue;
      if (day - last_procedure_[i] < p.every_years * 365) continue;
      if (!rng_.Chance(0.7)) continue;
      last_procedure_[i] = day;
      WriteProcedure(visit, p, -1, lines);
    }
    const std::span<const ImmunizationDef> vaccines = Immunizations();
    for (size_t i = 0; i < vaccines.size(); ++i) {
      const ImmunizationDef& v = vaccines[i];
      if (age < v.min_age || age > v.max_age) continue;
      const bool due = v.every_years == 0 ? last_immunization_[i] < 0
                                          : day - last_immunization_[i] >= v.every_years * 365 - 30;
      if (!due || !rng_.Chance(Uptake(v, age))) continue;
      last_immunization_[i] = day;
      WriteImmunization(visit, v);
    }
  }

  const bool noted = visit.kind == VisitKind::kOnset || Urgent(visit.kind) ||
                     (visit.kind == VisitKind::kFollowUp && rng_.Chance(0.5)) ||
                     (visit.kind == VisitKind::kWellness && rng_.Chance(0.3));
  if (noted) {
    NoteFacts facts;
    facts.age = age;
    facts.female = person_.female;
    facts.reason = reason ? reason->def : nullptr;
    for (const Diagnosis& d : diagnoses_) {
      if (d.id.empty() || &d == reason || facts.history.size() >= 4) continue;
      if (d.def->chronic || (d.abatement != 0 && d.abatement < day)) facts.history.push_back(d.def);
    }
    for (const Diagnosis& d : diagnoses_) {
      if (&d == reason && visit.kind != VisitKind::kFollowUp) {
        facts.started = d.meds;
        continue;
      }
      if (d.id.empty() || (d.abatement != 0 && d.abatement < day)) continue;
      for (const MedicationDef* m : d.meds) facts.medications.push_back(m);
    }
    facts.allergies = allergies_;
    if (visit.kind == VisitKind::kInpatient || visit.kind == VisitKind::kReadmission) {
      facts.stay_days = static_cast<int>((visit.end - visit.start) / kMinutesPerDay);
    }
    Note note = synth::WriteNote(rng_, facts);
    WriteNote(visit, note);
  }
  WriteClaim(visit, lines, claim_diagnoses);
}

void RecordBuilder::WriteFutureAppointments() {
  const bool chronic =
      std::any_of(diagnoses_.begin(), diagnoses_.end(), [](const Diagnosis& d) { return d.def->chronic; });
  if (!chronic && !rng_.Chance(0.3)) return;
  Visit v;
  v.kind = chronic ? VisitKind::kFollowUp : VisitKind::kWellness;
  v.start = (options_.end_day + 1 + rng_.Below(120)) * kMinutesPerDay + 8 * 60 + rng_.Below(36) * 15;
  v.end = v.start + 20;
  v.organization = clinic_;
  v.practitioner = gp_;
  WriteAppointment(NextId(), v, "booked");
}

// An acute problem brought to a hospital's emergency department: the visits of travellers
// and of duplicate registrations.
void RecordBuilder::WriteEmergencyEpisode(size_t hospital, int64_t day) {
  std::vector<const ConditionDef*> acute;
  const int age = Age(day);
  for (const ConditionDef& c : Conditions()) {
    if (c.chronic || c.inpatient || age < c.onset_min || age > c.onset_max) continue;
    if (!Applies(c.sex, person_.female)) continue;
    acute.push_back(&c);
  }
  std::vector<Visit> visits(1);
  Visit& v = visits[0];
  v.kind = VisitKind::kEmergency;
  // No acute problem of the table fits (the very old): a visit without a diagnosis.
  if (!acute.empty()) {
    Diagnosis d;
    d.def = acute[rng_.Below(static_cast<uint32_t>(acute.size()))];
    d.onset = day;
    d.abatement = day + std::max(1, d.def->resolve_days);
    if (d.abatement >= options_.end_day) d.abatement = 0;
    diagnoses_.push_back(std::move(d));
    v.diagnosis = static_cast<int>(diagnoses_.size() - 1);
  }
  v.start = day * kMinutesPerDay + rng_.Below(24 * 60);
  v.end = v.start + 90 + rng_.Below(300);
  v.organization = hospital;
  const std::vector<size_t>& staff = world_.organizations[hospital].staff;
  v.practitioner = staff[rng_.Below(static_cast<uint32_t>(staff.size() - 2))];
  v.id = NextId();
  WriteVisit(v, visits, 0);
}

void RecordBuilder::WriteVisitor(const Slot& slot) {
  const std::vector<std::string> mrns = {FillPattern(rng_, "#########")};
  WritePatient(person_, patient_id_, {hospital_}, mrns, true);
  WriteCoverage(true);
  allergies_written_ = true;
  sink_.AddTruth(Truth::kTravellers, std::string(LocaleOf(region_).code) + "," + patient_id_ + "," +
                                         LocaleOf(slot.home).code + "," +
                                         PatientId(options_.seed, slot.home, slot.home_index) + "," +
                                         person_.national_system + "," + person_.national_id);
  const int episodes = 1 + (rng_.Chance(0.3) ? 1 : 0);
  for (int k = 0; k < episodes; ++k) WriteEmergencyEpisode(hospital_, options_.end_day - 1 - rng_.Below(365));
}

void RecordBuilder::WriteDuplicate() {
  Person dup = person_;
  std::string differences;
  auto note = [&](const std::string& what) { differences += (differences.empty() ? "" : ";") + what; };
  std::string kind;
  // One or two changes of different kinds (two of one kind could undo each other).
  const uint32_t first = rng_.Below(4);
  const uint32_t kinds[2] = {first, (first + 1 + rng_.Below(3)) % 4};
  const int changes = 1 + (rng_.Chance(0.4) ? 1 : 0);
  for (int k = 0; k < changes; ++k) {
    switch (kinds[k]) {
      case 0:
        dup.family = Typo(rng_, dup.family, kind);
        note("family:" + kind);
        break;
      case 1:
        dup.given = Typo(rng_, dup.given, kind);
        note("given:" + kind);
        break;
      case 2: {
        const CivilDate b = CivilFromDays(dup.birth);
        if (b.day <= 12 && b.day != b.month) {
          dup.birth = DaysFromCivil({b.year, b.day, b.month});
          note("birthDate:day-month-swap");
        } else {
          dup.birth += rng_.Chance(0.5) ? 1 : -1;
          note("birthDate:off-by-one-day");
        }
        break;
      }
      default: {
        const Locale& locale = LocaleOf(region_);
        const std::string street = locale.streets[rng_.Below(static_cast<uint32_t>(locale.streets.size()))];
        const std::string number = std::to_string(1 + rng_.Below(99));
        dup.line = locale.number_first ? number + " " + street : street + " " + number;
        note("address:moved");
        break;
      }
    }
  }
  const bool with_national_id = rng_.Chance(0.5);
  if (!with_national_id) note("identifier:missing");
  // Registered at another hospital, which knew nothing of the first record.
  size_t other = hospital_;
  if (world_.hospitals.size() > 1) {
    while (other == hospital_) other = world_.hospitals[rng_.Below(static_cast<uint32_t>(world_.hospitals.size()))];
  }
  const std::string dup_id = Uuid(Mix(options_.seed, static_cast<uint64_t>(region_) + 1, index_, Tag("duplicate")));
  sink_.AddTruth(Truth::kDuplicates,
                 std::string(LocaleOf(region_).code) + "," + patient_id_ + "," + dup_id + "," + differences);
  person_ = dup;
  patient_id_ = dup_id;
  patient_ref_ = "Patient/" + dup_id;
  WritePatient(dup, dup_id, {other}, {FillPattern(rng_, "#########")}, with_national_id);
  WriteCoverage(false);
  WriteEmergencyEpisode(other, options_.end_day - 1 - rng_.Below(3 * 365));
}

}  // namespace ehr::synth
