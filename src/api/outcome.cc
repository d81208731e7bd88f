#include "api/outcome.h"

namespace ehr::api {

json::Value OutcomeOf(const Status& status) {
  json::Value oo = json::Value::MakeObject();
  oo.Set("resourceType", json::Value("OperationOutcome"));
  json::Array issues;
  auto add = [&issues](const Issue& i) {
    json::Value issue = json::Value::MakeObject();
    issue.Set("severity", json::Value(i.severity.empty() ? "error" : i.severity));
    issue.Set("code", json::Value(i.code.empty() ? "processing" : i.code));
    if (!i.diagnostics.empty()) issue.Set("diagnostics", json::Value(i.diagnostics));
    if (!i.expression.empty()) {
      json::Array expr;
      expr.emplace_back(i.expression);
      issue.Set("expression", json::Value(std::move(expr)));
    }
    issues.push_back(std::move(issue));
  };
  for (const auto& i : status.issues()) add(i);
  if (issues.empty()) add(Issue{"error", "processing", "Request failed", ""});
  oo.Set("issue", json::Value(std::move(issues)));
  return oo;
}

json::Value InformationOutcome(const std::string& diagnostics) {
  return OutcomeOf(Status(Code::kOk, Issue{"information", "informational", diagnostics, ""}));
}

std::string StatusLine(int status) {
  const char* text = "";
  switch (status) {
    case 200: text = "OK"; break;
    case 201: text = "Created"; break;
    case 204: text = "No Content"; break;
    case 304: text = "Not Modified"; break;
    case 400: text = "Bad Request"; break;
    case 401: text = "Unauthorized"; break;
    case 403: text = "Forbidden"; break;
    case 404: text = "Not Found"; break;
    case 405: text = "Method Not Allowed"; break;
    case 406: text = "Not Acceptable"; break;
    case 409: text = "Conflict"; break;
    case 410: text = "Gone"; break;
    case 412: text = "Precondition Failed"; break;
    case 413: text = "Payload Too Large"; break;
    case 415: text = "Unsupported Media Type"; break;
    case 422: text = "Unprocessable Entity"; break;
    case 500: text = "Internal Server Error"; break;
    case 503: text = "Service Unavailable"; break;
    default: break;
  }
  std::string out = std::to_string(status);
  if (*text) {
    out += ' ';
    out += text;
  }
  return out;
}

}  // namespace ehr::api
