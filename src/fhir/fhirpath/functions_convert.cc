// The conversion functions of FHIRPath (N1 5.5): iif(), toX() and convertsToX().
//
// Every conversion takes a singleton (more items are an error) and reads a FHIR primitive
// as its System value first, so Patient.active.toString() and true.toString() agree. A
// value that cannot be converted gives empty from toX() and false from convertsToX(); a
// primitive with only extensions has no value and gives empty from both.
#include <algorithm>
#include <cctype>

#include "fhir/fhirpath/functions_internal.h"
#include "fhir/fhirpath/quantity.h"

namespace ehr::fhirpath {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// The length of the text matching (\+|-)?\d+(\.\d+)? at the start of s (0 when none);
// `allow_fraction` false stops before a '.'.
size_t NumberPrefix(std::string_view s, bool allow_fraction) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  const size_t digits = i;
  while (i < s.size() && IsDigit(s[i])) ++i;
  if (i == digits) return 0;
  if (allow_fraction && i + 1 < s.size() && s[i] == '.' && IsDigit(s[i + 1])) {
    ++i;
    while (i < s.size() && IsDigit(s[i])) ++i;
  }
  return i;
}

bool EqualsIgnoringAsciiCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

Decimal ParsedDecimal(std::string_view text) { return Decimal::Parse(text).value_or(Decimal()); }

// --- One function per target type: the converted System value, or nullopt ---

std::optional<Item> BooleanOf(const Item& v) {
  switch (v.kind()) {
    case ItemKind::kBoolean:
      return v;
    case ItemKind::kInteger:
      if (v.integer() == 1 || v.integer() == 0) return Item::Boolean(v.integer() == 1);
      return std::nullopt;
    case ItemKind::kDecimal:
      if (v.decimal() == Decimal::FromInt(1)) return Item::Boolean(true);
      if (v.decimal() == Decimal::FromInt(0)) return Item::Boolean(false);
      return std::nullopt;
    case ItemKind::kString:
      for (std::string_view t : {"true", "t", "yes", "y", "1", "1.0"}) {
        if (EqualsIgnoringAsciiCase(v.string(), t)) return Item::Boolean(true);
      }
      for (std::string_view f : {"false", "f", "no", "n", "0", "0.0"}) {
        if (EqualsIgnoringAsciiCase(v.string(), f)) return Item::Boolean(false);
      }
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

std::optional<Item> IntegerOf(const Item& v) {
  switch (v.kind()) {
    case ItemKind::kInteger:
      return v;
    case ItemKind::kBoolean:
      return Item::Integer(v.boolean() ? 1 : 0);
    case ItemKind::kString: {
      const std::string& s = v.string();
      if (s.empty() || NumberPrefix(s, false) != s.size()) return std::nullopt;
      // Accumulate negatively so that INT64_MIN parses; anything larger is not an Integer.
      const bool negative = s[0] == '-';
      int64_t value = 0;
      for (char c : std::string_view(s).substr(s[0] == '+' || s[0] == '-' ? 1 : 0)) {
        if (__builtin_mul_overflow(value, 10, &value) || __builtin_sub_overflow(value, c - '0', &value)) {
          return std::nullopt;
        }
      }
      if (!negative) {
        if (value == INT64_MIN) return std::nullopt;
        value = -value;
      }
      return Item::Integer(value);
    }
    default:
      return std::nullopt;
  }
}

std::optional<Item> DecimalOf(const Item& v) {
  switch (v.kind()) {
    case ItemKind::kDecimal:
      return v;
    case ItemKind::kInteger:
      return Item::Dec(Decimal::FromInt(v.integer()));
    case ItemKind::kBoolean:
      return Item::Dec(ParsedDecimal(v.boolean() ? "1.0" : "0.0"));
    case ItemKind::kString: {
      // Decimal::Parse also takes exponents; FHIRPath does not.
      const std::string& s = v.string();
      if (s.empty() || NumberPrefix(s, true) != s.size()) return std::nullopt;
      std::optional<Decimal> d = Decimal::Parse(s);
      if (!d) return std::nullopt;
      return Item::Dec(*d);
    }
    default:
      return std::nullopt;
  }
}

std::optional<Item> StringOf(const Item& v) { return Item::String(ToText(v)); }

Temporal AsDate(Temporal t) {
  t.kind = TemporalKind::kDate;
  t.precision = std::min(t.precision, TemporalPrecision::kDay);
  t.hour = t.minute = t.second = 0;
  t.millisecond = 0;
  t.has_offset = false;
  t.offset_minutes = 0;
  return t;
}

std::optional<Item> DateOf(const Item& v) {
  switch (v.kind()) {
    case ItemKind::kDate:
      return v;
    case ItemKind::kDateTime:
      return Item::Time(AsDate(v.temporal()));
    case ItemKind::kString: {
      // Only the date form YYYY(-MM(-DD)): a string with a time is not a Date.
      std::optional<Temporal> t = Temporal::ParseLiteral(v.string());
      if (!t || t->kind != TemporalKind::kDate) return std::nullopt;
      return Item::Time(*t);
    }
    default:
      return std::nullopt;
  }
}

std::optional<Item> DateTimeOf(const Item& v) {
  std::optional<Temporal> t;
  switch (v.kind()) {
    case ItemKind::kDateTime:
      return v;
    case ItemKind::kDate:
      t = v.temporal();
      break;
    case ItemKind::kString:
      t = Temporal::ParseLiteral(v.string());
      break;
    default:
      return std::nullopt;
  }
  if (!t || t->kind == TemporalKind::kTime) return std::nullopt;
  // A Date becomes a DateTime of the same precision; its time stays unset, not zero.
  t->kind = TemporalKind::kDateTime;
  return Item::Time(*t);
}

std::optional<Item> TimeOf(const Item& v) {
  switch (v.kind()) {
    case ItemKind::kTime:
      return v;
    case ItemKind::kString: {
      // The string is hh(:mm(:ss(.fff))) without the 'T' of the literal.
      std::optional<Temporal> t = Temporal::ParseLiteral("T" + v.string());
      if (!t || t->kind != TemporalKind::kTime) return std::nullopt;
      return Item::Time(*t);
    }
    default:
      return std::nullopt;
  }
}

// (\+|-)?\d+(\.\d+)? followed by optional whitespace and either a quoted UCUM unit or a
// calendar duration keyword; a bare number has the unit '1'. '1 wk' is not a Quantity:
// unquoted units must be calendar keywords, as in a literal.
std::optional<Quantity> ParseQuantity(std::string_view s) {
  const size_t number = NumberPrefix(s, true);
  if (number == 0) return std::nullopt;
  std::optional<Decimal> value = Decimal::Parse(s.substr(0, number));
  if (!value) return std::nullopt;
  size_t i = number;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  if (i == s.size()) return Quantity{*value, "1"};
  std::string_view rest = s.substr(i);
  if (rest.front() == '\'') {
    const size_t close = rest.find('\'', 1);
    if (close == std::string_view::npos || close == 1 || close + 1 != rest.size()) return std::nullopt;
    return Quantity{*value, std::string(rest.substr(1, close - 1))};
  }
  if (!IsCalendarKeyword(rest)) return std::nullopt;
  return Quantity{*value, std::string(rest)};
}

std::optional<Item> QuantityOf(const Item& v) {
  switch (v.kind()) {
    case ItemKind::kQuantity:
      return v;
    case ItemKind::kInteger:
      return Item::Qty(Quantity{Decimal::FromInt(v.integer()), "1"});
    case ItemKind::kDecimal:
      return Item::Qty(Quantity{v.decimal(), "1"});
    case ItemKind::kBoolean:
      return Item::Qty(Quantity{ParsedDecimal(v.boolean() ? "1.0" : "0.0"), "1"});
    case ItemKind::kString:
      if (std::optional<Quantity> q = ParseQuantity(v.string())) return Item::Qty(std::move(*q));
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

// --- The functions ---

enum class Want { kValue, kTest };

// The single input item as a System value. `has_value` false: empty input, or a primitive
// with only extensions. nullopt with `has_value` true: an element that is not a primitive.
std::optional<Item> SystemInput(Evaluator& ev, const Expr& call, const Collection& input, bool& has_value) {
  const Item* item = ev.Single(call, input, call.name + "()");
  has_value = item != nullptr && !(item->is_element() && item->element().value == nullptr);
  if (!has_value) return std::nullopt;
  return ToSystem(*item);
}

using Converter = std::optional<Item> (*)(const Item&);

Collection Convert(Evaluator& ev, const Expr& call, const Collection& input, Converter convert, Want want) {
  bool has_value = false;
  std::optional<Item> v = SystemInput(ev, call, input, has_value);
  if (!has_value) return {};
  std::optional<Item> out = v ? convert(*v) : std::nullopt;
  if (want == Want::kTest) return OneBoolean(out.has_value());
  return out ? OneItem(std::move(*out)) : Collection{};
}

#define EHR_CONVERSION(Name, converter)                                                   \
  EHR_FHIRPATH_FN(To##Name) { return Convert(ev, call, input, converter, Want::kValue); } \
  EHR_FHIRPATH_FN(ConvertsTo##Name) { return Convert(ev, call, input, converter, Want::kTest); }

EHR_CONVERSION(Boolean, BooleanOf)
EHR_CONVERSION(Integer, IntegerOf)
EHR_CONVERSION(Decimal, DecimalOf)
EHR_CONVERSION(String, StringOf)
EHR_CONVERSION(Date, DateOf)
EHR_CONVERSION(DateTime, DateTimeOf)
EHR_CONVERSION(Time, TimeOf)

#undef EHR_CONVERSION

// toQuantity([unit]): with a unit, the quantity converted to it (UCUM or calendar keyword),
// or nothing when the units are not commensurable. An empty unit argument counts as none.
std::optional<Quantity> QuantityIn(Evaluator& ev, const Expr& call, const Collection& input, const Scope& scope,
                                   bool& has_value) {
  std::optional<std::string> unit = call.arg_count() > 0 ? ev.ArgString(call, 0, scope) : std::nullopt;
  std::optional<Item> v = SystemInput(ev, call, input, has_value);
  if (!has_value || !v) return std::nullopt;
  std::optional<Item> q = QuantityOf(*v);
  if (!q) return std::nullopt;
  if (!unit) return q->quantity();
  return ConvertQuantity(q->quantity(), *unit);
}

EHR_FHIRPATH_FN(ToQuantity) {
  bool has_value = false;
  std::optional<Quantity> q = QuantityIn(ev, call, input, scope, has_value);
  return q ? OneItem(Item::Qty(std::move(*q))) : Collection{};
}

EHR_FHIRPATH_FN(ConvertsToQuantity) {
  bool has_value = false;
  std::optional<Quantity> q = QuantityIn(ev, call, input, scope, has_value);
  if (!has_value) return {};
  return OneBoolean(q.has_value());
}

// iif(criterion, true-result[, otherwise-result]). Called on a focus (`x.iif(...)`) the
// arguments see $this = x, which must then be a single item or empty; called bare they see
// the enclosing scope (inside where(), select(), aggregate()...). Only the chosen branch
// is evaluated, so `iif(true, 1, 1/0)` is 1.
EHR_FHIRPATH_FN(Iif) {
  if (call.focus() != nullptr && input.size() > 1) {
    ev.Fail(call, "iif() expects a single input item but got " + std::to_string(input.size()));
  }
  auto argument = [&](size_t i) -> Collection {
    if (call.focus() == nullptr) return ev.Arg(call, i, scope);
    if (!input.empty()) return ev.ArgFor(call, i, input[0], scope.index, scope);
    const Scope empty_this{&input, scope.index, scope.total};
    return ev.Eval(call.arg(i), empty_this);
  };
  Collection criterion = argument(0);
  bool chosen = false;
  if (const Item* c = ev.Single(call.arg(0), criterion, "the criterion of iif()")) {
    const bool has_value = !(c->is_element() && c->element().value == nullptr);
    std::optional<Item> b = has_value ? ToSystem(*c) : std::nullopt;
    if (has_value && (!b || b->kind() != ItemKind::kBoolean)) {
      ev.Fail(call.arg(0), "the criterion of iif() must be a Boolean, not " + std::string(TypeOf(*c).name));
    }
    chosen = b && b->boolean();
  }
  if (chosen) return argument(1);
  if (call.arg_count() > 2) return argument(2);
  return {};
}

constexpr FunctionDef kConvert[] = {
    {"iif", 2, 3, Iif},
    {"toBoolean", 0, 0, ToBoolean},
    {"convertsToBoolean", 0, 0, ConvertsToBoolean},
    {"toInteger", 0, 0, ToInteger},
    {"convertsToInteger", 0, 0, ConvertsToInteger},
    {"toDecimal", 0, 0, ToDecimal},
    {"convertsToDecimal", 0, 0, ConvertsToDecimal},
    {"toString", 0, 0, ToString},
    {"convertsToString", 0, 0, ConvertsToString},
    {"toDate", 0, 0, ToDate},
    {"convertsToDate", 0, 0, ConvertsToDate},
    {"toDateTime", 0, 0, ToDateTime},
    {"convertsToDateTime", 0, 0, ConvertsToDateTime},
    {"toTime", 0, 0, ToTime},
    {"convertsToTime", 0, 0, ConvertsToTime},
    {"toQuantity", 0, 1, ToQuantity},
    {"convertsToQuantity", 0, 1, ConvertsToQuantity},
};

}  // namespace

std::span<const FunctionDef> ConvertFunctions() { return kConvert; }

}  // namespace ehr::fhirpath
