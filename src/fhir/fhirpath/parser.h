// FHIRPath lexer and parser (normative grammar of FHIRPath N1 with the R4 additions and the
// later literals the R4 test suite uses). Hand-written precedence climbing; the nesting
// depth is bounded so that hostile input cannot exhaust the stack.
#pragma once

#include <memory>
#include <string_view>

#include "core/status.h"
#include "fhir/fhirpath/ast.h"

namespace ehr::fhirpath {

inline constexpr int kMaxNesting = 200;
// The evaluator recurses once per tree level; long left-deep chains (`a.b.c...`,
// `1 + 1 + ...`) are bounded here as well as bracket nesting.
inline constexpr int kMaxTreeDepth = 400;
inline constexpr size_t kMaxExpressionBytes = 64 * 1024;

// Parses `text` into a tree with functions resolved and their argument counts checked.
// Errors are kInvalid with diagnostics "syntax error at line L, column C: ..." (or
// "semantic error ..." for an unknown function or wrong argument count).
Result<std::unique_ptr<Expr>> Parse(std::string_view text);

}  // namespace ehr::fhirpath
