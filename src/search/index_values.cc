#include "search/index_values.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>

#include "fhir/ucum/ucum.h"
#include "search/normalize.h"

namespace ehr::search::internal {
namespace {

using fhir::Primitive;
using fhir::SearchParamType;
using fhirpath::Element;
using fhirpath::Item;
using fhirpath::ItemKind;
using fhirpath::Temporal;
using fhirpath::TemporalKind;
using fhirpath::TemporalPrecision;

constexpr std::string_view kUcumSystem = "http://unitsofmeasure.org";
constexpr std::string_view kCurrencySystem = "urn:iso:std:iso:4217";
constexpr Micros kOpenLow = std::numeric_limits<Micros>::min();
constexpr Micros kOpenHigh = std::numeric_limits<Micros>::max();
constexpr Micros kMicrosPerSecond = 1'000'000;
// Generic complex types are searched through their string elements; nesting in the R4
// data types is shallow, and the bound keeps a hostile resource from costing more.
constexpr int kMaxStringDepth = 4;

std::string_view TypeName(const Element& e) { return e.type != nullptr ? e.type->name : std::string_view(); }

bool IsObject(const Element& e) { return e.value != nullptr && e.value->is_object(); }

// A string member of a JSON object, or empty.
std::string_view Member(const json::Value& object, std::string_view key) { return object.GetString(key); }

std::optional<long double> NumberMember(const json::Value& object, std::string_view key) {
  const json::Value* v = object.Find(key);
  if (v == nullptr || !v->is_number()) return std::nullopt;
  // Number texts are validated JSON numbers; strtold keeps more digits than a double
  // for the UCUM conversion. 1e999 is valid JSON but no value a search can compare.
  long double value = std::strtold(v->number_text().c_str(), nullptr);
  if (!std::isfinite(value) || !std::isfinite(static_cast<double>(value))) return std::nullopt;
  return value;
}

bool IsQuantityType(const Element& e) {
  return e.type != nullptr && (e.type->name == "Quantity" || e.type->base == "Quantity");
}

// --- string ---

void AddString(std::string_view code, std::string_view text, store::IndexRows& rows) {
  std::string normalized = NormalizeString(text);
  if (normalized.empty()) return;
  rows.strings.push_back({std::string(code), std::move(normalized), std::string(text)});
}

// A string member or an array of strings.
void AddStringMember(std::string_view code, const json::Value& object, std::string_view key,
                     store::IndexRows& rows) {
  const json::Value* v = object.Find(key);
  if (v == nullptr) return;
  if (v->is_string()) {
    AddString(code, v->as_string(), rows);
  } else if (v->is_array()) {
    for (const json::Value& each : v->as_array()) {
      if (each.is_string()) AddString(code, each.as_string(), rows);
    }
  }
}

void AddNestedStrings(std::string_view code, const Element& element, int depth, store::IndexRows& rows) {
  if (depth > kMaxStringDepth) return;
  fhirpath::Collection children;
  fhirpath::AppendAllChildren(element, children);
  for (const Item& child : children) {
    if (!child.is_element()) continue;
    const Element& e = child.element();
    if (e.type == nullptr || e.value == nullptr || TypeName(e) == "Extension") continue;
    if (e.type->is_primitive()) {
      // Only text: codes, URIs and ids inside a data type are not what a string search means.
      if ((e.type->primitive == Primitive::kString || e.type->primitive == Primitive::kMarkdown) &&
          e.value->is_string()) {
        AddString(code, e.value->as_string(), rows);
      }
    } else {
      AddNestedStrings(code, e, depth + 1, rows);
    }
  }
}

void AppendString(std::string_view code, const Item& item, store::IndexRows& rows) {
  if (!item.is_element()) {
    if (item.kind() == ItemKind::kString) AddString(code, item.string(), rows);
    return;
  }
  const Element& e = item.element();
  if (e.value == nullptr) return;
  if (e.value->is_string()) {
    AddString(code, e.value->as_string(), rows);
    return;
  }
  if (!e.value->is_object()) return;
  std::string_view type = TypeName(e);
  if (type == "HumanName") {
    for (std::string_view key : {"family", "given", "prefix", "suffix", "text"}) {
      AddStringMember(code, *e.value, key, rows);
    }
  } else if (type == "Address") {
    for (std::string_view key : {"line", "city", "district", "state", "postalCode", "country", "text"}) {
      AddStringMember(code, *e.value, key, rows);
    }
  } else {
    AddNestedStrings(code, e, 0, rows);
  }
}

// --- token ---

void AddToken(std::string_view code, std::string_view system, std::string_view value, std::string text,
              store::IndexRows& rows) {
  if (system.empty() && value.empty() && text.empty()) return;
  rows.tokens.push_back({std::string(code), std::string(system), std::string(value), std::move(text)});
}

// One row per text that describes the coding (its display and the concept's text), so
// that :text finds either and every row still carries the code.
void AddCoding(std::string_view code, const json::Value& coding, const std::string& concept_text,
               store::IndexRows& rows) {
  std::string_view system = Member(coding, "system");
  std::string_view value = Member(coding, "code");
  std::string display = NormalizeString(Member(coding, "display"));
  if (!concept_text.empty() && concept_text != display) AddToken(code, system, value, concept_text, rows);
  if (!display.empty() || concept_text.empty()) AddToken(code, system, value, std::move(display), rows);
}

void AddCodeableConcept(std::string_view code, const json::Value& codeable_concept, store::IndexRows& rows) {
  std::string text = NormalizeString(Member(codeable_concept, "text"));
  bool any_coding = false;
  if (const json::Value* codings = codeable_concept.Find("coding"); codings != nullptr && codings->is_array()) {
    for (const json::Value& coding : codings->as_array()) {
      if (!coding.is_object()) continue;
      AddCoding(code, coding, text, rows);
      any_coding = true;
    }
  }
  // Text alone still makes the concept findable with :text.
  if (!any_coding) AddToken(code, {}, {}, std::move(text), rows);
}

// :of-type rows (store.h): one per coding of the identifier's type, with its value.
void AddIdentifierTypes(std::string_view code, const json::Value& identifier, store::IndexRows& rows) {
  if (code.empty()) return;  // composite components are named later and have no modifiers
  std::string_view value = Member(identifier, "value");
  const json::Value* type = identifier.Find("type");
  if (value.empty() || type == nullptr || !type->is_object()) return;
  const json::Value* codings = type->Find("coding");
  if (codings == nullptr || !codings->is_array()) return;
  const std::string param = store::ModifierParam(code, "of-type");
  for (const json::Value& coding : codings->as_array()) {
    if (!coding.is_object() || Member(coding, "code").empty()) continue;
    rows.tokens.push_back({param, std::string(Member(coding, "system")), std::string(Member(coding, "code")),
                           std::string(value)});
  }
}

void AppendToken(std::string_view code, const Item& item, store::IndexRows& rows) {
  if (!item.is_element()) {
    switch (item.kind()) {
      case ItemKind::kBoolean:
        AddToken(code, {}, item.boolean() ? "true" : "false", {}, rows);
        break;
      case ItemKind::kString:
        AddToken(code, {}, item.string(), {}, rows);
        break;
      case ItemKind::kInteger:
        AddToken(code, {}, std::to_string(item.integer()), {}, rows);
        break;
      default:
        break;
    }
    return;
  }
  const Element& e = item.element();
  if (e.value == nullptr) return;
  switch (e.value->type()) {
    case json::Type::kBool:
      AddToken(code, {}, e.value->as_bool() ? "true" : "false", {}, rows);
      return;
    case json::Type::kString:
      AddToken(code, {}, e.value->as_string(), {}, rows);
      return;
    case json::Type::kNumber:
      AddToken(code, {}, e.value->number_text(), {}, rows);
      return;
    case json::Type::kObject:
      break;
    default:
      return;
  }
  const json::Value& object = *e.value;
  std::string_view type = TypeName(e);
  if (type == "CodeableConcept") {
    AddCodeableConcept(code, object, rows);
  } else if (type == "Coding") {
    AddCoding(code, object, {}, rows);
  } else if (type == "Identifier") {
    std::string type_text;
    const json::Value* t = object.Find("type");
    if (t != nullptr && t->is_object()) type_text = NormalizeString(Member(*t, "text"));
    AddToken(code, Member(object, "system"), Member(object, "value"), std::move(type_text), rows);
    AddIdentifierTypes(code, object, rows);
  } else if (type == "ContactPoint") {
    // R4 searches ContactPoint.value; ContactPoint.system (phone, email) is not a code system.
    AddToken(code, {}, Member(object, "value"), {}, rows);
  }
}

// --- date ---

// A date, dateTime or instant as FHIR writes it; failing that, as a FHIRPath literal, which
// also reads what data carries although FHIR forbids it: a time without seconds or without
// offset (taken as UTC, as dates are).
std::optional<std::pair<Micros, Micros>> RangeOfText(std::string_view text) {
  std::optional<Temporal> t = Temporal::ParseFhir(text, TemporalKind::kDateTime);
  if (!t) t = Temporal::ParseLiteral(text);
  if (!t) return std::nullopt;
  return TemporalRange(*t);
}

bool IsDatePrimitive(Primitive p) {
  return p == Primitive::kDate || p == Primitive::kDateTime || p == Primitive::kInstant;
}

// A Period as a range; an end that is missing is open. nullopt when neither end is known.
std::optional<std::pair<Micros, Micros>> PeriodRange(const json::Value& period) {
  auto start = RangeOfText(Member(period, "start"));
  auto end = RangeOfText(Member(period, "end"));
  if (!start && !end) return std::nullopt;
  return std::make_pair(start ? start->first : kOpenLow, end ? end->second : kOpenHigh);
}

// R4: "the specified scheduling details are ignored and only the outer limits matter".
std::optional<std::pair<Micros, Micros>> TimingRange(const json::Value& timing) {
  std::optional<std::pair<Micros, Micros>> range;
  auto merge = [&range](std::pair<Micros, Micros> r) {
    if (!range) {
      range = r;
    } else {
      range->first = std::min(range->first, r.first);
      range->second = std::max(range->second, r.second);
    }
  };
  if (const json::Value* events = timing.Find("event"); events != nullptr && events->is_array()) {
    for (const json::Value& event : events->as_array()) {
      if (!event.is_string()) continue;
      if (auto r = RangeOfText(event.as_string())) merge(*r);
    }
  }
  if (const json::Value* repeat = timing.Find("repeat"); repeat != nullptr && repeat->is_object()) {
    if (const json::Value* bounds = repeat->Find("boundsPeriod"); bounds != nullptr && bounds->is_object()) {
      if (auto r = PeriodRange(*bounds)) merge(*r);
    }
  }
  return range;
}

void AppendDate(std::string_view code, const Item& item, store::IndexRows& rows) {
  std::optional<std::pair<Micros, Micros>> range;
  if (!item.is_element()) {
    if (item.kind() == ItemKind::kDate || item.kind() == ItemKind::kDateTime) range = TemporalRange(item.temporal());
  } else if (const Element& e = item.element(); e.value == nullptr) {
    return;
  } else if (e.value->is_string()) {
    // Strings (CarePlan scheduledString) are not dates.
    if (IsDatePrimitive(fhirpath::PrimitiveOf(e))) range = RangeOfText(e.value->as_string());
  } else if (e.value->is_object()) {
    std::string_view type = TypeName(e);
    if (type == "Period") {
      range = PeriodRange(*e.value);
    } else if (type == "Timing") {
      range = TimingRange(*e.value);
    }
  }
  if (range) rows.dates.push_back({std::string(code), range->first, range->second});
}

// --- number ---

void AppendNumber(std::string_view code, const Item& item, store::IndexRows& rows) {
  if (item.is_element() && IsObject(item.element()) && TypeName(item.element()) == "Range") {
    // RiskAssessment.prediction.probability may be a Range: both ends are searchable values.
    for (std::string_view end : {"low", "high"}) {
      const json::Value* q = item.element().value->Find(end);
      if (q == nullptr || !q->is_object()) continue;
      if (auto v = NumberMember(*q, "value")) rows.numbers.push_back({std::string(code), static_cast<double>(*v)});
    }
    return;
  }
  std::optional<Item> value = fhirpath::ToSystem(item);
  if (!value) return;
  if (value->kind() == ItemKind::kInteger) {
    rows.numbers.push_back({std::string(code), static_cast<double>(value->integer())});
  } else if (value->kind() == ItemKind::kDecimal) {
    rows.numbers.push_back({std::string(code), value->decimal().ToDouble()});
  }
}

// --- quantity ---

void AddQuantity(std::string_view code, const json::Value& quantity, store::IndexRows& rows) {
  std::optional<long double> value = NumberMember(quantity, "value");
  if (!value) return;  // nothing to compare a searched number with
  store::QuantityRow row;
  row.param = std::string(code);
  row.value = static_cast<double>(*value);
  row.system = std::string(Member(quantity, "system"));
  row.code = std::string(Member(quantity, "code"));
  row.unit = std::string(Member(quantity, "unit"));
  if (row.system == kUcumSystem && !row.code.empty()) {
    Result<ucum::CanonicalValue> canonical = ucum::ToCanonical(*value, row.code);
    if (canonical.ok() && std::isfinite(static_cast<double>(canonical->value))) {
      row.canonical_value = static_cast<double>(canonical->value);
      row.canonical_unit = std::move(canonical->unit);
    }
  }
  rows.quantities.push_back(std::move(row));
}

void AppendQuantity(std::string_view code, const Item& item, store::IndexRows& rows) {
  if (!item.is_element() || !IsObject(item.element())) return;
  const Element& e = item.element();
  std::string_view type = TypeName(e);
  if (IsQuantityType(e)) {
    AddQuantity(code, *e.value, rows);
  } else if (type == "Money") {
    std::optional<long double> value = NumberMember(*e.value, "value");
    if (!value) return;
    store::QuantityRow row;
    row.param = std::string(code);
    row.value = static_cast<double>(*value);
    row.code = std::string(Member(*e.value, "currency"));
    if (!row.code.empty()) row.system = std::string(kCurrencySystem);
    rows.quantities.push_back(std::move(row));
  } else if (type == "Range") {
    // A row per end: `onset-age=lt10` then finds a Range whose low end is below 10. The
    // row has no room for an interval, and R4 leaves Range matching to the server.
    for (std::string_view end : {"low", "high"}) {
      const json::Value* q = e.value->Find(end);
      if (q != nullptr && q->is_object()) AddQuantity(code, *q, rows);
    }
  }
  // SampledData (Observation value-quantity): R4 defines no matching for it; not indexed.
}

// --- reference ---

bool IsSchemeChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '-' ||
         c == '.';
}

// Length of "scheme:" at the start of `text`, or 0 when it has none.
size_t SchemeLength(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) return 0;
  for (size_t i = 0; i < colon; ++i) {
    if (!IsSchemeChar(text[i])) return 0;
  }
  return colon + 1;
}

bool IsValidId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
  });
}

void AddReference(std::string_view code, std::string_view reference, bool canonical, store::IndexRows& rows) {
  if (reference.empty() || reference.front() == '#') return;  // contained: not a resource of its own
  bool has_scheme = SchemeLength(reference) > 0;
  // A conditional reference ("Patient?identifier=x") is resolved by the transaction that
  // carries it; one stored as written names no resource.
  if (!has_scheme && reference.find('?') != std::string_view::npos) return;
  std::string_view target = canonical ? reference.substr(0, reference.find('|')) : reference;
  std::optional<TypeAndId> type_id = ParseTypeAndId(target);
  store::ReferenceRow row;
  row.param = std::string(code);
  if (type_id) {
    row.target_type = std::string(type_id->type);
    row.target_id = std::string(type_id->id);
  }
  if (canonical || !type_id || has_scheme) row.url = std::string(reference);
  rows.references.push_back(std::move(row));
}

void AppendReference(std::string_view code, const Item& item, store::IndexRows& rows) {
  if (!item.is_element()) {
    if (item.kind() == ItemKind::kString) AddReference(code, item.string(), /*canonical=*/true, rows);
    return;
  }
  const Element& e = item.element();
  if (e.value == nullptr || e.type == nullptr) return;
  if (e.type->is_primitive()) {
    // Canonical (and uri) values of reference parameters: the URL is what is searched.
    if (e.value->is_string()) AddReference(code, e.value->as_string(), /*canonical=*/true, rows);
    return;
  }
  if (!e.value->is_object()) return;
  if (e.type->name == "Reference") {
    // A Reference with only an identifier or a display names no resource here; its
    // identifier is what :identifier searches (store.h).
    AddReference(code, Member(*e.value, "reference"), /*canonical=*/false, rows);
    const json::Value* identifier = e.value->Find("identifier");
    if (!code.empty() && identifier != nullptr && identifier->is_object() && !Member(*identifier, "value").empty()) {
      rows.tokens.push_back({store::ModifierParam(code, "identifier"), std::string(Member(*identifier, "system")),
                             std::string(Member(*identifier, "value")), {}});
    }
  } else if (e.type->is_resource()) {
    // Bundle.entry[0].resource (Bundle composition/message): the resource itself.
    std::string_view id = Member(*e.value, "id");
    if (!id.empty()) rows.references.push_back({std::string(code), std::string(e.type->name), std::string(id), {}});
  }
}

// --- uri ---

void AppendUri(std::string_view code, const Item& item, store::IndexRows& rows) {
  std::optional<std::string_view> text = fhirpath::StringView(item);
  if (!text || text->empty()) return;
  rows.uris.push_back({std::string(code), std::string(*text)});
}

}  // namespace

std::vector<const fhir::SearchParamDef*> CompositeComponents(const fhir::SearchParamDef& composite) {
  std::vector<const fhir::SearchParamDef*> components;
  for (const fhir::SearchParamComponent& c : composite.components) {
    const fhir::SearchParamDef* component = fhir::FindSearchParamByUrl(c.definition);
    if (component == nullptr || component->type == SearchParamType::kComposite ||
        component->type == SearchParamType::kSpecial) {
      return {};
    }
    components.push_back(component);
  }
  if (components.size() < 2 || components.size() > 3 || components[0]->type != SearchParamType::kToken) return {};
  if (components.size() == 3 &&
      (components[1]->type != SearchParamType::kNumber || components[2]->type != SearchParamType::kNumber)) {
    return {};
  }
  return components;
}

std::optional<TypeAndId> ParseTypeAndId(std::string_view reference) {
  std::string_view path = reference;
  if (size_t scheme = SchemeLength(reference); scheme > 0) {
    // Only hierarchical URLs ("http://host/...") end in a path; urn:uuid: and urn:oid: do not.
    if (reference.substr(scheme, 2) != "//") return std::nullopt;
    size_t path_start = reference.find('/', scheme + 2);
    if (path_start == std::string_view::npos) return std::nullopt;
    path = reference.substr(path_start + 1);
  }
  if (path.find_first_of("?#") != std::string_view::npos) return std::nullopt;
  if (size_t history = path.find("/_history/"); history != std::string_view::npos) {
    std::string_view version = path.substr(history + 10);
    if (version.empty() || version.find('/') != std::string_view::npos) return std::nullopt;
    path = path.substr(0, history);
  }
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string_view id = path.substr(slash + 1);
  std::string_view type = path.substr(0, slash);
  if (size_t before = type.rfind('/'); before != std::string_view::npos) {
    if (path.data() == reference.data()) return std::nullopt;  // a relative reference is exactly Type/id
    type = type.substr(before + 1);
  }
  if (!fhir::IsResourceType(type) || !IsValidId(id)) return std::nullopt;
  return TypeAndId{type, id};
}

std::optional<std::pair<Micros, Micros>> TemporalRange(const Temporal& value) {
  if (value.kind == TemporalKind::kTime) return std::nullopt;
  using std::chrono::day;
  using std::chrono::month;
  using std::chrono::sys_days;
  using std::chrono::year;
  auto days_since_epoch = [](int y, unsigned m, unsigned d) -> int64_t {
    return sys_days(year(y) / month(m) / day(d)).time_since_epoch().count();
  };
  int64_t days = days_since_epoch(value.year, value.month, value.day);
  int64_t seconds = ((days * 24 + value.hour) * 60 + value.minute) * 60 + value.second;
  if (value.has_offset) seconds -= int64_t{value.offset_minutes} * 60;
  Micros low = seconds * kMicrosPerSecond + int64_t{value.millisecond} * 1000;
  Micros span = 0;  // microseconds the precision covers
  switch (value.precision) {
    case TemporalPrecision::kYear:
      span = (days_since_epoch(value.year + 1, 1, 1) - days) * 86400 * kMicrosPerSecond;
      break;
    case TemporalPrecision::kMonth: {
      bool december = value.month == 12;
      int64_t next = days_since_epoch(december ? value.year + 1 : value.year, december ? 1 : value.month + 1, 1);
      span = (next - days) * 86400 * kMicrosPerSecond;
      break;
    }
    case TemporalPrecision::kDay:
      span = 86400 * kMicrosPerSecond;
      break;
    case TemporalPrecision::kHour:
      span = 3600 * kMicrosPerSecond;
      break;
    case TemporalPrecision::kMinute:
      span = 60 * kMicrosPerSecond;
      break;
    case TemporalPrecision::kSecond:
      span = kMicrosPerSecond;
      break;
    case TemporalPrecision::kMillisecond:
      span = 1000;
      break;
  }
  return std::make_pair(low, low + span - 1);
}

// Location.position: its latitude and longitude, when both are there and in range.
void AppendPosition(const Item& item, store::IndexRows& rows) {
  if (!item.is_element() || !IsObject(item.element())) return;
  const json::Value& position = *item.element().value;
  std::optional<long double> latitude = NumberMember(position, "latitude");
  std::optional<long double> longitude = NumberMember(position, "longitude");
  if (!latitude || !longitude || *latitude < -90 || *latitude > 90 || *longitude < -180 || *longitude > 180) return;
  rows.numbers.push_back({std::string(store::kNearLatitude), static_cast<double>(*latitude)});
  rows.numbers.push_back({std::string(store::kNearLongitude), static_cast<double>(*longitude)});
}

void AppendRows(fhir::SearchParamType type, std::string_view code, const fhirpath::Item& item,
                store::IndexRows& rows) {
  switch (type) {
    case SearchParamType::kString:
      AppendString(code, item, rows);
      break;
    case SearchParamType::kToken:
      AppendToken(code, item, rows);
      break;
    case SearchParamType::kDate:
      AppendDate(code, item, rows);
      break;
    case SearchParamType::kNumber:
      AppendNumber(code, item, rows);
      break;
    case SearchParamType::kQuantity:
      AppendQuantity(code, item, rows);
      break;
    case SearchParamType::kReference:
      AppendReference(code, item, rows);
      break;
    case SearchParamType::kUri:
      AppendUri(code, item, rows);
      break;
    case SearchParamType::kSpecial:
      if (code == "near") AppendPosition(item, rows);
      break;
    case SearchParamType::kComposite:
      break;
  }
}

}  // namespace ehr::search::internal
