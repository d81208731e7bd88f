#include "fhir/fhirpath/quantity.h"

#include <cmath>

#include "fhir/ucum/ucum.h"

namespace ehr::fhirpath {
namespace {

struct Keyword {
  std::string_view singular;
  std::string_view plural;
  std::string_view ucum;
};
constexpr Keyword kKeywords[] = {
    {"year", "years", "a"},       {"month", "months", "mo"},     {"week", "weeks", "wk"},
    {"day", "days", "d"},         {"hour", "hours", "h"},        {"minute", "minutes", "min"},
    {"second", "seconds", "s"},   {"millisecond", "milliseconds", "ms"},
};

const Keyword* FindKeyword(std::string_view unit) {
  for (const Keyword& k : kKeywords) {
    if (unit == k.singular || unit == k.plural) return &k;
  }
  return nullptr;
}

bool IsYearOrMonth(const Keyword* k) { return k != nullptr && (k->ucum == "a" || k->ucum == "mo"); }

// Both quantities in one unit: b converted into a's unit. nullopt when not comparable.
// Calendar years and months compare only with each other (12 months = 1 year): they are
// not the UCUM 'a' and 'mo', whose lengths are averages.
std::optional<std::pair<long double, long double>> InCommonUnit(const Quantity& a, const Quantity& b) {
  const long double va = a.value.ToDouble();
  const long double vb = b.value.ToDouble();
  if (a.unit == b.unit) return std::make_pair(va, vb);
  const Keyword* ka = FindKeyword(a.unit);
  const Keyword* kb = FindKeyword(b.unit);
  if (IsYearOrMonth(ka) || IsYearOrMonth(kb)) {
    if (!IsYearOrMonth(ka) || !IsYearOrMonth(kb)) return std::nullopt;
    auto months = [](const Keyword* k, long double v) { return k->ucum == "a" ? v * 12 : v; };
    return std::make_pair(months(ka, va), months(kb, vb));
  }
  std::string_view ua = ka != nullptr ? ka->ucum : std::string_view(a.unit);
  std::string_view ub = kb != nullptr ? kb->ucum : std::string_view(b.unit);
  if (ua == ub) return std::make_pair(va, vb);
  Result<long double> converted = ucum::Convert(vb, ub, ua);
  if (!converted.ok()) return std::nullopt;
  return std::make_pair(va, *converted);
}

bool NearlyEqual(long double x, long double y) {
  const long double scale = std::max(std::fabs(x), std::fabs(y));
  return std::fabs(x - y) <= scale * 1e-12L;
}

std::optional<Decimal> ToDecimal(long double v) { return Decimal::FromDouble(static_cast<double>(v)); }

}  // namespace

std::optional<std::string_view> CalendarUnitToUcum(std::string_view unit) {
  const Keyword* k = FindKeyword(unit);
  if (k == nullptr) return std::nullopt;
  return k->ucum;
}

bool IsCalendarKeyword(std::string_view unit) { return FindKeyword(unit) != nullptr; }

std::optional<bool> QuantitiesEqual(const Quantity& a, const Quantity& b) {
  if (a.unit == b.unit) return a.value == b.value;
  auto common = InCommonUnit(a, b);
  if (!common) return std::nullopt;
  return NearlyEqual(common->first, common->second);
}

bool QuantitiesEquivalent(const Quantity& a, const Quantity& b) {
  auto common = InCommonUnit(a, b);
  if (!common) return false;
  std::optional<Decimal> db = ToDecimal(common->second);
  if (!db) return false;
  const int scale = std::min(a.value.scale(), db->scale());
  auto ra = a.value.Round(scale);
  auto rb = db->Round(scale);
  return ra && rb && *ra == *rb;
}

std::optional<int> CompareQuantities(const Quantity& a, const Quantity& b) {
  if (a.unit == b.unit) return Decimal::Compare(a.value, b.value);
  auto common = InCommonUnit(a, b);
  if (!common) return std::nullopt;
  if (NearlyEqual(common->first, common->second)) return 0;
  return common->first < common->second ? -1 : 1;
}

bool QuantitiesComparable(const Quantity& a, const Quantity& b) { return InCommonUnit(a, b).has_value(); }

std::optional<Quantity> ConvertQuantity(const Quantity& q, std::string_view unit) {
  if (q.unit == unit) return q;
  Quantity target{Decimal::FromInt(0), std::string(unit)};
  auto common = InCommonUnit(target, q);
  if (!common) return std::nullopt;
  std::optional<Decimal> value = ToDecimal(common->second);
  if (!value) return std::nullopt;
  return Quantity{*value, std::string(unit)};
}

std::optional<Quantity> AddQuantities(const Quantity& a, const Quantity& b, bool subtract) {
  std::optional<Quantity> bb = ConvertQuantity(b, a.unit);
  if (!bb) return std::nullopt;
  std::optional<Decimal> v = subtract ? Decimal::Sub(a.value, bb->value) : Decimal::Add(a.value, bb->value);
  if (!v) return std::nullopt;
  return Quantity{*v, a.unit};
}

namespace {

std::string UcumOf(const Quantity& q) {
  if (auto u = CalendarUnitToUcum(q.unit)) return std::string(*u);
  return q.unit;
}

// Combines two unit expressions as a product or quotient, keeping "1" out of the result.
std::string CombineUnits(const std::string& a, const std::string& b, char op) {
  if (b == "1") return a;
  if (a == "1") return op == '.' ? b : "1/" + b;
  auto wrap = [](const std::string& u) {
    return u.find_first_of("./") == std::string::npos ? u : "(" + u + ")";
  };
  return a + op + wrap(b);
}

// Expresses a product/quotient unit in canonical base units when the result is
// commensurable with a simpler unit of either operand (cm * m -> m2).
std::optional<Quantity> Canonicalised(long double value, const std::string& unit) {
  Result<ucum::CanonicalValue> canonical = ucum::ToCanonical(value, unit);
  if (!canonical.ok()) {
    std::optional<Decimal> d = ToDecimal(value);
    if (!d) return std::nullopt;
    return Quantity{*d, unit};
  }
  std::optional<Decimal> d = ToDecimal(canonical->value);
  if (!d) return std::nullopt;
  return Quantity{*d, canonical->unit};
}

}  // namespace

std::optional<Quantity> MultiplyQuantities(const Quantity& a, const Quantity& b) {
  const std::string unit = CombineUnits(UcumOf(a), UcumOf(b), '.');
  return Canonicalised(static_cast<long double>(a.value.ToDouble()) * b.value.ToDouble(), unit);
}

std::optional<Quantity> DivideQuantities(const Quantity& a, const Quantity& b) {
  if (b.value.sign() == 0) return std::nullopt;
  if (UcumOf(a) == UcumOf(b)) {
    std::optional<Decimal> v = Decimal::Div(a.value, b.value);
    if (!v) return std::nullopt;
    return Quantity{*v, "1"};
  }
  const std::string unit = CombineUnits(UcumOf(a), UcumOf(b), '/');
  return Canonicalised(static_cast<long double>(a.value.ToDouble()) / b.value.ToDouble(), unit);
}

std::string QuantityText(const Quantity& q) {
  std::string s = q.value.ToString();
  s += ' ';
  if (IsCalendarKeyword(q.unit)) {
    s += q.unit;
  } else {
    s += '\'';
    s += q.unit;
    s += '\'';
  }
  return s;
}

}  // namespace ehr::fhirpath
