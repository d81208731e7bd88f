#include "core/decimal.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <limits>
#include <string>

namespace ehr {
namespace {

// Parses a literal the test relies on; a typo in a test should fail loudly, not compare nullopt.
Decimal D(std::string_view text) {
  std::optional<Decimal> d = Decimal::Parse(text);
  EXPECT_TRUE(d.has_value()) << text;
  return d.value_or(Decimal());
}

// Joins pieces of long literals. (A function rather than operator+ on a literal, which
// sets off a false -Wrestrict in GCC 12.)
std::string Cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) out.append(p);
  return out;
}

std::string Str(const std::optional<Decimal>& d) { return d ? d->ToString() : "<nullopt>"; }

const std::string k38Nines(38, '9');
// 0.00..01 with scale 38: the smallest positive Decimal.
const std::string kTiny = Cat({"0.", std::string(37, '0'), "1"});

TEST(Decimal, ParseKeepsWrittenScale) {
  EXPECT_EQ(D("-12.340").ToString(), "-12.340");
  EXPECT_EQ(D("-12.340").scale(), 3);
  EXPECT_EQ(D("5").ToString(), "5");
  EXPECT_EQ(D("+7.0").ToString(), "7.0");
  EXPECT_EQ(D("0.00").ToString(), "0.00");
  EXPECT_EQ(D("-0").ToString(), "0");
  EXPECT_EQ(D("-0.5").ToString(), "-0.5");
  EXPECT_EQ(D("1.58700").scale(), 5);  // PrecisionDecimal: 1.58700.precision() = 5
}

TEST(Decimal, ParseExponents) {
  EXPECT_EQ(D("1e3").ToString(), "1000");
  EXPECT_EQ(D("1e3").scale(), 0);
  EXPECT_EQ(D("1.5E-2").ToString(), "0.015");
  EXPECT_EQ(D("1.5E-2").scale(), 3);
  EXPECT_EQ(D("1.50e1").ToString(), "15.0");
  EXPECT_EQ(D("2E+2").ToString(), "200");
  EXPECT_EQ(D("-0.0e5").ToString(), "0");
}

TEST(Decimal, ParseRejectsMalformed) {
  for (const char* bad :
       {"",   "-",   "+",    "1.",    ".5",  "01",  "-01.5",          "1e",  "1e+",     "1e-", "abc", "1.2.3", " 1",
        "1 ", "1,5", "0x10", "1e3.5", "--1", "+-1", "1e999999999999", "NaN", "Infinity"}) {
    EXPECT_FALSE(Decimal::Parse(bad).has_value()) << bad;
  }
}

TEST(Decimal, ParseLimits) {
  EXPECT_EQ(D(k38Nines).ToString(), k38Nines);
  EXPECT_EQ(D(Cat({"-", k38Nines})).ToString(), Cat({"-", k38Nines}));
  EXPECT_FALSE(Decimal::Parse(Cat({"1", std::string(38, '0')})).has_value());
  EXPECT_FALSE(Decimal::Parse(Cat({k38Nines, "9"})).has_value());
  EXPECT_FALSE(Decimal::Parse("1e38").has_value());
  EXPECT_EQ(D("1e37").ToString(), Cat({"1", std::string(37, '0')}));
  EXPECT_EQ(D(kTiny).scale(), 38);
  EXPECT_FALSE(Decimal::Parse(Cat({kTiny, "0"})).has_value());  // scale 39
  EXPECT_FALSE(Decimal::Parse("1e-39").has_value());
  EXPECT_FALSE(Decimal::Parse("1e50").has_value());
  EXPECT_EQ(D("0e50").ToString(), "0");
  // Leading fractional zeros are not significant digits.
  EXPECT_EQ(D(Cat({"0.000", std::string(35, '9')})).scale(), 38);
}

TEST(Decimal, FromDoubleIsShortestRoundTrip) {
  EXPECT_EQ(Str(Decimal::FromDouble(0.1)), "0.1");
  EXPECT_EQ(Str(Decimal::FromDouble(-2.5)), "-2.5");
  EXPECT_EQ(Str(Decimal::FromDouble(100.0)), "100");
  EXPECT_EQ(Str(Decimal::FromDouble(1e21)), "1000000000000000000000");
  EXPECT_EQ(Str(Decimal::FromDouble(1.5e-7)), "0.00000015");
  EXPECT_EQ(Str(Decimal::FromDouble(0.0)), "0");
  EXPECT_FALSE(Decimal::FromDouble(std::numeric_limits<double>::quiet_NaN()).has_value());
  EXPECT_FALSE(Decimal::FromDouble(std::numeric_limits<double>::infinity()).has_value());
  EXPECT_FALSE(Decimal::FromDouble(-std::numeric_limits<double>::infinity()).has_value());
  EXPECT_FALSE(Decimal::FromDouble(1e300).has_value());  // does not fit 38 digits
}

TEST(Decimal, ToDouble) {
  EXPECT_EQ(D("0.1").ToDouble(), 0.1);
  EXPECT_EQ(D("-1234.5").ToDouble(), -1234.5);
  EXPECT_EQ(D(k38Nines).ToDouble(), 1e38);
  EXPECT_EQ(D(kTiny).ToDouble(), 1e-38);
}

TEST(Decimal, ToInt64) {
  EXPECT_EQ(D("3.00").ToInt64(), 3);
  EXPECT_EQ(D("-42").ToInt64(), -42);
  EXPECT_FALSE(D("3.5").ToInt64().has_value());
  EXPECT_EQ(D("9223372036854775807").ToInt64(), INT64_MAX);
  EXPECT_EQ(D("-9223372036854775808").ToInt64(), INT64_MIN);
  EXPECT_FALSE(D("9223372036854775808").ToInt64().has_value());
  EXPECT_FALSE(D(k38Nines).ToInt64().has_value());
  EXPECT_EQ(Decimal::FromInt(INT64_MIN).ToString(), "-9223372036854775808");
}

TEST(Decimal, IsIntegerAndNormalized) {
  EXPECT_TRUE(D("3.000").IsInteger());
  EXPECT_FALSE(D("3.001").IsInteger());
  EXPECT_TRUE(D("0.0").IsInteger());
  EXPECT_EQ(D("1.500").Normalized().ToString(), "1.5");
  EXPECT_EQ(D("2.0").Normalized().ToString(), "2");
  EXPECT_EQ(D("-0.000").Normalized().ToString(), "0");
  EXPECT_EQ(D("100").Normalized().ToString(), "100");  // integral zeros stay
}

TEST(Decimal, RescaledRoundsHalfAwayFromZero) {
  EXPECT_EQ(Str(D("1.25").Rescaled(1)), "1.3");
  EXPECT_EQ(Str(D("-1.25").Rescaled(1)), "-1.3");
  EXPECT_EQ(Str(D("1.249").Rescaled(1)), "1.2");
  EXPECT_EQ(Str(D("9.96").Rescaled(1)), "10.0");
  EXPECT_EQ(Str(D("1.5").Rescaled(3)), "1.500");
  EXPECT_EQ(Str(D(Cat({"0.", k38Nines})).Rescaled(0)), "1");
  EXPECT_EQ(Str(D(Cat({k38Nines.substr(1), ".9"})).Rescaled(0)), Cat({"1", std::string(37, '0')}));
  EXPECT_FALSE(D(k38Nines).Rescaled(1).has_value());
  EXPECT_FALSE(D("1").Rescaled(-1).has_value());
  EXPECT_FALSE(D("1").Rescaled(39).has_value());
}

TEST(Decimal, CompareByValue) {
  EXPECT_EQ(D("1.5"), D("1.50"));
  EXPECT_EQ(D("0"), D("-0.000"));
  EXPECT_LT(D("-2"), D("-1.5"));
  EXPECT_LT(D("-1"), D("0"));
  EXPECT_LT(D("1.49999"), D("1.5"));
  EXPECT_EQ(Decimal::Compare(D("2"), D("1.99")), 1);
  EXPECT_EQ(Decimal::Compare(D("-2"), D("-1.99")), -1);
  // Alignment of a 38-digit integer with a scale-38 value needs 76 digits.
  EXPECT_LT(D(kTiny), D(k38Nines));
  EXPECT_LT(D(Cat({"-", k38Nines})), D(Cat({"-", kTiny})));
  EXPECT_LT(D(Cat({"0.", k38Nines})), D("1"));
}

TEST(Decimal, AddAndSub) {
  EXPECT_EQ(Str(Decimal::Add(D("1.1"), D("2.22"))), "3.32");
  EXPECT_EQ(Str(Decimal::Add(D("-1.5"), D("1.5"))), "0.0");
  EXPECT_EQ(Str(Decimal::Add(D("-1.5"), D("0.25"))), "-1.25");
  EXPECT_EQ(Str(Decimal::Add(D("1.5"), D("-3"))), "-1.5");
  EXPECT_EQ(Str(Decimal::Sub(D("0.3"), D("0.1"))), "0.2");
  EXPECT_EQ(Str(Decimal::Sub(D("-0.3"), D("-0.1"))), "-0.2");
  // Integral part too wide: overflow.
  EXPECT_FALSE(Decimal::Add(D(k38Nines), D("1")).has_value());
  EXPECT_FALSE(Decimal::Sub(D(Cat({"-", k38Nines})), D("1")).has_value());
  EXPECT_EQ(Str(Decimal::Add(D(k38Nines), D("-1"))), Cat({k38Nines.substr(1), "8"}));
  // 39 digits needed: the fraction is rounded (half away from zero) to make room.
  EXPECT_EQ(Str(Decimal::Add(D(Cat({k38Nines.substr(1), ".9"})), D("0.1"))), Cat({"1", std::string(37, '0')}));
  EXPECT_EQ(Str(Decimal::Add(D("1"), D(kTiny))), Cat({"1.", std::string(37, '0')}));
  EXPECT_EQ(Str(Decimal::Add(D("1"), D(Cat({"0.", std::string(37, '0'), "5"})))),
            Cat({"1.", std::string(36, '0'), "1"}));
  EXPECT_EQ(Str(Decimal::Sub(D("-1"), D(Cat({"0.", std::string(37, '0'), "5"})))),
            Cat({"-1.", std::string(36, '0'), "1"}));
  EXPECT_EQ(Str(Decimal::Add(D("1"), D(Cat({"0.", std::string(37, '0'), "4"})))), Cat({"1.", std::string(37, '0')}));
}

TEST(Decimal, Mul) {
  EXPECT_EQ(Str(Decimal::Mul(D("1.5"), D("2.25"))), "3.375");
  EXPECT_EQ(Str(Decimal::Mul(D("-2"), D("3"))), "-6");
  EXPECT_EQ(Str(Decimal::Mul(D("-2.0"), D("-0.5"))), "1.00");
  EXPECT_EQ(Str(Decimal::Mul(D("0"), D("-3.5"))), "0.0");
  EXPECT_EQ(Str(Decimal::Mul(D("1e19"), D("1e18"))), Cat({"1", std::string(37, '0')}));
  EXPECT_FALSE(Decimal::Mul(D("1e19"), D("1e19")).has_value());
  EXPECT_FALSE(Decimal::Mul(D(k38Nines), D(k38Nines)).has_value());
  // Scale 40 reduced to 38, rounding half away from zero.
  EXPECT_EQ(Str(Decimal::Mul(D("0.5"), D(kTiny))), kTiny);
  EXPECT_EQ(Str(Decimal::Mul(D("-0.5"), D(kTiny))), Cat({"-", kTiny}));
  EXPECT_EQ(Str(Decimal::Mul(D("0.4"), D(kTiny))), Cat({"0.", std::string(38, '0')}));
  // 0.99..9 (38 nines) squared: 76 digits rounded to 38.
  EXPECT_EQ(Str(Decimal::Mul(D(Cat({"0.", k38Nines})), D(Cat({"0.", k38Nines})))),
            Cat({"0.", std::string(37, '9'), "8"}));
}

TEST(Decimal, DivKeepsEightDigitsAndDropsTrailingZeros) {
  EXPECT_EQ(Str(Decimal::Div(D("1.0"), D("3"))), "0.33333333");
  EXPECT_EQ(Str(Decimal::Div(D("2"), D("3"))), "0.66666667");
  EXPECT_EQ(Str(Decimal::Div(D("-2"), D("3"))), "-0.66666667");
  EXPECT_EQ(Str(Decimal::Div(D("1.2"), D("1.8"))), "0.66666667");
  EXPECT_EQ(Str(Decimal::Div(D("4"), D("2"))), "2");        // testDivide2
  EXPECT_EQ(Str(Decimal::Div(D("1"), D("1"))), "1");        // testDivide1
  EXPECT_EQ(Str(Decimal::Div(D("4.0"), D("2.0"))), "2.0");  // testDivide3
  EXPECT_EQ(Str(Decimal::Div(D("1"), D("2"))), "0.5");      // testDivide4
  EXPECT_EQ(Str(Decimal::Div(D("10"), D("-4"))), "-2.5");
  EXPECT_EQ(Str(Decimal::Div(D("100"), D("0.01"))), "10000.00");  // keeps the input scale
  EXPECT_EQ(Str(Decimal::Div(D("1"), D("3e10"))), "0");
  // An input scale above 8 raises the result's.
  EXPECT_EQ(Str(Decimal::Div(D("1.0000000000"), D("3"))), "0.3333333333");
  EXPECT_EQ(Str(Decimal::Div(D(k38Nines), D("1"))), k38Nines);
  EXPECT_EQ(Str(Decimal::Div(D(k38Nines), D("10"))), Cat({k38Nines.substr(1), ".9"}));
  // The quotient of two small values needs more than 38 digits at scale 38.
  EXPECT_EQ(Str(Decimal::Div(D(kTiny), D("3"))), Cat({"0.", std::string(38, '0')}));
  EXPECT_FALSE(Decimal::Div(D("1e37"), D("0.1")).has_value());
  EXPECT_FALSE(Decimal::Div(D("1"), D(kTiny)).has_value());
  EXPECT_FALSE(Decimal::Div(D("1"), D("0")).has_value());  // testDivide6
  EXPECT_FALSE(Decimal::Div(D("0"), D("0.0")).has_value());
}

TEST(Decimal, DivRoundingCarries) {
  EXPECT_EQ(Str(Decimal::Div(D("19.999999999"), D("2"))), "10.000000000");
  EXPECT_EQ(Str(Decimal::Div(D(Cat({"1.", std::string(37, '9')})), D("2"))), Cat({"1.", std::string(37, '0')}));
  // 38 digits available before the point leave one after it.
  EXPECT_EQ(Str(Decimal::Div(D(Cat({"2", std::string(37, '0')})), D("3"))), Cat({std::string(37, '6'), ".7"}));
  EXPECT_FALSE(Decimal::Div(D(k38Nines), D("0.5")).has_value());
}

TEST(Decimal, RoundOfQuotient) {
  std::optional<Decimal> q = Decimal::Div(D("1.2"), D("1.8"));
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(Str(q->Round(2)), "0.67");      // testDivide5, testNEquality23
  EXPECT_NE(*q->Round(2), D("0.6666667"));  // testNEquality22
}

TEST(Decimal, Mod) {
  EXPECT_EQ(Str(Decimal::Mod(D("1"), D("1"))), "0");        // testMod1
  EXPECT_EQ(Str(Decimal::Mod(D("4"), D("2"))), "0");        // testMod2
  EXPECT_EQ(Str(Decimal::Mod(D("5"), D("2"))), "1");        // testMod3
  EXPECT_EQ(Str(Decimal::Mod(D("2.2"), D("1.8"))), "0.4");  // testMod4
  EXPECT_FALSE(Decimal::Mod(D("5"), D("0")).has_value());   // testMod5
  EXPECT_EQ(Str(Decimal::Mod(D("-5"), D("2"))), "-1");
  EXPECT_EQ(Str(Decimal::Mod(D("5"), D("-2"))), "1");
  EXPECT_EQ(Str(Decimal::Mod(D("5.5"), D("2"))), "1.5");
  EXPECT_EQ(Str(Decimal::Mod(D("1"), D("0.3"))), "0.1");
  EXPECT_EQ(Str(Decimal::Mod(D("0.5"), D("1e37"))), "0.5");
  // Aligning these needs 10^75: 10^37 mod 3e-38 = (10^75 mod 3) * 1e-38.
  EXPECT_EQ(Str(Decimal::Mod(D("1e37"), D(Cat({"0.", std::string(37, '0'), "3"})))), kTiny);
  EXPECT_EQ(Str(Decimal::Mod(D(k38Nines), D(kTiny))), Cat({"0.", std::string(38, '0')}));
}

TEST(Decimal, IntDiv) {
  EXPECT_EQ(Str(Decimal::IntDiv(D("1"), D("1"))), "1");       // testDiv1
  EXPECT_EQ(Str(Decimal::IntDiv(D("4"), D("2"))), "2");       // testDiv2
  EXPECT_EQ(Str(Decimal::IntDiv(D("5"), D("2"))), "2");       // testDiv3
  EXPECT_EQ(Str(Decimal::IntDiv(D("2.2"), D("1.8"))), "1");   // testDiv4
  EXPECT_FALSE(Decimal::IntDiv(D("5"), D("0")).has_value());  // testDiv5
  EXPECT_EQ(Str(Decimal::IntDiv(D("-5"), D("2"))), "-2");
  EXPECT_EQ(Str(Decimal::IntDiv(D("10"), D("0.5"))), "20");
  EXPECT_EQ(Str(Decimal::IntDiv(D("0.5"), D("10"))), "0");
  EXPECT_EQ(Str(Decimal::IntDiv(D("5"), D("1e37"))), "0");
  EXPECT_EQ(Str(Decimal::IntDiv(D(kTiny), D(k38Nines))), "0");
  EXPECT_EQ(Str(Decimal::IntDiv(D("1"), D(Cat({"0.", std::string(37, '0'), "2"})))), Cat({"5", std::string(37, '0')}));
  EXPECT_FALSE(Decimal::IntDiv(D("1"), D(kTiny)).has_value());
}

TEST(Decimal, TruncateFloorCeiling) {
  EXPECT_EQ(D("101").Truncate().ToString(), "101");       // testTruncate1
  EXPECT_EQ(D("1.00000001").Truncate().ToString(), "1");  // testTruncate2
  EXPECT_EQ(D("-1.56").Truncate().ToString(), "-1");      // testTruncate3
  EXPECT_EQ(D("1").Ceiling().ToString(), "1");            // testCeiling1
  EXPECT_EQ(D("-1.1").Ceiling().ToString(), "-1");        // testCeiling2
  EXPECT_EQ(D("1.1").Ceiling().ToString(), "2");          // testCeiling3
  EXPECT_EQ(D("1").Floor().ToString(), "1");              // testFloor1
  EXPECT_EQ(D("2.1").Floor().ToString(), "2");            // testFloor2
  EXPECT_EQ(D("-2.1").Floor().ToString(), "-3");          // testFloor3
  EXPECT_EQ(D("-2.000").Floor().ToString(), "-2");
  EXPECT_EQ(D("2.000").Ceiling().ToString(), "2");
  EXPECT_EQ(D(Cat({"0.", k38Nines})).Ceiling().ToString(), "1");
  EXPECT_EQ(D(Cat({"-0.", k38Nines})).Floor().ToString(), "-1");
}

TEST(Decimal, Round) {
  EXPECT_EQ(Str(D("1").Round(0)), "1");            // testRound1
  EXPECT_EQ(Str(D("3.14159").Round(3)), "3.142");  // testRound2
  EXPECT_EQ(Str(D("2.5").Round(0)), "3");
  EXPECT_EQ(Str(D("-2.5").Round(0)), "-3");
  EXPECT_EQ(Str(D("-2.45").Round(1)), "-2.5");
  EXPECT_EQ(Str(D("1.5").Round(3)), "1.500");
  EXPECT_FALSE(D("1").Round(-1).has_value());
}

TEST(Decimal, NegationIsSafeAtTheLimits) {
  const Decimal max = D(k38Nines);
  EXPECT_EQ(max.Negated().ToString(), Cat({"-", k38Nines}));
  EXPECT_EQ(max.Negated().Abs(), max);
  EXPECT_EQ(max.Negated().sign(), -1);
  EXPECT_EQ(Decimal().sign(), 0);
  EXPECT_EQ(Decimal().ToString(), "0");
}

// The LowBoundary/HighBoundary groups of tests-fhir-r4.xml. In the suite `-120.highBoundary(2)`
// parses as -(120.highBoundary(2)), so those rows are written with the negation outside.
struct BoundaryCase {
  const char* name;
  const char* value;
  int precision;         // -100: the default
  const char* expected;  // nullptr: empty
};

TEST(Decimal, LowBoundarySuite) {
  const BoundaryCase cases[] = {
      {"LowBoundaryDecimalDefault", "1.587", -100, "1.58650000"},
      {"LowBoundaryDecimal1", "1.587", 6, "1.586500"},
      {"LowBoundaryDecimal2", "1.587", 2, "1.58"},
      {"LowBoundaryDecimal3", "1.587", -1, nullptr},
      {"LowBoundaryDecimal4", "1.587", 0, "1"},
      {"LowBoundaryDecimal5", "1.587", 32, nullptr},
      {"LowBoundaryNegDecimalDefault", "-1.587", -100, "-1.58750000"},
      {"LowBoundaryNegDecimal1", "-1.587", 6, "-1.587500"},
      {"LowBoundaryNegDecimal2", "-1.587", 2, "-1.59"},
      {"LowBoundaryNegDecimal3", "-1.587", -1, nullptr},
      {"LowBoundaryNegDecimal4", "-1.587", 0, "-2"},
      {"LowBoundaryNegDecimal5", "-1.587", 32, nullptr},
      {"LowBoundaryDecimal6", "1.587", 39, nullptr},
      {"LowBoundaryDecimal7", "1", -100, "0.50000000"},
      {"LowBoundaryDecimal8", "1", 0, "0"},
      {"LowBoundaryDecimal9", "1", 5, "0.50000"},
      {"LowBoundaryDecimal10", "12.587", 2, "12.58"},
      {"LowBoundaryDecimal11", "12.500", 4, "12.4995"},
      {"LowBoundaryDecimal12", "120", 2, "119.50"},
      {"LowBoundaryDecimal13", "-120", 2, "-120.50"},
      {"LowBoundaryDecimal14", "0.0034", 1, "0.0"},
      {"LowBoundaryDecimal15", "-0.0034", 1, "0.0"},  // the suite prints -0.0
      {"LowBoundaryQuantity", "1.587", 8, "1.58650000"},
  };
  for (const BoundaryCase& c : cases) {
    const Decimal v = D(c.value);
    std::optional<Decimal> got = c.precision == -100 ? v.LowBoundary() : v.LowBoundary(c.precision);
    EXPECT_EQ(Str(got), c.expected ? c.expected : "<nullopt>") << c.name;
  }
}

TEST(Decimal, HighBoundarySuite) {
  const BoundaryCase cases[] = {
      {"HighBoundaryDecimalDefault", "1.587", -100, "1.58750000"},
      {"HighBoundaryDecimal1", "1.587", 2, "1.59"},
      {"HighBoundaryDecimal2", "1.587", 6, "1.587500"},
      {"HighBoundaryDecimal3", "1.587", -1, nullptr},
      {"HighBoundaryDecimal4", "-1.587", -100, "-1.58650000"},
      {"HighBoundaryDecimal5", "-1.587", 2, "-1.58"},
      {"HighBoundaryDecimal6", "-1.587", 6, "-1.586500"},
      {"HighBoundaryDecimal7", "1.587", 39, nullptr},
      {"HighBoundaryDecimal8", "1", -100, "1.50000000"},
      {"HighBoundaryDecimal9", "1", 0, "2"},
      {"HighBoundaryDecimal10", "1", 5, "1.50000"},
      {"HighBoundaryDecimal11", "12.587", 2, "12.59"},
      {"HighBoundaryDecimal12", "12.500", 4, "12.5005"},
      {"HighBoundaryDecimal13", "120", 2, "120.50"},
      {"HighBoundaryDecimal14 (negated)", "120", 2, "120.50"},
      {"HighBoundaryDecimal15", "0.0034", 1, "0.0"},
      {"HighBoundaryDecimal16 (negated)", "0.0034", 1, "0.0"},
      {"HighBoundaryDecimal", "1.587", 8, "1.58750000"},
      {"HighBoundaryQuantity", "1.587", 8, "1.58750000"},
  };
  for (const BoundaryCase& c : cases) {
    const Decimal v = D(c.value);
    std::optional<Decimal> got = c.precision == -100 ? v.HighBoundary() : v.HighBoundary(c.precision);
    EXPECT_EQ(Str(got), c.expected ? c.expected : "<nullopt>") << c.name;
  }
}

TEST(Decimal, BoundaryEdges) {
  // The negated suite rows, evaluated as the suite parses them.
  EXPECT_EQ(Str(D("120").HighBoundary(2)->Negated()), "-120.50");
  EXPECT_EQ(Str(D("-120").HighBoundary(2)), "-119.50");
  // Zero lies between its boundaries.
  EXPECT_EQ(Str(D("0").LowBoundary(1)), "-0.5");
  EXPECT_EQ(Str(D("0").HighBoundary(1)), "0.5");
  EXPECT_EQ(Str(D("0.00").LowBoundary()), "-0.00500000");
  EXPECT_EQ(Str(D("0").LowBoundary(0)), "-1");
  EXPECT_EQ(Str(D("0").HighBoundary(0)), "1");
  // The outer boundary rounds, the inner one truncates.
  EXPECT_EQ(Str(D("1.5241").HighBoundary(2)), "1.52");
  EXPECT_EQ(Str(D("1.5251").LowBoundary(2)), "1.52");
  EXPECT_EQ(Str(D("9.99").HighBoundary(1)), "10.0");
  EXPECT_EQ(Str(D("1.587").LowBoundary(28)), Cat({"1.5865", std::string(24, '0')}));
  EXPECT_FALSE(D("1.587").LowBoundary(29).has_value());
  // A boundary whose digits do not fit, and one of a value at full scale.
  EXPECT_FALSE(D("1e37").HighBoundary().has_value());
  EXPECT_EQ(Str(D(kTiny).LowBoundary()), "0.00000000");
  EXPECT_EQ(Str(D(Cat({"-", kTiny})).LowBoundary()), "0.00000000");
  EXPECT_EQ(Str(D(k38Nines).HighBoundary(0)), "<nullopt>");
  EXPECT_EQ(Str(D(k38Nines).LowBoundary(0)), Cat({k38Nines.substr(1), "8"}));
}

}  // namespace
}  // namespace ehr
