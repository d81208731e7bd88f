// The syntax tree of a compiled FHIRPath expression. Immutable once compiled.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fhir/fhirpath/value.h"

namespace ehr::fhirpath {

struct FunctionDef;

enum class ExprKind : uint8_t {
  kLiteral,     // `literal` (possibly empty: {})
  kMember,      // focus.name, or name alone (focus = $this); `name` is the identifier
  kCall,        // focus.fn(args), or fn(args) on $this
  kThis,        // $this
  kIndex,       // $index
  kTotal,       // $total
  kVariable,    // %name
  kIndexer,     // args[0][args[1]]
  kUnary,       // op args[0] (op is kPlus or kMinus)
  kBinary,      // args[0] op args[1]
  kTypeTest,    // args[0] is type / args[0] as type
};

enum class BinaryOp : uint8_t {
  kMul, kDiv, kIntDiv, kMod,
  kAdd, kSub, kConcat,
  kIs, kAs,
  kUnion,
  kLess, kGreater, kLessEq, kGreaterEq,
  kEq, kEquiv, kNotEq, kNotEquiv,
  kIn, kContains,
  kAnd, kOr, kXor, kImplies,
  kPlus, kMinus,  // unary
};

// A type named in an expression: `Patient`, `FHIR.Patient`, `System.String`.
struct TypeSpec {
  std::string ns;  // "System", "FHIR" or empty (either)
  std::string name;
};

struct Expr {
  ExprKind kind = ExprKind::kLiteral;
  BinaryOp op = BinaryOp::kAdd;
  uint32_t position = 0;  // byte offset of the expression in the source text
  std::string name;       // identifier, function or variable name
  Collection literal;
  TypeSpec type;          // kTypeTest, and type arguments of is()/as()/ofType()
  const FunctionDef* function = nullptr;
  // kMember on a plain path from the input (`name.given`): the model knows every type it
  // can reach, so a name no such type has is an error rather than empty.
  bool model_checked = false;
  uint16_t depth = 1;  // height of the tree below and including this node
  // kMember with a capitalised name that is a type of the model (`Patient` in
  // `Patient.name`): resolved once here rather than at every evaluation.
  const fhir::TypeDef* named_type = nullptr;
  // kMember: `name` resolved against the model (set by the parser; refers to `name`).
  std::optional<MemberName> member;
  // kMember/kCall: args[0] is the focus expression or nullptr; for kCall the function's
  // arguments follow. Other kinds: operands.
  std::vector<std::unique_ptr<Expr>> args;

  const Expr* focus() const { return args.empty() ? nullptr : args[0].get(); }
  size_t arg_count() const { return kind == ExprKind::kCall ? args.size() - 1 : args.size(); }
  const Expr& arg(size_t i) const { return *args[kind == ExprKind::kCall ? i + 1 : i]; }
};

}  // namespace ehr::fhirpath
