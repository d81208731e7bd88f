// The tree-walking evaluator (internal to the module). One Evaluator per evaluation: it
// holds the budget, the environment and the values created along the way, so a compiled
// tree is shared read-only between threads.
#pragma once

#include <deque>
#include <memory>
#include <string>

#include "fhir/fhirpath/ast.h"
#include "fhir/fhirpath/fhirpath.h"
#include "fhir/fhirpath/value.h"

namespace ehr::fhirpath {

// An evaluation error: unwinds to Expression::Evaluate, which turns it into a Status.
struct EvalError {
  uint32_t position;
  std::string message;
};

// The iteration context: $this, $index, and $total inside aggregate().
struct Scope {
  const Collection* self = nullptr;
  int64_t index = -1;
  const Collection* total = nullptr;
};

struct Arena {
  std::deque<json::Value> values;
  std::deque<std::shared_ptr<const json::Value>> resolved;
};

class Evaluator {
 public:
  Evaluator(const EvalOptions& options, const json::Value* resource, const json::Value* root_resource,
            const Collection* context);

  Collection Eval(const Expr& e, const Scope& scope);

  // Helpers for functions.
  [[noreturn]] void Fail(const Expr& at, std::string message) const { throw EvalError{at.position, std::move(message)}; }
  void Step() { Steps(1); }
  // Charges `n` steps (e.g. the comparisons of a duplicate check).
  void Steps(uint64_t n) {
    steps_ += n;
    if (steps_ > options_.max_steps) throw EvalError{0, "evaluation exceeded its step budget"};
  }
  void CheckSize(const Expr& at, size_t n) const {
    if (n > options_.max_items) Fail(at, "collection exceeded the size budget");
  }
  // Argument i of a call, evaluated in `scope` (not per item).
  Collection Arg(const Expr& call, size_t i, const Scope& scope) { return Eval(call.arg(i), scope); }
  // Argument i evaluated with $this = item, $index = index.
  Collection ArgFor(const Expr& call, size_t i, const Item& item, int64_t index, const Scope& outer);
  // The single item of `c` (nullptr when empty); an error when there are several.
  const Item* Single(const Expr& at, const Collection& c, std::string_view what) const;
  // Singleton evaluation of collections as Boolean (FHIRPath 4.5): empty -> nullopt.
  std::optional<bool> AsBoolean(const Expr& at, const Collection& c) const;
  std::optional<std::string> ArgString(const Expr& call, size_t i, const Scope& scope);
  std::optional<int64_t> ArgInteger(const Expr& call, size_t i, const Scope& scope);

  const EvalOptions& options() const { return options_; }
  const json::Value* resource() const { return resource_; }
  const json::Value* root_resource() const { return root_resource_; }
  Arena& arena();
  std::shared_ptr<Arena> TakeArena() { return std::move(arena_); }
  const Temporal& Now();

 private:
  Collection EvalMember(const Expr& e, const Scope& scope);
  Collection EvalVariable(const Expr& e);
  Collection EvalBinary(const Expr& e, const Scope& scope);
  Collection EvalTypeTest(const Expr& e, const Scope& scope);

  const EvalOptions& options_;
  const json::Value* resource_;
  const json::Value* root_resource_;
  const Collection* context_;
  uint64_t steps_ = 0;
  std::shared_ptr<Arena> arena_;
  std::optional<Temporal> now_;
};

// Operators, shared with functions that apply them (e.g. sort, aggregate).
Collection EvalArithmetic(Evaluator& ev, const Expr& at, BinaryOp op, const Collection& a, const Collection& b);
// FHIRPath `=` on collections: nullopt for empty.
std::optional<bool> CollectionsEqual(const Collection& a, const Collection& b);
bool CollectionsEquivalent(const Collection& a, const Collection& b);
// Appends items of `from` not already in `to` (by `=`).
void AppendDistinct(Collection& to, const Collection& from);
bool Contains(const Collection& c, const Item& item);
// Whether the item matches the type spec (is()).
bool MatchesType(const Item& item, const TypeSpec& type, bool exact_primitives = false);

}  // namespace ehr::fhirpath
