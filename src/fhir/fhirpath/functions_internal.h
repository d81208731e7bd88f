// Shared by the function implementation files (internal to the module).
#pragma once

#include <span>

#include "fhir/fhirpath/eval.h"
#include "fhir/fhirpath/functions.h"

namespace ehr::fhirpath {

// One table per file; functions.cc merges them into the lookup index.
std::span<const FunctionDef> CoreFunctions();     // functions.cc: existence, filtering, subsetting...
std::span<const FunctionDef> StringFunctions();   // functions_string.cc
std::span<const FunctionDef> ConvertFunctions();  // functions_convert.cc: toX, convertsToX, iif
std::span<const FunctionDef> MathFunctions();     // functions_math.cc
std::span<const FunctionDef> FhirFunctions();     // functions_fhir.cc: extension, resolve, type...

#define EHR_FHIRPATH_FN(name) \
  Collection name(Evaluator& ev, const Expr& call, const Collection& input, const Scope& scope)

inline Collection OneItem(Item item) {
  Collection c;
  c.push_back(std::move(item));
  return c;
}
inline Collection OneBoolean(bool b) { return OneItem(Item::Boolean(b)); }

}  // namespace ehr::fhirpath
