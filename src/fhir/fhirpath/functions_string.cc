#include "fhir/fhirpath/functions_internal.h"

namespace ehr::fhirpath {

std::span<const FunctionDef> StringFunctions() { return {}; }

}  // namespace ehr::fhirpath
