// The FHIR R4 model: resource and data types with their elements, required bindings,
// primitive value rules, search parameters and the patient compartment.
//
// Everything here is backed by constant tables generated from the R4 definitions by
// tools/gen_model.js (src/fhir/model/generated/, never edited by hand). The tables are
// constant-initialised (no start-up code) and immutable; the few lookup indexes are
// built once on first use behind a function-local static, so every function here is
// safe to call from any thread. Returned pointers, spans and views refer to static
// storage and stay valid for the life of the process.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace ehr::fhir {

struct TypeDef;
struct ValueSetDef;

enum class TypeKind : uint8_t {
  kPrimitive,  // boolean, string, dateTime, ...
  kComplex,    // data types: HumanName, Quantity, Extension, and abstract Element
  kResource,   // resources, and abstract Resource / DomainResource
  kBackbone,   // an element with its own children, e.g. "Patient.contact"
};

// The R4 primitive types. Each decides the JSON representation and the value rule.
enum class Primitive : uint8_t {
  kNone,  // not a primitive type
  kBase64Binary,
  kBoolean,
  kCanonical,
  kCode,
  kDate,
  kDateTime,
  kDecimal,
  kId,
  kInstant,
  kInteger,
  kMarkdown,
  kOid,
  kPositiveInt,
  kString,
  kTime,
  kUnsignedInt,
  kUri,
  kUrl,
  kUuid,
  kXhtml,
};

// One allowed type of an element.
struct TypeRef {
  // The type code as the definitions spell it ("Quantity", "dateTime"); for a choice
  // element the JSON name is the base name plus this code with a capital first letter.
  // "BackboneElement" / "Element" for elements with their own children.
  std::string_view code;
  // The definition used for validation: a profile when the definitions name one
  // (SimpleQuantity), the synthetic type of a backbone element, else the type itself.
  const TypeDef* type;
};

inline constexpr int32_t kUnbounded = -1;

struct ElementDef {
  // JSON name; for a choice element (`value[x]`) the base name ("value").
  std::string_view name;
  std::string_view path;  // definition path, e.g. "Observation.value[x]"
  int32_t min;
  int32_t max;            // kUnbounded for "*"; 0 means prohibited by a profile
  bool is_array;          // JSON array (the base definition's max is not 1)
  bool is_choice;
  // An XML attribute in the definitions (Element.id, Extension.url): a plain JSON
  // value that can never carry a `_name` extension sibling.
  bool is_attribute;
  // ElementDefinition.isSummary and .isModifier as the base definition states them. The
  // rules that turn these into the `_summary=true` subset are in fhir/subset/subset.h.
  bool is_summary;
  bool is_modifier;
  std::span<const TypeRef> types;
  // Target of a contentReference ("Questionnaire.item" for Questionnaire.item.item),
  // else empty. `types` then holds that element's synthetic type.
  std::string_view content_reference;
  // Required binding (strength = required), or nullptr. Other strengths are not kept.
  const ValueSetDef* binding;
};

struct TypeDef {
  std::string_view name;  // "Patient", "HumanName", "string", "Patient.contact"
  TypeKind kind;
  Primitive primitive;    // kNone unless kind == kPrimitive
  bool is_abstract;
  std::string_view base;  // "DomainResource", "Element", "BackboneElement", ...
  // In definition order. For primitives, only `id` and `extension` (the members of a
  // `_name` JSON object); the value itself is not an element.
  std::span<const ElementDef> elements;
  uint16_t required_count;  // elements with min > 0

  bool is_resource() const { return kind == TypeKind::kResource; }
  bool is_primitive() const { return kind == TypeKind::kPrimitive; }
};

// The codes of one code system allowed by a value set, sorted (byte order).
struct ValueSetSystem {
  std::string_view system;
  std::span<const std::string_view> codes;
};

// A value set used by a required binding.
struct ValueSetDef {
  std::string_view url;  // as the binding names it, with "|version" when given
  // False when the codes cannot be enumerated from the definitions (external code
  // systems such as UCUM or BCP-13, unknown value sets, version mismatches); such a
  // binding is not checked. `reason` says why.
  bool checkable;
  std::string_view reason;
  std::span<const ValueSetSystem> systems;
};

// The value rule of a primitive type as the definitions state it.
struct PrimitiveRule {
  std::string_view type;   // "dateTime"
  Primitive primitive;
  std::string_view regex;  // ECMAScript regex the whole value must match; empty if none
};

enum class SearchParamType : uint8_t {
  kNumber,
  kDate,
  kString,
  kToken,
  kReference,
  kComposite,
  kQuantity,
  kUri,
  kSpecial,
};

struct SearchParamComponent {
  std::string_view definition;  // canonical URL of the component's SearchParameter
  std::string_view expression;  // FHIRPath relative to the composite's expression
};

struct SearchParamDef {
  std::string_view id;    // "Patient-birthdate"
  std::string_view url;
  std::string_view code;  // the name used in a query: "birthdate"
  SearchParamType type;
  std::span<const std::string_view> base;     // resource types, may be "Resource"
  std::string_view expression;                // FHIRPath; empty for _content, _query, _text
  std::span<const std::string_view> targets;  // reference targets
  std::span<const SearchParamComponent> components;  // composite parameters only
};

// --- Types and elements ---

// True for a concrete (non-abstract) resource type name.
bool IsResourceType(std::string_view name);
// All concrete resource type names, sorted.
std::span<const std::string_view> ResourceTypes();
// Any type by name: resources, data types, primitives, abstract bases, and backbone
// types named by their path ("Patient.contact"). nullptr when unknown.
const TypeDef* FindType(std::string_view name);
std::span<const TypeDef> AllTypes();  // sorted by name

struct ElementMatch {
  const ElementDef* element = nullptr;
  const TypeRef* type = nullptr;  // the one type the JSON name selects
  explicit operator bool() const { return element != nullptr; }
};
// Resolves a JSON member name of an object of type `owner`: "gender" selects that
// element; "valueQuantity" selects the choice element `value[x]` with type Quantity.
// A choice base name alone ("value") or a suffix the element does not allow does not
// match. Not for `_name` siblings: strip the underscore first.
ElementMatch MatchElement(const TypeDef& owner, std::string_view json_name);
inline const ElementDef* FindElement(const TypeDef& owner, std::string_view json_name) {
  return MatchElement(owner, json_name).element;
}

// The largest number of elements of any one type (bounds per-object bookkeeping).
size_t MaxElementsPerType();

// --- Primitive rules and value sets ---

std::span<const PrimitiveRule> PrimitiveRules();
const PrimitiveRule* FindPrimitiveRule(Primitive primitive);

// Every value set named by a required binding, sorted by url.
std::span<const ValueSetDef> RequiredValueSets();
// Whether `code` is allowed by the value set; with a non-empty `system` only codes of
// that system count. Only meaningful when `value_set.checkable`.
bool ValueSetContains(const ValueSetDef& value_set, std::string_view system, std::string_view code);
// Whether the value set draws codes from `system`.
bool ValueSetHasSystem(const ValueSetDef& value_set, std::string_view system);

// --- Search parameters and compartments ---

std::span<const SearchParamDef> SearchParams();  // definitions order
// The parameters that apply to a resource type, including those defined on Resource
// and (for domain resources) DomainResource. Empty for an unknown type.
std::span<const SearchParamDef* const> SearchParamsFor(std::string_view resource_type);
// One parameter of a resource type by code ("birthdate", "_id"), or nullptr.
const SearchParamDef* FindSearchParam(std::string_view resource_type, std::string_view code);
// A parameter by its canonical URL (what SearchParamComponent::definition names), or nullptr.
const SearchParamDef* FindSearchParamByUrl(std::string_view url);

// The search parameter codes that put a resource of this type in a Patient's
// compartment ("subject", "patient", ...). Empty when the type is never in it.
std::span<const std::string_view> PatientCompartmentParams(std::string_view resource_type);

}  // namespace ehr::fhir
