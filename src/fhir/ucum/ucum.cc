// UCUM parsing and conversion over the generated essence tables.
//
// A unit expression is parsed by recursive descent following the UCUM grammar (§2 of the
// specification):
//     main-term  := "/"? term
//     term       := term "." component | term "/" component | component
//     component  := annotatable annotation? | annotation | factor | "(" term ")"
//     annotatable:= simple-unit exponent?     simple-unit := atom | prefix metric-atom
// "." and "/" bind equally and from the left, so "mL/min/kg" is (mL/min)/kg, and a leading
// "/" divides the first component only: the essence file defines the oersted as
// "/[pi].A/m", meaning (1/π)·A/m, where the grammar taken literally would give 1/(π·A/m).
//
// The same parser reads the definitions in the essence file ("kg.m/s2"), which is how the
// index resolves every atom to a factor and base-unit exponents once, on first use.
#include "fhir/ucum/ucum.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <unordered_map>
#include <utility>
#include <vector>

#include "fhir/ucum/generated/tables.h"

namespace ehr::ucum {
namespace {

using Exponents = std::array<int, kBaseUnits>;

// Parenthesis nesting and exponent magnitude limits: input is untrusted, and neither occurs
// in a real unit anywhere near these values.
constexpr int kMaxDepth = 32;
constexpr int kMaxLiteralExponent = 1000;
constexpr int kMaxWorkingExponent = 10000;

// A special unit's scale: value_in_unit ↦ a number of (function_value × function_unit),
// following the <function> element of the essence file.
struct SpecialFunction {
  std::string_view name;
  long double (*to_reference)(long double);
  long double (*from_reference)(long double);
};

long double Log(long double base, long double y) { return std::log(y) / std::log(base); }

// Every function named in the 2.0.1 essence file. The temperature offsets are in units of
// the function's reference (5/9 K for degF: 459.67 °F; 5/4 K for degRe: 273.15 × 4/5).
constexpr SpecialFunction kSpecialFunctions[] = {
    {"Cel", [](long double x) { return x + 273.15L; }, [](long double y) { return y - 273.15L; }},
    {"degF", [](long double x) { return x + 459.67L; }, [](long double y) { return y - 459.67L; }},
    {"degRe", [](long double x) { return x + 218.52L; }, [](long double y) { return y - 218.52L; }},
    {"pH", [](long double x) { return std::pow(10.0L, -x); }, [](long double y) { return -std::log10(y); }},
    {"ln", [](long double x) { return std::exp(x); }, [](long double y) { return std::log(y); }},
    {"lg", [](long double x) { return std::pow(10.0L, x); }, [](long double y) { return std::log10(y); }},
    {"lgTimes2", [](long double x) { return std::pow(10.0L, x / 2); }, [](long double y) { return 2 * std::log10(y); }},
    {"ld", [](long double x) { return std::exp2(x); }, [](long double y) { return std::log2(y); }},
    {"sqrt", [](long double x) { return x * x; }, [](long double y) { return std::sqrt(y); }},
    // Prism diopters and percent of slope are 100·tan(angle). The essence file's function
    // names degrees as the reference, so the angle is expressed in degrees here.
    {"tanTimes100", [](long double x) { return std::atan(x / 100) * 180 / std::numbers::pi_v<long double>; },
     [](long double y) { return 100 * std::tan(y * std::numbers::pi_v<long double> / 180); }},
    {"100tan", [](long double x) { return std::atan(x / 100) * 180 / std::numbers::pi_v<long double>; },
     [](long double y) { return 100 * std::tan(y * std::numbers::pi_v<long double> / 180); }},
    // Homeopathic potencies (retired): n steps of a 1:10, 1:100, 1:1000 or 1:50000 dilution.
    {"hpX", [](long double x) { return std::pow(10.0L, -x); }, [](long double y) { return -Log(10, y); }},
    {"hpC", [](long double x) { return std::pow(100.0L, -x); }, [](long double y) { return -Log(100, y); }},
    {"hpM", [](long double x) { return std::pow(1000.0L, -x); }, [](long double y) { return -Log(1000, y); }},
    {"hpQ", [](long double x) { return std::pow(50000.0L, -x); }, [](long double y) { return -Log(50000, y); }},
};

std::string Quoted(std::string_view s) {
  std::string quoted;  // appended piecewise: "\"" + std::string(s) trips GCC 12's -Wrestrict
  quoted.reserve(s.size() + 2);
  quoted += '"';
  quoted += s;
  quoted += '"';
  return quoted;
}

const SpecialFunction* FindSpecialFunction(std::string_view name) {
  for (const SpecialFunction& f : kSpecialFunctions) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

// An atom of the essence file with its definition resolved down to base units.
struct Atom {
  const generated::Unit* unit = nullptr;
  // Ratio units: one of the unit in base units. Special units: the size of their function's
  // reference (5/9 for [degF], whose reference is 5 K/9). Arbitrary units: 1.
  long double factor = 1;
  Exponents exponents{};
  const SpecialFunction* function = nullptr;  // special units whose function is known
};

// The meaning of a (partial) unit expression while it is parsed.
struct Term {
  long double factor = 1;
  Exponents exponents{};
  const Atom* special = nullptr;  // the expression is exactly this special unit (factor = its prefix)
  std::string_view arbitrary;     // the arbitrary atom in the expression, if any
  int arbitrary_exponent = 0;
};

// Where the parser finds atoms: the finished index, or the resolver that is building it
// (whose look-ups resolve definitions on demand).
class AtomSource {
 public:
  virtual ~AtomSource() = default;
  // Index into generated::kUnits, or -1.
  virtual int FindUnit(std::string_view code) const = 0;
  virtual Result<const Atom*> AtomAt(int unit_index) const = 0;
};

class Parser {
 public:
  Parser(std::string_view text, const AtomSource& atoms) : text_(text), atoms_(atoms) {}

  Result<Term> ParseMainTerm() {
    if (text_.empty()) return Status::Invalid("empty unit");
    Term term;
    if (text_[0] == '/') {
      ++pos_;
      EHR_ASSIGN_OR_RETURN(Term divisor, ParseComponent());
      EHR_RETURN_IF_ERROR(Combine(term, divisor, -1, 0));
    } else {
      EHR_ASSIGN_OR_RETURN(term, ParseComponent());
    }
    EHR_RETURN_IF_ERROR(ContinueTerm(term));
    if (pos_ < text_.size()) {
      return Error(pos_, text_[pos_] == ')' ? "unmatched ')'" : "unexpected '" + std::string(1, text_[pos_]) + "'");
    }
    return term;
  }

 private:
  Result<Term> ParseTerm() {
    EHR_ASSIGN_OR_RETURN(Term term, ParseComponent());
    EHR_RETURN_IF_ERROR(ContinueTerm(term));
    return term;
  }

  // Applies the operators and components that follow the first component of a term.
  Status ContinueTerm(Term& term) {
    while (pos_ < text_.size() && (text_[pos_] == '.' || text_[pos_] == '/')) {
      const size_t operator_pos = pos_++;
      EHR_ASSIGN_OR_RETURN(Term next, ParseComponent());
      EHR_RETURN_IF_ERROR(Combine(term, next, text_[operator_pos] == '/' ? -1 : 1, operator_pos));
    }
    return Status::Ok();
  }

  Result<Term> ParseComponent() {
    if (pos_ >= text_.size()) {
      return Error(
          pos_, pos_ > 0 ? "a unit is missing after '" + std::string(1, text_[pos_ - 1]) + "'" : "a unit is missing");
    }
    const char c = text_[pos_];
    if (c == '(') {
      const size_t open = pos_++;
      if (++depth_ > kMaxDepth) return Error(open, "parentheses nested too deeply");
      EHR_ASSIGN_OR_RETURN(Term inner, ParseTerm());
      --depth_;
      if (pos_ >= text_.size() || text_[pos_] != ')') return Error(open, "'(' is not closed");
      ++pos_;
      if (pos_ < text_.size() && (IsDigit(text_[pos_]) || text_[pos_] == '+' || text_[pos_] == '-')) {
        return Error(pos_, "an exponent may only follow a unit atom, not ')'");
      }
      return inner;
    }
    if (c == '{') {
      EHR_RETURN_IF_ERROR(SkipAnnotation());
      return Term{};
    }
    if (IsDigit(c) && !StartsWithTenPower()) return ParseFactor();
    return ParseAnnotatable();
  }

  // An integer factor such as the 100 of "100/{cells}".
  Result<Term> ParseFactor() {
    const size_t start = pos_;
    Term term;
    term.factor = 0;
    while (pos_ < text_.size() && IsDigit(text_[pos_])) term.factor = term.factor * 10 + (text_[pos_++] - '0');
    if (term.factor == 0) return Error(start, "a factor of zero");
    return term;
  }

  Result<Term> ParseAnnotatable() {
    const size_t start = pos_;
    EHR_ASSIGN_OR_RETURN(std::string_view symbol, ScanSymbol());
    long double prefix = 1;
    EHR_ASSIGN_OR_RETURN(const Atom* atom, ResolveSymbol(symbol, start, prefix));

    int exponent = 1;
    const bool has_exponent = pos_ < text_.size() && (IsDigit(text_[pos_]) || text_[pos_] == '+' || text_[pos_] == '-');
    if (has_exponent) {
      EHR_ASSIGN_OR_RETURN(exponent, ParseExponent());
    }
    if (pos_ < text_.size() && text_[pos_] == '{') EHR_RETURN_IF_ERROR(SkipAnnotation());

    Term term;
    if (atom->unit->is_special) {
      if (has_exponent) {
        return Error(start, "the special unit " + Quoted(atom->unit->code) + " cannot take an exponent");
      }
      term.special = atom;
      term.factor = prefix;
      term.exponents = atom->exponents;
      return term;
    }
    term.factor = std::pow(prefix * atom->factor, static_cast<long double>(exponent));
    for (int i = 0; i < kBaseUnits; ++i) term.exponents[i] = atom->exponents[i] * exponent;
    if (atom->unit->is_arbitrary) {
      term.arbitrary = atom->unit->code;
      term.arbitrary_exponent = exponent;
    }
    return term;
  }

  // The characters of one simple unit: up to an operator, parenthesis, brace, digit or
  // sign, with anything in square brackets taken whole ("[in_i]", "B[10.nV]").
  Result<std::string_view> ScanSymbol() {
    const size_t start = pos_;
    if (StartsWithTenPower()) {
      pos_ += 3;
      return text_.substr(start, 3);
    }
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '[') {
        const size_t close = text_.find(']', pos_);
        if (close == std::string_view::npos) return Error(pos_, "'[' is not closed");
        pos_ = close + 1;
        continue;
      }
      if (c == '.' || c == '/' || c == '(' || c == ')' || c == '{' || c == '}' || c == '+' || c == '-' || IsDigit(c)) {
        break;
      }
      if (c == ']') return Error(pos_, "unmatched ']'");
      if (c <= ' ' || c > '~') return Error(pos_, "a character that cannot occur in a unit");
      ++pos_;
    }
    if (pos_ == start) {
      return Error(pos_, "a unit is expected before '" + std::string(1, text_[pos_]) + "'");
    }
    return text_.substr(start, pos_ - start);
  }

  // The atom itself wins over prefix + atom ("cd" is candela, not centi-day), and a longer
  // prefix over a shorter one ("dam" is decameter).
  Result<const Atom*> ResolveSymbol(std::string_view symbol, size_t start, long double& prefix) {
    if (const int unit = atoms_.FindUnit(symbol); unit >= 0) return atoms_.AtomAt(unit);
    const generated::Prefix* best = nullptr;
    int best_unit = -1;
    int non_metric_unit = -1;
    const generated::Prefix* non_metric_prefix = nullptr;
    for (const generated::Prefix& p : generated::kPrefixes) {
      if (symbol.size() <= p.code.size() || !symbol.starts_with(p.code)) continue;
      const int unit = atoms_.FindUnit(symbol.substr(p.code.size()));
      if (unit < 0) continue;
      if (!generated::kUnits[unit].is_metric) {
        non_metric_unit = unit;
        non_metric_prefix = &p;
      } else if (best == nullptr || p.code.size() > best->code.size()) {
        best = &p;
        best_unit = unit;
      }
    }
    if (best != nullptr) {
      prefix = best->factor;
      return atoms_.AtomAt(best_unit);
    }
    if (non_metric_prefix != nullptr) {
      return Error(start, "the prefix " + Quoted(non_metric_prefix->code) +
                              " cannot be used with the non-metric unit " +
                              Quoted(generated::kUnits[non_metric_unit].code));
    }
    return Error(start, "unknown unit " + Quoted(symbol));
  }

  Result<int> ParseExponent() {
    const size_t start = pos_;
    int sign = 1;
    if (text_[pos_] == '+' || text_[pos_] == '-') sign = text_[pos_++] == '-' ? -1 : 1;
    if (pos_ >= text_.size() || !IsDigit(text_[pos_])) return Error(start, "a sign without exponent digits");
    int value = 0;
    while (pos_ < text_.size() && IsDigit(text_[pos_])) {
      value = value * 10 + (text_[pos_++] - '0');
      if (value > kMaxLiteralExponent) return Error(start, "an exponent out of range");
    }
    return sign * value;
  }

  Status SkipAnnotation() {
    const size_t open = pos_++;
    for (; pos_ < text_.size(); ++pos_) {
      const char c = text_[pos_];
      if (c == '}') {
        ++pos_;
        return Status::Ok();
      }
      // UCUM allows printable ASCII in annotations; braces do not nest.
      if (c == '{' || c < ' ' || c > '~') return Error(pos_, "a character that cannot occur in an annotation");
    }
    return Error(open, "'{' is not closed");
  }

  // term := term (× or ÷) next
  Status Combine(Term& term, const Term& next, int sign, size_t operator_pos) const {
    if (term.special != nullptr || next.special != nullptr) {
      const Atom* special = term.special != nullptr ? term.special : next.special;
      return Error(operator_pos, "the special unit " + Quoted(special->unit->code) + " cannot be combined with others");
    }
    term.factor = sign > 0 ? term.factor * next.factor : term.factor / next.factor;
    for (int i = 0; i < kBaseUnits; ++i) {
      term.exponents[i] += sign * next.exponents[i];
      if (std::abs(term.exponents[i]) > kMaxWorkingExponent) return Error(operator_pos, "an exponent out of range");
    }
    if (!next.arbitrary.empty()) {
      if (!term.arbitrary.empty() && term.arbitrary != next.arbitrary) {
        return Status::NotSupported(Code::kUnprocessable, "arbitrary units " + Quoted(term.arbitrary) + " and " +
                                                              Quoted(next.arbitrary) + " cannot be combined");
      }
      term.arbitrary = next.arbitrary;
      term.arbitrary_exponent += sign * next.arbitrary_exponent;
      if (std::abs(term.arbitrary_exponent) > kMaxWorkingExponent) {
        return Error(operator_pos, "an exponent out of range");
      }
    }
    return Status::Ok();
  }

  bool StartsWithTenPower() const {
    return text_.substr(pos_).starts_with("10*") || text_.substr(pos_).starts_with("10^");
  }
  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }

  Status Error(size_t pos, const std::string& what) const {
    return Status::Invalid("invalid UCUM unit " + Quoted(text_) + ": " + what + " at position " +
                           std::to_string(pos + 1));
  }

  std::string_view text_;
  const AtomSource& atoms_;
  size_t pos_ = 0;
  int depth_ = 0;
};

// Every atom of the essence file, resolved once. Immutable after construction.
class Index final : public AtomSource {
 public:
  static const Index& Get() {
    // Never destroyed, so use during static destruction elsewhere stays safe.
    static const Index* const index = new Index();
    return *index;
  }

  int FindUnit(std::string_view code) const override {
    const auto it = by_code_.find(code);
    return it == by_code_.end() ? -1 : it->second;
  }

  Result<const Atom*> AtomAt(int unit_index) const override {
    if (!status_[unit_index].ok()) return status_[unit_index];
    return &atoms_[unit_index];
  }

 private:
  enum class State : uint8_t { kUnresolved, kResolving, kDone };

  // Looks up atoms for the parser while the index is being built, resolving each
  // definition it meets before the atom is used.
  class Resolver final : public AtomSource {
   public:
    explicit Resolver(Index* index) : index_(index), state_(generated::kUnitCount, State::kUnresolved) {}
    int FindUnit(std::string_view code) const override { return index_->FindUnit(code); }
    Result<const Atom*> AtomAt(int unit_index) const override {
      if (state_[unit_index] == State::kResolving) {
        return Status::Internal("UCUM definitions are circular at " + Quoted(generated::kUnits[unit_index].code));
      }
      if (state_[unit_index] == State::kUnresolved) {
        state_[unit_index] = State::kResolving;
        index_->status_[unit_index] = Resolve(unit_index);
        state_[unit_index] = State::kDone;
      }
      return index_->AtomAt(unit_index);
    }

   private:
    Status Resolve(int unit_index) const {
      const generated::Unit& unit = generated::kUnits[unit_index];
      Atom& atom = index_->atoms_[unit_index];
      atom.unit = &unit;
      if (unit.base_index >= 0) {
        atom.exponents[unit.base_index] = 1;
        return Status::Ok();
      }
      if (unit.code == "mol") {  // a base unit here, see kMoleIndex
        atom.exponents[kMoleIndex] = 1;
        return Status::Ok();
      }
      if (unit.is_arbitrary) return Status::Ok();  // a dimension of its own; the definition is not used
      const std::string_view definition = unit.is_special ? unit.function_unit : unit.definition;
      Result<Term> term = Parser(definition, *this).ParseMainTerm();
      if (!term.ok()) {
        return Status::Internal("UCUM definition of " + Quoted(unit.code) + ": " + term.status().message());
      }
      if (term->special != nullptr || !term->arbitrary.empty()) {
        return Status::Internal("UCUM definition of " + Quoted(unit.code) + " refers to a special or arbitrary unit");
      }
      atom.factor = (unit.is_special ? unit.function_value : unit.value) * term->factor;
      atom.exponents = term->exponents;
      if (unit.is_special) atom.function = FindSpecialFunction(unit.function);
      return Status::Ok();
    }

    Index* index_;
    // Mutable state of the build, not of the Resolver's interface: AtomSource is const.
    mutable std::vector<State> state_;
  };

  Index() : atoms_(generated::kUnitCount), status_(generated::kUnitCount) {
    by_code_.reserve(generated::kUnitCount);
    for (size_t i = 0; i < generated::kUnitCount; ++i) by_code_.emplace(generated::kUnits[i].code, static_cast<int>(i));
    const Resolver resolver(this);
    for (size_t i = 0; i < generated::kUnitCount; ++i) (void)resolver.AtomAt(static_cast<int>(i));
  }

  std::unordered_map<std::string_view, int> by_code_;
  std::vector<Atom> atoms_;
  std::vector<Status> status_;  // why an atom could not be resolved (never, with a sound essence file)
};

bool SameKind(const Canonical& a, const Canonical& b) {
  return a.exponents == b.exponents && a.arbitrary == b.arbitrary;
}

Result<const SpecialFunction*> FunctionOf(const Canonical& unit, const Atom*& atom) {
  const int unit_index = Index::Get().FindUnit(unit.special);
  if (unit_index < 0) return Status::Internal("not a UCUM special unit: " + Quoted(unit.special));
  EHR_ASSIGN_OR_RETURN(atom, Index::Get().AtomAt(unit_index));
  if (atom->function == nullptr) {
    return Status::NotSupported(Code::kUnprocessable,
                                "no conversion is known for the special unit " + Quoted(unit.special));
  }
  return atom->function;
}

// The value in base units (for a special unit: its function's reference in base units).
Result<long double> ToBase(long double value, const Canonical& unit) {
  if (unit.special.empty()) return value * unit.factor;
  const Atom* atom = nullptr;
  EHR_ASSIGN_OR_RETURN(const SpecialFunction* function, FunctionOf(unit, atom));
  return function->to_reference(value * unit.factor) * atom->factor;
}

Result<long double> FromBase(long double base, const Canonical& unit) {
  if (unit.special.empty()) return base / unit.factor;
  const Atom* atom = nullptr;
  EHR_ASSIGN_OR_RETURN(const SpecialFunction* function, FunctionOf(unit, atom));
  return function->from_reference(base / atom->factor) / unit.factor;
}

Status CheckFinite(long double value, std::string_view from, std::string_view to) {
  if (std::isfinite(value)) return Status::Ok();
  return Status::Unprocessable("the value cannot be expressed in " + Quoted(to) + " (from " + Quoted(from) + ")");
}

}  // namespace

Result<Canonical> Parse(std::string_view unit) {
  EHR_ASSIGN_OR_RETURN(Term term, Parser(unit, Index::Get()).ParseMainTerm());
  Canonical canonical;
  canonical.factor = term.factor;
  if (!std::isfinite(term.factor) || term.factor == 0) {
    return Status::Invalid("invalid UCUM unit " + Quoted(unit) + ": its magnitude is out of range");
  }
  for (int i = 0; i < kBaseUnits; ++i) {
    if (std::abs(term.exponents[i]) > std::numeric_limits<int8_t>::max()) {
      return Status::Invalid("invalid UCUM unit " + Quoted(unit) + ": an exponent is out of range");
    }
    canonical.exponents[i] = static_cast<int8_t>(term.exponents[i]);
  }
  if (term.special != nullptr) canonical.special = term.special->unit->code;
  if (term.arbitrary_exponent != 0) {
    // Canonical has room for one arbitrary atom to the first power ("[IU]/L"), which
    // covers how they are used; "[IU]2" would need an exponent of its own.
    if (term.arbitrary_exponent != 1) {
      return Status::NotSupported(Code::kUnprocessable, "the arbitrary unit " + Quoted(term.arbitrary) +
                                                            " is only supported to the first power in " + Quoted(unit));
    }
    canonical.arbitrary = term.arbitrary;
  }
  return canonical;
}

bool Commensurable(std::string_view from, std::string_view to) {
  const Result<Canonical> a = Parse(from);
  const Result<Canonical> b = Parse(to);
  if (!a.ok() || !b.ok() || !SameKind(*a, *b)) return false;
  const Atom* atom = nullptr;
  return (a->special.empty() || FunctionOf(*a, atom).ok()) && (b->special.empty() || FunctionOf(*b, atom).ok());
}

Result<long double> Convert(long double value, std::string_view from, std::string_view to) {
  EHR_ASSIGN_OR_RETURN(const Canonical source, Parse(from));
  EHR_ASSIGN_OR_RETURN(const Canonical target, Parse(to));
  if (!SameKind(source, target)) {
    return Status::Unprocessable("the units " + Quoted(from) + " and " + Quoted(to) + " are not commensurable");
  }
  // Ratio units convert by one factor, which keeps "1 mg/dL → mg/L" free of a detour's rounding.
  if (source.special.empty() && target.special.empty()) {
    const long double result = value * (source.factor / target.factor);
    EHR_RETURN_IF_ERROR(CheckFinite(result, from, to));
    return result;
  }
  EHR_ASSIGN_OR_RETURN(const long double base, ToBase(value, source));
  EHR_ASSIGN_OR_RETURN(const long double result, FromBase(base, target));
  EHR_RETURN_IF_ERROR(CheckFinite(result, from, to));
  return result;
}

Result<CanonicalValue> ToCanonical(long double value, std::string_view unit) {
  EHR_ASSIGN_OR_RETURN(const Canonical canonical, Parse(unit));
  // Temperatures convert to kelvin; the logarithmic special units ([pH], B, Np, ...) stay
  // in their own scale: a pH of 6 is not 0.001 mmol/L for anyone comparing values.
  const std::string_view special = canonical.special;
  if (!special.empty() && special != "Cel" && special != "[degF]" && special != "[degRe]") {
    return CanonicalValue{value * canonical.factor, std::string(special)};
  }
  EHR_ASSIGN_OR_RETURN(const long double base, ToBase(value, canonical));
  EHR_RETURN_IF_ERROR(CheckFinite(base, unit, "base units"));
  // The arbitrary atom first, then base units with positive exponents, then negative ones,
  // each group in base-unit order: "[IU].m-3", "g.m-1", "m.s-2".
  std::string text(canonical.arbitrary);
  for (const bool positive : {true, false}) {
    for (size_t i = 0; i < generated::kUnitCount && generated::kUnits[i].base_index >= 0; ++i) {
      const int exponent = canonical.exponents[generated::kUnits[i].base_index];
      if (exponent == 0 || (exponent > 0) != positive) continue;
      if (!text.empty()) text += '.';
      text += generated::kUnits[i].code;
      if (exponent != 1) text += std::to_string(exponent);
    }
    const int moles = canonical.exponents[kMoleIndex];
    if (moles != 0 && (moles > 0) == positive) {
      if (!text.empty()) text += '.';
      text += "mol";
      if (moles != 1) text += std::to_string(moles);
    }
  }
  if (text.empty()) text = "1";
  return CanonicalValue{base, std::move(text)};
}

}  // namespace ehr::ucum
