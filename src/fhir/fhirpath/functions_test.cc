// The string, conversion and math functions, through the public API.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fhir/fhirpath/fhirpath.h"

namespace ehr::fhirpath {
namespace {

const json::Value& Patient() {
  static const json::Value patient = *json::Parse(R"({
    "resourceType": "Patient", "id": "p1", "active": true, "birthDate": "1974-12-25",
    "name": [{"use": "official", "family": "Chalmers", "given": ["Peter", "James"]}],
    "_gender": {"extension": [{"url": "http://example.org/why", "valueString": "unknown"}]}
  })");
  return patient;
}

Result<EvalResult> Run(std::string_view text) {
  Result<Expression> compiled = Expression::Compile(text);
  if (!compiled.ok()) return compiled.take_status();
  return compiled->Evaluate(Patient());
}

// The result as literal-like texts ("1.50", "5 'mg'"), or "error: ..." when it fails.
std::vector<std::string> Texts(std::string_view text) {
  Result<EvalResult> r = Run(text);
  if (!r.ok()) return {"error: " + r.status().message()};
  std::vector<std::string> out;
  for (const Item& item : r->items) out.push_back(ToText(item));
  return out;
}

// The single result as text; "{}" when empty.
std::string One(std::string_view text) {
  std::vector<std::string> all = Texts(text);
  if (all.empty()) return "{}";
  if (all.size() > 1) return "several results";
  return all[0];
}

bool Fails(std::string_view text) {
  Result<Expression> compiled = Expression::Compile(text);
  EXPECT_TRUE(compiled.ok()) << text << ": " << compiled.status().message();
  return compiled.ok() && !compiled->Evaluate(Patient()).ok();
}

// --- Strings ---

TEST(StringFunctions, IndexOf) {
  EXPECT_EQ(One("'LogicalModel-Person'.indexOf('-')"), "12");
  EXPECT_EQ(One("'LogicalModel-Person'.indexOf('z')"), "-1");
  EXPECT_EQ(One("'LogicalModel-Person'.indexOf('')"), "0");
  EXPECT_EQ(One("{}.indexOf('-')"), "{}");
  EXPECT_EQ(One("'abc'.indexOf({})"), "{}");
  EXPECT_EQ(One("'añb'.indexOf('b')"), "2");  // code points, not bytes
  EXPECT_EQ(One("'abc abc'.lastIndexOf('a')"), "4");
  EXPECT_EQ(One("'abc'.lastIndexOf('x')"), "-1");
  EXPECT_EQ(One("'abc'.lastIndexOf('')"), "0");
  EXPECT_EQ(One("'ñañ'.lastIndexOf('ñ')"), "2");
}

TEST(StringFunctions, Substring) {
  EXPECT_EQ(One("'abc'.substring(1)"), "bc");
  EXPECT_EQ(One("'12345'.substring(2, 1)"), "3");
  EXPECT_EQ(One("'12345'.substring(2, 5)"), "345");
  EXPECT_EQ(One("'12345'.substring(25)"), "{}");
  EXPECT_EQ(One("'12345'.substring(-1)"), "{}");
  EXPECT_EQ(One("'12345'.substring(5)"), "{}");
  EXPECT_EQ(One("'abcdefg'.substring(3, 0)"), "");
  EXPECT_EQ(One("'abcdefg'.substring(3, -1)"), "");
  EXPECT_EQ(One("'12345'.substring(2, {})"), "345");
  EXPECT_EQ(One("'12345'.substring({})"), "{}");
  EXPECT_EQ(One("'añbc'.substring(1, 2)"), "ñb");
  EXPECT_EQ(One("'🔥x🔥'.substring(2)"), "🔥");
}

TEST(StringFunctions, StartsEndsContains) {
  EXPECT_EQ(One("'12345'.startsWith('12')"), "true");
  EXPECT_EQ(One("'12345'.startsWith('2')"), "false");
  EXPECT_EQ(One("'12345'.startsWith('')"), "true");
  EXPECT_EQ(One("'12345'.endsWith('45')"), "true");
  EXPECT_EQ(One("'12345'.endsWith('012345')"), "false");
  EXPECT_EQ(One("'12345'.contains('34')"), "true");
  EXPECT_EQ(One("'12345'.contains('35')"), "false");
  EXPECT_EQ(One("{}.contains('a')"), "{}");
  EXPECT_EQ(One("Patient.name.use.contains('ffic')"), "true");  // a FHIR code is a String
}

TEST(StringFunctions, InputMustBeOneString) {
  EXPECT_TRUE(Fails("Patient.name.startsWith('C')"));        // HumanName
  EXPECT_TRUE(Fails("Patient.name.given.startsWith('P')"));  // two items
  EXPECT_TRUE(Fails("1.length()"));
  EXPECT_TRUE(Fails("'abc'.startsWith(1)"));
  // A primitive with only extensions has no value: empty, not an error.
  EXPECT_EQ(One("Patient.gender.length()"), "{}");
}

TEST(StringFunctions, UpperLower) {
  EXPECT_EQ(One("'AbCdefg'.upper()"), "ABCDEFG");
  EXPECT_EQ(One("'aBcDEFG'.lower()"), "abcdefg");
  EXPECT_EQ(One("'t'.upper() = 'T'"), "true");
}

TEST(StringFunctions, Replace) {
  EXPECT_EQ(One("'123456'.replace('234', 'X')"), "1X56");
  EXPECT_EQ(One("'123456'.replace('234', '')"), "156");
  EXPECT_EQ(One("'abc'.replace('', 'x')"), "xaxbxcx");
  EXPECT_EQ(One("'añ'.replace('', '-')"), "-a-ñ-");
  EXPECT_EQ(One("'aaa'.replace('a', 'bb')"), "bbbbbb");
  EXPECT_EQ(One("'123'.replace({}, 'X')"), "{}");
  EXPECT_EQ(One("'123'.replace('2', {})"), "{}");
}

TEST(StringFunctions, ReplaceCannotGrowWithoutBound) {
  std::string text = "'ab'";
  for (int i = 0; i < 30; ++i) text += ".replace('a', 'aa').replace('b', 'bb')";
  EXPECT_TRUE(Fails(text));
}

TEST(StringFunctions, Matches) {
  EXPECT_EQ(One("'FHIR'.matches('FHIR')"), "true");
  EXPECT_EQ(One("'FHIR'.matches('fhir')"), "false");
  EXPECT_EQ(One("'abc'.matches('^a.c$')"), "true");
  EXPECT_EQ(One("'N8000123123'.matches('N[0-9]{8}')"), "true");
  EXPECT_EQ(One("'N8000123123'.matches('^N[0-9]{8}$')"), "false");
  EXPECT_EQ(One("'A\nB'.matches('A.B')"), "true");  // single-line mode: '.' matches a newline
  EXPECT_EQ(One("'🔥🔥🔥'.matches('^🔥+$')"), "true");
  EXPECT_EQ(One("'FHIR'.matches({})"), "{}");
  EXPECT_EQ(One("{}.matches('FHIR')"), "{}");
  EXPECT_TRUE(Fails("'abc'.matches('(')"));
  EXPECT_TRUE(Fails("'abc'.matches('(?=a)')"));  // lookahead: not in RE2, an error rather than a guess
}

TEST(StringFunctions, MatchesFull) {
  const std::string url = "'http://fhir.org/guides/cqf/common/Library/FHIR-ModelInfo|4.0.1'";
  EXPECT_EQ(One(url + ".matches('Library')"), "true");
  EXPECT_EQ(One(url + ".matchesFull('Library')"), "false");
  EXPECT_EQ(One(url + ".matchesFull('.*Library.*')"), "true");
  EXPECT_EQ(One("'N8000123123'.matchesFull('N[0-9]{10}')"), "true");
  EXPECT_EQ(One("'ñ'.matchesFull('.')"), "true");  // one character, two bytes
  EXPECT_EQ(One("'ab'.matchesFull('a|ab')"), "true");
}

TEST(StringFunctions, ReplaceMatches) {
  EXPECT_EQ(One("'123456'.replaceMatches('234', 'X')"), "1X56");
  EXPECT_EQ(One("'abc'.replaceMatches('', 'x')"), "abc");
  EXPECT_EQ(One("'abc123'.replaceMatches('[0-9]', '-')"), "abc---");
  EXPECT_EQ(One("'abc'.replaceMatches('x*', '-')"), "-a-b-c-");
  EXPECT_EQ(One("'John Smith'.replaceMatches('(\\\\w+) (\\\\w+)', '$2, $1')"), "Smith, John");
  EXPECT_EQ(One("'ab'.replaceMatches('(a)', '[$$1 $& $9]')"), "[$1 a $9]b");
  EXPECT_EQ(One(R"('11/30/1972'.replaceMatches('\\b(?<month>\\d{1,2})/(?<day>\\d{1,2})/(?<year>\\d{2,4})\\b',
                                               '${day}-${month}-${year}'))"),
            "30-11-1972");
  EXPECT_EQ(One("'a[(?<x>b)]'.replaceMatches('[(?<x>]', '.')"), "a[.....b)]");
  EXPECT_EQ(One("'ñaña'.replaceMatches('a', 'o')"), "ñoño");
  EXPECT_EQ(One("'123'.replaceMatches({}, 'X')"), "{}");
  EXPECT_EQ(One("'123'.replaceMatches('2', {})"), "{}");
  EXPECT_TRUE(Fails("'abc'.replaceMatches('[', 'x')"));
}

TEST(StringFunctions, LengthAndToChars) {
  EXPECT_EQ(One("'123456'.length()"), "6");
  EXPECT_EQ(One("''.length()"), "0");
  EXPECT_EQ(One("'héllo'.length()"), "5");
  EXPECT_EQ(One("'🔥'.length()"), "1");
  EXPECT_EQ(One("{}.length()"), "{}");
  EXPECT_EQ(Texts("'t2'.toChars()"), (std::vector<std::string>{"t", "2"}));
  EXPECT_EQ(Texts("'añ🔥'.toChars()"), (std::vector<std::string>{"a", "ñ", "🔥"}));
}

TEST(StringFunctions, Trim) {
  EXPECT_EQ(One("' \\t 123 456 \\n'.trim()"), "123 456");
  EXPECT_EQ(One("'      '.trim()"), "");
  EXPECT_EQ(One("{}.trim()"), "{}");
}

TEST(StringFunctions, SplitAndJoin) {
  EXPECT_EQ(Texts("'A,,C'.split(',')"), (std::vector<std::string>{"A", "", "C"}));
  EXPECT_EQ(Texts("'ABC'.split(',')"), (std::vector<std::string>{"ABC"}));
  EXPECT_EQ(One("'[stop]ONE[stop][stop]TWO[stop][stop][stop]THREE[stop][stop]'.split('[stop]').count()"), "9");
  EXPECT_EQ(One("'A,,C'.split(',').join(',')"), "A,,C");
  EXPECT_EQ(One("('A' | 'B' | 'C').join()"), "ABC");
  EXPECT_EQ(One("('A' | 'B' | 'C').join(', ')"), "A, B, C");
  EXPECT_EQ(One("Patient.name.given.join(' ')"), "Peter James");
  EXPECT_EQ(One("{}.join(',')"), "{}");
  EXPECT_TRUE(Fails("(1 | 2).join(',')"));
}

TEST(StringFunctions, EncodeDecode) {
  EXPECT_EQ(One("'test'.encode('base64')"), "dGVzdA==");
  EXPECT_EQ(One("'test'.encode('hex')"), "74657374");
  EXPECT_EQ(One("'subjects?_d'.encode('base64')"), "c3ViamVjdHM/X2Q=");
  EXPECT_EQ(One("'subjects?_d'.encode('urlbase64')"), "c3ViamVjdHM_X2Q=");
  EXPECT_EQ(One("'ñ'.encode('hex')"), "c3b1");
  EXPECT_EQ(One("'dGVzdA=='.decode('base64')"), "test");
  EXPECT_EQ(One("'dGVzdA'.decode('base64')"), "test");  // padding is optional on input
  EXPECT_EQ(One("'74657374'.decode('hex')"), "test");
  EXPECT_EQ(One("'C3B1'.decode('hex')"), "ñ");
  EXPECT_EQ(One("'c3ViamVjdHM_X2Q='.decode('urlbase64')"), "subjects?_d");
  EXPECT_EQ(One("'c3ViamVjdHM_X2Q='.decode('base64')"), "{}");
  EXPECT_EQ(One("'7g'.decode('hex')"), "{}");
  EXPECT_EQ(One("'ff'.decode('hex')"), "{}");    // not UTF-8 text
  EXPECT_EQ(One("'c080'.decode('hex')"), "{}");  // an overlong form is not UTF-8 either
  EXPECT_EQ(One("'test'.encode({})"), "{}");
  EXPECT_TRUE(Fails("'test'.encode('rot13')"));
}

TEST(StringFunctions, EscapeUnescape) {
  EXPECT_EQ(One(R"('"1<2"'.escape('html'))"), "&quot;1&lt;2&quot;");
  EXPECT_EQ(One(R"('"1<2"'.escape('json'))"), R"(\"1<2\")");
  EXPECT_EQ(One(R"('a\nb\\c'.escape('json'))"), R"(a\nb\\c)");
  EXPECT_EQ(One(R"('\u0001/'.escape('json'))"), R"(\u0001/)");
  EXPECT_EQ(One("'&quot;1&lt;2&quot;'.unescape('html')"), "\"1<2\"");
  EXPECT_EQ(One("'&#233;&#xE9;&amp;&bogus;'.unescape('html')"), "éé&&bogus;");
  EXPECT_EQ(One(R"('\\"1<2\\"'.unescape('json'))"), "\"1<2\"");
  EXPECT_EQ(One(R"('\\u00e9\\ud83d\\udd25\\n'.unescape('json'))"), "é🔥\n");
  EXPECT_EQ(One(R"('\\ud800x'.unescape('json'))"), R"(\ud800x)");  // a lone surrogate stays as written
  EXPECT_TRUE(Fails("'x'.escape('xml')"));
}

// --- Conversions ---

TEST(ConvertFunctions, ToBoolean) {
  for (const char* yes : {"'true'", "'T'", "'Yes'", "'y'", "'1'", "'1.0'", "1", "1.0", "1.00", "true"}) {
    EXPECT_EQ(One(std::string(yes) + ".toBoolean()"), "true") << yes;
  }
  for (const char* no : {"'false'", "'F'", "'NO'", "'n'", "'0'", "'0.0'", "0", "0.0", "false"}) {
    EXPECT_EQ(One(std::string(no) + ".toBoolean()"), "false") << no;
  }
  EXPECT_EQ(One("2.toBoolean()"), "{}");
  EXPECT_EQ(One("'maybe'.toBoolean()"), "{}");
  EXPECT_EQ(One("2.convertsToBoolean()"), "false");
  EXPECT_EQ(One("(-1).convertsToBoolean()"), "false");
  EXPECT_EQ(One("'False'.convertsToBoolean()"), "true");
  EXPECT_EQ(One("Patient.active.toBoolean()"), "true");
  EXPECT_EQ(One("{}.convertsToBoolean()"), "{}");
  EXPECT_TRUE(Fails("(true | false).toBoolean()"));
}

TEST(ConvertFunctions, ToInteger) {
  EXPECT_EQ(One("'1'.toInteger()"), "1");
  EXPECT_EQ(One("'+5'.toInteger()"), "5");
  EXPECT_EQ(One("'-1'.toInteger()"), "-1");
  EXPECT_EQ(One("'-9223372036854775808'.toInteger()"), "-9223372036854775808");
  EXPECT_EQ(One("'9223372036854775808'.toInteger()"), "{}");
  EXPECT_EQ(One("'1.1'.toInteger()"), "{}");
  EXPECT_EQ(One("'0.0'.toInteger()"), "{}");
  EXPECT_EQ(One("' 1'.toInteger()"), "{}");
  EXPECT_EQ(One("true.toInteger()"), "1");
  EXPECT_EQ(One("1.5.toInteger()"), "{}");  // Decimal is not in the conversion table
  EXPECT_EQ(One("'a'.convertsToInteger()"), "false");
  EXPECT_EQ(One("true.convertsToInteger()"), "true");
  EXPECT_EQ(One("(-1).convertsToInteger()"), "true");
  EXPECT_TRUE(Fails("-1.convertsToInteger()"));  // -(true) is not defined
}

TEST(ConvertFunctions, ToDecimal) {
  EXPECT_EQ(One("'1.50'.toDecimal()"), "1.50");
  EXPECT_EQ(One("'1.5'.toDecimal() = 1.5"), "true");
  EXPECT_EQ(One("'-1'.toDecimal() is Decimal"), "true");
  EXPECT_EQ(One("1.toDecimal() is Decimal"), "true");
  EXPECT_EQ(One("true.toDecimal()"), "1.0");
  EXPECT_EQ(One("false.toDecimal()"), "0.0");
  EXPECT_EQ(One("'1e3'.toDecimal()"), "{}");
  EXPECT_EQ(One("'1.'.toDecimal()"), "{}");
  EXPECT_EQ(One("'.5'.toDecimal()"), "{}");
  EXPECT_EQ(One("'1.a'.convertsToDecimal()"), "false");
  EXPECT_EQ(One("1.0.convertsToDecimal()"), "true");
}

TEST(ConvertFunctions, ToString) {
  EXPECT_EQ(One("1.toString()"), "1");
  EXPECT_EQ(One("(-1).toString()"), "-1");
  EXPECT_EQ(One("1.0.toString()"), "1.0");
  EXPECT_EQ(One("1.50.toString()"), "1.50");
  EXPECT_EQ(One("true.toString()"), "true");
  EXPECT_EQ(One("1 'wk'.toString()"), "1 'wk'");
  EXPECT_EQ(One("1 week.toString()"), "1 week");
  EXPECT_EQ(One("@2014-12-14.toString()"), "2014-12-14");
  EXPECT_EQ(One("Patient.birthDate.toString()"), "1974-12-25");
  EXPECT_EQ(One("Patient.name.toString()"), "{}");  // a HumanName has no String form
  EXPECT_EQ(One("Patient.name.convertsToString()"), "false");
  EXPECT_EQ(One("1 'wk'.convertsToString()"), "true");
  EXPECT_TRUE(Fails("(1 | 2).toString()"));
}

TEST(ConvertFunctions, ToDateTimeAndTime) {
  EXPECT_EQ(One("'2015-02-04'.toDate() = @2015-02-04"), "true");
  EXPECT_EQ(One("'2015'.convertsToDate()"), "true");
  EXPECT_EQ(One("'2015-02-04T14'.toDate()"), "{}");
  EXPECT_EQ(One("'2015-13'.convertsToDate()"), "false");
  EXPECT_EQ(One("@2015-02-04T10:20:30Z.toDate().toString()"), "2015-02-04");
  EXPECT_EQ(One("@2015-02-04T10:20:30Z.toDate() is Date"), "true");
  EXPECT_EQ(One("Patient.birthDate.toDate() = @1974-12-25"), "true");
  EXPECT_EQ(One("'2015-02-04T14:34:28+10:00'.convertsToDateTime()"), "true");
  EXPECT_EQ(One("'2015-02-04T14:34:28.123'.toDateTime().toString()"), "2015-02-04T14:34:28.123");
  EXPECT_EQ(One("'2015'.toDateTime() is DateTime"), "true");
  EXPECT_EQ(One("@2015-02.toDateTime().toString()"), "2015-02");  // date precision kept
  EXPECT_EQ(One("@2015-02.toDateTime() is DateTime"), "true");
  EXPECT_EQ(One("'14:34'.toTime() = @T14:34"), "true");
  EXPECT_EQ(One("'14'.convertsToTime()"), "true");
  EXPECT_EQ(One("'14:34:28.123'.toTime().toString()"), "14:34:28.123");
  EXPECT_EQ(One("'25:00'.convertsToTime()"), "false");
  EXPECT_EQ(One("'2015-02-04'.convertsToTime()"), "false");
  EXPECT_EQ(One("@T10:00.convertsToDateTime()"), "false");
}

TEST(ConvertFunctions, ToQuantity) {
  EXPECT_EQ(One("'5.4 \\'mg\\''.toQuantity()"), "5.4 'mg'");
  EXPECT_EQ(One("'4 days'.toQuantity()"), "4 days");
  EXPECT_EQ(One("'1'.toQuantity()"), "1 '1'");
  EXPECT_EQ(One("1.5.toQuantity()"), "1.5 '1'");
  EXPECT_EQ(One("true.toQuantity()"), "1.0 '1'");
  EXPECT_EQ(One("'1 day'.toQuantity() = 1 day"), "true");
  EXPECT_EQ(One("'1 wk'.convertsToQuantity()"), "false");  // unquoted units are calendar keywords only
  EXPECT_EQ(One("'1 \\'wk\\''.convertsToQuantity()"), "true");
  EXPECT_EQ(One("'1.a'.convertsToQuantity()"), "false");
  EXPECT_EQ(One("'mg'.convertsToQuantity()"), "false");
  EXPECT_EQ(One("1000 'mg'.toQuantity('g') = 1 'g'"), "true");
  EXPECT_EQ(One("1 'mg'.toQuantity('m')"), "{}");
  EXPECT_EQ(One("1000 'mg'.convertsToQuantity('g')"), "true");
  EXPECT_EQ(One("1 'mg'.convertsToQuantity('m')"), "false");
  EXPECT_EQ(One("'x'.toQuantity('g')"), "{}");
}

TEST(ConvertFunctions, Iif) {
  EXPECT_EQ(One("iif(Patient.name.exists(), 'named', 'unnamed')"), "named");
  EXPECT_EQ(One("iif({}, true, false)"), "false");
  EXPECT_EQ(One("iif({} | true, true, false)"), "true");
  EXPECT_EQ(One("iif(false, 'true-result')"), "{}");
  EXPECT_EQ(One("iif(Patient.active, 'yes', 'no')"), "yes");  // a FHIR boolean
  // Only the chosen branch is evaluated.
  EXPECT_EQ(One("iif(true, 'a', (1 | 2).single())"), "a");
  EXPECT_EQ(One("iif(false, (1 | 2).single(), 'b')"), "b");
  EXPECT_TRUE(Fails("iif(1 | 2 | 3, true, false)"));
  EXPECT_TRUE(Fails("iif('non boolean criteria', 'a', 'b')"));
  // On a focus: $this is the input item, which must be single.
  EXPECT_EQ(One("{}.iif(true, 'true-result', 'false-result')"), "true-result");
  EXPECT_EQ(One("('context').iif(true, select($this), 'false-result')"), "context");
  EXPECT_EQ(One("('context').iif($this = 'context', 'true-result', 'false-result')"), "true-result");
  EXPECT_TRUE(Fails("('item1' | 'item2').iif(true, 'a', 'b')"));
  // Bare inside an iteration: the iteration's $this and $total.
  EXPECT_EQ(One("(5 | 2 | 9).aggregate(iif($total.empty(), $this, iif($this < $total, $this, $total)))"), "2");
  EXPECT_EQ(Texts("Patient.name.given.select(iif($this = 'James', $index, {}))"), (std::vector<std::string>{"1"}));
}

// --- Math ---

TEST(MathFunctions, AbsAndIntegerParts) {
  EXPECT_EQ(One("(-5).abs()"), "5");
  EXPECT_EQ(One("(-5).abs() is Integer"), "true");
  EXPECT_EQ(One("(-5.5).abs()"), "5.5");
  EXPECT_EQ(One("(-5.5 'mg').abs()"), "5.5 'mg'");
  EXPECT_EQ(One("1.ceiling()"), "1");
  EXPECT_EQ(One("(-1.1).ceiling()"), "-1");
  EXPECT_EQ(One("1.1.ceiling()"), "2");
  EXPECT_EQ(One("1.1.ceiling() is Integer"), "true");
  EXPECT_EQ(One("2.1.floor()"), "2");
  EXPECT_EQ(One("(-2.1).floor()"), "-3");
  EXPECT_EQ(One("101.truncate()"), "101");
  EXPECT_EQ(One("1.00000001.truncate()"), "1");
  EXPECT_EQ(One("(-1.56).truncate()"), "-1");
  EXPECT_EQ(One("{}.abs()"), "{}");
  EXPECT_TRUE(Fails("'a'.abs()"));
  EXPECT_TRUE(Fails("1 'mg'.floor()"));
  EXPECT_TRUE(Fails("(1 | 2).abs()"));
}

TEST(MathFunctions, ExpLnLogSqrt) {
  EXPECT_EQ(One("0.exp() = 1"), "true");
  EXPECT_EQ(One("(-0.0).exp() = 1"), "true");
  EXPECT_EQ(One("0.exp() is Decimal"), "true");
  EXPECT_EQ(One("1.ln() = 0.0"), "true");
  EXPECT_EQ(One("0.ln()"), "{}");
  EXPECT_EQ(One("(-1).ln()"), "{}");
  EXPECT_EQ(One("16.log(2) = 4.0"), "true");
  EXPECT_EQ(One("100.0.log(10.0) = 2.0"), "true");
  EXPECT_EQ(One("8.log(1)"), "{}");
  EXPECT_EQ(One("8.log({})"), "{}");
  EXPECT_EQ(One("81.sqrt() = 9.0"), "true");
  EXPECT_EQ(One("2.sqrt()"), "1.4142135623730951");
  EXPECT_EQ(One("(-1).sqrt()"), "{}");
}

TEST(MathFunctions, Power) {
  EXPECT_EQ(One("3.power(2) = 9"), "true");
  EXPECT_EQ(One("2.power(3) is Integer"), "true");
  EXPECT_EQ(One("2.5.power(2)"), "6.25");
  EXPECT_EQ(One("1.1.power(2)"), "1.21");
  EXPECT_EQ(One("2.power(-1)"), "0.5");
  EXPECT_EQ(One("2.power(0.5) is Decimal"), "true");
  EXPECT_EQ(One("(-1).power(0.5)"), "{}");
  EXPECT_EQ(One("0.power(-1)"), "{}");
  EXPECT_EQ(One("2.power({})"), "{}");
  EXPECT_TRUE(Fails("2.power(64)"));  // Integer overflow, as for `*`
  EXPECT_TRUE(Fails("2.power('a')"));
}

TEST(MathFunctions, Round) {
  EXPECT_EQ(One("1.round() = 1"), "true");
  EXPECT_EQ(One("1.round() is Decimal"), "true");
  EXPECT_EQ(One("3.14159.round(3)"), "3.142");
  EXPECT_EQ(One("2.5.round()"), "3");
  EXPECT_EQ(One("(-2.5).round()"), "-3");
  EXPECT_EQ(One("(1.2 / 1.8).round(2) = 0.67"), "true");
  EXPECT_TRUE(Fails("1.5.round(-1)"));
}

}  // namespace
}  // namespace ehr::fhirpath
