#include "fhir/ucum/ucum.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "fhir/ucum/generated/tables.h"

namespace ehr::ucum {
namespace {

namespace fs = std::filesystem;

// |actual - expected| within `relative` of the expected magnitude (or absolute near zero).
::testing::AssertionResult Near(long double actual, long double expected, long double relative) {
  const long double tolerance = relative * std::max<long double>(1, std::fabs(expected));
  if (std::fabs(actual - expected) <= tolerance) return ::testing::AssertionSuccess();
  std::ostringstream out;
  out.precision(21);
  out << actual << " is not within " << tolerance << " of " << expected;
  return ::testing::AssertionFailure() << out.str();
}

Canonical ParseOk(std::string_view unit) {
  Result<Canonical> parsed = Parse(unit);
  EXPECT_TRUE(parsed.ok()) << unit << ": " << parsed.status().message();
  return parsed.ok() ? *parsed : Canonical{};
}

std::array<int8_t, kBaseUnits> Dims(int m, int s, int g, int rad = 0, int k = 0, int c = 0, int cd = 0,
                                     int mol = 0) {
  return {static_cast<int8_t>(m), static_cast<int8_t>(s), static_cast<int8_t>(g),  static_cast<int8_t>(rad),
          static_cast<int8_t>(k), static_cast<int8_t>(c), static_cast<int8_t>(cd), static_cast<int8_t>(mol)};
}

TEST(UcumParseTest, ClinicalUnitsParse) {
  for (std::string_view unit :
       {"cd",          "mmol",        "dL",     "kcal",        "mm[Hg]",    "[in_i]",    "ug",      "10*3/uL",
        "mg/dL",       "g/L",         "%",      "[lb_av]",     "[ft_i]",    "wk",        "mo",      "a",
        "min",         "h",           "d",      "/min",        "m2",        "s-1",       "kg.m/s2", "10^3",
        "100/{cells}", "{beats}/min", "1",      "mL{total}",   "(kg.m)/s2", "mL/min/kg", "mmol/L",  "[IU]/L",
        "m[IU]/mL",    "Cel",         "[degF]", "umol/(24.h)", "10*-3",     "m+2",       "%{vol}"}) {
    EXPECT_TRUE(Parse(unit).ok()) << unit << ": " << Parse(unit).status().message();
  }
}

TEST(UcumParseTest, AtomWinsOverPrefixAndLongestPrefixWins) {
  // "cd" is candela, not centi-day; "mo" month, not milli-o; "Pa" pascal; "min" minute.
  EXPECT_EQ(ParseOk("cd").exponents, Dims(0, 0, 0, 0, 0, 0, 1));
  EXPECT_EQ(ParseOk("mo").exponents, Dims(0, 1, 0));
  EXPECT_TRUE(Near(ParseOk("mo").factor, 30.4375L * 86400, 1e-15));
  EXPECT_EQ(ParseOk("Pa").exponents, Dims(-1, -2, 1));
  EXPECT_TRUE(Near(ParseOk("min").factor, 60, 1e-15));
  EXPECT_TRUE(Near(ParseOk("dam").factor, 10, 1e-15));  // deka-meter, not deci-"am"
  EXPECT_TRUE(Near(ParseOk("ms").factor, 1e-3L, 1e-15));
  // UCUM makes mol the number 6.0221367 × 10^23; here it is a base unit of its own, so
  // that amounts of substance never compare with counts (mmol/L against 10*3/uL).
  EXPECT_EQ(ParseOk("mmol").exponents, Dims(0, 0, 0, 0, 0, 0, 0, 1));
  EXPECT_TRUE(Near(ParseOk("mmol").factor, 1e-3L, 1e-15));
  EXPECT_FALSE(Commensurable("mmol/L", "10*3/uL"));
  EXPECT_TRUE(Commensurable("mmol/L", "umol/mL"));
  EXPECT_EQ(ToCanonical(5, "mmol/L")->unit, "mol.m-3");
  EXPECT_TRUE(Near(ParseOk("kcal").factor, 4.184e6L, 1e-15));  // g.m2.s-2: the base unit of mass is g
  EXPECT_EQ(ParseOk("kg.m/s2").exponents, Dims(1, -2, 1));
  // "/" binds to the next component only, from the left.
  EXPECT_EQ(ParseOk("mL/min/kg").exponents, Dims(3, -1, -1));
  EXPECT_EQ(ParseOk("g/m.s").exponents, Dims(-1, 1, 1));
  EXPECT_EQ(ParseOk("g/(m.s)").exponents, Dims(-1, -1, 1));
  // A leading "/" divides the first component only, as the essence file's oersted needs.
  EXPECT_EQ(ParseOk("/min").exponents, Dims(0, -1, 0));
  EXPECT_EQ(ParseOk("/[pi].A/m").exponents, Dims(-1, -1, 0, 0, 0, 1));
  EXPECT_EQ(ParseOk("Oe").exponents, Dims(-1, -1, 0, 0, 0, 1));
  EXPECT_TRUE(Near(ParseOk("100/{cells}").factor, 100, 0));
  EXPECT_TRUE(Near(ParseOk("{beats}/min").factor, 1.0L / 60, 1e-15));
}

struct ConversionCase {
  long double value;
  const char* from;
  const char* to;
  long double expected;
  long double relative;
};

TEST(UcumConvertTest, Conversions) {
  const ConversionCase cases[] = {
      {1, "[in_i]", "cm", 2.54L, 1e-15},
      {1, "kg", "g", 1000, 1e-15},
      {4, "g", "mg", 4000, 1e-15},
      {1, "L", "dL", 10, 1e-15},
      {1, "mg/dL", "mg/L", 10, 1e-15},
      {1, "g/L", "mg/dL", 100, 1e-15},
      {1, "h", "min", 60, 1e-15},
      {1, "h", "s", 3600, 1e-15},
      {1, "a", "d", 365.25L, 1e-15},
      {1, "mo", "d", 30.4375L, 1e-15},
      {1, "wk", "d", 7, 1e-15},
      {1, "mm[Hg]", "Pa", 133.322L, 1e-3},
      {1, "mm[Hg]", "kPa", 0.1333220L, 1e-12},
      {1, "[lb_av]", "kg", 0.45359237L, 1e-15},
      {1, "[lb_av]", "[oz_av]", 16, 1e-15},
      {1, "10*3/uL", "/L", 1e9L, 1e-15},
      {1, "10^3/uL", "10*9/L", 1, 1e-15},
      {1, "[ft_i]", "[in_i]", 12, 1e-15},
      {1, "[ft_i]", "m", 0.3048L, 1e-15},
      {1, "kcal", "kJ", 4.184L, 1e-15},
      {50, "%", "1", 0.5L, 1e-15},
      {72, "/min", "Hz", 1.2L, 1e-15},
      {72, "{beats}/min", "/s", 1.2L, 1e-15},
      {5, "mL", "L", 0.005L, 1e-15},
      {1, "mmol/L", "umol/mL", 1, 1e-15},
      {1, "m2", "cm2", 1e4L, 1e-15},
      {1, "[psi]", "kPa", 6.894757L, 1e-6},
      {3, "m[IU]/mL", "[IU]/L", 3, 1e-15},
      {2, "[IU]/mL", "[IU]/L", 2000, 1e-15},
      {1, "atm", "kPa", 101.325L, 1e-15},
      {1, "[gal_us]", "L", 3.785411784L, 1e-15},
      {1, "Oe", "A/m", 250 / 3.14159265358979323846L, 1e-15},
      {1, "[HP]", "W", 745.69987158227022L, 1e-15},
      {1, "[Cal]", "kJ", 4.184L, 1e-15},
      {1, "eq/L", "mmol/L", 1000, 1e-15},
  };
  for (const ConversionCase& c : cases) {
    Result<long double> converted = Convert(c.value, c.from, c.to);
    ASSERT_TRUE(converted.ok()) << c.from << " -> " << c.to << ": " << converted.status().message();
    EXPECT_TRUE(Near(*converted, c.expected, c.relative)) << c.value << " " << c.from << " -> " << c.to;
    EXPECT_TRUE(Commensurable(c.from, c.to)) << c.from << " ~ " << c.to;
  }
}

TEST(UcumConvertTest, Temperatures) {
  EXPECT_TRUE(Near(*Convert(37, "Cel", "[degF]"), 98.6L, 1e-9));
  EXPECT_TRUE(Near(*Convert(98.6L, "[degF]", "Cel"), 37, 1e-9));
  EXPECT_TRUE(Near(*Convert(0, "Cel", "K"), 273.15L, 1e-15));
  EXPECT_TRUE(Near(*Convert(300, "K", "Cel"), 26.85L, 1e-12));
  EXPECT_TRUE(Near(*Convert(-40, "[degF]", "Cel"), -40, 1e-12));
  EXPECT_TRUE(Near(*Convert(80, "[degRe]", "Cel"), 100, 1e-12));
  EXPECT_TRUE(Near(*Convert(0, "[degRe]", "K"), 273.15L, 1e-12));
  EXPECT_TRUE(Near(*Convert(37000, "mCel", "Cel"), 37, 1e-12));  // Cel is metric: prefixes scale the reading
  // [degR] is a ratio unit (5/9 K, no offset).
  EXPECT_TRUE(Near(*Convert(491.67L, "[degR]", "Cel"), 0, 1e-12));
  EXPECT_TRUE(Commensurable("Cel", "[degF]"));
  EXPECT_FALSE(Commensurable("Cel", "m"));
}

TEST(UcumConvertTest, OtherSpecialUnits) {
  EXPECT_TRUE(Near(*Convert(7, "[pH]", "mol/L"), 1e-7L, 1e-12));
  EXPECT_TRUE(Near(*Convert(1e-7L, "mol/L", "[pH]"), 7, 1e-12));
  EXPECT_TRUE(Near(*Convert(7, "[pH]", "mmol/L"), 1e-4L, 1e-12));
  EXPECT_TRUE(Near(*Convert(20, "dB", "B"), 2, 1e-12));
  EXPECT_TRUE(Near(*Convert(2, "B", "1"), 100, 1e-12));
  EXPECT_TRUE(Near(*Convert(1, "Np", "1"), std::exp(1.0L), 1e-15));
  EXPECT_TRUE(Near(*Convert(3, "bit_s", "1"), 8, 1e-15));
  EXPECT_TRUE(Near(*Convert(1, "[p'diop]", "deg"), 0.572938698L, 1e-8));  // atan(1/100) in degrees
  EXPECT_TRUE(Near(*Convert(2, "[hp'_X]", "[hp'_C]"), 1, 1e-12));
  // Logarithms of zero or a negative have no value in the special unit.
  EXPECT_EQ(Convert(0, "mol/L", "[pH]").status().code(), Code::kUnprocessable);
  EXPECT_EQ(Convert(-1, "1", "B").status().code(), Code::kUnprocessable);
}

TEST(UcumConvertTest, SpecialUnitsStandAlone) {
  for (std::string_view unit : {"Cel/h", "Cel2", "/Cel", "m.Cel", "[degF].s"}) {
    Result<Canonical> parsed = Parse(unit);
    EXPECT_EQ(parsed.status().code(), Code::kInvalid) << unit;
  }
  const Canonical celsius = ParseOk("Cel{body}");
  EXPECT_EQ(celsius.special, "Cel");
  EXPECT_EQ(celsius.exponents, Dims(0, 0, 0, 0, 1));
}

TEST(UcumConvertTest, NotCommensurable) {
  Result<long double> converted = Convert(1, "g", "m");
  EXPECT_EQ(converted.status().code(), Code::kUnprocessable);
  EXPECT_NE(converted.status().message().find("not commensurable"), std::string::npos);
  EXPECT_FALSE(Commensurable("g", "m"));
  EXPECT_FALSE(Commensurable("mg/dL", "mmol/L"));
  EXPECT_FALSE(Commensurable("foo", "foo"));
  EXPECT_TRUE(Commensurable("g", "[lb_av]"));
  EXPECT_EQ(Convert(1, "foo", "m").status().code(), Code::kInvalid);
  EXPECT_EQ(Convert(1, "m", "mg/").status().code(), Code::kInvalid);
}

TEST(UcumConvertTest, ArbitraryUnitsOnlyConvertToThemselves) {
  const Canonical iu = ParseOk("[IU]/L");
  EXPECT_EQ(iu.arbitrary, "[IU]");
  EXPECT_EQ(iu.exponents, Dims(-3, 0, 0));
  EXPECT_FALSE(Commensurable("[IU]", "1"));
  EXPECT_FALSE(Commensurable("[IU]", "[arb'U]"));
  EXPECT_FALSE(Commensurable("[IU]/L", "/L"));
  // [IU] is defined as [iU], but arbitrary units have no defined relation to any other.
  EXPECT_FALSE(Commensurable("[IU]", "[iU]"));
  EXPECT_EQ(Convert(1, "[IU]", "[arb'U]").status().code(), Code::kUnprocessable);
  EXPECT_TRUE(Near(*Convert(1, "k[IU]", "[IU]"), 1000, 1e-15));
  EXPECT_TRUE(ParseOk("[IU]/[IU]").arbitrary.empty());
  EXPECT_EQ(Parse("[IU]2").status().code(), Code::kUnprocessable);
  EXPECT_EQ(Parse("[IU].[arb'U]").status().code(), Code::kUnprocessable);
}

TEST(UcumParseTest, ErrorsNameThePosition) {
  Result<Canonical> unknown = Parse("foo");
  EXPECT_EQ(unknown.status().code(), Code::kInvalid);
  EXPECT_NE(unknown.status().message().find("unknown unit \"foo\" at position 1"), std::string::npos)
      << unknown.status().message();
  EXPECT_NE(Parse("mg.foo").status().message().find("at position 4"), std::string::npos);

  Result<Canonical> prefixed = Parse("k[in_i]");
  EXPECT_EQ(prefixed.status().code(), Code::kInvalid);
  EXPECT_NE(prefixed.status().message().find("non-metric"), std::string::npos) << prefixed.status().message();

  Result<Canonical> dangling = Parse("mg/");
  EXPECT_EQ(dangling.status().code(), Code::kInvalid);
  EXPECT_NE(dangling.status().message().find("missing after '/' at position 4"), std::string::npos)
      << dangling.status().message();

  const std::string_view kBad[] = {
      "",
      "/",
      "m/",
      ".m",
      "m..s",
      "(m",
      "m)",
      "()",
      "m{x",
      "m}",
      "[in_i",
      "in_i]",
      "m+",
      "m-",
      "2m",
      "0",
      "m 2",
      "m(s)",
      "(m)2",
      "{a}2",
      "m{a{b}}",
      "kg ",
      "Kg",
      "m\xc3\xa9",
      "m1001",
      "m100.m100",
      "k[degF]",
      "kh",
      "10*1000.10*1000.10*1000.10*1000.10*1000",  // 10^5000 overflows long double
  };
  for (std::string_view bad : kBad) {
    Result<Canonical> parsed = Parse(bad);
    EXPECT_EQ(parsed.status().code(), Code::kInvalid) << "\"" << bad << "\" parsed";
  }
  EXPECT_EQ(Parse(std::string(10000, '(') + "m" + std::string(10000, ')')).status().code(), Code::kInvalid);
}

TEST(UcumCanonicalTest, CanonicalText) {
  const struct {
    long double value;
    const char* unit;
    long double canonical_value;
    const char* canonical_unit;
  } cases[] = {
      {1, "mg/dL", 10, "g.m-3"}, {1, "N", 1000, "m.g.s-2"},   {1, "1", 1, "1"},
      {50, "%", 0.5L, "1"},      {37, "Cel", 310.15L, "K"},   {2, "[IU]/L", 2000, "[IU].m-3"},
      {60, "/min", 1, "s-1"},    {1, "[in_i]", 0.0254L, "m"}, {1, "km/h", 1 / 3.6L, "m.s-1"},
      {1, "sr", 1, "rad2"},
  };
  for (const auto& c : cases) {
    Result<CanonicalValue> canonical = ToCanonical(c.value, c.unit);
    ASSERT_TRUE(canonical.ok()) << c.unit << ": " << canonical.status().message();
    EXPECT_EQ(canonical->unit, c.canonical_unit) << c.unit;
    EXPECT_TRUE(Near(canonical->value, c.canonical_value, 1e-15)) << c.unit;
  }
  EXPECT_EQ(ToCanonical(1, "foo").status().code(), Code::kInvalid);
}

bool IsAtom(std::string_view code) {
  for (const generated::Unit& unit : generated::kUnits) {
    if (unit.code == code) return true;
  }
  return false;
}

// Every unit of the essence file resolves, has a canonical form that parses back to the
// same kind, and converts there and back.
TEST(UcumTablesTest, EveryUnitParsesAndConverts) {
  EXPECT_EQ(generated::kUcumVersion, "2.0.1");
  EXPECT_GT(generated::kUnitCount, 300u);
  for (const generated::Unit& unit : generated::kUnits) {
    const std::string code(unit.code);
    const Canonical parsed = ParseOk(code);
    EXPECT_EQ(parsed.special.empty(), !unit.is_special) << code;
    EXPECT_EQ(parsed.arbitrary.empty(), !unit.is_arbitrary) << code;

    Result<CanonicalValue> canonical = ToCanonical(1, code);
    ASSERT_TRUE(canonical.ok()) << code << ": " << canonical.status().message();
    const Canonical reparsed = ParseOk(canonical->unit);
    EXPECT_EQ(reparsed.exponents, parsed.exponents) << code << " -> " << canonical->unit;
    EXPECT_EQ(reparsed.arbitrary, parsed.arbitrary) << code;
    if (!unit.is_special) {
      EXPECT_TRUE(Near(canonical->value, parsed.factor, 1e-15)) << code;
    }

    Result<long double> back = Convert(canonical->value, canonical->unit, code);
    ASSERT_TRUE(back.ok()) << code << ": " << back.status().message();
    EXPECT_TRUE(Near(*back, 1, 1e-12)) << code;

    // Metric units take every prefix; others none (unless prefix + code is another atom).
    const std::string kilo = "k" + code;
    if (IsAtom(kilo)) continue;
    Result<Canonical> prefixed = Parse(kilo);
    if (unit.is_metric) {
      ASSERT_TRUE(prefixed.ok()) << kilo << ": " << prefixed.status().message();
      EXPECT_TRUE(Near(prefixed->factor, 1000 * parsed.factor, 1e-15)) << kilo;
    } else {
      EXPECT_EQ(prefixed.status().code(), Code::kInvalid) << kilo;
    }
  }
}

TEST(UcumTablesTest, PrefixesAreTheEssenceFiles) {
  EXPECT_EQ(generated::kPrefixCount, 24u);
  for (const generated::Prefix& prefix : generated::kPrefixes) {
    Result<Canonical> parsed = Parse(std::string(prefix.code) + "g");
    ASSERT_TRUE(parsed.ok()) << prefix.code;
    EXPECT_TRUE(Near(parsed->factor, prefix.factor, 1e-15)) << prefix.code;
  }
  EXPECT_TRUE(Near(ParseOk("Kibit").factor, 1024, 0));
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The checked-in tables are exactly what the generator writes today.
TEST(UcumTablesTest, GeneratedFilesAreUpToDate) {
  const char* env = std::getenv("EHR_SOURCE_DIR");
  const fs::path source_dir = env != nullptr ? env : EHR_UCUM_SOURCE_DIR;
  const fs::path checked_in = source_dir / "src/fhir/ucum/generated";
  const fs::path out = fs::temp_directory_path() / ("ehr_gen_ucum_" + std::to_string(::getpid()));
  fs::remove_all(out);
  const std::string command = "node '" + (source_dir / "tools/gen_ucum.js").string() + "' --out '" + out.string() + "'";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;

  std::set<std::string> generated_names;
  for (const auto& entry : fs::directory_iterator(out)) generated_names.insert(entry.path().filename());
  std::set<std::string> checked_in_names;
  for (const auto& entry : fs::directory_iterator(checked_in)) checked_in_names.insert(entry.path().filename());
  EXPECT_EQ(generated_names, checked_in_names);
  for (const std::string& name : generated_names) {
    EXPECT_TRUE(ReadFile(out / name) == ReadFile(checked_in / name)) << name << " differs; run node tools/gen_ucum.js";
  }
  fs::remove_all(out);
}

}  // namespace
}  // namespace ehr::ucum

namespace ehr::ucum {
namespace {

TEST(UcumCanonicalTest, LogarithmicUnitsStayInTheirOwnScale) {
  EXPECT_EQ(ToCanonical(6, "[pH]")->unit, "[pH]");
  EXPECT_EQ(ToCanonical(6, "[pH]")->value, 6);
  EXPECT_EQ(ToCanonical(20, "dB")->unit, "B");
  EXPECT_NEAR(static_cast<double>(ToCanonical(37, "Cel")->value), 310.15, 1e-9);
  EXPECT_EQ(ToCanonical(37, "Cel")->unit, "K");
  EXPECT_EQ(ToCanonical(98.6, "[degF]")->unit, "K");
}

}  // namespace
}  // namespace ehr::ucum
