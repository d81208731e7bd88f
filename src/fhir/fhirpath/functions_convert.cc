#include "fhir/fhirpath/functions_internal.h"

namespace ehr::fhirpath {

std::span<const FunctionDef> ConvertFunctions() { return {}; }

}  // namespace ehr::fhirpath
