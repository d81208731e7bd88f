// Status and Result: the error values that cross every module boundary.
//
// A Status is either OK or carries a Code (which decides the HTTP status) and one or more
// Issues (which become an OperationOutcome). User-data problems name the FHIRPath location
// of the offending element in Issue::expression; system failures carry no PHI.
// Values are cheap to move and safe to copy; no shared state.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ehr {

enum class Code {
  kOk,
  kInvalid,               // 400: malformed request or resource
  kUnauthorized,          // 401
  kForbidden,             // 403
  kNotFound,              // 404
  kMethodNotAllowed,      // 405
  kNotAcceptable,         // 406
  kConflict,              // 409
  kGone,                  // 410: deleted
  kPreconditionFailed,    // 412: If-Match / conditional with several matches
  kTooLarge,              // 413
  kUnsupportedMediaType,  // 415
  kUnprocessable,         // 422: business rule (e.g. idempotency key reused with another body)
  kTooManyRequests,       // 429
  kInternal,              // 500
  kUnavailable,           // 503
};

int HttpStatusOf(Code code);

// One entry of an OperationOutcome. `code` is from the FHIR IssueType value set.
struct Issue {
  std::string severity = "error";  // fatal | error | warning | information
  std::string code = "invalid";
  std::string diagnostics;
  std::string expression;  // FHIRPath of the element, empty when not about one element
};

class Status {
 public:
  Status() = default;  // OK
  Status(Code code, Issue issue) : code_(code) { issues_.push_back(std::move(issue)); }
  Status(Code code, std::vector<Issue> issues) : code_(code), issues_(std::move(issues)) {}

  static Status Ok() { return {}; }
  static Status Invalid(std::string msg, std::string expression = {}, std::string issue_code = "invalid") {
    return {Code::kInvalid, Issue{"error", std::move(issue_code), std::move(msg), std::move(expression)}};
  }
  static Status NotFound(std::string msg) { return {Code::kNotFound, Issue{"error", "not-found", std::move(msg), {}}}; }
  static Status Gone(std::string msg) { return {Code::kGone, Issue{"error", "deleted", std::move(msg), {}}}; }
  static Status Conflict(std::string msg) { return {Code::kConflict, Issue{"error", "conflict", std::move(msg), {}}}; }
  static Status PreconditionFailed(std::string msg) {
    return {Code::kPreconditionFailed, Issue{"error", "conflict", std::move(msg), {}}};
  }
  static Status Unprocessable(std::string msg, std::string expression = {}) {
    return {Code::kUnprocessable, Issue{"error", "processing", std::move(msg), std::move(expression)}};
  }
  static Status NotSupported(Code code, std::string msg) {
    return {code, Issue{"error", "not-supported", std::move(msg), {}}};
  }
  static Status Forbidden(std::string msg) { return {Code::kForbidden, Issue{"error", "forbidden", std::move(msg), {}}}; }
  static Status Internal(std::string msg) { return {Code::kInternal, Issue{"error", "exception", std::move(msg), {}}}; }
  static Status Unavailable(std::string msg) {
    return {Code::kUnavailable, Issue{"error", "transient", std::move(msg), {}}};
  }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  int http_status() const { return HttpStatusOf(code_); }
  const std::vector<Issue>& issues() const { return issues_; }
  std::vector<Issue>& mutable_issues() { return issues_; }
  // First diagnostics line, for logs that must not carry PHI: callers log code() only.
  std::string message() const { return issues_.empty() ? std::string() : issues_.front().diagnostics; }

  // Prefixes every issue's expression with `path` (used when an entry of a Bundle fails).
  Status& WithExpressionPrefix(const std::string& path);

 private:
  Code code_ = Code::kOk;
  std::vector<Issue> issues_;
};

// Result<T>: a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}                    // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}            // NOLINT
  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  Status take_status() { return std::move(status_); }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

#define EHR_CONCAT_INNER(a, b) a##b
#define EHR_CONCAT(a, b) EHR_CONCAT_INNER(a, b)
// Returns the status from the enclosing function when `expr` is not OK.
#define EHR_RETURN_IF_ERROR(expr)          \
  do {                                     \
    ::ehr::Status _st = (expr);            \
    if (!_st.ok()) return _st;             \
  } while (0)
// `EHR_ASSIGN_OR_RETURN(auto x, Fn());`
#define EHR_ASSIGN_OR_RETURN(lhs, expr) EHR_ASSIGN_OR_RETURN_IMPL(EHR_CONCAT(_res_, __LINE__), lhs, expr)
#define EHR_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.take_status();        \
  lhs = std::move(tmp).value()

}  // namespace ehr
