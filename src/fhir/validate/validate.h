// Structural validation of a FHIR R4 resource in JSON form against the R4 model.
//
// Checks: a known resourceType; no unknown elements (including a choice element with a
// type it does not allow, or two types for one choice); the JSON representation
// (primitives as JSON booleans, numbers or strings as the JSON format says, arrays
// exactly for repeating elements, no empty objects, arrays or strings, null only inside
// primitive arrays paired with a `_name` array); primitive value formats; cardinality;
// required bindings on codes, and on Coding / CodeableConcept codings whose system
// belongs to the bound value set; `_name` objects (id and extension only); extensions
// (url, and a value or nested extensions, not both); contained resources (recursively;
// they need an id and may not contain resources), Bundle.entry.resource and
// Parameters.parameter.resource (recursively). FHIRPath invariants are not checked.
//
// Each problem is one Issue (severity "error") whose `expression` is the FHIRPath of the
// element: `Patient.name[0].given[1]`, `Observation.valueQuantity.value` (choice elements
// by their JSON name). A nested resource is entered with ofType():
// `Bundle.entry[2].resource.ofType(Patient).name`, `Patient.contained[0].ofType(Organization).id`.
// The extensions of a primitive (`_birthDate`) are addressed as the primitive's own
// children: `Patient.birthDate.extension[0].url`. Problems with the root itself (not an
// object, no or an unknown resourceType) have an empty expression. Issue codes:
// structure (JSON shape, unknown elements, too many values), required (missing element),
// value (bad primitive value), code-invalid (not in a required value set), invalid
// (unknown resource type, resource rules).
//
// Thread-safe: no shared mutable state. Does not allocate unless it reports a problem.
#pragma once

#include <cstddef>

#include "core/status.h"
#include "fhir/json/value.h"

namespace ehr::fhir {

inline constexpr size_t kMaxValidationIssues = 100;

// OK, or Code::kInvalid with one Issue per problem (at most kMaxValidationIssues; when
// more were found the last one says so).
Status ValidateResource(const json::Value& resource);

}  // namespace ehr::fhir
