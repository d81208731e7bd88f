#include "core/decimal.h"

#include <array>
#include <charconv>
#include <cstdint>
#include <system_error>

namespace ehr {
namespace {

using u128 = unsigned __int128;

// Invariant of every Decimal built here: |coefficient| < 10^38 (38 digits). Besides giving
// the documented precision, it keeps Negated and Abs free of overflow: the int128 minimum
// (about -1.7e38) can never be a coefficient.
constexpr int kMaxDigits = 38;

constexpr std::array<u128, kMaxDigits + 1> MakePowersOfTen() {
  std::array<u128, kMaxDigits + 1> p{};
  p[0] = 1;
  for (int i = 1; i <= kMaxDigits; ++i) p[i] = p[i - 1] * 10;
  return p;
}
constexpr std::array<u128, kMaxDigits + 1> kPow10 = MakePowersOfTen();
constexpr u128 kLimit = kPow10[kMaxDigits];  // first magnitude that does not fit

u128 Magnitude(__int128 v) { return v < 0 ? -static_cast<u128>(v) : static_cast<u128>(v); }

// A 256-bit unsigned integer, just wide enough for the exact intermediates of this file:
// aligned sums (< 2 * 10^76), products of two coefficients (< 10^76) and boundaries
// (< 10^67). Callers keep within that range, so carries out of the top limb cannot occur.
struct U256 {
  std::array<uint64_t, 4> limb{};  // little-endian

  static U256 From(u128 v) {
    U256 r;
    r.limb[0] = static_cast<uint64_t>(v);
    r.limb[1] = static_cast<uint64_t>(v >> 64);
    return r;
  }
  // The full product of two 128-bit values.
  static U256 Product(u128 a, u128 b) {
    const uint64_t x[2] = {static_cast<uint64_t>(a), static_cast<uint64_t>(a >> 64)};
    const uint64_t y[2] = {static_cast<uint64_t>(b), static_cast<uint64_t>(b >> 64)};
    U256 r;
    for (int i = 0; i < 2; ++i) {
      u128 carry = 0;
      for (int j = 0; j < 2; ++j) {
        u128 t = static_cast<u128>(x[i]) * y[j] + r.limb[i + j] + carry;
        r.limb[i + j] = static_cast<uint64_t>(t);
        carry = t >> 64;
      }
      r.limb[i + 2] = static_cast<uint64_t>(carry);
    }
    return r;
  }

  bool FitsU128() const { return (limb[2] | limb[3]) == 0; }
  u128 Low128() const { return (static_cast<u128>(limb[1]) << 64) | limb[0]; }
  // True when the value needs more than 38 decimal digits.
  bool TooWide() const { return !FitsU128() || Low128() >= kLimit; }

  void MulSmall(uint32_t m) {
    u128 carry = 0;
    for (uint64_t& l : limb) {
      u128 t = static_cast<u128>(l) * m + carry;
      l = static_cast<uint64_t>(t);
      carry = t >> 64;
    }
  }
  void MulPow10(int n) {
    for (; n > 0; n -= 9) MulSmall(static_cast<uint32_t>(kPow10[n < 9 ? n : 9]));
  }
  // Divides in place; returns the remainder.
  uint32_t DivSmall(uint32_t d) {
    u128 rem = 0;
    for (int i = 3; i >= 0; --i) {
      u128 cur = (rem << 64) | limb[i];
      limb[i] = static_cast<uint64_t>(cur / d);
      rem = cur % d;
    }
    return static_cast<uint32_t>(rem);
  }
  void Add(const U256& o) {
    u128 carry = 0;
    for (int i = 0; i < 4; ++i) {
      u128 t = static_cast<u128>(limb[i]) + o.limb[i] + carry;
      limb[i] = static_cast<uint64_t>(t);
      carry = t >> 64;
    }
  }
  // Requires *this >= o.
  void Sub(const U256& o) {
    uint64_t borrow = 0;
    for (int i = 0; i < 4; ++i) {
      uint64_t a = limb[i], b = o.limb[i];
      uint64_t d = a - b - borrow;
      borrow = (a < b || (a == b && borrow)) ? 1 : 0;
      limb[i] = d;
    }
  }
  static int Compare(const U256& a, const U256& b) {
    for (int i = 3; i >= 0; --i) {
      if (a.limb[i] != b.limb[i]) return a.limb[i] < b.limb[i] ? -1 : 1;
    }
    return 0;
  }
};

// How a magnitude is cut to fewer fractional digits.
enum class Cut { kHalfUp, kTruncate };

// Removes `digits` trailing digits from `mag`, rounding per `cut` (half up on the magnitude
// is half away from zero on the signed value).
void DropDigits(U256& mag, int digits, Cut cut) {
  uint32_t last = 0;
  for (int i = 0; i < digits; ++i) last = mag.DivSmall(10);
  // Only the most significant dropped digit decides a half-up rounding.
  if (cut == Cut::kHalfUp && digits > 0 && last >= 5) mag.Add(U256::From(1));
}

// A coefficient and scale on their way to becoming a Decimal (whose constructor is private).
struct Parts {
  __int128 coefficient;
  int scale;
};

// sign * mag * 10^-scale, rounding away fractional digits (half away from zero) until it
// fits in 38 digits with scale <= kMaxScale. nullopt when the integral part alone is too wide.
std::optional<Parts> Fit(bool negative, U256 mag, int scale) {
  int drop = scale > Decimal::kMaxScale ? scale - Decimal::kMaxScale : 0;
  {
    // Count digits to learn how many more must go for the coefficient to fit.
    U256 probe = mag;
    for (int i = 0; i < drop; ++i) probe.DivSmall(10);
    while (probe.TooWide()) {
      probe.DivSmall(10);
      ++drop;
    }
  }
  if (drop > scale) return std::nullopt;
  DropDigits(mag, drop, Cut::kHalfUp);
  scale -= drop;
  if (mag.TooWide()) {  // 99..9 rounded up to 10^38: one more (exact) digit goes
    if (scale == 0) return std::nullopt;
    mag.DivSmall(10);
    --scale;
  }
  const __int128 c = static_cast<__int128>(mag.Low128());
  return Parts{negative ? -c : c, scale};
}

}  // namespace

std::optional<Decimal> Decimal::Parse(std::string_view text) {
  size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) negative = text[i++] == '-';
  auto is_digit = [&](size_t k) { return k < text.size() && text[k] >= '0' && text[k] <= '9'; };
  if (!is_digit(i)) return std::nullopt;
  // JSON: no leading zeros in the integral part ("0", "0.5", but not "01").
  if (text[i] == '0' && is_digit(i + 1)) return std::nullopt;

  u128 coefficient = 0;
  int scale = 0;
  auto push_digit = [&](char ch) {
    coefficient = coefficient * 10 + static_cast<unsigned>(ch - '0');
    return coefficient < kLimit;
  };
  while (is_digit(i)) {
    if (!push_digit(text[i++])) return std::nullopt;
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    if (!is_digit(i)) return std::nullopt;
    while (is_digit(i)) {
      if (!push_digit(text[i++])) return std::nullopt;
      ++scale;
    }
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool exp_negative = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) exp_negative = text[i++] == '-';
    if (!is_digit(i)) return std::nullopt;
    int exponent = 0;
    while (is_digit(i)) {
      exponent = exponent * 10 + (text[i++] - '0');
      // Anything this large cannot fit either way; capping keeps `exponent` from overflowing.
      if (exponent > 2 * kMaxDigits) return std::nullopt;
    }
    scale += exp_negative ? exponent : -exponent;
  }
  if (i != text.size()) return std::nullopt;
  if (scale < 0) {
    if (coefficient != 0) {
      if (-scale > kMaxDigits || coefficient >= kLimit / kPow10[-scale]) return std::nullopt;
      coefficient *= kPow10[-scale];
    }
    scale = 0;
  }
  // Parsing is exact: a scale beyond kMaxScale would mean dropping written digits.
  if (scale > kMaxScale) return std::nullopt;
  __int128 c = static_cast<__int128>(coefficient);
  return Decimal(negative ? -c : c, scale);
}

std::optional<Decimal> Decimal::FromDouble(double v) {
  // std::to_chars without a format gives the shortest text that reads back as `v`.
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  if (ec != std::errc()) return std::nullopt;
  std::string_view text(buf, static_cast<size_t>(end - buf));
  if (text.find_first_of("ni") != std::string_view::npos) return std::nullopt;  // nan, inf
  return Parse(text);
}

std::string Decimal::ToString() const {
  u128 mag = Magnitude(coefficient_);
  char digits[kMaxDigits + 2];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + static_cast<int>(mag % 10));
    mag /= 10;
  } while (mag != 0);
  while (n <= scale_) digits[n++] = '0';  // at least one digit before the point
  std::string out;
  out.reserve(static_cast<size_t>(n) + 2);
  if (coefficient_ < 0) out.push_back('-');
  for (int k = n - 1; k >= 0; --k) {
    out.push_back(digits[k]);
    if (k == scale_ && k != 0) out.push_back('.');
  }
  return out;
}

double Decimal::ToDouble() const {
  // from_chars rounds correctly and ignores the locale, unlike strtod.
  std::string text = ToString();
  double v = 0;
  std::from_chars(text.data(), text.data() + text.size(), v);
  return v;
}

std::optional<int64_t> Decimal::ToInt64() const {
  if (!IsInteger()) return std::nullopt;
  __int128 v = coefficient_ / static_cast<__int128>(kPow10[scale_]);
  if (v < INT64_MIN || v > INT64_MAX) return std::nullopt;
  return static_cast<int64_t>(v);
}

bool Decimal::IsInteger() const { return Magnitude(coefficient_) % kPow10[scale_] == 0; }

Decimal Decimal::Normalized() const {
  __int128 c = coefficient_;
  int s = scale_;
  while (s > 0 && c % 10 == 0) {
    c /= 10;
    --s;
  }
  return Decimal(c, s);
}

std::optional<Decimal> Decimal::Rescaled(int scale) const {
  if (scale < 0 || scale > kMaxScale) return std::nullopt;
  U256 mag = U256::From(Magnitude(coefficient_));
  if (scale >= scale_) {
    mag.MulPow10(scale - scale_);
    if (mag.TooWide()) return std::nullopt;
  } else {
    DropDigits(mag, scale_ - scale, Cut::kHalfUp);  // fewer digits plus at most a carry: fits
  }
  const __int128 c = static_cast<__int128>(mag.Low128());
  return Decimal(coefficient_ < 0 ? -c : c, scale);
}

int Decimal::Compare(const Decimal& a, const Decimal& b) {
  if (a.sign() != b.sign()) return a.sign() < b.sign() ? -1 : 1;
  const int s = a.scale_ > b.scale_ ? a.scale_ : b.scale_;
  U256 x = U256::From(Magnitude(a.coefficient_));
  U256 y = U256::From(Magnitude(b.coefficient_));
  x.MulPow10(s - a.scale_);
  y.MulPow10(s - b.scale_);
  const int by_magnitude = U256::Compare(x, y);
  return a.sign() < 0 ? -by_magnitude : by_magnitude;
}

std::optional<Decimal> Decimal::Add(const Decimal& a, const Decimal& b) {
  const int s = a.scale_ > b.scale_ ? a.scale_ : b.scale_;
  U256 x = U256::From(Magnitude(a.coefficient_));
  U256 y = U256::From(Magnitude(b.coefficient_));
  x.MulPow10(s - a.scale_);
  y.MulPow10(s - b.scale_);
  const bool a_negative = a.coefficient_ < 0;
  std::optional<Parts> sum;
  if (a_negative == (b.coefficient_ < 0)) {
    x.Add(y);
    sum = Fit(a_negative, x, s);
  } else if (U256::Compare(x, y) >= 0) {  // opposite signs: the larger magnitude gives the sign
    x.Sub(y);
    sum = Fit(a_negative, x, s);
  } else {
    y.Sub(x);
    sum = Fit(!a_negative, y, s);
  }
  if (!sum) return std::nullopt;
  return Decimal(sum->coefficient, sum->scale);
}

std::optional<Decimal> Decimal::Sub(const Decimal& a, const Decimal& b) { return Add(a, b.Negated()); }

std::optional<Decimal> Decimal::Mul(const Decimal& a, const Decimal& b) {
  const U256 product = U256::Product(Magnitude(a.coefficient_), Magnitude(b.coefficient_));
  std::optional<Parts> p = Fit((a.coefficient_ < 0) != (b.coefficient_ < 0), product, a.scale_ + b.scale_);
  if (!p) return std::nullopt;
  return Decimal(p->coefficient, p->scale);
}

namespace {

// The digits of n / d (n < 10^38, 0 < d < 10^38) as Div and IntDiv need them:
// quotient = floor(n * 10^k / d) with k = max_k, or with a smaller k once the quotient
// has 38 digits, and the next digit of the expansion (for rounding).
struct QuotientDigits {
  u128 quotient = 0;
  int k = 0;
  int next_digit = 0;
};

QuotientDigits DivideDigits(u128 n, u128 d, int max_k) {
  QuotientDigits r;
  r.quotient = n / d;
  u128 rem = n % d;
  // rem * 10 could overflow 128 bits (rem < d < 10^38), so the next digit is found by adding
  // rem ten times, subtracting d whenever the sum reaches it: the sum stays below 2d.
  auto next = [&]() {
    u128 acc = 0;
    int digit = 0;
    for (int i = 0; i < 10; ++i) {
      acc += rem;
      if (acc >= d) {
        acc -= d;
        ++digit;
      }
    }
    rem = acc;
    return digit;
  };
  while (r.k < max_k && r.quotient < kPow10[kMaxDigits - 1]) {
    r.quotient = r.quotient * 10 + static_cast<unsigned>(next());
    ++r.k;
  }
  r.next_digit = next();
  return r;
}

}  // namespace

std::optional<Decimal> Decimal::Div(const Decimal& a, const Decimal& b) {
  if (b.coefficient_ == 0) return std::nullopt;
  const int input_scale = a.scale_ > b.scale_ ? a.scale_ : b.scale_;
  const int target = input_scale > 8 ? input_scale : 8;
  // value = (|a| / |b|) * 10^shift; its coefficient at scale `target` needs k = target + shift
  // fractional digits of |a| / |b|.
  const int shift = b.scale_ - a.scale_;
  QuotientDigits q = DivideDigits(Magnitude(a.coefficient_), Magnitude(b.coefficient_), target + shift);
  int scale = q.k - shift;
  // Stopping short of k = shift means a quotient of 38 digits still scaled by a power of
  // ten: the integral part is too wide.
  if (scale < 0) return std::nullopt;
  U256 mag = U256::From(q.quotient);
  if (q.next_digit >= 5) mag.Add(U256::From(1));  // half away from zero
  // Fit only has work when rounding carried 99..9 to 10^38.
  std::optional<Parts> p = Fit((a.coefficient_ < 0) != (b.coefficient_ < 0), mag, scale);
  if (!p) return std::nullopt;
  Decimal result(p->coefficient, p->scale);
  while (result.scale_ > input_scale && result.coefficient_ % 10 == 0) {
    result.coefficient_ /= 10;
    --result.scale_;
  }
  return result;
}

std::optional<Decimal> Decimal::IntDiv(const Decimal& a, const Decimal& b) {
  if (b.coefficient_ == 0) return std::nullopt;
  const int shift = b.scale_ - a.scale_;
  u128 n = Magnitude(a.coefficient_);
  u128 d = Magnitude(b.coefficient_);
  u128 q;
  if (shift >= 0) {
    QuotientDigits digits = DivideDigits(n, d, shift);
    if (digits.k < shift) return std::nullopt;  // more than 38 integral digits
    q = digits.quotient;
  } else {
    // floor(floor(n / d) / 10^-shift) = floor(n / (d * 10^-shift)) for positive integers.
    q = -shift > kMaxDigits ? 0 : (n / d) / kPow10[-shift];
  }
  __int128 c = static_cast<__int128>(q);
  return Decimal((a.coefficient_ < 0) != (b.coefficient_ < 0) ? -c : c, 0);
}

std::optional<Decimal> Decimal::Mod(const Decimal& a, const Decimal& b) {
  if (b.coefficient_ == 0) return std::nullopt;
  // Aligned to the larger scale s, the remainder is |a|*10^(s-a.s) mod |b|*10^(s-b.s). Only
  // one side is multiplied; both products can exceed 128 bits, so each case avoids them.
  const int s = a.scale_ > b.scale_ ? a.scale_ : b.scale_;
  u128 n = Magnitude(a.coefficient_);
  u128 d = Magnitude(b.coefficient_);
  u128 rem;
  if (a.scale_ >= b.scale_) {
    U256 wide_d = U256::From(d);
    wide_d.MulPow10(a.scale_ - b.scale_);
    // A divisor wider than the dividend leaves it whole.
    rem = wide_d.FitsU128() ? n % wide_d.Low128() : n;
  } else {
    // (n * 10^e) mod d, one factor of ten at a time; the doubling-free step below keeps
    // every intermediate under 2d.
    rem = n % d;
    for (int e = b.scale_ - a.scale_; e > 0; --e) {
      u128 acc = 0;
      for (int i = 0; i < 10; ++i) {
        acc += rem;
        if (acc >= d) acc -= d;
      }
      rem = acc;
    }
  }
  __int128 c = static_cast<__int128>(rem);
  return Decimal(a.coefficient_ < 0 ? -c : c, s);
}

Decimal Decimal::Truncate() const { return Decimal(coefficient_ / static_cast<__int128>(kPow10[scale_]), 0); }

Decimal Decimal::Floor() const {
  Decimal t = Truncate();
  if (coefficient_ < 0 && !IsInteger()) t.coefficient_ -= 1;
  return t;
}

Decimal Decimal::Ceiling() const {
  Decimal t = Truncate();
  if (coefficient_ > 0 && !IsInteger()) t.coefficient_ += 1;
  return t;
}

std::optional<Decimal> Decimal::Round(int digits) const { return Rescaled(digits); }

namespace {

constexpr int kMaxBoundaryPrecision = 28;

// The exact boundary is the value ± half a unit of its last digit. Cutting it to
// `precision` digits follows the official suite (and the Java reference it was made
// from): the boundary nearer to zero than the value is truncated, the one farther from
// zero is rounded half away from zero. So 0.0034.highBoundary(1) is 0.0 and
// (-0.0034).lowBoundary(1) is -0.0, where floor/ceiling would give ±0.1.
std::optional<Parts> Boundary(__int128 coefficient, int scale, int precision, bool high) {
  if (precision < 0 || precision > kMaxBoundaryPrecision) return std::nullopt;
  const bool negative = coefficient < 0;
  // Zero has no inner side: both of its boundaries lie away from zero.
  const bool away_from_zero = coefficient == 0 || (high != negative);
  const bool result_negative = coefficient == 0 ? !high : negative;
  U256 mag = U256::From(Magnitude(coefficient));
  mag.MulSmall(10);
  if (away_from_zero) {
    mag.Add(U256::From(5));
  } else {
    mag.Sub(U256::From(5));
  }
  const int exact_scale = scale + 1;
  if (precision >= exact_scale) {
    mag.MulPow10(precision - exact_scale);
  } else {
    DropDigits(mag, exact_scale - precision, away_from_zero ? Cut::kHalfUp : Cut::kTruncate);
  }
  if (mag.TooWide()) return std::nullopt;
  const __int128 c = static_cast<__int128>(mag.Low128());
  return Parts{result_negative ? -c : c, precision};
}

}  // namespace

std::optional<Decimal> Decimal::LowBoundary(int precision) const {
  std::optional<Parts> p = Boundary(coefficient_, scale_, precision, /*high=*/false);
  if (!p) return std::nullopt;
  return Decimal(p->coefficient, p->scale);
}

std::optional<Decimal> Decimal::HighBoundary(int precision) const {
  std::optional<Parts> p = Boundary(coefficient_, scale_, precision, /*high=*/true);
  if (!p) return std::nullopt;
  return Decimal(p->coefficient, p->scale);
}

}  // namespace ehr
