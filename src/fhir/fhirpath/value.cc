#include "fhir/fhirpath/value.h"

#include <cctype>
#include <cmath>
#include <algorithm>
#include <functional>
#include <unordered_map>

#include "fhir/ucum/ucum.h"

namespace ehr::fhirpath {
namespace {

using fhir::Primitive;
using fhir::TypeDef;

// The concrete type of a resource-typed element: the one its resourceType names.
const TypeDef* RefineResourceType(const TypeDef* declared, const json::Value& value) {
  if (declared != nullptr && !declared->is_resource()) return declared;
  if (!value.is_object()) return declared;
  std::string_view resource_type = value.GetString("resourceType");
  if (resource_type.empty()) return declared;
  // Consecutive lookups are mostly of the same type (one resource, a Bundle of them).
  thread_local std::string last_name;
  thread_local const TypeDef* last_type = nullptr;
  if (last_type == nullptr || resource_type != last_name) {
    last_type = fhir::FindType(resource_type);
    if (last_type == nullptr) return declared;
    last_name = resource_type;
  }
  return last_type;
}

// Element name -> the elements of that name in every type of the model, sorted by type
// address; choice elements under their base name ("value"). Built once, read-only.
class MemberIndex {
 public:
  MemberIndex() {
    for (const TypeDef& type : fhir::AllTypes()) {
      for (const fhir::ElementDef& element : type.elements) map_[element.name].push_back({&type, &element});
    }
    for (auto& [name, entries] : map_) {
      std::sort(entries.begin(), entries.end(), [](const MemberName::Entry& a, const MemberName::Entry& b) {
        return std::less<const TypeDef*>()(a.type, b.type);
      });
    }
  }
  std::span<const MemberName::Entry> Find(std::string_view name) const {
    auto it = map_.find(name);
    return it == map_.end() ? std::span<const MemberName::Entry>() : std::span<const MemberName::Entry>(it->second);
  }

 private:
  std::unordered_map<std::string_view, std::vector<MemberName::Entry>> map_;
};

const MemberIndex& Members() {
  static const MemberIndex* index = new MemberIndex();  // never destroyed: usable at exit
  return *index;
}

const fhir::ElementDef* FindByBaseName(const TypeDef& type, std::string_view name) {
  return MemberName(name).Find(type);
}

// Each type's base type, resolved once, by the type's position in AllTypes().
const TypeDef* BaseOf(const TypeDef* type) {
  static const std::vector<const TypeDef*>* bases = [] {
    auto* v = new std::vector<const TypeDef*>();
    for (const TypeDef& t : fhir::AllTypes()) v->push_back(t.base.empty() ? nullptr : fhir::FindType(t.base));
    return v;
  }();
  const std::span<const TypeDef> all = fhir::AllTypes();
  // Compare addresses as integers: a TypeDef from elsewhere has no base here.
  const auto address = reinterpret_cast<uintptr_t>(type);
  const auto first = reinterpret_cast<uintptr_t>(all.data());
  if (address < first || address >= first + all.size() * sizeof(TypeDef)) return nullptr;
  return (*bases)[(address - first) / sizeof(TypeDef)];
}

void AppendValue(const json::Value* value, const json::Value* extension, const TypeDef* type,
                 const fhir::ElementDef* definition, Collection& out) {
  const bool value_is_array = value != nullptr && value->is_array();
  const bool extension_is_array = extension != nullptr && extension->is_array();
  if (!value_is_array && !extension_is_array) {
    if (value != nullptr && value->is_null()) value = nullptr;
    if (extension != nullptr && !extension->is_object()) extension = nullptr;
    if (value == nullptr && extension == nullptr) return;
    const TypeDef* concrete = value != nullptr ? RefineResourceType(type, *value) : type;
    out.push_back(Item::Elem(Element{value, extension, concrete, definition}));
    return;
  }
  const size_t n = std::max(value_is_array ? value->as_array().size() : 0,
                            extension_is_array ? extension->as_array().size() : 0);
  for (size_t i = 0; i < n; ++i) {
    const json::Value* v = value_is_array && i < value->as_array().size() ? &value->as_array()[i] : nullptr;
    const json::Value* e =
        extension_is_array && i < extension->as_array().size() ? &extension->as_array()[i] : nullptr;
    AppendValue(v, e, type, definition, out);
  }
}

// The members `name` and `_name` of an object, in one pass.
struct MemberPair {
  const json::Value* value = nullptr;
  const json::Value* extension = nullptr;
};
MemberPair FindPair(const json::Value& object, std::string_view name) {
  MemberPair pair;
  for (const json::Member& member : object.as_object()) {
    std::string_view key = member.first;
    if (key == name) {
      pair.value = &member.second;
    } else if (key.size() == name.size() + 1 && key[0] == '_' && key.substr(1) == name) {
      pair.extension = &member.second;
    }
  }
  return pair;
}

const json::Value* FindUnderscore(const json::Value& object, std::string_view name) {
  return FindPair(object, name).extension;
}

}  // namespace

ItemKind Item::kind() const {
  switch (v_.index()) {
    case 0: return ItemKind::kBoolean;
    case 1: return ItemKind::kInteger;
    case 2: return ItemKind::kDecimal;
    case 3: return ItemKind::kString;
    case 4:
      switch (temporal().kind) {
        case TemporalKind::kDate: return ItemKind::kDate;
        case TemporalKind::kDateTime: return ItemKind::kDateTime;
        case TemporalKind::kTime: return ItemKind::kTime;
      }
      return ItemKind::kDateTime;
    case 5: return ItemKind::kQuantity;
    default: return ItemKind::kElement;
  }
}

Element RootElement(const json::Value& resource, std::string_view type_name) {
  const TypeDef* type = nullptr;
  if (!type_name.empty()) type = fhir::FindType(type_name);
  if (type == nullptr) type = RefineResourceType(nullptr, resource);
  return Element{&resource, nullptr, type, nullptr};
}

bool AppendChildren(const Element& element, std::string_view name, Collection& out) {
  return AppendChildren(element, MemberName(name), out);
}

bool AppendChildren(const Element& element, const MemberName& member_name, Collection& out) {
  const std::string_view name = member_name.name();
  if (element.value == nullptr || !element.value->is_object()) {
    // A primitive's children (id, extension) live in its `_name` sibling.
    const TypeDef* type = element.type;
    const fhir::ElementDef* definition = type != nullptr ? member_name.Find(*type) : nullptr;
    if (element.extension == nullptr || !element.extension->is_object()) return type == nullptr || definition;
    const TypeDef* child_type =
        definition != nullptr && !definition->types.empty() ? definition->types[0].type : nullptr;
    AppendValue(element.extension->Find(name), nullptr, child_type, definition, out);
    return type == nullptr || definition != nullptr;
  }
  const json::Value& object = *element.value;
  if (element.type != nullptr) {
    if (const fhir::ElementDef* definition = member_name.Find(*element.type)) {
      if (definition->is_choice) {
        for (const json::Member& member : object.as_object()) {
          std::string_view key = member.first;
          if (key.size() <= name.size() || key.substr(0, name.size()) != name) continue;
          fhir::ElementMatch match = fhir::MatchElement(*element.type, key);
          if (match.element != definition) continue;
          AppendValue(&member.second, FindUnderscore(object, key), match.type->type, definition, out);
        }
        return true;
      }
      const TypeDef* child_type = definition->types.empty() ? nullptr : definition->types[0].type;
      MemberPair pair = FindPair(object, name);
      AppendValue(pair.value, pair.extension, child_type, definition, out);
      return true;
    }
    // A choice element by its full JSON name ("valueQuantity"): lenient, as most engines.
    if (fhir::ElementMatch match = fhir::MatchElement(*element.type, name)) {
      MemberPair pair = FindPair(object, name);
      AppendValue(pair.value, pair.extension, match.type->type, match.element, out);
      return true;
    }
    return false;  // not an element of the type (resourceType is not an element either)
  }
  // Unknown to the model: plain JSON navigation.
  MemberPair pair = FindPair(object, name);
  AppendValue(pair.value, pair.extension, nullptr, nullptr, out);
  return true;
}

MemberName::MemberName(std::string_view name) : name_(name), entries_(Members().Find(name)) {}

const fhir::ElementDef* MemberName::Find(const fhir::TypeDef& type) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), &type, [](const Entry& e, const TypeDef* t) {
    return std::less<const TypeDef*>()(e.type, t);
  });
  return it != entries_.end() && it->type == &type ? it->definition : nullptr;
}

bool IsKnownMember(const TypeDef& type, std::string_view name) {
  return FindByBaseName(type, name) != nullptr || fhir::MatchElement(type, name);
}

void AppendAllChildren(const Element& element, Collection& out) {
  const json::Value* object = element.value != nullptr && element.value->is_object() ? element.value
                                                                                       : element.extension;
  if (object == nullptr || !object->is_object()) return;
  for (const json::Member& member : object->as_object()) {
    std::string_view key = member.first;
    if (key == "resourceType") continue;
    if (!key.empty() && key[0] == '_') {
      // Only when there is no value member: otherwise the pair was visited by name.
      if (object == element.value && object->Find(key.substr(1)) == nullptr) {
        AppendChildren(element, key.substr(1), out);
      }
      continue;
    }
    if (element.type != nullptr && object == element.value) {
      fhir::ElementMatch match = fhir::MatchElement(*element.type, key);
      if (match) {
        AppendValue(&member.second, FindUnderscore(*object, key), match.type->type, match.element, out);
        continue;
      }
    }
    AppendValue(&member.second, nullptr, nullptr, nullptr, out);
  }
}

Primitive PrimitiveOf(const Element& element) {
  return element.type != nullptr ? element.type->primitive : Primitive::kNone;
}

bool HasPrimitiveValue(const Element& element) {
  if (element.value == nullptr) return false;
  if (element.type != nullptr) return element.type->is_primitive();
  return !element.value->is_object() && !element.value->is_array() && !element.value->is_null();
}

std::optional<std::string_view> StringView(const Item& item) {
  if (item.kind() == ItemKind::kString) return std::string_view(item.string());
  if (!item.is_element()) return std::nullopt;
  const Element& e = item.element();
  if (e.value == nullptr || !e.value->is_string()) return std::nullopt;
  switch (PrimitiveOf(e)) {
    case Primitive::kDate:
    case Primitive::kDateTime:
    case Primitive::kInstant:
    case Primitive::kTime:
      return std::nullopt;
    default:
      return std::string_view(e.value->as_string());
  }
}

namespace {

std::optional<Item> QuantityOf(const json::Value& object) {
  const json::Value* value = object.Find("value");
  if (value == nullptr || !value->is_number()) return std::nullopt;
  std::optional<Decimal> d = Decimal::Parse(value->number_text());
  if (!d) return std::nullopt;
  std::string_view system = object.GetString("system");
  std::string_view code = object.GetString("code");
  std::string unit;
  if (system == "http://unitsofmeasure.org" && !code.empty()) {
    unit = code;
  } else if (!object.GetString("unit").empty()) {
    unit = object.GetString("unit");
  } else {
    unit = code.empty() ? "1" : code;
  }
  return Item::Qty(Quantity{*d, std::move(unit)});
}

bool IsQuantityType(const TypeDef* type) {
  for (; type != nullptr; type = type->base.empty() ? nullptr : fhir::FindType(type->base)) {
    if (type->name == "Quantity") return true;
  }
  return false;
}

}  // namespace

std::optional<Item> ToSystem(const Item& item) {
  if (item.is_system()) return item;
  const Element& e = item.element();
  if (e.value == nullptr) return std::nullopt;
  const json::Value& v = *e.value;
  switch (PrimitiveOf(e)) {
    case Primitive::kBoolean:
      if (v.is_bool()) return Item::Boolean(v.as_bool());
      return std::nullopt;
    case Primitive::kInteger:
    case Primitive::kPositiveInt:
    case Primitive::kUnsignedInt:
      if (auto i = v.as_int64()) return Item::Integer(*i);
      return std::nullopt;
    case Primitive::kDecimal:
      if (v.is_number()) {
        if (auto d = Decimal::Parse(v.number_text())) return Item::Dec(*d);
      }
      return std::nullopt;
    case Primitive::kDate:
      if (v.is_string()) {
        if (auto t = Temporal::ParseFhir(v.as_string(), TemporalKind::kDate)) return Item::Time(*t);
      }
      return std::nullopt;
    case Primitive::kDateTime:
    case Primitive::kInstant:
      if (v.is_string()) {
        if (auto t = Temporal::ParseFhir(v.as_string(), TemporalKind::kDateTime)) return Item::Time(*t);
      }
      return std::nullopt;
    case Primitive::kTime:
      if (v.is_string()) {
        if (auto t = Temporal::ParseFhir(v.as_string(), TemporalKind::kTime)) return Item::Time(*t);
      }
      return std::nullopt;
    case Primitive::kNone:
      if (v.is_object()) {
        if (IsQuantityType(e.type)) return QuantityOf(v);
        return std::nullopt;
      }
      break;
    default:
      if (v.is_string()) return Item::String(v.as_string());
      break;
  }
  // Untyped JSON.
  if (v.is_bool()) return Item::Boolean(v.as_bool());
  if (v.is_string()) return Item::String(v.as_string());
  if (v.is_number()) {
    if (v.is_integer_text()) {
      if (auto i = v.as_int64()) return Item::Integer(*i);
    }
    if (auto d = Decimal::Parse(v.number_text())) return Item::Dec(*d);
  }
  return std::nullopt;
}

TypeName TypeOf(const Item& item) {
  switch (item.kind()) {
    case ItemKind::kBoolean: return {"System", "Boolean"};
    case ItemKind::kInteger: return {"System", "Integer"};
    case ItemKind::kDecimal: return {"System", "Decimal"};
    case ItemKind::kString: return {"System", "String"};
    case ItemKind::kDate: return {"System", "Date"};
    case ItemKind::kDateTime: return {"System", "DateTime"};
    case ItemKind::kTime: return {"System", "Time"};
    case ItemKind::kQuantity: return {"System", "Quantity"};
    case ItemKind::kElement: break;
  }
  const Element& e = item.element();
  if (e.type == nullptr) {
    // Plain JSON outside the model (type() objects, unknown members): System types.
    if (e.value != nullptr && e.value->is_string()) return {"System", "String"};
    if (e.value != nullptr && e.value->is_bool()) return {"System", "Boolean"};
    if (e.value != nullptr && e.value->is_number()) {
      return {"System", e.value->is_integer_text() ? "Integer" : "Decimal"};
    }
    return {"FHIR", "Element"};
  }
  if (e.type->kind == fhir::TypeKind::kBackbone) return {"FHIR", e.type->base};
  return {"FHIR", e.type->name};
}

bool IsOfType(const Item& item, std::string_view ns, std::string_view name, bool exact_primitives) {
  TypeName t = TypeOf(item);
  if (!ns.empty() && ns != t.ns) return false;
  if (t.name == name) return true;
  if (!item.is_element()) return false;
  const TypeDef* type = item.element().type;
  if (type == nullptr || (exact_primitives && type->is_primitive())) return false;
  for (const TypeDef* base = BaseOf(type); base != nullptr; base = BaseOf(base)) {
    if (base->name == name) return true;
  }
  return false;
}

bool DerivesFrom(const fhir::TypeDef* type, const fhir::TypeDef* ancestor) {
  for (; type != nullptr; type = BaseOf(type)) {
    if (type == ancestor) return true;
  }
  return false;
}

bool IsSystemTypeName(std::string_view name) {
  static constexpr std::string_view kNames[] = {"Boolean", "Integer", "Decimal", "String",
                                                "Date",    "DateTime", "Time",   "Quantity"};
  for (std::string_view n : kNames) {
    if (n == name) return true;
  }
  return false;
}

}  // namespace ehr::fhirpath
