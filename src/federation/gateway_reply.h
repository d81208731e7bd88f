// The gateway's answers (federation/gateway.cc, visitor_write.cc): FHIR JSON, not cached.
#pragma once

#include <string>
#include <string_view>

#include "fhir/json/value.h"
#include "net/http.h"

namespace ehr::federation {

net::Response GatewayJson(int status, const json::Value& body, std::string route);
// An OperationOutcome of one error issue; `expression` names the place at fault.
net::Response GatewayError(int status, std::string_view code, const std::string& text, std::string route,
                           const std::string& expression = {});

}  // namespace ehr::federation
