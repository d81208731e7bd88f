// Decimal: an exact base-10 number, coefficient × 10^-scale.
//
// FHIR decimals and FHIRPath Decimal values keep their precision ("1.50" has scale 2) and
// compare by value (1.5 = 1.50). Binary floating point cannot do either, so arithmetic
// here is exact on a 128-bit coefficient (up to 38 significant digits); results that
// would need more are rounded half-away-from-zero to fit, and only a result whose integral
// part cannot fit is an overflow (nullopt). Division keeps at least 8 fractional digits
// (FHIRPath gives no rule; this is what the reference implementations print).
// Plain value type: trivially copyable, no allocation, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ehr {

class Decimal {
 public:
  static constexpr int kMaxScale = 38;

  constexpr Decimal() = default;  // 0 with scale 0
  static Decimal FromInt(int64_t v) { return Decimal(v, 0); }
  // Parses "-12.340", "5", "1e3", "1.5E-2" (JSON number syntax; a leading '+' is accepted).
  // The scale is the number of fractional digits written ("1.50" -> 2; exponents adjust it:
  // "1.5e-2" -> 0.015, scale 3; "1e3" -> 1000, scale 0). nullopt for anything else or when
  // the value does not fit.
  static std::optional<Decimal> Parse(std::string_view text);
  // The shortest decimal that round-trips the double (nullopt for NaN and infinities).
  static std::optional<Decimal> FromDouble(double v);

  // Text with exactly `scale()` fractional digits ("1.50", "-0.5", "3"). No exponent.
  std::string ToString() const;
  double ToDouble() const;
  // The value when it is integral (any scale: "3.00" -> 3) and fits, else nullopt.
  std::optional<int64_t> ToInt64() const;

  int scale() const { return scale_; }
  int sign() const { return coefficient_ < 0 ? -1 : coefficient_ > 0 ? 1 : 0; }
  bool IsInteger() const;  // no non-zero fractional digit
  // Same value with trailing fractional zeros removed ("1.500" -> "1.5", "2.0" -> "2").
  Decimal Normalized() const;
  // Same value with the given scale; rounds half away from zero when reducing it.
  // nullopt when it would not fit.
  std::optional<Decimal> Rescaled(int scale) const;

  // Value comparison: -1, 0, 1. Scale does not matter (1.5 == 1.50).
  static int Compare(const Decimal& a, const Decimal& b);
  friend bool operator==(const Decimal& a, const Decimal& b) { return Compare(a, b) == 0; }
  friend bool operator<(const Decimal& a, const Decimal& b) { return Compare(a, b) < 0; }

  // Arithmetic. Add/Sub keep the larger scale, Mul the sum of scales (reduced, rounding,
  // when over kMaxScale), Div at least max(8, a.scale, b.scale) digits, then trailing
  // zeros beyond the larger input scale removed ("1.0/3" -> 0.33333333, "4/2" -> 2).
  // Mod is truncated remainder with the sign of the dividend. nullopt on overflow and on
  // division by zero.
  static std::optional<Decimal> Add(const Decimal& a, const Decimal& b);
  static std::optional<Decimal> Sub(const Decimal& a, const Decimal& b);
  static std::optional<Decimal> Mul(const Decimal& a, const Decimal& b);
  static std::optional<Decimal> Div(const Decimal& a, const Decimal& b);
  static std::optional<Decimal> Mod(const Decimal& a, const Decimal& b);
  // Truncated integer division (FHIRPath `div`), scale 0.
  static std::optional<Decimal> IntDiv(const Decimal& a, const Decimal& b);
  Decimal Negated() const { return Decimal(-coefficient_, scale_); }
  Decimal Abs() const { return coefficient_ < 0 ? Negated() : *this; }

  // FHIRPath math, results with scale 0 except Round (scale `digits`, half away from zero).
  Decimal Truncate() const;
  Decimal Floor() const;
  Decimal Ceiling() const;
  std::optional<Decimal> Round(int digits) const;

  // FHIRPath precision(): the number of fractional digits written (scale).
  // lowBoundary()/highBoundary(): the least/greatest value that would round to this one at
  // its precision, given with `precision` fractional digits (default 8); nullopt when
  // precision is outside 0..28. E.g. 1.587.lowBoundary() = 1.58650000,
  // 1.587.highBoundary(2) = 1.59, (-1.587).lowBoundary(2) = -1.59, 1.lowBoundary(0) = 0
  // (see the LowBoundary*/HighBoundary* cases of ../shared/data/fhirpath/tests-fhir-r4.xml).
  // When `precision` is shorter than the exact boundary, the suite truncates the boundary
  // that lies nearer to zero than the value and rounds the farther one half away from zero,
  // so 0.0034.highBoundary(1) = 0.0 (not 0.1) and (-0.0034).lowBoundary(1) = 0.0.
  std::optional<Decimal> LowBoundary(int precision = 8) const;
  std::optional<Decimal> HighBoundary(int precision = 8) const;

  __int128 coefficient() const { return coefficient_; }

 private:
  constexpr Decimal(__int128 coefficient, int scale) : coefficient_(coefficient), scale_(scale) {}
  __int128 coefficient_ = 0;
  int scale_ = 0;
};

}  // namespace ehr
