// Equality, equivalence, ordering and text of FHIRPath items.
#include <cctype>
#include <cmath>

#include "fhir/fhirpath/quantity.h"
#include "fhir/fhirpath/value.h"
#include "fhir/ucum/ucum.h"

namespace ehr::fhirpath {
namespace {


// A Date compared with a DateTime is taken as a DateTime of date precision.
Temporal Promoted(const Temporal& t, const Temporal& other) {
  Temporal r = t;
  if (t.kind == TemporalKind::kDate && other.kind == TemporalKind::kDateTime) r.kind = TemporalKind::kDateTime;
  return r;
}

// Lower-cased with runs of whitespace collapsed to one space and the ends trimmed.
std::string NormalizedForEquivalence(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool pending_space = false;
  for (char c : s) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::optional<bool> SystemEqual(const Item& a, const Item& b) {
  const ItemKind ka = a.kind();
  const ItemKind kb = b.kind();
  if (IsNumeric(ka) && IsNumeric(kb)) {
    if (ka == ItemKind::kInteger && kb == ItemKind::kInteger) return a.integer() == b.integer();
    return NumericValue(a) == NumericValue(b);
  }
  if (IsTemporal(ka) && IsTemporal(kb)) {
    if (ka != kb && !(ka != ItemKind::kTime && kb != ItemKind::kTime)) return false;
    return Equal(Promoted(a.temporal(), b.temporal()), Promoted(b.temporal(), a.temporal()));
  }
  if (ka != kb) return false;
  switch (ka) {
    case ItemKind::kBoolean: return a.boolean() == b.boolean();
    case ItemKind::kString: return a.string() == b.string();
    case ItemKind::kQuantity: return QuantitiesEqual(a.quantity(), b.quantity());
    default: return false;
  }
}

}  // namespace

std::optional<bool> ItemsEqual(const Item& a, const Item& b) {
  if (a.is_element() && b.is_element()) {
    const Element& ea = a.element();
    const Element& eb = b.element();
    if (ea.value == eb.value && ea.extension == eb.extension) return true;
    const bool pa = HasPrimitiveValue(ea);
    const bool pb = HasPrimitiveValue(eb);
    if (!pa && !pb) {
      if (ea.value == nullptr || eb.value == nullptr) return false;
      return *ea.value == *eb.value;
    }
  }
  if (auto sa = StringView(a)) {
    if (auto sb = StringView(b)) return *sa == *sb;
  }
  std::optional<Item> sa = ToSystem(a);
  std::optional<Item> sb = ToSystem(b);
  if (!sa || !sb) return false;
  return SystemEqual(*sa, *sb);
}

bool ItemsEquivalent(const Item& a, const Item& b) {
  if (a.is_element() && b.is_element() && !HasPrimitiveValue(a.element()) && !HasPrimitiveValue(b.element())) {
    const Element& ea = a.element();
    const Element& eb = b.element();
    if (ea.value == nullptr || eb.value == nullptr) return ea.value == eb.value;
    return *ea.value == *eb.value;
  }
  std::optional<Item> sa = ToSystem(a);
  std::optional<Item> sb = ToSystem(b);
  if (!sa || !sb) return false;
  const ItemKind ka = sa->kind();
  const ItemKind kb = sb->kind();
  if (IsNumeric(ka) && IsNumeric(kb)) {
    // At the precision of the less precise operand.
    Decimal da = NumericValue(*sa);
    Decimal db = NumericValue(*sb);
    const int scale = std::min(da.scale(), db.scale());
    auto ra = da.Round(scale);
    auto rb = db.Round(scale);
    return ra && rb && *ra == *rb;
  }
  if (IsTemporal(ka) && IsTemporal(kb)) return ka == kb && Equivalent(sa->temporal(), sb->temporal());
  if (ka != kb) return false;
  switch (ka) {
    case ItemKind::kBoolean: return sa->boolean() == sb->boolean();
    case ItemKind::kString: return NormalizedForEquivalence(sa->string()) == NormalizedForEquivalence(sb->string());
    case ItemKind::kQuantity: return QuantitiesEquivalent(sa->quantity(), sb->quantity());
    default: return false;
  }
}

std::optional<int> CompareItems(const Item& a, const Item& b, std::string* error) {
  std::optional<Item> sa = ToSystem(a);
  std::optional<Item> sb = ToSystem(b);
  if (!sa || !sb) {
    *error = "cannot compare values of these types";
    return std::nullopt;
  }
  const ItemKind ka = sa->kind();
  const ItemKind kb = sb->kind();
  if (IsNumeric(ka) && IsNumeric(kb)) {
    if (ka == ItemKind::kInteger && kb == ItemKind::kInteger) {
      return sa->integer() < sb->integer() ? -1 : sa->integer() > sb->integer() ? 1 : 0;
    }
    return Decimal::Compare(NumericValue(*sa), NumericValue(*sb));
  }
  if (IsTemporal(ka) && IsTemporal(kb)) {
    if ((ka == ItemKind::kTime) != (kb == ItemKind::kTime)) {
      *error = "cannot compare a Time with a Date or DateTime";
      return std::nullopt;
    }
    return Compare(Promoted(sa->temporal(), sb->temporal()), Promoted(sb->temporal(), sa->temporal()));
  }
  if (ka == ItemKind::kString && kb == ItemKind::kString) {
    int c = sa->string().compare(sb->string());
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  if (ka == ItemKind::kQuantity && kb == ItemKind::kQuantity) {
    return CompareQuantities(sa->quantity(), sb->quantity());
  }
  *error = "cannot compare " + std::string(TypeOf(*sa).name) + " with " + std::string(TypeOf(*sb).name);
  return std::nullopt;
}

json::Value ToJson(const Item& item) {
  switch (item.kind()) {
    case ItemKind::kBoolean: return json::Value(item.boolean());
    case ItemKind::kInteger: return json::Value::MakeInt(item.integer());
    case ItemKind::kDecimal: return json::Value::MakeNumber(item.decimal().ToString());
    case ItemKind::kString: return json::Value(item.string());
    case ItemKind::kDate:
    case ItemKind::kDateTime:
    case ItemKind::kTime: return json::Value(item.temporal().ToString());
    case ItemKind::kQuantity: {
      json::Value q = json::Value::MakeObject();
      q.Set("value", json::Value::MakeNumber(item.quantity().value.ToString()));
      q.Set("unit", json::Value(item.quantity().unit));
      return q;
    }
    case ItemKind::kElement: break;
  }
  const Element& e = item.element();
  if (e.value != nullptr) return *e.value;
  if (e.extension != nullptr) return *e.extension;
  return json::Value();
}

std::string ToText(const Item& item) {
  switch (item.kind()) {
    case ItemKind::kBoolean: return item.boolean() ? "true" : "false";
    case ItemKind::kInteger: return std::to_string(item.integer());
    case ItemKind::kDecimal: return item.decimal().ToString();
    case ItemKind::kString: return item.string();
    case ItemKind::kDate:
    case ItemKind::kDateTime:
    case ItemKind::kTime: return item.temporal().ToString();
    case ItemKind::kQuantity: return QuantityText(item.quantity());
    case ItemKind::kElement: break;
  }
  const Element& e = item.element();
  if (e.value == nullptr) return {};
  if (e.value->is_string()) return e.value->as_string();
  if (e.value->is_number()) return e.value->number_text();
  if (e.value->is_bool()) return e.value->as_bool() ? "true" : "false";
  return json::Write(*e.value);
}

}  // namespace ehr::fhirpath
