#include "fhir/fhirpath/functions_internal.h"

namespace ehr::fhirpath {

std::span<const FunctionDef> MathFunctions() { return {}; }

}  // namespace ehr::fhirpath
