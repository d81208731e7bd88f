#include "search/query_parser.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <span>
#include <type_traits>
#include <utility>
#include <variant>

#include "fhir/model/model.h"
#include "fhir/ucum/ucum.h"
#include "search/full_text.h"
#include "search/index_values.h"
#include "search/indexer.h"
#include "search/normalize.h"
#include "search/query_syntax.h"

namespace ehr::search {
namespace {

using fhir::SearchParamType;
using store::Clause;
using store::Modifier;
using store::ParamKind;
using store::Prefix;
using TypeList = std::vector<std::string_view>;  // views of fhir::ResourceTypes(): static

constexpr std::string_view kUcumSystem = "http://unitsofmeasure.org";
constexpr size_t kMaxEchoed = 100;  // bytes of user text repeated in a message

// User text for a message: quoted, cut (on a UTF-8 boundary) when long.
std::string Quote(std::string_view s) {
  if (s.size() <= kMaxEchoed) return "'" + std::string(s) + "'";
  size_t cut = kMaxEchoed;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return "'" + std::string(s.substr(0, cut)) + "...'";
}

std::string Cut(std::string_view s) {
  std::string q = Quote(s);
  return q.substr(1, q.size() - 2);
}

bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// The model's own view of a resource type name (static storage), or nullopt.
std::optional<std::string_view> ResourceTypeNamed(std::string_view name) {
  std::span<const std::string_view> all = fhir::ResourceTypes();
  auto it = std::lower_bound(all.begin(), all.end(), name);
  if (it == all.end() || *it != name) return std::nullopt;
  return *it;
}

TypeList AllResourceTypes() {
  std::span<const std::string_view> all = fhir::ResourceTypes();
  return TypeList(all.begin(), all.end());
}

bool Contains(const TypeList& list, std::string_view s) { return std::find(list.begin(), list.end(), s) != list.end(); }

std::string Join(const TypeList& types) {
  std::string out;
  for (size_t i = 0; i < types.size() && i < 6; ++i) out += (i ? ", " : "") + std::string(types[i]);
  if (types.size() > 6) out += ", ... (" + std::to_string(types.size()) + " types)";
  return out;
}

// ---- Parameters --------------------------------------------------------------------------

// A search parameter code resolved against one or more resource types.
struct Resolved {
  std::string code;
  SearchParamType type = SearchParamType::kToken;
  ParamKind kind = ParamKind::kToken;
  TypeList targets;         // reference: union over the types, sorted; see any_target
  bool any_target = false;  // reference: some definition names no target (any type)
  bool identifiers = false; // token: some definition selects Identifier values
  std::vector<const fhir::SearchParamDef*> components;  // composite: each component's definition
  std::vector<std::string_view> composite_parts;         // composite: see Clause::composite_parts
};

bool TargetAllowed(const Resolved& r, std::string_view type) { return r.any_target || Contains(r.targets, type); }

// Where a parameter name appears: unknown names are ignorable only at the top of a clause;
// unsupported (special, composite) ones wherever a clause is parsed, never in _sort.
enum class Place { kTopLevel, kNested, kSort };
// A name must exist on every type (the searched types) or on at least one (chain targets).
enum class Match { kAll, kAny };

// Parameters the model defines (or the spec names) that need machinery not built yet.
bool IsUnsupportedName(std::string_view code) {
  static constexpr std::string_view kNames[] = {"_query", "_filter"};
  return std::find(std::begin(kNames), std::end(kNames), code) != std::end(kNames);
}

std::string_view TypeName(SearchParamType t) {
  switch (t) {
    case SearchParamType::kNumber:
      return "number";
    case SearchParamType::kDate:
      return "date";
    case SearchParamType::kString:
      return "string";
    case SearchParamType::kToken:
      return "token";
    case SearchParamType::kReference:
      return "reference";
    case SearchParamType::kComposite:
      return "composite";
    case SearchParamType::kQuantity:
      return "quantity";
    case SearchParamType::kUri:
      return "uri";
    case SearchParamType::kSpecial:
      return "special";
  }
  return "unknown";
}

ParamKind KindOf(std::string_view code, SearchParamType type) {
  if (code == "_id") return ParamKind::kId;
  if (code == "_text" || code == "_content") return ParamKind::kText;
  if (code == "_lastUpdated") return ParamKind::kLastUpdated;
  switch (type) {
    case SearchParamType::kNumber:
      return ParamKind::kNumber;
    case SearchParamType::kDate:
      return ParamKind::kDate;
    case SearchParamType::kString:
      return ParamKind::kString;
    case SearchParamType::kReference:
      return ParamKind::kReference;
    case SearchParamType::kQuantity:
      return ParamKind::kQuantity;
    case SearchParamType::kUri:
      return ParamKind::kUri;
    case SearchParamType::kComposite:
      return ParamKind::kComposite;
    default:
      return ParamKind::kToken;
  }
}

// A component of a composite as a parameter of its own (its values parse the same way).
Resolved ResolvedComponent(const fhir::SearchParamDef& def) {
  Resolved r;
  r.code = std::string(def.code);
  r.type = def.type;
  r.kind = KindOf(r.code, r.type);
  r.targets.assign(def.targets.begin(), def.targets.end());
  r.any_target = def.type == SearchParamType::kReference && def.targets.empty();
  return r;
}

store::ComponentValue ToComponent(store::SearchValue v) {
  return std::visit(
      [](auto&& value) -> store::ComponentValue {
        using T = std::decay_t<decltype(value)>;
        if constexpr (std::is_same_v<T, store::CompositeValue> || std::is_same_v<T, store::TextValue> ||
                      std::is_same_v<T, store::OfTypeValue> || std::is_same_v<T, store::NearValue>) {
          return store::TokenValue{};  // unreachable: no component is a composite, full text or near
        } else {
          return std::move(value);
        }
      },
      std::move(v));
}

struct Pair {
  std::string name;
  std::string value;
};

// The decoded name=value pairs of a query string, bounded in size and count.
Result<std::vector<Pair>> SplitPairs(std::string_view query) {
  if (query.size() > kMaxQueryBytes) {
    return Status::Invalid("The query string has " + std::to_string(query.size()) + " bytes; at most " +
                           std::to_string(kMaxQueryBytes) + " are accepted");
  }
  std::vector<Pair> pairs;
  size_t start = 0;
  while (start <= query.size()) {
    size_t amp = query.find('&', start);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view piece = query.substr(start, amp - start);
    start = amp + 1;
    if (piece.empty()) continue;
    if (pairs.size() == static_cast<size_t>(kMaxParameters)) {
      return Status::Invalid("The query has more than " + std::to_string(kMaxParameters) + " parameters");
    }
    const size_t eq = piece.find('=');
    std::optional<std::string> name = FormDecode(piece.substr(0, eq));
    std::optional<std::string> value = eq == std::string_view::npos ? std::string() : FormDecode(piece.substr(eq + 1));
    if (!name || !value) {
      return Status::Invalid("Malformed percent-encoding in " + Quote(piece) + " (expected %XX with two hex digits)");
    }
    if (!IsCleanUtf8(*name) || !IsCleanUtf8(*value)) {
      return Status::Invalid("A query parameter is not valid UTF-8 or contains a NUL character");
    }
    if (name->empty()) return Status::Invalid("A query parameter has no name: " + Quote(piece));
    pairs.push_back({std::move(*name), std::move(*value)});
  }
  return pairs;
}

// _elements names top-level elements, which _summary=true|text|data already chooses.
Status CheckSubset(const fhir::Subset& subset) {
  const fhir::SummaryMode mode = subset.summary;
  if (subset.elements.empty() || mode == fhir::SummaryMode::kFalse || mode == fhir::SummaryMode::kCount) {
    return Status::Ok();
  }
  return Status::Invalid("_elements cannot be combined with _summary=true, text or data (use one of them)",
                         "_elements");
}

class Parser {
 public:
  Parser(std::string_view type, const ParseOptions& options) : type_(type), options_(options) {}
  Result<ParsedSearch> Run(std::string_view query);
  Result<fhir::Subset> RunRead(std::string_view query);

 private:
  Status ParsePair(const Pair& pair);
  Status ParseResultParameter(std::string_view base, std::string_view modifier, bool has_modifier,
                              const std::string& value);
  Status ParseFunctionalList(std::string_view name);
  Status ParseParameter(std::string_view name, std::string_view value, const TypeList& types, Match match, int depth,
                        Clause* clause);
  Status ParseChain(const Resolved& r, std::string_view modifier, bool has_modifier, std::string_view tail,
                    std::string_view value, int depth, Clause* clause);
  Status ParseHas(std::string_view name, std::string_view value, const TypeList& types, int depth, Clause* clause);
  Status Resolve(std::string_view code, const TypeList& types, Match match, Place place, Resolved* out);
  Status ParseModifier(const Resolved& r, std::string_view modifier, Clause* clause);
  Status ParseValues(const Resolved& r, std::string_view value, Clause* clause);
  Result<store::SearchValue> ParseValue(const Resolved& r, const Clause& clause, std::string_view raw);
  Result<store::DateValue> ParseDate(std::string_view raw);
  Result<store::NumberValue> ParseNumberValue(std::string_view raw);
  Result<store::QuantityValue> ParseQuantity(std::string_view raw);
  Result<store::NearValue> ParseNear(std::string_view raw);
  Result<store::TokenValue> ParseToken(std::string_view raw);
  Result<store::CompositeValue> ParseComposite(const Resolved& r, std::string_view raw);
  Result<store::OfTypeValue> ParseOfType(std::string_view raw);
  Result<store::ReferenceValue> ParseReference(const Resolved& r, std::string_view type_modifier, std::string_view raw);
  Status ParseSort(std::string_view value);
  Status ParseIncludes(std::string_view value, bool reverse, bool iterate);
  Status ParseTypes(std::string_view value);
  Result<std::vector<std::string_view>> SplitValues(std::string_view value);
  Result<Prefix> TakePrefix(std::string_view* value);

  // A problem with the current parameter: kInvalid, its expression the parameter as written.
  Status Invalid(std::string msg) const { return Status::Invalid(std::move(msg), Cut(expression_)); }
  // A modifier the spec defines but the server does not implement: always an error.
  Status NotSupported(std::string msg) const {
    return Status::Invalid(std::move(msg), Cut(expression_), "not-supported");
  }
  // A parameter the server does not know or support: ignored with a warning unless strict.
  Status Ignorable(std::string msg) {
    ignorable_ = true;
    return Status::Invalid(std::move(msg), Cut(expression_), "not-supported");
  }
  std::string SearchedTypes() const {
    return type_.empty() ? (types_.size() == fhir::ResourceTypes().size() ? "all resource types" : Join(types_))
                         : std::string(type_);
  }

  std::string_view type_;
  const ParseOptions& options_;
  ParsedSearch out_;
  TypeList types_;                 // what top-level names resolve against
  std::string_view expression_;    // the name of the pair being parsed, as written
  bool ignorable_ = false;         // the error being returned may be ignored (lenient)
  std::vector<std::string> seen_;  // single-valued result parameters already given
};

Result<ParsedSearch> Parser::Run(std::string_view query) {
  EHR_ASSIGN_OR_RETURN(std::vector<Pair> pairs, SplitPairs(query));
  if (!type_.empty() && !ResourceTypeNamed(type_)) {
    return Status::Invalid("Unknown resource type " + Quote(type_));
  }
  out_.query.count = std::clamp(options_.default_count, 0, std::max(options_.max_count, 0));

  // _type decides what every other name resolves against, so it goes first.
  if (type_.empty()) {
    for (const Pair& pair : pairs) {
      if (pair.name != "_type") continue;
      expression_ = pair.name;
      EHR_RETURN_IF_ERROR(ParseTypes(pair.value));
    }
    types_ = AllResourceTypes();
    if (!out_.query.types.empty()) {
      types_.clear();
      for (const std::string& t : out_.query.types) types_.push_back(*ResourceTypeNamed(t));
    }
  } else {
    out_.query.types.emplace_back(type_);
    types_.push_back(*ResourceTypeNamed(type_));
  }

  for (const Pair& pair : pairs) {
    expression_ = pair.name;
    ignorable_ = false;
    Status st = ParsePair(pair);
    if (st.ok()) continue;
    if (!ignorable_ || options_.strict) return st;
    for (Issue& issue : st.mutable_issues()) {
      issue.severity = "warning";
      issue.diagnostics += "; the parameter was ignored";
      out_.warnings.push_back(std::move(issue));
    }
  }
  EHR_RETURN_IF_ERROR(CheckSubset(out_.subset));
  return std::move(out_);
}

Result<fhir::Subset> Parser::RunRead(std::string_view query) {
  EHR_ASSIGN_OR_RETURN(std::vector<Pair> pairs, SplitPairs(query));
  for (const Pair& pair : pairs) {
    const std::string_view base = std::string_view(pair.name).substr(0, pair.name.find(':'));
    if (base != "_summary" && base != "_elements") continue;
    expression_ = pair.name;
    EHR_RETURN_IF_ERROR(ParsePair(pair));
  }
  if (out_.subset.summary == fhir::SummaryMode::kCount) {
    return Status::Invalid("_summary=count applies to searches, not to a read", "_summary");
  }
  EHR_RETURN_IF_ERROR(CheckSubset(out_.subset));
  return std::move(out_.subset);
}

Status Parser::ParsePair(const Pair& pair) {
  const std::string_view name = pair.name;
  const size_t colon = name.find(':');
  const std::string_view base = name.substr(0, colon);
  static constexpr std::string_view kResultParameters[] = {
      "_count", "_sort",   "_total",  "_summary", "_elements",  "_include",      "_revinclude",
      "_type",  "_format", "_pretty", "_cursor",  "_contained", "_containedType"};
  if (std::find(std::begin(kResultParameters), std::end(kResultParameters), base) != std::end(kResultParameters)) {
    const bool has_modifier = colon != std::string_view::npos;
    return ParseResultParameter(base, has_modifier ? name.substr(colon + 1) : std::string_view(), has_modifier,
                                pair.value);
  }
  if (base == "_list" && colon == std::string_view::npos && pair.value.starts_with("$")) {
    return ParseFunctionalList(pair.value);
  }
  Clause clause;
  EHR_RETURN_IF_ERROR(ParseParameter(name, pair.value, types_, Match::kAll, 0, &clause));
  out_.query.clauses.push_back(std::move(clause));
  return Status::Ok();
}

// The functional lists of R4 (List, "Current Resource Lists"), kept by no List resource: the
// resources a clinician would call current, as the clauses they stand for.
Status Parser::ParseFunctionalList(std::string_view name) {
  struct Criterion {
    std::string_view param, value;
  };
  struct FunctionalList {
    std::string_view name, type;
    std::vector<Criterion> criteria;
  };
  static const FunctionalList kLists[] = {
      {"$current-problems", "Condition",
       {{"clinical-status", "http://terminology.hl7.org/CodeSystem/condition-clinical|active,"
                            "http://terminology.hl7.org/CodeSystem/condition-clinical|recurrence,"
                            "http://terminology.hl7.org/CodeSystem/condition-clinical|relapse"}}},
      {"$current-medications", "MedicationRequest", {{"status", "active"}}},
      {"$current-medications", "MedicationStatement", {{"status", "active"}}},
      {"$current-allergies", "AllergyIntolerance",
       {{"clinical-status", "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical|active"}}},
      {"$current-drug-allergies", "AllergyIntolerance",
       {{"clinical-status", "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical|active"},
        {"category", "medication"}}},
  };
  bool known = false;
  for (const FunctionalList& list : kLists) {
    if (list.name != name) continue;
    known = true;
    if (types_.size() != 1 || types_[0] != list.type) continue;
    for (const Criterion& c : list.criteria) {
      Clause clause;
      EHR_RETURN_IF_ERROR(ParseParameter(c.param, c.value, types_, Match::kAll, 0, &clause));
      out_.query.clauses.push_back(std::move(clause));
    }
    return Status::Ok();
  }
  if (!known) return NotSupported("The functional list " + Quote(name) + " is not supported; give the id of a List");
  std::string types;
  for (const FunctionalList& list : kLists) {
    if (list.name == name) types += (types.empty() ? "" : " or ") + std::string(list.type);
  }
  return Invalid("The functional list " + Quote(name) + " holds " + types + " resources; search that type");
}

Status Parser::ParseResultParameter(std::string_view base, std::string_view modifier, bool has_modifier,
                                    const std::string& value) {
  if (base == "_format" || base == "_pretty") return Status::Ok();  // the API layer's business
  if (base == "_contained" || base == "_containedType") {
    return Ignorable("The result parameter " + std::string(base) + " is not supported");
  }
  const bool is_include = base == "_include" || base == "_revinclude";
  if (has_modifier && !(is_include && (modifier == "iterate" || modifier == "recurse"))) {
    return Invalid("The modifier " + Quote(modifier) + " is not valid for " + std::string(base) +
                   (is_include ? " (only :iterate is)" : " (it takes none)"));
  }
  if (is_include) return ParseIncludes(value, base == "_revinclude", has_modifier);
  if (base == "_type") {
    if (!type_.empty()) return Ignorable("_type applies only to a search across types (GET [base]?_type=...)");
    return Status::Ok();  // parsed before the other parameters
  }
  if (std::find(seen_.begin(), seen_.end(), base) != seen_.end()) {
    return Invalid("The parameter " + std::string(base) + " is given more than once");
  }
  seen_.emplace_back(base);
  if (base == "_cursor") {
    out_.query.cursor = value;
    return Status::Ok();
  }
  if (value.empty()) return Invalid("The parameter " + std::string(base) + " has no value");
  if (base == "_count") {
    if (!std::all_of(value.begin(), value.end(), IsDigit)) {
      return Invalid("_count must be a whole number of 0 or more, not " + Quote(value));
    }
    int64_t count = 0;
    for (char c : value) count = std::min<int64_t>(count * 10 + (c - '0'), int64_t{1} << 40);
    out_.query.count = static_cast<int>(std::min<int64_t>(count, std::max(options_.max_count, 0)));
    return Status::Ok();
  }
  if (base == "_total") {
    if (value == "none")
      out_.query.total = store::TotalMode::kNone;
    else if (value == "estimate")
      out_.query.total = store::TotalMode::kEstimate;
    else if (value == "accurate")
      out_.query.total = store::TotalMode::kAccurate;
    else
      return Invalid("_total must be none, estimate or accurate, not " + Quote(value));
    return Status::Ok();
  }
  if (base == "_summary") {
    const std::optional<fhir::SummaryMode> mode = fhir::ParseSummaryMode(value);
    if (!mode) return Invalid("_summary must be true, text, data, count or false, not " + Quote(value));
    out_.subset.summary = *mode;
    out_.query.count_only = *mode == fhir::SummaryMode::kCount;
    return Status::Ok();
  }
  if (base == "_sort") return ParseSort(value);
  // _elements
  EHR_ASSIGN_OR_RETURN(std::vector<std::string_view> pieces, SplitValues(value));
  for (std::string_view piece : pieces) {
    std::string element = Unescape(piece);
    const bool plain = std::all_of(element.begin(), element.end(), [](char c) {
      return IsLower(c) || (c >= 'A' && c <= 'Z') || IsDigit(c) || c == '_' || c == '.' || c == '-';
    });
    if (!plain) return Invalid("_elements lists element names; " + Quote(element) + " is not one");
    out_.subset.elements.push_back(std::move(element));
  }
  return Status::Ok();
}

// Splits on unescaped commas and bounds the count; empty values are errors.
Result<std::vector<std::string_view>> Parser::SplitValues(std::string_view value) {
  if (value.empty()) return Invalid("The parameter " + Quote(expression_) + " has no value");
  std::vector<std::string_view> pieces = SplitUnescaped(value, ',');
  if (pieces.size() > static_cast<size_t>(kMaxValuesPerParameter)) {
    return Invalid("The parameter " + Quote(expression_) + " has " + std::to_string(pieces.size()) +
                   " comma-separated values; at most " + std::to_string(kMaxValuesPerParameter) + " are accepted");
  }
  for (std::string_view piece : pieces) {
    if (piece.empty()) return Invalid("The parameter " + Quote(expression_) + " has an empty value in its list");
  }
  return pieces;
}

Status Parser::ParseTypes(std::string_view value) {
  if (std::find(seen_.begin(), seen_.end(), "_type") != seen_.end()) {
    return Invalid("The parameter _type is given more than once");
  }
  seen_.emplace_back("_type");
  EHR_ASSIGN_OR_RETURN(std::vector<std::string_view> pieces, SplitValues(value));
  for (std::string_view piece : pieces) {
    std::optional<std::string_view> t = ResourceTypeNamed(piece);
    if (!t) return Invalid("_type lists resource types; " + Quote(piece) + " is not one");
    if (!Contains(TypeList(out_.query.types.begin(), out_.query.types.end()), *t)) out_.query.types.emplace_back(*t);
  }
  return Status::Ok();
}

Status Parser::ParseSort(std::string_view value) {
  EHR_ASSIGN_OR_RETURN(std::vector<std::string_view> pieces, SplitValues(value));
  for (std::string_view piece : pieces) {
    store::SortKey key;
    key.descending = piece.front() == '-';
    if (key.descending) piece.remove_prefix(1);
    if (piece.empty()) return Invalid("_sort has a '-' without a parameter after it");
    if (piece.find_first_of(":.") != std::string_view::npos) {
      return NotSupported("_sort by a modifier or a chain (" + Quote(piece) + ") is not supported");
    }
    Resolved r;
    EHR_RETURN_IF_ERROR(Resolve(piece, types_, Match::kAll, Place::kSort, &r));
    if (r.kind == ParamKind::kText) return Invalid("_sort cannot order by " + Quote(piece));
    if (r.type == SearchParamType::kReference || r.type == SearchParamType::kUri) {
      return Invalid("_sort cannot order by the " + std::string(TypeName(r.type)) + " parameter " + Quote(r.code) +
                     " (string, token, date, number and quantity parameters can)");
    }
    key.param = r.code;
    key.kind = r.kind;
    out_.query.sort.push_back(std::move(key));
  }
  return Status::Ok();
}

Status Parser::ParseIncludes(std::string_view value, bool reverse, bool iterate) {
  const std::string what = reverse ? "_revinclude" : "_include";
  EHR_ASSIGN_OR_RETURN(std::vector<std::string_view> pieces, SplitValues(value));
  for (std::string_view piece : pieces) {
    store::Include inc;
    inc.reverse = reverse;
    inc.iterate = iterate;
    if (piece == "*") {
      inc.wildcard = true;
      if (!reverse) inc.source_type = std::string(type_);
      out_.query.includes.push_back(std::move(inc));
      continue;
    }
    std::vector<std::string_view> parts = SplitUnescaped(piece, ':');
    if (parts.size() < 2 || parts.size() > 3) {
      return Invalid(what + " takes Type:parameter or Type:parameter:targetType, not " + Quote(piece));
    }
    std::optional<std::string_view> source = ResourceTypeNamed(parts[0]);
    if (!source) return Invalid(what + ": " + Quote(parts[0]) + " is not a resource type");
    inc.source_type = std::string(*source);
    const fhir::SearchParamDef* def = nullptr;
    if (parts[1] == "*") {
      inc.wildcard = true;
    } else {
      def = fhir::FindSearchParam(*source, parts[1]);
      if (def == nullptr || def->type != SearchParamType::kReference) {
        return Invalid(what + ": " + Quote(parts[1]) + " is not a reference parameter of " + inc.source_type);
      }
      inc.param = std::string(def->code);
    }
    if (parts.size() == 3) {
      std::optional<std::string_view> target = ResourceTypeNamed(parts[2]);
      if (!target) return Invalid(what + ": " + Quote(parts[2]) + " is not a resource type");
      if (def != nullptr && !def->targets.empty() &&
          std::find(def->targets.begin(), def->targets.end(), *target) == def->targets.end()) {
        return Invalid(what + ": " + inc.source_type + ":" + inc.param + " does not refer to " + std::string(*target));
      }
      inc.target_type = std::string(*target);
    }
    out_.query.includes.push_back(std::move(inc));
  }
  return Status::Ok();
}

Status Parser::Resolve(std::string_view code, const TypeList& types, Match match, Place place, Resolved* out) {
  if (code.empty()) return Invalid("A search parameter name is missing in " + Quote(expression_));
  if (IsUnsupportedName(code)) {
    if (place == Place::kSort) return Invalid("_sort cannot order by " + Quote(code));
    return Ignorable("The search parameter " + Quote(code) + " is not supported");
  }
  // _list (R4 search 3.1.1.5.9) applies to every type and is in no SearchParameter.
  if (code == "_list") {
    if (place == Place::kSort) return Invalid("_sort cannot order by " + Quote(code));
    out->code = "_list";
    out->type = SearchParamType::kSpecial;
    out->kind = ParamKind::kList;
    return Status::Ok();
  }
  const fhir::SearchParamDef* first = nullptr;
  std::string_view first_type;
  bool mixed = false;
  for (std::string_view t : types) {
    const fhir::SearchParamDef* def = fhir::FindSearchParam(t, code);
    if (def == nullptr) {
      if (match == Match::kAll) {
        first = nullptr;
        break;
      }
      continue;
    }
    if (first == nullptr) {
      first = def;
      first_type = t;
    } else if (def->type != first->type) {
      mixed = true;
    }
    if (IndexesIdentifiers(*def)) out->identifiers = true;
    if (def->type == SearchParamType::kReference) {
      if (def->targets.empty()) out->any_target = true;
      out->targets.insert(out->targets.end(), def->targets.begin(), def->targets.end());
    }
  }
  if (first == nullptr) {
    std::string msg =
        "Unknown search parameter " + Quote(code) + " for " + (place == Place::kNested ? Join(types) : SearchedTypes());
    if (place == Place::kTopLevel) return Ignorable(std::move(msg));
    return Invalid(std::move(msg));
  }
  if (mixed) {
    return Invalid("The search parameter " + Quote(code) + " has different types on " + Join(types) +
                   "; name one type (a :Type modifier on the reference, or _type)");
  }
  if (first->type == SearchParamType::kSpecial && code == "near") {
    if (place == Place::kSort) return Invalid("_sort cannot order by " + Quote(code));
    out->code = std::string(code);
    out->type = first->type;
    out->kind = ParamKind::kNear;
    return Status::Ok();
  }
  if (first->type == SearchParamType::kComposite || first->type == SearchParamType::kSpecial) {
    if (place == Place::kSort) return Invalid("_sort cannot order by " + Quote(code));
    if (first->type == SearchParamType::kComposite) {
      out->components = internal::CompositeComponents(*first);
      out->composite_parts = internal::CompositeParts(*first, first_type);
    }
    if (out->components.empty()) {
      return Ignorable("The " + std::string(TypeName(first->type)) + " search parameter " + Quote(code) +
                       " is not supported");
    }
  }
  std::sort(out->targets.begin(), out->targets.end());
  out->targets.erase(std::unique(out->targets.begin(), out->targets.end()), out->targets.end());
  out->code = std::string(first->code);
  out->type = first->type;
  out->kind = KindOf(out->code, out->type);
  return Status::Ok();
}

// `name` as written (chained, `_has:`, with a modifier) against `types`; fills `clause`
// down to the leaf, which takes the values.
Status Parser::ParseParameter(std::string_view name, std::string_view value, const TypeList& types, Match match,
                              int depth, Clause* clause) {
  if (name.starts_with("_has:") || name == "_has") return ParseHas(name, value, types, depth, clause);
  const size_t dot = name.find('.');
  const std::string_view head = name.substr(0, dot);
  const size_t colon = head.find(':');
  const std::string_view code = head.substr(0, colon);
  const bool has_modifier = colon != std::string_view::npos;
  const std::string_view modifier = has_modifier ? head.substr(colon + 1) : std::string_view();
  Resolved r;
  EHR_RETURN_IF_ERROR(Resolve(code, types, match, depth == 0 ? Place::kTopLevel : Place::kNested, &r));
  clause->param = r.code;
  clause->kind = r.kind;
  for (const fhir::SearchParamDef* component : r.components) {
    clause->components.push_back(KindOf(component->code, component->type));
  }
  clause->composite_parts.assign(r.composite_parts.begin(), r.composite_parts.end());
  if (dot != std::string_view::npos) {
    return ParseChain(r, modifier, has_modifier, name.substr(dot + 1), value, depth, clause);
  }
  if (has_modifier) EHR_RETURN_IF_ERROR(ParseModifier(r, modifier, clause));
  return ParseValues(r, value, clause);
}

Status Parser::ParseChain(const Resolved& r, std::string_view modifier, bool has_modifier, std::string_view tail,
                          std::string_view value, int depth, Clause* clause) {
  if (depth + 1 > kMaxChainDepth) {
    return Invalid("Chains and _has may be nested at most " + std::to_string(kMaxChainDepth) + " deep");
  }
  if (r.type != SearchParamType::kReference) {
    return Invalid("Only reference parameters can be chained; " + Quote(r.code) + " is a " +
                   std::string(TypeName(r.type)) + " parameter");
  }
  TypeList next;
  if (has_modifier) {
    std::optional<std::string_view> t = ResourceTypeNamed(modifier);
    if (!t) return Invalid("A chained reference takes only a resource type modifier, not " + Quote(modifier));
    if (!TargetAllowed(r, *t)) return Invalid(std::string(*t) + " is not a target type of " + Quote(r.code));
    next.push_back(*t);
  } else if (!r.any_target && r.targets.size() == 1) {
    next.push_back(r.targets.front());
  } else {
    next = r.any_target ? AllResourceTypes() : r.targets;
  }
  if (next.size() == 1) {
    clause->type = std::string(next.front());
    clause->modifier = Modifier::kType;
  }
  Clause inner;
  EHR_RETURN_IF_ERROR(
      ParseParameter(tail, value, next, next.size() == 1 ? Match::kAll : Match::kAny, depth + 1, &inner));
  clause->chain.push_back(std::move(inner));
  return Status::Ok();
}

// `_has:Type:reference:rest` — resources of Type whose `reference` points here and which
// match `rest` (a parameter of Type, itself possibly chained or another _has).
Status Parser::ParseHas(std::string_view name, std::string_view value, const TypeList& types, int depth,
                        Clause* clause) {
  if (depth + 1 > kMaxChainDepth) {
    return Invalid("Chains and _has may be nested at most " + std::to_string(kMaxChainDepth) + " deep");
  }
  const std::string_view rest = name.size() > 5 ? name.substr(5) : std::string_view();
  const size_t c1 = rest.find(':');
  const size_t c2 = c1 == std::string_view::npos ? c1 : rest.find(':', c1 + 1);
  if (c2 == std::string_view::npos || c1 == 0 || c2 == c1 + 1 || c2 + 1 == rest.size()) {
    return Invalid("_has takes the form _has:Type:reference:parameter, not " + Quote(name));
  }
  std::optional<std::string_view> has_type = ResourceTypeNamed(rest.substr(0, c1));
  if (!has_type) return Invalid("_has: " + Quote(rest.substr(0, c1)) + " is not a resource type");
  const std::string_view ref = rest.substr(c1 + 1, c2 - c1 - 1);
  const fhir::SearchParamDef* def = fhir::FindSearchParam(*has_type, ref);
  if (def == nullptr || def->type != SearchParamType::kReference) {
    return Invalid("_has: " + Quote(ref) + " is not a reference parameter of " + std::string(*has_type));
  }
  if (!def->targets.empty() && std::none_of(types.begin(), types.end(), [&](std::string_view t) {
        return std::find(def->targets.begin(), def->targets.end(), t) != def->targets.end();
      })) {
    return Invalid("_has: " + std::string(*has_type) + ":" + std::string(ref) + " does not refer to " + Join(types));
  }
  clause->param = "_has";
  clause->kind = ParamKind::kReference;
  clause->has_type = std::string(*has_type);
  clause->has_param = std::string(def->code);
  Clause inner;
  EHR_RETURN_IF_ERROR(ParseParameter(rest.substr(c2 + 1), value, TypeList{*has_type}, Match::kAll, depth + 1, &inner));
  clause->chain.push_back(std::move(inner));
  return Status::Ok();
}

Status Parser::ParseModifier(const Resolved& r, std::string_view modifier, Clause* clause) {
  Modifier m = Modifier::kNone;
  bool unsupported = false;
  if (r.kind == ParamKind::kText) {
    return Invalid("The full-text parameter " + Quote(r.code) + " takes no modifier (" + Quote(modifier) + ")");
  }
  if (r.kind == ParamKind::kList) return Invalid("_list takes no modifier (" + Quote(modifier) + ")");
  if (r.kind == ParamKind::kNear) return Invalid("near takes no modifier (" + Quote(modifier) + ")");
  if (modifier == "missing") {
    m = Modifier::kMissing;
  } else if (r.kind == ParamKind::kString) {
    if (modifier == "exact")
      m = Modifier::kExact;
    else if (modifier == "contains")
      m = Modifier::kContains;
  } else if (r.kind == ParamKind::kToken || r.kind == ParamKind::kId) {
    // :not applies to _id too; the others the spec defines for tokens, which _id is not here.
    static constexpr std::pair<std::string_view, Modifier> kTokenModifiers[] = {
        {"text", Modifier::kText}, {"of-type", Modifier::kOfType}, {"in", Modifier::kIn},
        {"not-in", Modifier::kNotIn}, {"below", Modifier::kBelow}, {"above", Modifier::kAbove}};
    if (modifier == "not") {
      m = Modifier::kNot;
    } else {
      for (const auto& [name, token_modifier] : kTokenModifiers) {
        if (modifier != name) continue;
        if (r.kind == ParamKind::kToken) {
          m = token_modifier;
        } else {
          unsupported = true;
        }
      }
    }
  } else if (r.kind == ParamKind::kReference) {
    if (modifier == "identifier") {
      m = Modifier::kIdentifier;
    } else if (std::optional<std::string_view> t = ResourceTypeNamed(modifier)) {
      if (!TargetAllowed(r, *t)) return Invalid(std::string(*t) + " is not a target type of " + Quote(r.code));
      m = Modifier::kType;
      clause->type = std::string(*t);
    }
  } else if (r.kind == ParamKind::kUri) {
    if (modifier == "above")
      m = Modifier::kAbove;
    else if (modifier == "below")
      m = Modifier::kBelow;
    else if (modifier == "contains")
      m = Modifier::kContains;
  }
  if (unsupported) {
    return NotSupported("The modifier :" + std::string(modifier) + " of " + Quote(r.code) + " is not supported");
  }
  if (m == Modifier::kNone) {
    return Invalid("The modifier " + Quote(modifier) + " is not valid for the " + std::string(TypeName(r.type)) +
                   " parameter " + Quote(r.code));
  }
  clause->modifier = m;
  return Status::Ok();
}

Status Parser::ParseValues(const Resolved& r, std::string_view value, Clause* clause) {
  EHR_ASSIGN_OR_RETURN(std::vector<std::string_view> pieces, SplitValues(value));
  if (clause->modifier == Modifier::kMissing) {
    if (value != "true" && value != "false") return Invalid(":missing takes true or false, not " + Quote(value));
    clause->missing = value == "true";
    return Status::Ok();
  }
  for (std::string_view piece : pieces) {
    EHR_ASSIGN_OR_RETURN(store::SearchValue v, ParseValue(r, *clause, piece));
    clause->values.push_back(std::move(v));
  }
  // Rows of sensitive identifiers hold blind values (sensitive_ids.h): this is the one
  // place where a query value is looked for as one, chains and _has included.
  const bool identifier_token =
      r.kind == ParamKind::kToken && r.identifiers &&
      (clause->modifier == Modifier::kNone || clause->modifier == Modifier::kNot || clause->modifier == Modifier::kOfType);
  const bool reference_identifier = r.kind == ParamKind::kReference && clause->modifier == Modifier::kIdentifier;
  if (options_.blinder != nullptr && (identifier_token || reference_identifier)) {
    std::vector<store::SearchValue> values;
    for (const store::SearchValue& v : clause->values) {
      for (store::SearchValue& searched : options_.blinder->SearchValues(options_.tenant, v)) {
        values.push_back(std::move(searched));
      }
    }
    clause->values = std::move(values);
  }
  return Status::Ok();
}

template <typename T>
Result<store::SearchValue> Lift(Result<T> r) {
  if (!r.ok()) return r.take_status();
  return store::SearchValue(std::move(r).value());
}

Result<store::SearchValue> Parser::ParseValue(const Resolved& r, const Clause& clause, std::string_view raw) {
  switch (r.kind) {
    case ParamKind::kString: {
      std::string exact = Unescape(raw);
      return store::SearchValue(store::StringValue{NormalizeString(exact), exact});
    }
    case ParamKind::kToken:
      if (clause.modifier == Modifier::kText) {
        std::string exact = Unescape(raw);
        return store::SearchValue(store::StringValue{NormalizeString(exact), exact});
      }
      if (clause.modifier == Modifier::kOfType) return Lift(ParseOfType(raw));
      if (clause.modifier == Modifier::kIn || clause.modifier == Modifier::kNotIn) {
        std::string url = Unescape(raw);  // a ValueSet's canonical URL, `url|version` allowed
        if (url.empty() || url.find_first_of(" \t\r\n") != std::string::npos) {
          return Invalid(Quote(raw) + " is not the canonical URL of a value set");
        }
        return store::SearchValue(store::UriValue{std::move(url)});
      }
      if (clause.modifier == Modifier::kBelow || clause.modifier == Modifier::kAbove) {
        EHR_ASSIGN_OR_RETURN(store::TokenValue t, ParseToken(raw));
        if (!t.system || t.system->empty() || !t.code) {
          return Invalid(":above and :below take system|code (the code system's hierarchy decides), not " + Quote(raw));
        }
        return store::SearchValue(std::move(t));
      }
      return Lift(ParseToken(raw));
    case ParamKind::kId: {
      std::string id = Unescape(raw);
      if (!IsValidId(id)) return Invalid(Quote(id) + " is not a resource id (1-64 of A-Z a-z 0-9 - .)");
      return store::SearchValue(store::TokenValue{std::nullopt, std::move(id)});
    }
    case ParamKind::kList: {
      std::string id = Unescape(raw);
      if (id.starts_with("$")) {
        return NotSupported("The functional list " + Quote(id) + " is not supported; give the id of a List");
      }
      if (!IsValidId(id)) return Invalid(Quote(id) + " is not the id of a List (1-64 of A-Z a-z 0-9 - .)");
      return store::SearchValue(store::TokenValue{std::nullopt, std::move(id)});
    }
    case ParamKind::kDate:
    case ParamKind::kLastUpdated:
      return Lift(ParseDate(raw));
    case ParamKind::kNumber:
      return Lift(ParseNumberValue(raw));
    case ParamKind::kQuantity:
      return Lift(ParseQuantity(raw));
    case ParamKind::kReference:
      if (clause.modifier == Modifier::kIdentifier) return Lift(ParseToken(raw));
      return Lift(ParseReference(r, clause.type, raw));
    case ParamKind::kUri:
      return store::SearchValue(store::UriValue{Unescape(raw)});
    case ParamKind::kComposite:
      return Lift(ParseComposite(r, raw));
    case ParamKind::kNear:
      return Lift(ParseNear(raw));
    case ParamKind::kText: {
      std::optional<store::TextValue> text = ParseTextQuery(Unescape(raw));
      if (!text) {
        return Invalid(Quote(raw) + " has no word to search for, or more than " + std::to_string(kMaxTextPhrases) +
                       " words and phrases");
      }
      return store::SearchValue(std::move(*text));
    }
  }
  return Invalid("Unhandled parameter kind");
}

// `a$b[$c]`: one value per component, each parsed as its own parameter's (prefixes and
// all); `\$` is a literal '$'.
Result<store::CompositeValue> Parser::ParseComposite(const Resolved& r, std::string_view raw) {
  std::vector<std::string_view> parts = SplitUnescaped(raw, '$');
  if (parts.size() != r.components.size()) {
    return Invalid("The composite parameter " + Quote(r.code) + " takes " + std::to_string(r.components.size()) +
                   " values separated by '$' (escape a literal one as \\$), not " + Quote(raw));
  }
  store::CompositeValue composite;
  const Clause plain;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].empty()) return Invalid("The composite value " + Quote(raw) + " has an empty component");
    EHR_ASSIGN_OR_RETURN(store::SearchValue v, ParseValue(ResolvedComponent(*r.components[i]), plain, parts[i]));
    composite.components.push_back(ToComponent(std::move(v)));
  }
  return composite;
}

// Two lower-case letters before the value (or alone) are a prefix and must be one of the
// nine; other letters are left for the value's own parser to reject ("abc": not a number).
Result<Prefix> Parser::TakePrefix(std::string_view* value) {
  const std::string_view v = *value;
  if (v.size() < 2 || !IsLower(v[0]) || !IsLower(v[1])) return Prefix::kEq;
  if (v.size() > 2 && !IsDigit(v[2]) && v[2] != '-' && v[2] != '+' && v[2] != '.') return Prefix::kEq;
  std::optional<Prefix> p = PrefixNamed(value->substr(0, 2));
  if (!p) {
    return Invalid("Unknown prefix " + Quote(value->substr(0, 2)) + " in " + Quote(*value) +
                   " (eq, ne, gt, lt, ge, le, sa, eb, ap)");
  }
  value->remove_prefix(2);
  return *p;
}

Result<store::DateValue> Parser::ParseDate(std::string_view raw) {
  std::string_view v = raw;
  store::DateValue d;
  EHR_ASSIGN_OR_RETURN(d.prefix, TakePrefix(&v));
  std::optional<std::pair<Micros, Micros>> range = ParseSearchDate(v);
  if (!range) {
    return Invalid("Invalid date " + Quote(v) +
                   ": expected YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm[:ss[.sss]][Z|+hh:mm|-hh:mm]");
  }
  d.low = range->first;
  d.high = range->second;
  return d;
}

Result<store::NumberValue> Parser::ParseNumberValue(std::string_view raw) {
  std::string_view v = raw;
  store::NumberValue n;
  EHR_ASSIGN_OR_RETURN(n.prefix, TakePrefix(&v));
  std::optional<SearchNumber> parsed = ParseSearchNumber(v);
  if (!parsed) return Invalid("Invalid number " + Quote(v) + " (expected a decimal such as 100, -0.5 or 1e2)");
  n.value = parsed->value;
  n.low = parsed->low;
  n.high = parsed->high;
  return n;
}

// `latitude|longitude[|distance[|units]]`: decimal degrees (WGS84), a distance in km (the
// default), m, [mi_i] or [nmi_i] (UCUM); without a distance, within 10 km.
Result<store::NearValue> Parser::ParseNear(std::string_view raw) {
  constexpr double kDefaultKm = 10;
  const std::vector<std::string_view> parts = SplitUnescaped(raw, '|');
  auto usage = [&] {
    return Invalid(Quote(raw) + " is not latitude|longitude|distance|units (for example 51.5|-0.12|5|km)");
  };
  if (parts.size() < 2 || parts.size() > 4) return usage();
  auto number = [](std::string_view text) -> std::optional<double> {
    std::optional<SearchNumber> n = ParseSearchNumber(text);
    if (!n || !std::isfinite(n->value)) return std::nullopt;
    return static_cast<double>(n->value);
  };
  std::optional<double> latitude = number(parts[0]), longitude = number(parts[1]);
  if (!latitude || !longitude) return usage();
  if (*latitude < -90 || *latitude > 90) return Invalid("The latitude " + Quote(parts[0]) + " is not within -90..90");
  if (*longitude < -180 || *longitude > 180) {
    return Invalid("The longitude " + Quote(parts[1]) + " is not within -180..180");
  }
  store::NearValue near{*latitude, *longitude, kDefaultKm};
  if (parts.size() >= 3 && !parts[2].empty()) {
    std::optional<double> distance = number(parts[2]);
    if (!distance || *distance <= 0) return Invalid("The distance " + Quote(parts[2]) + " is not a positive number");
    const std::string_view units = parts.size() == 4 ? parts[3] : std::string_view("km");
    double per_km = 0;
    if (units == "km" || units.empty()) per_km = 1;
    else if (units == "m") per_km = 1000;
    else if (units == "[mi_i]") per_km = 1 / 1.609344;
    else if (units == "[nmi_i]") per_km = 1 / 1.852;
    else return Invalid("The distance unit " + Quote(units) + " is not km, m, [mi_i] or [nmi_i]");
    near.distance_km = *distance / per_km;
  }
  return near;
}

Result<store::QuantityValue> Parser::ParseQuantity(std::string_view raw) {
  std::vector<std::string_view> parts = SplitUnescaped(raw, '|');
  if (parts.size() != 1 && parts.size() != 3) {
    return Invalid("A quantity is [prefix]number or [prefix]number|system|code, not " + Quote(raw));
  }
  std::string_view v = parts[0];
  store::QuantityValue q;
  EHR_ASSIGN_OR_RETURN(q.prefix, TakePrefix(&v));
  std::optional<SearchNumber> parsed = ParseSearchNumber(v);
  if (!parsed) return Invalid("Invalid number " + Quote(v) + " in the quantity " + Quote(raw));
  q.value = parsed->value;
  q.low = parsed->low;
  q.high = parsed->high;
  if (parts.size() == 3) {
    q.system = Unescape(parts[1]);
    q.code = Unescape(parts[2]);
  }
  if (!q.code.empty() && (q.system.empty() || q.system == kUcumSystem)) {
    Result<ucum::CanonicalValue> value = ucum::ToCanonical(q.value, q.code);
    Result<ucum::CanonicalValue> low = ucum::ToCanonical(q.low, q.code);
    Result<ucum::CanonicalValue> high = ucum::ToCanonical(q.high, q.code);
    if (value.ok() && low.ok() && high.ok()) {
      // Special units may be decreasing ([pH]): keep the range ordered.
      const auto lo = static_cast<double>(std::min(low->value, high->value));
      const auto hi = static_cast<double>(std::max(low->value, high->value));
      const auto val = static_cast<double>(value->value);
      if (std::isfinite(lo) && std::isfinite(hi) && std::isfinite(val)) {
        q.canonical_value = val;
        q.canonical_low = lo;
        q.canonical_high = hi;
        q.canonical_unit = value->unit;
      }
    }
  }
  return q;
}

Result<store::TokenValue> Parser::ParseToken(std::string_view raw) {
  std::vector<std::string_view> parts = SplitUnescaped(raw, '|');
  store::TokenValue t;
  if (parts.size() == 1) {
    t.code = Unescape(parts[0]);
    return t;
  }
  if (parts.size() > 2) {
    return Invalid("A token is code, system|code, |code or system|; " + Quote(raw) +
                   " has more than one '|' (escape a literal one as \\|)");
  }
  if (parts[0].empty() && parts[1].empty()) return Invalid("The token '|' names neither a system nor a code");
  t.system = Unescape(parts[0]);
  if (!parts[1].empty()) t.code = Unescape(parts[1]);
  return t;
}

// `system|code|value` of :of-type, all three present (R4 search 3.1.1.4.7).
Result<store::OfTypeValue> Parser::ParseOfType(std::string_view raw) {
  std::vector<std::string_view> parts = SplitUnescaped(raw, '|');
  if (parts.size() != 3 || parts[0].empty() || parts[1].empty() || parts[2].empty()) {
    return Invalid(":of-type takes type-system|type-code|value, all three present (escape a literal '|' as \\|), not " +
                   Quote(raw));
  }
  return store::OfTypeValue{Unescape(parts[0]), Unescape(parts[1]), Unescape(parts[2])};
}

Result<store::ReferenceValue> Parser::ParseReference(const Resolved& r, std::string_view type_modifier,
                                                     std::string_view raw) {
  const std::string text = Unescape(raw);
  const std::string_view v = text;
  store::ReferenceValue ref;
  std::vector<std::string_view> segments;
  for (size_t start = 0;;) {
    const size_t slash = v.find('/', start);
    segments.push_back(v.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  const bool absolute = v.find("://") != std::string_view::npos || v.starts_with("urn:");
  if (absolute) {
    ref.url = text;
    // .../Type/id or .../Type/id/_history/n: the backend matches it as Type/id when the
    // base is its own.
    size_t n = segments.size();
    if (n >= 4 && segments[n - 2] == "_history") n -= 2;
    if (n >= 2 && ResourceTypeNamed(segments[n - 2]) && IsValidId(segments[n - 1])) {
      ref.type = std::string(segments[n - 2]);
      ref.id = std::string(segments[n - 1]);
    }
  } else if (segments.size() == 1) {
    if (!IsValidId(v)) {
      return Invalid(Quote(v) + " is not a reference: expected an id, Type/id or an absolute URL");
    }
    ref.id = text;
    ref.type = std::string(type_modifier);
    return ref;
  } else if (segments.size() == 4 && segments[2] == "_history") {
    return NotSupported("Search by a versioned reference (" + Quote(v) + ") is not supported");
  } else if (segments.size() != 2 || !ResourceTypeNamed(segments[0]) || !IsValidId(segments[1])) {
    return Invalid(Quote(v) + " is not a reference: expected an id, Type/id or an absolute URL");
  } else {
    ref.type = std::string(segments[0]);
    ref.id = std::string(segments[1]);
  }
  if (!ref.type.empty() && !type_modifier.empty() && ref.type != type_modifier) {
    return Invalid("The reference " + Quote(v) + " is not of the type " + std::string(type_modifier) +
                   " the modifier names");
  }
  if (!absolute && !TargetAllowed(r, ref.type)) {
    return Invalid(ref.type + " is not a target type of " + Quote(r.code) + " (" + Join(r.targets) + ")");
  }
  return ref;
}

}  // namespace

Result<ParsedSearch> ParseSearch(std::string_view type, std::string_view query, const ParseOptions& options) {
  return Parser(type, options).Run(query);
}

Result<fhir::Subset> ParseReadParameters(std::string_view query) {
  const ParseOptions options;
  return Parser("", options).RunRead(query);
}

}  // namespace ehr::search
