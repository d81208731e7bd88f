// UCUM: parsing of unit codes and conversion between commensurable units.
//
// Units are the case-sensitive UCUM codes of ../shared/data/ucum/ucum-essence.xml, turned
// into constant tables by tools/gen_ucum.js (src/fhir/ucum/generated/, never edited by
// hand). A unit expression ("mg/dL", "kg.m/s2", "10*3/uL", "mm[Hg]", "/min", "%", "{beats}/min",
// "1") is reduced to a canonical form: a factor times a product of the seven base units
// (m, s, g, rad, K, C, cd) with integer exponents. Two units are commensurable when their
// exponents are equal. Special (non-ratio) units such as Cel and [degF] are converted with
// their offset functions; arbitrary units ([IU], [arb'U]) are commensurable only with
// themselves. Thread-safe: the tables are constant and the lookup index is built once.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace ehr::ucum {

// m, s, g, rad, K, C, cd in that order, then mol: UCUM defines the mole as a pure number
// (6.0221367e23), which would make mmol/L commensurable with cells per litre (10*3/uL)
// and compare a glucose with a white cell count; clinical use keeps amounts of substance
// apart, so the mole is a base unit here.
inline constexpr int kBaseUnits = 8;
inline constexpr int kMoleIndex = 7;

struct Canonical {
  // value_in_unit × factor = value in the canonical (base-unit) form. long double keeps
  // 64 bits of mantissa so that chains of exact decimal factors stay exact to ~19 digits.
  long double factor = 1;
  std::array<int8_t, kBaseUnits> exponents{};
  // Set for a special unit (Cel, [degF], [pH]...): only valid alone, and converted through
  // its function rather than the factor.
  std::string_view special;
  // Set for an arbitrary unit ([IU]): the atom, which only converts to itself.
  std::string_view arbitrary;
};

// Parses a unit expression. kInvalid with a message naming the position for an unknown
// atom, a bad prefix, or a syntax error. Annotations ({...}) count as 1.
Result<Canonical> Parse(std::string_view unit);

// Whether the two units can be converted into each other.
bool Commensurable(std::string_view from, std::string_view to);

// Converts `value` expressed in `from` into `to`. kInvalid when either unit does not parse,
// kUnprocessable when they are not commensurable.
Result<long double> Convert(long double value, std::string_view from, std::string_view to);

// The value in canonical base units together with the canonical unit text
// ("g.m-1" style, atoms in base-unit order, "1" for dimensionless), for indexes that
// compare quantities across units (search on `value-quantity`). Temperatures (Cel,
// [degF], [degRe]) become kelvin; the logarithmic special units ([pH], B, Np, ...) keep
// their own code as the canonical unit (their value only scaled by a prefix).
struct CanonicalValue {
  long double value;
  std::string unit;
};
Result<CanonicalValue> ToCanonical(long double value, std::string_view unit);

}  // namespace ehr::ucum
