// The math functions of FHIRPath (N1 5.7): abs, ceiling, exp, floor, ln, log, power,
// round, sqrt, truncate.
//
// Integer-valued functions stay exact on Decimal; the transcendental ones (exp, ln, log,
// sqrt, fractional powers) go through double, which gives about 16 significant digits, and
// a result that is not a finite real number (sqrt(-1), ln(0)) is empty as the spec asks.
#include <cmath>

#include "fhir/fhirpath/functions_internal.h"

namespace ehr::fhirpath {
namespace {


// The System value of a single Integer or Decimal (or Quantity, when allowed) in
// `collection`; nullopt when it is empty or a primitive with only extensions. Other types
// are an error (N1 5.7: "the item is not compatible with the expected type").
std::optional<Item> NumberIn(Evaluator& ev, const Expr& at, const Collection& collection, std::string_view what,
                             bool allow_quantity = false) {
  const Item* item = ev.Single(at, collection, what);
  if (item == nullptr || (item->is_element() && item->element().value == nullptr)) return std::nullopt;
  std::optional<Item> v = ToSystem(*item);
  if (!v || !(IsNumeric(v->kind()) || (allow_quantity && v->kind() == ItemKind::kQuantity))) {
    ev.Fail(at, std::string(what) + " needs a number, not " + std::string(TypeOf(v ? *v : *item).name));
  }
  return v;
}

std::optional<Item> NumberInput(Evaluator& ev, const Expr& call, const Collection& input, bool allow_quantity = false) {
  return NumberIn(ev, call, input, call.name + "()", allow_quantity);
}

Collection FromDouble(double v) {
  if (!std::isfinite(v)) return {};
  std::optional<Decimal> d = Decimal::FromDouble(v);
  return d ? OneItem(Item::Dec(*d)) : Collection{};
}

Collection IntegerResult(Evaluator& ev, const Expr& call, const Decimal& d) {
  std::optional<int64_t> i = d.ToInt64();
  if (!i) ev.Fail(call, call.name + "() result is outside the Integer range");
  return OneItem(Item::Integer(*i));
}

EHR_FHIRPATH_FN(Abs) {
  std::optional<Item> v = NumberInput(ev, call, input, /*allow_quantity=*/true);
  if (!v) return {};
  switch (v->kind()) {
    case ItemKind::kInteger:
      if (v->integer() == INT64_MIN) ev.Fail(call, "integer overflow");
      return OneItem(Item::Integer(v->integer() < 0 ? -v->integer() : v->integer()));
    case ItemKind::kDecimal:
      return OneItem(Item::Dec(v->decimal().Abs()));
    default:
      return OneItem(Item::Qty(Quantity{v->quantity().value.Abs(), v->quantity().unit}));
  }
}

EHR_FHIRPATH_FN(Ceiling) {
  std::optional<Item> v = NumberInput(ev, call, input);
  if (!v) return {};
  if (v->kind() == ItemKind::kInteger) return OneItem(*v);
  return IntegerResult(ev, call, v->decimal().Ceiling());
}

EHR_FHIRPATH_FN(Floor) {
  std::optional<Item> v = NumberInput(ev, call, input);
  if (!v) return {};
  if (v->kind() == ItemKind::kInteger) return OneItem(*v);
  return IntegerResult(ev, call, v->decimal().Floor());
}

EHR_FHIRPATH_FN(Truncate) {
  std::optional<Item> v = NumberInput(ev, call, input);
  if (!v) return {};
  if (v->kind() == ItemKind::kInteger) return OneItem(*v);
  return IntegerResult(ev, call, v->decimal().Truncate());
}

EHR_FHIRPATH_FN(Exp) {
  std::optional<Item> v = NumberInput(ev, call, input);
  if (!v) return {};
  return FromDouble(std::exp(NumericValue(*v).ToDouble()));
}

EHR_FHIRPATH_FN(Ln) {
  std::optional<Item> v = NumberInput(ev, call, input);
  if (!v) return {};
  return FromDouble(std::log(NumericValue(*v).ToDouble()));
}

EHR_FHIRPATH_FN(Sqrt) {
  std::optional<Item> v = NumberInput(ev, call, input);
  if (!v) return {};
  return FromDouble(std::sqrt(NumericValue(*v).ToDouble()));
}

EHR_FHIRPATH_FN(Log) {
  std::optional<Item> v = NumberInput(ev, call, input);
  Collection base_arg = ev.Arg(call, 0, scope);
  std::optional<Item> base = NumberIn(ev, call.arg(0), base_arg, "the base of log()");
  if (!v || !base) return {};
  const double x = NumericValue(*v).ToDouble();
  const double b = NumericValue(*base).ToDouble();
  // The common bases have exact library functions: 100.log(10) is 2, not 1.9999999999999998.
  if (b == 10) return FromDouble(std::log10(x));
  if (b == 2) return FromDouble(std::log2(x));
  return FromDouble(std::log(x) / std::log(b));
}

// base^exponent for exponent >= 0 by squaring; nullopt on overflow.
std::optional<int64_t> IntegerPower(int64_t base, int64_t exponent) {
  int64_t result = 1;
  while (exponent > 0) {
    if (exponent & 1) {
      if (__builtin_mul_overflow(result, base, &result)) return std::nullopt;
    }
    exponent >>= 1;
    if (exponent > 0 && __builtin_mul_overflow(base, base, &base)) return std::nullopt;
  }
  return result;
}

std::optional<Decimal> DecimalPower(Decimal base, int64_t exponent) {
  Decimal result = Decimal::FromInt(1);
  while (exponent > 0) {
    if (exponent & 1) {
      std::optional<Decimal> r = Decimal::Mul(result, base);
      if (!r) return std::nullopt;
      result = *r;
    }
    exponent >>= 1;
    if (exponent > 0) {
      std::optional<Decimal> b = Decimal::Mul(base, base);
      if (!b) return std::nullopt;
      base = *b;
    }
  }
  return result;
}

// Integer to a non-negative Integer stays an Integer (overflow is an error, as for `*`);
// a Decimal to a non-negative Integer is exact (1.1.power(2) = 1.21, not 1.2100000000000002);
// anything else is computed in double.
EHR_FHIRPATH_FN(Power) {
  std::optional<Item> v = NumberInput(ev, call, input);
  Collection exponent_arg = ev.Arg(call, 0, scope);
  std::optional<Item> exponent = NumberIn(ev, call.arg(0), exponent_arg, "the exponent of power()");
  if (!v || !exponent) return {};
  if (exponent->kind() == ItemKind::kInteger && exponent->integer() >= 0) {
    if (v->kind() == ItemKind::kInteger) {
      std::optional<int64_t> r = IntegerPower(v->integer(), exponent->integer());
      if (!r) ev.Fail(call, "integer overflow");
      return OneItem(Item::Integer(*r));
    }
    if (std::optional<Decimal> r = DecimalPower(v->decimal(), exponent->integer())) return OneItem(Item::Dec(*r));
  }
  return FromDouble(std::pow(NumericValue(*v).ToDouble(), NumericValue(*exponent).ToDouble()));
}

EHR_FHIRPATH_FN(Round) {
  std::optional<Item> v = NumberInput(ev, call, input);
  // An empty precision is the same as none.
  std::optional<int64_t> precision = call.arg_count() > 0 ? ev.ArgInteger(call, 0, scope) : std::nullopt;
  if (!v) return {};
  if (precision && *precision < 0) ev.Fail(call.arg(0), "round() needs a precision >= 0");
  if (precision && *precision > Decimal::kMaxScale) return {};
  std::optional<Decimal> r = NumericValue(*v).Round(static_cast<int>(precision.value_or(0)));
  return r ? OneItem(Item::Dec(*r)) : Collection{};
}

constexpr FunctionDef kMath[] = {
    {"abs", 0, 0, Abs},   {"ceiling", 0, 0, Ceiling},   {"exp", 0, 0, Exp},     {"floor", 0, 0, Floor},
    {"ln", 0, 0, Ln},     {"log", 1, 1, Log},           {"power", 1, 1, Power}, {"round", 0, 1, Round},
    {"sqrt", 0, 0, Sqrt}, {"truncate", 0, 0, Truncate},
};

}  // namespace

std::span<const FunctionDef> MathFunctions() { return kMath; }

}  // namespace ehr::fhirpath
