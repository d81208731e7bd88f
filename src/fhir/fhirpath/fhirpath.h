// FHIRPath: compile an expression once, evaluate it many times over FHIR JSON resources.
//
//   EHR_ASSIGN_OR_RETURN(auto expr, fhirpath::Expression::Compile("Patient.name.given"));
//   EHR_ASSIGN_OR_RETURN(fhirpath::EvalResult result, expr.Evaluate(patient_json));
//
// A compiled Expression is immutable and may be evaluated from many threads at once.
// Evaluation never throws and never crashes on any input: errors (a type mismatch, a
// singleton expected, the step budget exhausted) come back as kInvalid with the position
// of the sub-expression that failed.
//
// The resource passed to Evaluate must outlive the result: elements in the result point
// into it. Values the evaluation creates itself (resolve() results from the store, type()
// reflection objects) are kept alive by the result.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "fhir/fhirpath/value.h"
#include "fhir/json/value.h"

namespace ehr::fhirpath {

struct Expr;

// Terminology services for memberOf(), subsumes() and subsumedBy(). The default (no
// Terminology) answers memberOf() from the value sets of the R4 required bindings and
// leaves everything else empty (unknown).
class Terminology {
 public:
  virtual ~Terminology() = default;
  // Whether the code (a code/Coding/CodeableConcept element or a String) is in the value
  // set; nullopt when unknown.
  virtual std::optional<bool> MemberOf(const Item& code, std::string_view value_set_url) = 0;
  virtual std::optional<bool> Subsumes(const Item& a, const Item& b) = 0;
};

// Profiles for conformsTo(), elementDefinition() and slice(). Without one, conformsTo()
// knows the core StructureDefinitions of R4 (http://hl7.org/fhir/StructureDefinition/<Type>,
// checked by type), elementDefinition() is empty and slice() is an error.
class Profiles {
 public:
  virtual ~Profiles() = default;
  // nullopt when the profile is unknown (an evaluation error).
  virtual std::optional<bool> ConformsTo(const Item& item, std::string_view profile_url) = 0;
  // Whether the element matches the named slice of the profile; nullopt when unknown.
  virtual std::optional<bool> InSlice(const Item& item, std::string_view profile_url, std::string_view slice) = 0;
  // The ElementDefinition (as FHIR JSON) that defines the element, or nullptr.
  virtual std::shared_ptr<const json::Value> ElementDefinition(const Item& element) = 0;
};

// Loads a referenced resource for resolve() when it is neither contained nor in the
// Bundle being evaluated. Returns nullptr when not found. Called on the evaluating thread.
using Resolver = std::function<std::shared_ptr<const json::Value>(std::string_view reference)>;

// Receives trace() output: the name and the collection.
using TraceSink = std::function<void(std::string_view name, const Collection& items)>;

struct EvalOptions {
  // %name variables supplied by the caller (without the '%').
  std::map<std::string, Collection, std::less<>> variables;
  // %rootResource when it differs from the resource (a contained resource's container).
  const json::Value* root_resource = nullptr;
  Resolver resolver;
  Terminology* terminology = nullptr;
  Profiles* profiles = nullptr;
  TraceSink trace;
  // now(), today(), timeOfDay(); the system clock when unset. Fixed for one evaluation.
  std::optional<std::chrono::system_clock::time_point> now;
  // Budget: evaluation stops with an error after this many steps (each sub-expression
  // evaluated and each item visited counts) or when a collection grows past max_items.
  uint64_t max_steps = 10'000'000;
  size_t max_items = 1'000'000;
};

struct EvalResult {
  Collection items;
  // Keeps values the evaluation created (and that `items` may point into) alive.
  std::shared_ptr<const void> keep_alive;
};

class Expression {
 public:
  // kInvalid: "syntax error at line L, column C: ..." or "semantic error at ...".
  static Result<Expression> Compile(std::string_view text);

  // Evaluates with `resource` as %resource, %context and the input collection.
  Result<EvalResult> Evaluate(const json::Value& resource, const EvalOptions& options = {}) const;
  // Evaluates on an arbitrary input collection (elements of `resource`, or System values).
  Result<EvalResult> Evaluate(const Collection& input, const json::Value* resource,
                              const EvalOptions& options = {}) const;

  std::string_view text() const { return *text_; }

 private:
  Expression(std::shared_ptr<const std::string> text, std::shared_ptr<const Expr> root)
      : text_(std::move(text)), root_(std::move(root)) {}
  std::shared_ptr<const std::string> text_;
  std::shared_ptr<const Expr> root_;
};

}  // namespace ehr::fhirpath
