// The lexical rules of FHIR R4 primitive values, as fast hand-written checks.
//
// The definitions state the rules as regexes (PrimitiveRules() in fhir/model/model.h);
// these checks accept nothing a rule's regex rejects (primitive_values_test.cc holds them
// against the regexes) and are stricter where the specification's prose is: calendar
// dates must exist, strings may not hold control characters other than TAB, CR and LF,
// no value may be empty, integers must fit 32 bits, base64 padding only at the end.
// Pure functions; thread-safe.
#pragma once

#include <string_view>

#include "fhir/model/model.h"

namespace ehr::fhir {

// How a primitive is written in JSON.
enum class JsonKind { kBool, kNumber, kString };
JsonKind JsonKindOf(Primitive primitive);

// Whether `text` is a valid value of `primitive`: the string for string-written types,
// the number's source text for integer, unsignedInt, positiveInt and decimal. Booleans
// have no text rule (true for any text).
bool IsValidPrimitiveText(Primitive primitive, std::string_view text);

// A short description of the rule, for diagnostics ("a date: YYYY, YYYY-MM or YYYY-MM-DD").
std::string_view DescribePrimitiveRule(Primitive primitive);

}  // namespace ehr::fhir
