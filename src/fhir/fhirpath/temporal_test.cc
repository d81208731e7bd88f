#include "fhir/fhirpath/temporal.h"

#include <gtest/gtest.h>

#include <string>

namespace ehr::fhirpath {
namespace {

using K = TemporalKind;
using P = TemporalPrecision;

// A literal the test relies on; a typo should fail loudly rather than compare nullopt.
Temporal L(std::string_view text) {
  std::optional<Temporal> t = Temporal::ParseLiteral(text);
  EXPECT_TRUE(t.has_value()) << text;
  return t.value_or(Temporal());
}

std::string Str(const std::optional<Temporal>& t) { return t ? t->ToString() : "{}"; }

std::string Cmp(std::string_view a, std::string_view b) {
  std::optional<int> c = Compare(L(a), L(b));
  if (!c) return "{}";
  return *c < 0 ? "<" : *c > 0 ? ">" : "=";
}

Decimal Dec(std::string_view text) {
  std::optional<Decimal> d = Decimal::Parse(text);
  EXPECT_TRUE(d.has_value()) << text;
  return d.value_or(Decimal());
}

std::string Plus(std::string_view value, std::string_view amount, std::string_view unit) {
  return Str(Add(L(value), Dec(amount), unit));
}

// ---- Literals ----------------------------------------------------------------------------

TEST(Temporal, LiteralFormsOfTheSuite) {
  struct Case {
    const char* text;
    K kind;
    P precision;
    const char* printed;
  };
  const Case cases[] = {
      {"2015", K::kDate, P::kYear, "2015"},                                      // testLiteralDateYear
      {"2015-02", K::kDate, P::kMonth, "2015-02"},                               // testLiteralDateMonth
      {"2015-02-04", K::kDate, P::kDay, "2015-02-04"},                           // testLiteralDateDay
      {"2015T", K::kDateTime, P::kYear, "2015"},                                 // testLiteralDateTimeYear
      {"2015-02T", K::kDateTime, P::kMonth, "2015-02"},                          // testLiteralDateTimeMonth
      {"2015-02-04T", K::kDateTime, P::kDay, "2015-02-04"},                      // testLiteralDateTimeDay
      {"2015-02-04T14", K::kDateTime, P::kHour, "2015-02-04T14"},                // testLiteralDateTimeHour
      {"2015-02-04T14:34", K::kDateTime, P::kMinute, "2015-02-04T14:34"},        // testLiteralDateTimeMinute
      {"2015-02-04T14:34:28", K::kDateTime, P::kSecond, "2015-02-04T14:34:28"},  // testLiteralDateTimeSecond
      {"2015-02-04T14:34:28.123", K::kDateTime, P::kMillisecond, "2015-02-04T14:34:28.123"},
      {"2015-02-04T14:34:28Z", K::kDateTime, P::kSecond, "2015-02-04T14:34:28Z"},  // testLiteralDateTimeUTC
      {"2015-02-04T14:34:28+10:00", K::kDateTime, P::kSecond, "2015-02-04T14:34:28+10:00"},
      {"T14", K::kTime, P::kHour, "14"},                             // testLiteralTimeHour
      {"T14:34", K::kTime, P::kMinute, "14:34"},                     // testLiteralTimeMinute
      {"T14:34:28", K::kTime, P::kSecond, "14:34:28"},               // testLiteralTimeSecond
      {"T14:34:28.123", K::kTime, P::kMillisecond, "14:34:28.123"},  // testLiteralTimeMillisecond
      {"2012-04-15T10Z", K::kDateTime, P::kHour, "2012-04-15T10Z"},
      {"2012-04-15T10:30:31.123+01:00", K::kDateTime, P::kMillisecond, "2012-04-15T10:30:31.123+01:00"},
      {"2012-04-15T10:30:31-05:30", K::kDateTime, P::kSecond, "2012-04-15T10:30:31-05:30"},
      {"2012-02-29", K::kDate, P::kDay, "2012-02-29"},
      {"0001-01-01", K::kDate, P::kDay, "0001-01-01"},
      {"2012-04-15T10:30:00-00:00", K::kDateTime, P::kSecond, "2012-04-15T10:30:00Z"},
  };
  for (const Case& c : cases) {
    std::optional<Temporal> t = Temporal::ParseLiteral(c.text);
    ASSERT_TRUE(t.has_value()) << c.text;
    EXPECT_EQ(t->kind, c.kind) << c.text;
    EXPECT_EQ(t->precision, c.precision) << c.text;
    EXPECT_EQ(t->ToString(), c.printed) << c.text;
  }
  const Temporal t = L("2012-04-15T10:30:31.123+01:00");
  EXPECT_EQ(t.year, 2012);
  EXPECT_EQ(t.month, 4);
  EXPECT_EQ(t.day, 15);
  EXPECT_EQ(t.hour, 10);
  EXPECT_EQ(t.minute, 30);
  EXPECT_EQ(t.second, 31);
  EXPECT_EQ(t.millisecond, 123);
  EXPECT_TRUE(t.has_offset);
  EXPECT_EQ(t.offset_minutes, 60);
  EXPECT_EQ(L("T10:30").year, 0);
}

TEST(Temporal, FractionalSecondsAreTruncatedToMilliseconds) {
  EXPECT_EQ(L("2012-04-15T10:30:00.1").ToString(), "2012-04-15T10:30:00.100");
  EXPECT_EQ(L("2012-04-15T10:30:00.0").ToString(), "2012-04-15T10:30:00.000");
  EXPECT_EQ(L("2012-04-15T10:30:00.123999").ToString(), "2012-04-15T10:30:00.123");
  EXPECT_EQ(L("T10:30:00.98765").millisecond, 987);
}

TEST(Temporal, MalformedLiteralsAreRejected) {
  for (const char* bad : {"",
                          "T",
                          "12",
                          "2012-4-15",
                          "2012-13",
                          "2012-00",
                          "2012-02-30",
                          "2011-02-29",
                          "2012-04-31",
                          "0000",
                          "2012-04-15T24",
                          "2012-04-15T10:60",
                          "2012-04-15T10:30:60",
                          "T25",
                          "T10:5",
                          "2012-04T10",
                          "2012T10",
                          "2012-04-15TZ",
                          "2012-04-15T10:30:00.",
                          "2012-04-15T10:30:00+15:00",
                          "2012-04-15T10:30:00+14:01",
                          "2012-04-15T10:30:00+0100",
                          "2012-04-15T10:30:00 Z",
                          "2012-04-15 ",
                          "2012-04-15T10:30:00Zx",
                          "@2012"}) {
    EXPECT_FALSE(Temporal::ParseLiteral(bad).has_value()) << bad;
  }
  EXPECT_TRUE(Temporal::ParseLiteral("2012-04-15T10:30:00+14:00").has_value());
  EXPECT_TRUE(Temporal::ParseLiteral("2012-04-15T10:30:00-12:00").has_value());
}

TEST(Temporal, TimeLiteralHasNoOffset) {
  // testLiteralTimeUTC and testLiteralTimeTimezoneOffset are invalid expressions.
  EXPECT_FALSE(Temporal::ParseLiteral("T14:34:28Z").has_value());
  EXPECT_FALSE(Temporal::ParseLiteral("T14:34:28+10:00").has_value());
}

TEST(Temporal, ParseFhirByKind) {
  for (const char* ok : {"2012", "2012-04", "2012-04-15"}) {
    EXPECT_EQ(Str(Temporal::ParseFhir(ok, K::kDate)), ok);
    std::optional<Temporal> dt = Temporal::ParseFhir(ok, K::kDateTime);
    ASSERT_TRUE(dt.has_value()) << ok;
    EXPECT_EQ(dt->kind, K::kDateTime);  // a date-only dateTime stays a DateTime
    EXPECT_EQ(dt->ToString(), ok);
  }
  EXPECT_EQ(Str(Temporal::ParseFhir("2012-04-15T10:30:00Z", K::kDateTime)), "2012-04-15T10:30:00Z");
  EXPECT_EQ(Str(Temporal::ParseFhir("2015-02-07T13:28:17.239+02:00", K::kDateTime)), "2015-02-07T13:28:17.239+02:00");
  EXPECT_EQ(Str(Temporal::ParseFhir("10:30:00", K::kTime)), "10:30:00");
  EXPECT_EQ(Str(Temporal::ParseFhir("10:30:00.5", K::kTime)), "10:30:00.500");

  EXPECT_FALSE(Temporal::ParseFhir("2012-04-15T10:30:00Z", K::kDate).has_value());
  EXPECT_FALSE(Temporal::ParseFhir("2012-04-15T", K::kDateTime).has_value());
  EXPECT_FALSE(Temporal::ParseFhir("2012-04-15T10:30Z", K::kDateTime).has_value());    // seconds required
  EXPECT_FALSE(Temporal::ParseFhir("2012-04-15T10:30:00", K::kDateTime).has_value());  // zone required
  EXPECT_FALSE(Temporal::ParseFhir("2012-04T10:30:00Z", K::kDateTime).has_value());
  EXPECT_FALSE(Temporal::ParseFhir("2012-02-30", K::kDate).has_value());
  EXPECT_FALSE(Temporal::ParseFhir("T10:30:00", K::kTime).has_value());
  EXPECT_FALSE(Temporal::ParseFhir("10:30", K::kTime).has_value());
  EXPECT_FALSE(Temporal::ParseFhir("10:30:00Z", K::kTime).has_value());
  EXPECT_FALSE(Temporal::ParseFhir("24:00:00", K::kTime).has_value());
  EXPECT_FALSE(Temporal::ParseFhir("2012-04-15", K::kTime).has_value());
}

TEST(Temporal, FromUnixMillis) {
  EXPECT_EQ(Temporal::FromUnixMillis(0).ToString(), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(Temporal::FromUnixMillis(1700000000123).ToString(), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(Temporal::FromUnixMillis(-1).ToString(), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(Temporal::FromUnixMillis(951782400000).ToString(), "2000-02-29T00:00:00.000Z");
  const Temporal now = Temporal::FromUnixMillis(1700000000123);
  EXPECT_EQ(now.precision, P::kMillisecond);
  EXPECT_EQ(now.kind, K::kDateTime);
  // testNow1 / testDateTimeGreaterThanDate1, with the birth date promoted to a DateTime.
  EXPECT_EQ(Compare(L("1974-12-25T"), now), -1);
}

TEST(Temporal, PrecisionDigits) {
  EXPECT_EQ(L("2014").PrecisionDigits(), 4);                      // PrecisionYear
  EXPECT_EQ(L("2014-01-05T10:30:00.000").PrecisionDigits(), 17);  // PrecisionDateTimeMilliseconds
  EXPECT_EQ(L("T10:30").PrecisionDigits(), 4);                    // PrecisionTimeMinutes
  EXPECT_EQ(L("T10:30:00.000").PrecisionDigits(), 9);             // PrecisionTimeMilliseconds
  EXPECT_EQ(L("2014-01").PrecisionDigits(), 6);
  EXPECT_EQ(L("2014-01-05").PrecisionDigits(), 8);
  EXPECT_EQ(L("2014-01-05T").PrecisionDigits(), 8);
  EXPECT_EQ(L("2014-01-05T10").PrecisionDigits(), 10);
  EXPECT_EQ(L("2014-01-05T10:30").PrecisionDigits(), 12);
  EXPECT_EQ(L("2014-01-05T10:30:00Z").PrecisionDigits(), 14);
  EXPECT_EQ(L("T10").PrecisionDigits(), 2);
  EXPECT_EQ(L("T10:30:00").PrecisionDigits(), 6);
}

// ---- Comparison --------------------------------------------------------------------------

TEST(Temporal, CompareSuite) {
  struct Case {
    const char* a;
    const char* b;
    const char* expected;  // <, =, >, or {} for empty
  };
  const Case cases[] = {
      {"2014-12-12", "2014-12-13", "<"},                      // testLessThan5
      {"2014-12-13T12:00:00", "2014-12-13T12:00:01", "<"},    // testLessThan6
      {"T12:00:00", "T14:00:00", "<"},                        // testLessThan7
      {"2014-12-12", "2014-12-12", "="},                      // testLessThan12
      {"2014-12-13T12:00:00", "2014-12-13T12:00:00", "="},    // testLessThan13
      {"T12:00:00", "T12:00:00", "="},                        // testLessThan14
      {"2014-12-13", "2014-12-12", ">"},                      // testLessThan19
      {"2014-12-13T12:00:01", "2014-12-13T12:00:00", ">"},    // testLessThan20
      {"T12:00:01", "T12:00:00", ">"},                        // testLessThan21
      {"2018-03", "2018-03-01", "{}"},                        // testLessThan23
      {"2018-03-01T10:30", "2018-03-01T10:30:00", "{}"},      // testLessThan24
      {"T10:30", "T10:30:00", "{}"},                          // testLessThan25
      {"2018-03-01T10:30:00", "2018-03-01T10:30:00.0", "="},  // testLessThan26
      {"T10:30:00", "T10:30:00.0", "="},                      // testLessThan27
      // testLiteralDateTimeTZGreater/Less/EqualFalse/EqualTrue: compared on UTC.
      {"2017-11-05T01:30:00.0-04:00", "2017-11-05T01:15:00.0-05:00", "<"},
      {"2017-11-05T01:30:00.0-04:00", "2017-11-05T00:30:00.0-05:00", "="},
      {"2012-04-15T15:00:00+02:00", "2012-04-15T16:00:00+03:00", "="},  // testEquality24
      {"2012-04-15T15:00:00", "2012-04-15T10:00:00", ">"},              // testEquality20
      {"2012-04-15T15:30:31", "2012-04-15T15:30:31.1", "<"},            // testEquality22
      {"2012-04-15", "2012-04-15T10:00:00", "{}"},                      // testEquality19: kinds differ
      {"2012-04-15", "T10:00:00", "{}"},
  };
  for (const Case& c : cases) EXPECT_EQ(Cmp(c.a, c.b), c.expected) << c.a << " vs " << c.b;
}

TEST(Temporal, ComparePrecisionDecidesOnlyWhenFieldsAgree) {
  EXPECT_EQ(Cmp("2018-03", "2018-04-01"), "<");
  EXPECT_EQ(Cmp("2019", "2018-12-31"), ">");
  EXPECT_EQ(Cmp("2012-04-15T10", "2012-04-15T11:30"), "<");
  EXPECT_EQ(Cmp("2012-04-15T10", "2012-04-15T10:30"), "{}");
  EXPECT_EQ(Cmp("2012-04-15T", "2012-04-15T10:30"), "{}");
  EXPECT_EQ(Cmp("T10", "T09:59:59.999"), ">");
}

TEST(Temporal, CompareOnTheUtcTimeLine) {
  // The offset can move the UTC reading across midnight, a month and a year.
  EXPECT_EQ(Cmp("2012-04-16T01:00:00+02:00", "2012-04-15T23:30:00Z"), "<");
  EXPECT_EQ(Cmp("2013-01-01T00:30:00+01:00", "2012-12-31T23:30:00Z"), "=");
  EXPECT_EQ(Cmp("2012-12-31T20:00:00-05:00", "2013-01-01T00:59:59Z"), ">");
  EXPECT_EQ(Cmp("2012-12-31T20:00:00-05:00", "2013-01-01T01:00:00Z"), "=");
  EXPECT_EQ(Cmp("2012-04-15T10:00+05:30", "2012-04-15T04:30Z"), "=");
  // One side without offset: unknown with a time of day (testEquality23), UTC by date.
  EXPECT_EQ(Cmp("2012-04-15T15:00:00Z", "2012-04-15T10:00:00"), "{}");
  EXPECT_EQ(Cmp("2012-04-15T15:00:00Z", "2012-04-15T15:00:00"), "{}");
  EXPECT_EQ(Cmp("2012-04-16T15:00:00Z", "2012-04-15T"), ">");
}

TEST(Temporal, EqualSuite) {
  EXPECT_EQ(Equal(L("2012-04-15"), L("2012-04-15")), true);                                // testEquality17
  EXPECT_EQ(Equal(L("2012-04-15"), L("2012-04-16")), false);                               // testEquality18
  EXPECT_EQ(Equal(L("2012-04-15"), L("2012-04-15T10:00:00")), std::nullopt);               // testEquality19
  EXPECT_EQ(Equal(L("2012-04-15T15:00:00"), L("2012-04-15T10:00:00")), false);             // testEquality20
  EXPECT_EQ(Equal(L("2012-04-15T15:30:31"), L("2012-04-15T15:30:31.0")), true);            // testEquality21
  EXPECT_EQ(Equal(L("2012-04-15T15:30:31"), L("2012-04-15T15:30:31.1")), false);           // testEquality22
  EXPECT_EQ(Equal(L("2012-04-15T15:00:00+02:00"), L("2012-04-15T16:00:00+03:00")), true);  // testEquality24
  EXPECT_EQ(Equal(L("2017-11-05T01:30:00.0-04:00"), L("2017-11-05T01:15:00.0-05:00")), false);
  EXPECT_EQ(Equal(L("2017-11-05T01:30:00.0-04:00"), L("2017-11-05T00:30:00.0-05:00")), true);
  EXPECT_EQ(Equal(L("2018-03"), L("2018-03-01")), std::nullopt);
  EXPECT_EQ(Equal(L("2018-03"), L("2018-04-01")), false);
}

TEST(Temporal, EquivalentSuite) {
  EXPECT_TRUE(Equivalent(L("2012-04-15"), L("2012-04-15")));                       // testEquivalent14
  EXPECT_FALSE(Equivalent(L("2012-04-15"), L("2012-04-16")));                      // testEquivalent15
  EXPECT_FALSE(Equivalent(L("2012-04-15"), L("2012-04-15T10:00:00")));             // testEquivalent16
  EXPECT_TRUE(Equivalent(L("2012-04-15T15:30:31"), L("2012-04-15T15:30:31.0")));   // testEquivalent17
  EXPECT_FALSE(Equivalent(L("2012-04-15T15:30:31"), L("2012-04-15T15:30:31.1")));  // testEquivalent18
  EXPECT_FALSE(Equivalent(L("2018-03"), L("2018-03-01")));
  EXPECT_FALSE(Equivalent(L("T10:30"), L("T10:30:00")));
  EXPECT_TRUE(Equivalent(L("2012-04-15T15:00:00+02:00"), L("2012-04-15T16:00:00+03:00")));
}

// ---- Arithmetic --------------------------------------------------------------------------

TEST(Temporal, AddSuite) {
  struct Case {
    const char* name;
    const char* value;
    const char* amount;
    const char* unit;
    const char* expected;  // {} for an error
  };
  const char* kT = "1973-12-25T00:00:00.000+10:00";
  const Case cases[] = {
      {"testPlusDate1", "1973-12-25", "7", "days", "1974-01-01"},
      {"testPlusDate2", "1973-12-25", "7.7", "days", "1974-01-01"},
      {"testPlusDate3", kT, "7", "days", "1974-01-01T00:00:00.000+10:00"},
      {"testPlusDate4", kT, "7.7", "days", "1974-01-01T00:00:00.000+10:00"},
      {"testPlusDate5", kT, "1", "second", "1973-12-25T00:00:01.000+10:00"},
      {"testPlusDate6", kT, "10", "millisecond", "1973-12-25T00:00:00.010+10:00"},
      {"testPlusDate7", kT, "1", "minute", "1973-12-25T00:01:00.000+10:00"},
      {"testPlusDate8", kT, "1", "hour", "1973-12-25T01:00:00.000+10:00"},
      {"testPlusDate9", "1973-12-25", "1", "day", "1973-12-26"},
      {"testPlusDate10", "1973-12-25", "1", "month", "1974-01-25"},
      {"testPlusDate11", "1973-12-25", "1", "week", "1974-01-01"},
      {"testPlusDate12", "1973-12-25", "1", "year", "1974-12-25"},
      {"testPlusDate13", "1973-12-25", "1", "d", "1973-12-26"},
      {"testPlusDate14", "1973-12-25", "1", "mo", "{}"},
      {"testPlusDate15", "1973-12-25", "1", "wk", "1974-01-01"},
      {"testPlusDate16", "1973-12-25", "1", "a", "{}"},
      {"testPlusDate17", "1975-12-25", "1", "a", "{}"},
      {"testPlusDate18", kT, "1", "s", "1973-12-25T00:00:01.000+10:00"},
      // testPlusDate19 in the R4 suite expects no change; the spec (the decimal part is
      // ignored only above seconds) and the R5 suite expect 100 ms, as temporal.h does.
      {"testPlusDate19", kT, "0.1", "s", "1973-12-25T00:00:00.100+10:00"},
      {"testPlusDate20", kT, "10", "ms", "1973-12-25T00:00:00.010+10:00"},
      {"testPlusDate21", kT, "1", "min", "1973-12-25T00:01:00.000+10:00"},
      {"testPlusDate22", kT, "1", "h", "1973-12-25T01:00:00.000+10:00"},
      {"testMinus5", "1974-12-25", "-1", "month", "1974-11-25"},
      {"testMinus6", "1974-12-25", "-1", "cm", "{}"},
  };
  for (const Case& c : cases) EXPECT_EQ(Plus(c.value, c.amount, c.unit), c.expected) << c.name;
}

TEST(Temporal, AddConvertsFinerUnitsToThePrecisionAndTruncates) {
  EXPECT_EQ(Plus("2014", "24", "months"), "2016");  // FHIRPath 6.6.1
  EXPECT_EQ(Plus("2014", "23", "months"), "2015");
  EXPECT_EQ(Plus("2014", "-23", "months"), "2013");
  EXPECT_EQ(Plus("2014-01-01", "25", "hours"), "2014-01-02");
  EXPECT_EQ(Plus("2014-01-01", "23", "hours"), "2014-01-01");
  EXPECT_EQ(Plus("2014-01-01", "-25", "hours"), "2013-12-31");
  EXPECT_EQ(Plus("2014-01-01T10:30:00", "1500", "ms"), "2014-01-01T10:30:01");
  EXPECT_EQ(Plus("2014-01-01T10:30:00", "0.1", "s"), "2014-01-01T10:30:00");
  EXPECT_EQ(Plus("2014-01-01T10:30", "119", "seconds"), "2014-01-01T10:31");
  EXPECT_EQ(Plus("T10", "90", "minutes"), "11");
  // Days into months and years use UCUM's mean month (30.4375 d) and year (365.25 d).
  EXPECT_EQ(Plus("2014-01", "45", "days"), "2014-02");
  EXPECT_EQ(Plus("2014-01", "61", "days"), "2014-03");
  EXPECT_EQ(Plus("2014", "365", "days"), "2014");
  EXPECT_EQ(Plus("2014", "366", "days"), "2015");
  EXPECT_EQ(Plus("2014", "53", "weeks"), "2015");
}

TEST(Temporal, AddMonthsClampsTheDay) {
  EXPECT_EQ(Plus("2019-03-01", "-24", "months"), "2017-03-01");
  EXPECT_EQ(Plus("2012-12-31T", "1", "month"), "2013-01-31");
  EXPECT_EQ(Add(L("2012-12-31T"), Dec("1"), "month")->kind, K::kDateTime);
  EXPECT_EQ(Plus("2012-01-31", "1", "month"), "2012-02-29");
  EXPECT_EQ(Plus("2013-01-31", "1", "month"), "2013-02-28");
  EXPECT_EQ(Plus("2012-03-31", "-1", "month"), "2012-02-29");
  EXPECT_EQ(Plus("2012-02-29", "1", "year"), "2013-02-28");
  EXPECT_EQ(Plus("2012-05-31T10:00:00Z", "-13", "months"), "2011-04-30T10:00:00Z");
  EXPECT_EQ(Plus("2012-05", "-17", "months"), "2010-12");
  EXPECT_EQ(Plus("2012-05-15", "2.9", "years"), "2014-05-15");
}

TEST(Temporal, AddKeepsTheOffsetAndCarries) {
  EXPECT_EQ(Plus("2012-04-15T23:30:00+02:00", "1", "hour"), "2012-04-16T00:30:00+02:00");
  EXPECT_EQ(Plus("2012-12-31T23:59:59.999Z", "1", "ms"), "2013-01-01T00:00:00.000Z");
  EXPECT_EQ(Plus("2012-04-15T00:00:00.000", "-0.1", "s"), "2012-04-14T23:59:59.900");
  EXPECT_EQ(Plus("2012-02-28T12", "24", "hours"), "2012-02-29T12");
  EXPECT_EQ(Plus("2012-04-15T10:30", "-2", "weeks"), "2012-04-01T10:30");
}

TEST(Temporal, AddToTimeWrapsAroundMidnight) {
  EXPECT_EQ(Plus("T23:00", "2", "hours"), "01:00");
  EXPECT_EQ(Plus("T00:30", "-1", "hour"), "23:30");
  EXPECT_EQ(Plus("T23:59:59.999", "1", "ms"), "00:00:00.000");
  EXPECT_EQ(Plus("T10:00:00", "90", "minutes"), "11:30:00");
  EXPECT_EQ(Plus("T10:00:00", "-49", "hours"), "09:00:00");
  EXPECT_EQ(Plus("T10:00:00", "1", "day"), "{}");
  EXPECT_EQ(Plus("T10:00:00", "1", "d"), "{}");
  EXPECT_EQ(Plus("T10:00:00", "1", "week"), "{}");
  EXPECT_EQ(Plus("T10:00:00", "1", "month"), "{}");
  EXPECT_EQ(Plus("T10:00:00", "1", "year"), "{}");
}

TEST(Temporal, AddOutOfRange) {
  EXPECT_EQ(Plus("9999-12-31", "1", "day"), "{}");
  EXPECT_EQ(Plus("0001-01-01", "-1", "day"), "{}");
  EXPECT_EQ(Plus("9999", "1", "year"), "{}");
  EXPECT_EQ(Plus("0001-01", "-1", "month"), "{}");
  EXPECT_EQ(Plus("9999-12-31T23:59:59.999Z", "1", "ms"), "{}");
  EXPECT_EQ(Plus("2012", "1e30", "years"), "{}");
  EXPECT_EQ(Plus("2012-01-01", "9000000000000000000", "weeks"), "{}");
  EXPECT_EQ(Plus("2012-01-01T00:00:00", "-9000000000000000000", "days"), "{}");
  EXPECT_EQ(Plus("T10:00", "9000000000000000000", "hours"), "10:00");  // 9e18 h is whole days
  EXPECT_EQ(Plus("2012", "1", "parsec"), "{}");
  EXPECT_EQ(Plus("2012", "1", "Year"), "{}");  // keywords are case-sensitive
}

// ---- Boundaries --------------------------------------------------------------------------

TEST(Temporal, BoundarySuite) {
  EXPECT_EQ(Str(LowBoundary(L("2014"), 6)), "2014-01");  // LowBoundaryDateMonth
  EXPECT_EQ(LowBoundary(L("2014"), 6)->kind, K::kDate);
  EXPECT_EQ(Str(LowBoundary(L("2014-01-01T08"), 17)), "2014-01-01T08:00:00.000+14:00");  // ...Millisecond1
  EXPECT_EQ(Str(LowBoundary(L("2014-01-01T08:05+08:00"), 17)), "2014-01-01T08:05:00.000+08:00");
  EXPECT_EQ(Str(LowBoundary(L("2014-01-01T08"), 8)), "2014-01-01");  // ...Millisecond3
  EXPECT_EQ(Str(LowBoundary(L("T10:30"), 9)), "10:30:00.000");       // LowBoundaryTimeMillisecond
  EXPECT_EQ(Str(HighBoundary(L("2014"), 6)), "2014-12");             // HighBoundaryDateMonth
  EXPECT_EQ(Str(HighBoundary(L("2014-01-01T08:05-05:00"), 17)), "2014-01-01T08:05:59.999-05:00");
  EXPECT_EQ(Str(HighBoundary(L("T10:30"), 9)), "10:30:59.999");  // HighBoundaryTimeMillisecond
  // HighBoundaryDateTimeMillisecond1/3 expect 08:00:59.999 (the suite reads T08 as 08:00,
  // a FHIR rule); the latest reading of hour 08 is 08:59:59.999, which temporal.h asks for.
  EXPECT_EQ(Str(HighBoundary(L("2014-01-01T08"), 17)), "2014-01-01T08:59:59.999-12:00");
}

TEST(Temporal, BoundaryDefaultsAndCalendar) {
  EXPECT_EQ(Str(LowBoundary(L("2014-02"), std::nullopt)), "2014-02-01");
  EXPECT_EQ(Str(HighBoundary(L("2014-02"), std::nullopt)), "2014-02-28");
  EXPECT_EQ(Str(HighBoundary(L("2012-02"), std::nullopt)), "2012-02-29");
  EXPECT_EQ(Str(HighBoundary(L("2014T"), std::nullopt)), "2014-12-31T23:59:59.999-12:00");
  EXPECT_EQ(Str(LowBoundary(L("2014T"), std::nullopt)), "2014-01-01T00:00:00.000+14:00");
  EXPECT_EQ(Str(HighBoundary(L("T10"), std::nullopt)), "10:59:59.999");
  EXPECT_EQ(Str(HighBoundary(L("T10"), 4)), "10:59");
  EXPECT_EQ(Str(HighBoundary(L("2014-05-17T10:30:00Z"), 6)), "2014-05");
  EXPECT_EQ(Str(HighBoundary(L("2014-05-17T10:30:00Z"), 12)), "2014-05-17T10:30Z");
  EXPECT_EQ(Str(LowBoundary(L("2014-05-17T10:30:15.250Z"), 14)), "2014-05-17T10:30:15Z");
  EXPECT_EQ(Str(LowBoundary(L("2014-05-17T10:30:15.250Z"), 17)), "2014-05-17T10:30:15.250Z");
}

TEST(Temporal, BoundaryPrecisionMustExistForTheKind) {
  EXPECT_FALSE(LowBoundary(L("2014"), 10).has_value());
  EXPECT_FALSE(LowBoundary(L("2014"), 5).has_value());
  EXPECT_FALSE(HighBoundary(L("2014T"), 9).has_value());
  EXPECT_FALSE(HighBoundary(L("2014T"), 18).has_value());
  EXPECT_FALSE(LowBoundary(L("T10"), 8).has_value());
  EXPECT_FALSE(LowBoundary(L("T10"), -1).has_value());
}

TEST(Temporal, BoundariesOrderAPeriod) {
  // testPeriodInvariantNew: start.lowBoundary() < end.highBoundary().
  const std::optional<Temporal> low = LowBoundary(L("2010-03"), std::nullopt);
  const std::optional<Temporal> high = HighBoundary(L("2010-03"), std::nullopt);
  ASSERT_TRUE(low && high);
  EXPECT_EQ(Compare(*low, *high), -1);
  const std::optional<Temporal> dt_low = LowBoundary(L("2010-03-01T10"), std::nullopt);
  const std::optional<Temporal> dt_high = HighBoundary(L("2010-03-01T10"), std::nullopt);
  ASSERT_TRUE(dt_low && dt_high);
  EXPECT_EQ(Compare(*dt_low, *dt_high), -1);
  EXPECT_EQ(Compare(*dt_low, L("2010-03-01T10:00:00.000Z")), -1);  // +14:00 is 14 hours earlier
  EXPECT_EQ(Compare(*dt_high, L("2010-03-01T10:59:59.999Z")), 1);
}

}  // namespace
}  // namespace ehr::fhirpath
