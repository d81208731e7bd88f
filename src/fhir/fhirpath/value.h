// The values FHIRPath expressions operate on.
//
// A collection holds items. An item is either a System value made by the expression
// (Boolean, Integer, Decimal, String, Date, DateTime, Time, Quantity) or an element of a
// FHIR resource: a view (pointers, no copy) into the JSON document with the element's
// FHIR type from the R4 model. A primitive element turns into its System value when an
// operator needs one (FHIR `date` into Date, `code` into String, ...); a Quantity element
// into a System Quantity. The JSON documents an Element points into must outlive it.
// Values are plain data; thread-safe to read.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/container/small_vector.hpp>

#include "core/decimal.h"
#include "fhir/fhirpath/temporal.h"
#include "fhir/json/value.h"
#include "fhir/model/model.h"

namespace ehr::fhirpath {

// A System.Quantity. `unit` is a UCUM code, or a calendar duration keyword ("year",
// "months", ...) when written without quotes.
struct Quantity {
  Decimal value;
  std::string unit;
};

// An element of a FHIR resource.
struct Element {
  // The JSON value: an object for complex types and resources, a bool/number/string for
  // primitives, nullptr for a primitive that has only extensions.
  const json::Value* value = nullptr;
  // The `_name` sibling of a primitive (an object with id/extension), or nullptr.
  const json::Value* extension = nullptr;
  // The FHIR type (for a resource, its concrete type), nullptr when the model does not
  // know the element (unknown members are still navigable as plain JSON).
  const fhir::TypeDef* type = nullptr;
  // The element definition it was reached through (nullptr at a root).
  const fhir::ElementDef* definition = nullptr;
};

enum class ItemKind : uint8_t {
  kBoolean,
  kInteger,
  kDecimal,
  kString,
  kDate,
  kDateTime,
  kTime,
  kQuantity,
  kElement,
};

class Item {
 public:
  Item() : v_(false) {}
  static Item Boolean(bool b) { return Item(V(std::in_place_index<0>, b)); }
  static Item Integer(int64_t i) { return Item(V(std::in_place_index<1>, i)); }
  static Item Dec(Decimal d) { return Item(V(std::in_place_index<2>, d)); }
  static Item String(std::string s) { return Item(V(std::in_place_index<3>, std::move(s))); }
  static Item Time(Temporal t) { return Item(V(std::in_place_index<4>, t)); }
  static Item Qty(Quantity q) { return Item(V(std::in_place_index<5>, std::move(q))); }
  static Item Elem(Element e) { return Item(V(std::in_place_index<6>, e)); }

  ItemKind kind() const;
  bool is_element() const { return v_.index() == 6; }
  bool is_system() const { return v_.index() != 6; }

  bool boolean() const { return std::get<0>(v_); }
  int64_t integer() const { return std::get<1>(v_); }
  const Decimal& decimal() const { return std::get<2>(v_); }
  const std::string& string() const { return std::get<3>(v_); }
  const Temporal& temporal() const { return std::get<4>(v_); }
  const Quantity& quantity() const { return std::get<5>(v_); }
  const Element& element() const { return std::get<6>(v_); }

 private:
  using V = std::variant<bool, int64_t, Decimal, std::string, Temporal, Quantity, Element>;
  explicit Item(V v) : v_(std::move(v)) {}
  V v_;
};

// Most collections hold zero or one item: those live inline, without allocation.
using Collection = boost::container::small_vector<Item, 1>;

inline bool IsNumeric(ItemKind k) { return k == ItemKind::kInteger || k == ItemKind::kDecimal; }
inline bool IsTemporal(ItemKind k) { return k == ItemKind::kDate || k == ItemKind::kDateTime || k == ItemKind::kTime; }
// The value of an Integer or Decimal item as a Decimal.
inline Decimal NumericValue(const Item& item) {
  return item.kind() == ItemKind::kInteger ? Decimal::FromInt(item.integer()) : item.decimal();
}
// Whether `name` is one of the System types (Boolean, Integer, ..., Quantity).
bool IsSystemTypeName(std::string_view name);

// --- Elements ---

// An element for a resource (or any JSON object) at the root of an evaluation: the type
// is the resource type its `resourceType` names, or `type_name` when given.
Element RootElement(const json::Value& resource, std::string_view type_name = {});

// Appends the children of `element` named `name` (a JSON member name or, for a choice
// element, its base name: `value` finds `valueQuantity`). A primitive's `id` and
// `extension` come from its `_name` sibling. Arrays are flattened. Returns false when the
// element's type has no such element (true when the model does not know the type).
bool AppendChildren(const Element& element, std::string_view name, Collection& out);

// A member name resolved against the model once (when an expression is compiled): the
// elements of that name in every type, so that navigation compares type addresses
// instead of strings. Refers to `name`'s storage, which must outlive it.
class MemberName {
 public:
  struct Entry {
    const fhir::TypeDef* type;
    const fhir::ElementDef* definition;
  };
  explicit MemberName(std::string_view name);
  std::string_view name() const { return name_; }
  // The element of that name in `type` (choice elements by base name), or nullptr.
  const fhir::ElementDef* Find(const fhir::TypeDef& type) const;

 private:
  std::string_view name_;
  std::span<const Entry> entries_;
};
bool AppendChildren(const Element& element, const MemberName& name, Collection& out);
// Whether `name` is an element of `type` (by JSON name or choice base name).
bool IsKnownMember(const fhir::TypeDef& type, std::string_view name);
// Whether `type` is `ancestor` or derives from it.
bool DerivesFrom(const fhir::TypeDef* type, const fhir::TypeDef* ancestor);
// Appends every child element (FHIRPath children()).
void AppendAllChildren(const Element& element, Collection& out);

// The primitive kind of an element, or Primitive::kNone for complex ones.
fhir::Primitive PrimitiveOf(const Element& element);
// True when the element has a primitive value (FHIRPath hasValue()).
bool HasPrimitiveValue(const Element& element);

// --- System values ---

// The System value of an item: itself for System values; for a primitive element its
// value (nullopt without one); for a Quantity element a Quantity (the UCUM `code` when
// the system is UCUM, else the `unit`); nullopt for other elements.
std::optional<Item> ToSystem(const Item& item);
// A view of a String item or of a string-valued primitive element; nullopt otherwise.
std::optional<std::string_view> StringView(const Item& item);

// The type of an item as FHIRPath names it: namespace "System" or "FHIR" and the name
// ("Integer", "string", "Patient", "BackboneElement").
struct TypeName {
  std::string_view ns;
  std::string_view name;
};
TypeName TypeOf(const Item& item);
// Whether the item is of the type or a subtype of it. `ns` may be empty (either). With
// `exact_primitives`, a FHIR primitive matches only its own type (a code is not a string):
// the R4 suite wants that for as() and ofType() but not for is().
bool IsOfType(const Item& item, std::string_view ns, std::string_view name, bool exact_primitives = false);

// --- Comparison ---

// FHIRPath `=` of two items: true, false, or nullopt (empty) when undecidable.
std::optional<bool> ItemsEqual(const Item& a, const Item& b);
// FHIRPath `~`.
bool ItemsEquivalent(const Item& a, const Item& b);
// Ordering for <, <=, >, >=: -1/0/1; nullopt when undecidable (dates of different
// precision, incommensurable quantities); an `error` message when the types cannot be
// compared at all.
std::optional<int> CompareItems(const Item& a, const Item& b, std::string* error);

// --- Output ---

// The item as JSON for `ehr fhirpath`: booleans, numbers and strings as JSON values,
// dates and times as literal text without '@', quantities as {"value":..,"unit":..},
// elements as their FHIR JSON.
json::Value ToJson(const Item& item);
// FHIRPath literal-like text (used by toString() and the conformance runner):
// "true", "1", "1.50", "abc", "2012-04-15", "5 'mg'", "5 days"; elements: their
// primitive value, or JSON for complex ones.
std::string ToText(const Item& item);

}  // namespace ehr::fhirpath
