#include "core/status.h"

namespace ehr {

int HttpStatusOf(Code code) {
  switch (code) {
    case Code::kOk: return 200;
    case Code::kInvalid: return 400;
    case Code::kUnauthorized: return 401;
    case Code::kForbidden: return 403;
    case Code::kNotFound: return 404;
    case Code::kMethodNotAllowed: return 405;
    case Code::kNotAcceptable: return 406;
    case Code::kConflict: return 409;
    case Code::kGone: return 410;
    case Code::kPreconditionFailed: return 412;
    case Code::kTooLarge: return 413;
    case Code::kUnsupportedMediaType: return 415;
    case Code::kUnprocessable: return 422;
    case Code::kTooManyRequests: return 429;
    case Code::kInternal: return 500;
    case Code::kUnavailable: return 503;
  }
  return 500;
}

Status& Status::WithExpressionPrefix(const std::string& path) {
  for (auto& issue : issues_) {
    if (issue.expression.empty()) {
      issue.expression = path;
    } else {
      issue.expression = path + "." + issue.expression;
    }
  }
  return *this;
}

}  // namespace ehr
