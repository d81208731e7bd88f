// OperationOutcome rendering and FHIR response helpers.
#pragma once

#include <string>

#include "core/status.h"
#include "fhir/json/value.h"
#include "net/http.h"

namespace ehr::api {

inline constexpr const char* kFhirJson = "application/fhir+json; charset=utf-8";

// The OperationOutcome for `status` (its issues; a generic one when it has none).
json::Value OutcomeOf(const Status& status);
// An OperationOutcome with one information issue (Prefer: return=OperationOutcome).
json::Value InformationOutcome(const std::string& diagnostics);

// "201 Created" style status line text used in Bundle.entry.response.status.
std::string StatusLine(int status);

}  // namespace ehr::api
