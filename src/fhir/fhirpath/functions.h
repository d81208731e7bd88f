// The function table: every FHIRPath function, one entry each, resolved at compile time.
#pragma once

#include <cstdint>
#include <string_view>

#include "fhir/fhirpath/ast.h"
#include "fhir/fhirpath/value.h"

namespace ehr::fhirpath {

class Evaluator;
struct Scope;

// `input` is the function's input collection (the focus before the dot, or $this).
using FunctionImpl = Collection (*)(Evaluator& ev, const Expr& call, const Collection& input, const Scope& scope);

struct FunctionDef {
  std::string_view name;
  uint8_t min_args;
  uint8_t max_args;
  FunctionImpl impl;
  // The first argument names a type (is, as, ofType) rather than being evaluated.
  bool type_argument = false;
};

// nullptr when there is no such function.
const FunctionDef* FindFunction(std::string_view name);

}  // namespace ehr::fhirpath
