#include "fhir/fhirpath/eval.h"

#include <cctype>

#include "fhir/fhirpath/functions.h"
#include "fhir/fhirpath/parser.h"
#include "fhir/fhirpath/quantity.h"

namespace ehr::fhirpath {
namespace {

std::optional<Item> SystemOrFail(Evaluator& ev, const Expr& at, const Item& item) {
  std::optional<Item> s = ToSystem(item);
  if (!s) ev.Fail(at, "operand is not a primitive value");
  return s;
}

// Whether any type the element was declared with (all types of a choice) has the member;
// true when the model does not know the element.
bool IsKnownMemberOfDeclared(const Element& element, std::string_view name) {
  if (element.type == nullptr) return true;
  if (IsKnownMember(*element.type, name)) return true;
  if (element.definition == nullptr) return false;
  for (const fhir::TypeRef& ref : element.definition->types) {
    if (ref.type == nullptr || IsKnownMember(*ref.type, name)) return true;
  }
  return false;
}


Collection One(Item item) {
  Collection c;
  c.push_back(std::move(item));
  return c;
}

Collection FromDecimal(std::optional<Decimal> d) { return d ? One(Item::Dec(*d)) : Collection{}; }

}  // namespace

Evaluator::Evaluator(const EvalOptions& options, const json::Value* resource, const json::Value* root_resource,
                     const Collection* context)
    : options_(options), resource_(resource), root_resource_(root_resource), context_(context) {}

Arena& Evaluator::arena() {
  if (!arena_) arena_ = std::make_shared<Arena>();
  return *arena_;
}

const Temporal& Evaluator::Now() {
  if (!now_) {
    auto now = options_.now.value_or(std::chrono::system_clock::now());
    const int64_t millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    now_ = Temporal::FromUnixMillis(millis);
  }
  return *now_;
}

Collection Evaluator::ArgFor(const Expr& call, size_t i, const Item& item, int64_t index, const Scope& outer) {
  Collection self;
  self.push_back(item);
  Scope scope{&self, index, outer.total};
  return Eval(call.arg(i), scope);
}

const Item* Evaluator::Single(const Expr& at, const Collection& c, std::string_view what) const {
  if (c.empty()) return nullptr;
  if (c.size() > 1) Fail(at, std::string(what) + " expects a single item but got " + std::to_string(c.size()));
  return &c[0];
}

std::optional<bool> Evaluator::AsBoolean(const Expr& at, const Collection& c) const {
  const Item* item = Single(at, c, "a boolean context");
  if (item == nullptr) return std::nullopt;
  if (item->kind() == ItemKind::kBoolean) return item->boolean();
  if (item->is_element() && PrimitiveOf(item->element()) == fhir::Primitive::kBoolean) {
    std::optional<Item> s = ToSystem(*item);
    if (!s) return std::nullopt;
    return s->boolean();
  }
  return true;  // a single non-Boolean item counts as true
}

std::optional<std::string> Evaluator::ArgString(const Expr& call, size_t i, const Scope& scope) {
  Collection c = Arg(call, i, scope);
  const Item* item = Single(call.arg(i), c, "the argument");
  if (item == nullptr) return std::nullopt;
  std::optional<std::string_view> s = StringView(*item);
  if (!s) Fail(call.arg(i), "the argument of " + call.name + "() must be a String");
  return std::string(*s);
}

std::optional<int64_t> Evaluator::ArgInteger(const Expr& call, size_t i, const Scope& scope) {
  Collection c = Arg(call, i, scope);
  const Item* item = Single(call.arg(i), c, "the argument");
  if (item == nullptr) return std::nullopt;
  std::optional<Item> s = ToSystem(*item);
  if (!s || s->kind() != ItemKind::kInteger) Fail(call.arg(i), "the argument of " + call.name + "() must be an Integer");
  return s->integer();
}

Collection Evaluator::Eval(const Expr& e, const Scope& scope) {
  Step();
  switch (e.kind) {
    case ExprKind::kLiteral:
      return e.literal;
    case ExprKind::kMember:
      return EvalMember(e, scope);
    case ExprKind::kCall: {
      Collection focus = e.focus() != nullptr ? Eval(*e.focus(), scope) : Collection();
      const Collection& input = e.focus() != nullptr ? focus : *scope.self;
      Collection out = e.function->impl(*this, e, input, scope);
      CheckSize(e, out.size());
      return out;
    }
    case ExprKind::kThis:
      return *scope.self;
    case ExprKind::kIndex:
      if (scope.index < 0) return {};
      return One(Item::Integer(scope.index));
    case ExprKind::kTotal:
      if (scope.total == nullptr) Fail(e, "$total is only defined inside aggregate()");
      return *scope.total;
    case ExprKind::kVariable:
      return EvalVariable(e);
    case ExprKind::kIndexer: {
      Collection base = Eval(*e.args[0], scope);
      Collection index = Eval(*e.args[1], scope);
      const Item* i = Single(*e.args[1], index, "an index");
      if (i == nullptr) return {};
      std::optional<Item> s = ToSystem(*i);
      if (!s || s->kind() != ItemKind::kInteger) Fail(*e.args[1], "an index must be an Integer");
      if (s->integer() < 0 || static_cast<uint64_t>(s->integer()) >= base.size()) return {};
      return One(std::move(base[static_cast<size_t>(s->integer())]));
    }
    case ExprKind::kUnary: {
      Collection operand = Eval(*e.args[0], scope);
      const Item* item = Single(e, operand, "unary " + std::string(e.op == BinaryOp::kMinus ? "-" : "+"));
      if (item == nullptr) return {};
      std::optional<Item> s = SystemOrFail(*this, e, *item);
      if (e.op == BinaryOp::kPlus) {
        if (!IsNumeric(s->kind()) && s->kind() != ItemKind::kQuantity) Fail(e, "unary + needs a number");
        return One(*s);
      }
      switch (s->kind()) {
        case ItemKind::kInteger:
          if (s->integer() == INT64_MIN) Fail(e, "integer overflow");
          return One(Item::Integer(-s->integer()));
        case ItemKind::kDecimal: return One(Item::Dec(s->decimal().Negated()));
        case ItemKind::kQuantity: return One(Item::Qty(Quantity{s->quantity().value.Negated(), s->quantity().unit}));
        default: Fail(e, "unary - needs a number or a Quantity");
      }
    }
    case ExprKind::kBinary:
      return EvalBinary(e, scope);
    case ExprKind::kTypeTest:
      return EvalTypeTest(e, scope);
  }
  return {};
}

Collection Evaluator::EvalMember(const Expr& e, const Scope& scope) {
  Collection focus = e.focus() != nullptr ? Eval(*e.focus(), scope) : Collection();
  const Collection& input = e.focus() != nullptr ? focus : *scope.self;
  Collection out;
  for (const Item& item : input) {
    Step();
    if (!item.is_element()) continue;
    const Element& element = item.element();
    if (e.named_type != nullptr && element.type != nullptr) {
      // `Patient.name`: a type name in a path selects the items of that type; another
      // type's name selects nothing (R4 search parameter expressions are unions such as
      // `Patient.name | Practitioner.name`, evaluated on one resource).
      // A concrete resource type is never another type's base: no walk up the chain.
      const bool leaf = e.named_type->is_resource() && !e.named_type->is_abstract;
      if (element.type == e.named_type || (!leaf && DerivesFrom(element.type, e.named_type))) out.push_back(item);
      continue;
    }
    // A name the model does not know for this type is an error (FHIRPath: a path that
    // is invalid against the model), unless another type the element was declared with
    // (a choice) has it.
    if (!AppendChildren(element, *e.member, out) && e.model_checked && !IsKnownMemberOfDeclared(element, e.name) &&
        e.name != "resourceType") {
      Fail(e, "'" + e.name + "' is not an element of " + std::string(TypeOf(item).name));
    }
  }
  CheckSize(e, out.size());
  return out;
}

Collection Evaluator::EvalVariable(const Expr& e) {
  const std::string& name = e.name;
  if (auto it = options_.variables.find(name); it != options_.variables.end()) return it->second;
  if (name == "resource") return resource_ != nullptr ? One(Item::Elem(RootElement(*resource_))) : Collection{};
  if (name == "rootResource") {
    return root_resource_ != nullptr ? One(Item::Elem(RootElement(*root_resource_))) : Collection{};
  }
  if (name == "context") return *context_;
  if (name == "ucum") return One(Item::String("http://unitsofmeasure.org"));
  if (name == "sct") return One(Item::String("http://snomed.info/sct"));
  if (name == "loinc") return One(Item::String("http://loinc.org"));
  if (name.starts_with("vs-")) return One(Item::String("http://hl7.org/fhir/ValueSet/" + name.substr(3)));
  if (name.starts_with("ext-")) return One(Item::String("http://hl7.org/fhir/StructureDefinition/" + name.substr(4)));
  Fail(e, "unknown variable %" + name);
}

bool MatchesType(const Item& item, const TypeSpec& type, bool exact_primitives) {
  if (type.ns == "System" || (type.ns.empty() && IsSystemTypeName(type.name) && item.is_system())) {
    return item.is_system() && TypeOf(item).name == type.name;
  }
  if (!item.is_element()) return false;
  return IsOfType(item, "FHIR", type.name, exact_primitives);
}

Collection Evaluator::EvalTypeTest(const Expr& e, const Scope& scope) {
  Collection input = Eval(*e.args[0], scope);
  if (e.op == BinaryOp::kIs) {
    const Item* item = Single(e, input, "'is'");
    if (item == nullptr) return {};
    return One(Item::Boolean(MatchesType(*item, e.type)));
  }
  const Item* item = Single(e, input, "'as'");
  if (item == nullptr || !MatchesType(*item, e.type, true)) return {};
  return One(*item);
}

bool Contains(const Collection& c, const Item& item) {
  for (const Item& x : c) {
    std::optional<bool> eq = ItemsEqual(x, item);
    if (eq && *eq) return true;
  }
  return false;
}

void AppendDistinct(Collection& to, const Collection& from) {
  for (const Item& item : from) {
    if (!Contains(to, item)) to.push_back(item);
  }
}

std::optional<bool> CollectionsEqual(const Collection& a, const Collection& b) {
  if (a.empty() || b.empty()) return std::nullopt;
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    std::optional<bool> eq = ItemsEqual(a[i], b[i]);
    if (!eq) return std::nullopt;
    if (!*eq) return false;
  }
  return true;
}

bool CollectionsEquivalent(const Collection& a, const Collection& b) {
  if (a.size() != b.size()) return false;
  std::vector<bool> used(b.size(), false);
  for (const Item& x : a) {
    bool found = false;
    for (size_t j = 0; j < b.size(); ++j) {
      if (!used[j] && ItemsEquivalent(x, b[j])) {
        used[j] = true;
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}

Collection EvalArithmetic(Evaluator& ev, const Expr& at, BinaryOp op, const Collection& ca, const Collection& cb) {
  if (op == BinaryOp::kConcat) {
    std::string s;
    for (const Collection* c : {&ca, &cb}) {
      const Item* item = ev.Single(at, *c, "'&'");
      if (item == nullptr) continue;
      std::optional<std::string_view> v = StringView(*item);
      if (!v) ev.Fail(at, "'&' needs Strings");
      s += *v;
    }
    return One(Item::String(std::move(s)));
  }
  const Item* ia = ev.Single(at, ca, "an arithmetic operator");
  const Item* ib = ev.Single(at, cb, "an arithmetic operator");
  if (ia == nullptr || ib == nullptr) return {};
  std::optional<Item> a = SystemOrFail(ev, at, *ia);
  std::optional<Item> b = SystemOrFail(ev, at, *ib);
  const ItemKind ka = a->kind();
  const ItemKind kb = b->kind();
  if (IsNumeric(ka) && IsNumeric(kb)) {
    if (ka == ItemKind::kInteger && kb == ItemKind::kInteger && op != BinaryOp::kDiv) {
      const int64_t x = a->integer();
      const int64_t y = b->integer();
      int64_t r = 0;
      switch (op) {
        case BinaryOp::kAdd:
          if (__builtin_add_overflow(x, y, &r)) ev.Fail(at, "integer overflow");
          return One(Item::Integer(r));
        case BinaryOp::kSub:
          if (__builtin_sub_overflow(x, y, &r)) ev.Fail(at, "integer overflow");
          return One(Item::Integer(r));
        case BinaryOp::kMul:
          if (__builtin_mul_overflow(x, y, &r)) ev.Fail(at, "integer overflow");
          return One(Item::Integer(r));
        case BinaryOp::kIntDiv:
          if (y == 0) return {};
          if (x == INT64_MIN && y == -1) ev.Fail(at, "integer overflow");
          return One(Item::Integer(x / y));
        case BinaryOp::kMod:
          if (y == 0) return {};
          if (y == -1) return One(Item::Integer(0));
          return One(Item::Integer(x % y));
        default:
          break;
      }
    }
    const Decimal x = NumericValue(*a);
    const Decimal y = NumericValue(*b);
    switch (op) {
      case BinaryOp::kAdd: return FromDecimal(Decimal::Add(x, y));
      case BinaryOp::kSub: return FromDecimal(Decimal::Sub(x, y));
      case BinaryOp::kMul: return FromDecimal(Decimal::Mul(x, y));
      case BinaryOp::kDiv: return FromDecimal(Decimal::Div(x, y));
      case BinaryOp::kIntDiv: {
        std::optional<Decimal> q = Decimal::IntDiv(x, y);
        if (!q) return {};
        std::optional<int64_t> i = q->ToInt64();
        if (!i) ev.Fail(at, "integer overflow");
        return One(Item::Integer(*i));
      }
      case BinaryOp::kMod: return FromDecimal(Decimal::Mod(x, y));
      default: break;
    }
  }
  if (ka == ItemKind::kString && kb == ItemKind::kString && op == BinaryOp::kAdd) {
    return One(Item::String(a->string() + b->string()));
  }
  if (IsTemporal(ka) && kb == ItemKind::kQuantity && (op == BinaryOp::kAdd || op == BinaryOp::kSub)) {
    const Quantity& q = b->quantity();
    const Decimal amount = op == BinaryOp::kSub ? q.value.Negated() : q.value;
    std::optional<Temporal> r = Add(a->temporal(), amount, q.unit);
    if (!r) ev.Fail(at, "cannot add '" + q.unit + "' to a " + std::string(TypeOf(*a).name));
    return One(Item::Time(*r));
  }
  if (ka == ItemKind::kQuantity && kb == ItemKind::kQuantity) {
    std::optional<Quantity> r;
    switch (op) {
      case BinaryOp::kAdd: r = AddQuantities(a->quantity(), b->quantity(), false); break;
      case BinaryOp::kSub: r = AddQuantities(a->quantity(), b->quantity(), true); break;
      case BinaryOp::kMul: r = MultiplyQuantities(a->quantity(), b->quantity()); break;
      case BinaryOp::kDiv: r = DivideQuantities(a->quantity(), b->quantity()); break;
      default: ev.Fail(at, "operator not defined for Quantities");
    }
    if (!r) return {};
    return One(Item::Qty(std::move(*r)));
  }
  if ((ka == ItemKind::kQuantity && IsNumeric(kb)) || (IsNumeric(ka) && kb == ItemKind::kQuantity)) {
    const bool quantity_first = ka == ItemKind::kQuantity;
    const Quantity& q = quantity_first ? a->quantity() : b->quantity();
    const Decimal n = NumericValue(quantity_first ? *b : *a);
    if (op == BinaryOp::kMul) {
      std::optional<Decimal> v = Decimal::Mul(q.value, n);
      if (!v) return {};
      return One(Item::Qty(Quantity{*v, q.unit}));
    }
    if (op == BinaryOp::kDiv && quantity_first) {
      std::optional<Decimal> v = Decimal::Div(q.value, n);
      if (!v) return {};
      return One(Item::Qty(Quantity{*v, q.unit}));
    }
  }
  ev.Fail(at, "operator not defined for " + std::string(TypeOf(*a).name) + " and " + std::string(TypeOf(*b).name));
}

Collection Evaluator::EvalBinary(const Expr& e, const Scope& scope) {
  const BinaryOp op = e.op;
  if (op == BinaryOp::kAnd || op == BinaryOp::kOr || op == BinaryOp::kXor || op == BinaryOp::kImplies) {
    std::optional<bool> a = AsBoolean(*e.args[0], Eval(*e.args[0], scope));
    // Short-circuits that the three-valued tables allow.
    if (op == BinaryOp::kAnd && a == false) return One(Item::Boolean(false));
    if (op == BinaryOp::kOr && a == true) return One(Item::Boolean(true));
    if (op == BinaryOp::kImplies && a == false) return One(Item::Boolean(true));
    std::optional<bool> b = AsBoolean(*e.args[1], Eval(*e.args[1], scope));
    std::optional<bool> r;
    switch (op) {
      case BinaryOp::kAnd:
        if (b == false) r = false;
        else if (a && b) r = true;
        break;
      case BinaryOp::kOr:
        if (b == true) r = true;
        else if (a && b) r = false;
        break;
      case BinaryOp::kXor:
        if (a && b) r = *a != *b;
        break;
      default:  // implies; a is true or empty here
        if (b == true) r = true;
        else if (a && b) r = false;
        break;
    }
    return r ? One(Item::Boolean(*r)) : Collection{};
  }
  Collection a = Eval(*e.args[0], scope);
  Collection b = Eval(*e.args[1], scope);
  switch (op) {
    case BinaryOp::kUnion: {
      // A side that is itself a union is already free of duplicates: with nothing on the
      // other side it is the answer (the common case in the long unions of R4 search
      // parameter expressions such as `Account.subject | CarePlan.subject | ...`).
      auto is_union = [](const Expr& x) { return x.kind == ExprKind::kBinary && x.op == BinaryOp::kUnion; };
      if (b.empty() && (a.size() <= 1 || is_union(*e.args[0]))) return a;
      if (a.empty() && (b.size() <= 1 || is_union(*e.args[1]))) return b;
      Steps((a.size() + b.size()) * (a.size() + b.size()) / 2);  // the duplicate checks
      Collection out;
      AppendDistinct(out, a);
      AppendDistinct(out, b);
      CheckSize(e, out.size());
      return out;
    }
    case BinaryOp::kEq:
    case BinaryOp::kNotEq: {
      std::optional<bool> eq = CollectionsEqual(a, b);
      if (!eq) return {};
      return One(Item::Boolean(op == BinaryOp::kEq ? *eq : !*eq));
    }
    case BinaryOp::kEquiv:
    case BinaryOp::kNotEquiv: {
      const bool eq = CollectionsEquivalent(a, b);
      return One(Item::Boolean(op == BinaryOp::kEquiv ? eq : !eq));
    }
    case BinaryOp::kLess:
    case BinaryOp::kGreater:
    case BinaryOp::kLessEq:
    case BinaryOp::kGreaterEq: {
      const Item* x = Single(e, a, "a comparison");
      const Item* y = Single(e, b, "a comparison");
      if (x == nullptr || y == nullptr) return {};
      std::string error;
      std::optional<int> c = CompareItems(*x, *y, &error);
      if (!error.empty()) Fail(e, error);
      if (!c) return {};
      bool r = op == BinaryOp::kLess ? *c < 0 : op == BinaryOp::kGreater ? *c > 0 : op == BinaryOp::kLessEq ? *c <= 0 : *c >= 0;
      return One(Item::Boolean(r));
    }
    case BinaryOp::kIn:
    case BinaryOp::kContains: {
      const Collection& needle = op == BinaryOp::kIn ? a : b;
      const Collection& haystack = op == BinaryOp::kIn ? b : a;
      const Item* item = Single(e, needle, op == BinaryOp::kIn ? "'in'" : "'contains'");
      if (item == nullptr) return {};
      Steps(haystack.size());
      return One(Item::Boolean(Contains(haystack, *item)));
    }
    default:
      return EvalArithmetic(*this, e, op, a, b);
  }
}

// --- Expression ---

Result<Expression> Expression::Compile(std::string_view text) {
  EHR_ASSIGN_OR_RETURN(std::unique_ptr<Expr> root, Parse(text));
  return Expression(std::make_shared<const std::string>(text), std::shared_ptr<const Expr>(std::move(root)));
}

Result<EvalResult> Expression::Evaluate(const json::Value& resource, const EvalOptions& options) const {
  Collection input;
  input.push_back(Item::Elem(RootElement(resource)));
  return Evaluate(input, &resource, options);
}

Result<EvalResult> Expression::Evaluate(const Collection& input, const json::Value* resource,
                                        const EvalOptions& options) const {
  const json::Value* root = options.root_resource != nullptr ? options.root_resource : resource;
  Evaluator ev(options, resource, root, &input);
  try {
    Scope scope{&input, -1, nullptr};
    EvalResult result;
    result.items = ev.Eval(*root_, scope);
    result.keep_alive = ev.TakeArena();
    return result;
  } catch (const EvalError& e) {
    int line = 1;
    int column = 1;
    for (uint32_t i = 0; i < e.position && i < text_->size(); ++i) {
      if ((*text_)[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    return Status::Invalid("evaluation error at line " + std::to_string(line) + ", column " + std::to_string(column) +
                           ": " + e.message, {}, "processing");
  }
}

}  // namespace ehr::fhirpath
