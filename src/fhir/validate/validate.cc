#include "fhir/validate/validate.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "fhir/model/model.h"
#include "fhir/validate/primitive_values.h"

namespace ehr::fhir {
namespace {

// Per-object bookkeeping is sized statically; the model's widest type must fit.
constexpr size_t kMaxTrackedElements = 128;
constexpr size_t kMaxQuotedValue = 64;

// Types the validator treats specially, looked up once.
struct KnownTypes {
  const TypeDef* extension = FindType("Extension");
  const TypeDef* coding = FindType("Coding");
  const TypeDef* codeable_concept = FindType("CodeableConcept");
};

const KnownTypes& Known() {
  static const KnownTypes known = [] {
    KnownTypes k;
    // Impossible unless the generated tables are broken: fail loudly, not quietly.
    if (k.extension == nullptr || k.coding == nullptr || k.codeable_concept == nullptr ||
        MaxElementsPerType() > kMaxTrackedElements) {
      std::abort();
    }
    return k;
  }();
  return known;
}

// One step of the FHIRPath to the element being validated, kept on the stack; the path
// text is only assembled when a problem is reported.
struct PathNode {
  const PathNode* parent = nullptr;
  std::string_view name;       // member name, or the resource type at the root
  int64_t index = -1;          // array index, or -1
  std::string_view of_type;    // resource type of a nested resource: ".ofType(X)"
};

void AppendPath(std::string& out, const PathNode* node) {
  if (node == nullptr) return;
  AppendPath(out, node->parent);
  if (!node->name.empty()) {
    if (!out.empty()) out += '.';
    out += node->name;
  }
  if (node->index >= 0) {
    out += '[';
    out += std::to_string(node->index);
    out += ']';
  }
  if (!node->of_type.empty()) {
    out += ".ofType(";
    out += node->of_type;
    out += ')';
  }
}

std::string Quote(std::string_view value) {
  if (value.size() > kMaxQuotedValue) return "'" + std::string(value.substr(0, kMaxQuotedValue)) + "...'";
  return "'" + std::string(value) + "'";
}

std::string_view JsonTypeName(const json::Value& value) {
  switch (value.type()) {
    case json::Type::kNull: return "null";
    case json::Type::kBool: return "a boolean";
    case json::Type::kNumber: return "a number";
    case json::Type::kString: return "a string";
    case json::Type::kArray: return "an array";
    case json::Type::kObject: return "an object";
  }
  return "?";
}

// The JSON name of a choice element with one of its types: value + Quantity.
std::string ChoiceName(const ElementDef& element, const TypeRef& type) {
  std::string name(element.name);
  name += static_cast<char>(type.code[0] >= 'a' && type.code[0] <= 'z' ? type.code[0] - 'a' + 'A' : type.code[0]);
  name.append(type.code.substr(1));
  return name;
}

// The `_name` sibling of `name` in `object`, or nullptr; no allocation.
const json::Value* FindUnderscoreSibling(const json::Object& object, std::string_view name) {
  for (const json::Member& member : object) {
    const std::string& key = member.first;
    if (key.size() == name.size() + 1 && key[0] == '_' && std::string_view(key).substr(1) == name) {
      return &member.second;
    }
  }
  return nullptr;
}

const json::Value* FindMember(const json::Object& object, std::string_view name) {
  for (const json::Member& member : object) {
    if (member.first == name) return &member.second;
  }
  return nullptr;
}

class Validator {
 public:
  Status Run(const json::Value& root) {
    ValidateRoot(root);
    if (issues_.empty()) return Status::Ok();
    return Status(Code::kInvalid, std::move(issues_));
  }

 private:
  bool Stopped() const { return stopped_; }

  void Report(const PathNode* at, std::string_view code, std::string diagnostics) {
    if (stopped_) return;
    if (issues_.size() == kMaxValidationIssues) {
      issues_.back() = Issue{"error", "too-costly",
                             "Validation stopped after " + std::to_string(kMaxValidationIssues - 1) + " problems", ""};
      stopped_ = true;
      return;
    }
    Issue issue;
    issue.severity = "error";
    issue.code = std::string(code);
    issue.diagnostics = std::move(diagnostics);
    AppendPath(issue.expression, at);
    issues_.push_back(std::move(issue));
  }

  void ValidateRoot(const json::Value& root) {
    if (!root.is_object()) {
      Report(nullptr, "structure", "A resource must be a JSON object, not " + std::string(JsonTypeName(root)));
      return;
    }
    const TypeDef* type = ResolveResourceType(root.as_object(), nullptr);
    if (type == nullptr) return;
    PathNode at{nullptr, type->name, -1, {}};
    ValidateObject(root.as_object(), *type, at, /*inside_contained=*/false);
  }

  // The concrete resource type named by `resourceType`, or nullptr after reporting.
  const TypeDef* ResolveResourceType(const json::Object& object, const PathNode* at) {
    const json::Value* resource_type = FindMember(object, "resourceType");
    if (resource_type == nullptr) {
      Report(at, "required", "A resource must have a resourceType");
      return nullptr;
    }
    if (!resource_type->is_string()) {
      Report(at, "structure", "resourceType must be a string, not " + std::string(JsonTypeName(*resource_type)));
      return nullptr;
    }
    const std::string& name = resource_type->as_string();
    if (!IsResourceType(name)) {
      Report(at, "invalid", "Unknown resource type " + Quote(name));
      return nullptr;
    }
    return FindType(name);
  }

  // A resource held by an element of type Resource (contained, Bundle.entry.resource,
  // Parameters.parameter.resource).
  void ValidateNestedResource(const json::Value& value, const PathNode& at, bool contained) {
    if (!value.is_object()) {
      Report(&at, "structure", "A resource must be a JSON object, not " + std::string(JsonTypeName(value)));
      return;
    }
    const json::Object& object = value.as_object();
    const TypeDef* type = ResolveResourceType(object, &at);
    if (type == nullptr) return;
    PathNode typed = at;
    typed.of_type = type->name;
    if (contained && FindMember(object, "id") == nullptr) {
      PathNode id{&typed, "id", -1, {}};
      Report(&id, "required", "A contained resource must have an id");
    }
    ValidateObject(object, *type, typed, contained);
  }

  // Validates the members of `object` as an instance of `type`. `inside_contained`: the
  // object is (part of) a contained resource, which may not contain resources itself.
  void ValidateObject(const json::Object& object, const TypeDef& type, const PathNode& at, bool inside_contained) {
    const size_t element_count = type.elements.size();
    // chosen[i]: 1 + index of the type chosen for element i (choice elements may take one
    // type only), 0 when the element is absent. `name` and `_name` both count as present.
    uint8_t chosen[kMaxTrackedElements];
    std::memset(chosen, 0, element_count);

    for (const json::Member& member : object) {
      if (Stopped()) return;
      const std::string_view key = member.first;
      if (type.is_resource() && key == "resourceType") continue;  // checked by the caller
      const bool underscore = !key.empty() && key[0] == '_';
      const std::string_view name = underscore ? key.substr(1) : key;
      const ElementMatch match = MatchElement(type, name);
      if (!match) {
        PathNode unknown{&at, key, -1, {}};
        Report(&unknown, "structure", "Unknown element " + Quote(key) + " in " + std::string(type.name));
        continue;
      }
      const ElementDef& element = *match.element;
      const size_t element_index = static_cast<size_t>(match.element - type.elements.data());
      const auto type_choice = static_cast<uint8_t>(1 + (match.type - element.types.data()));
      PathNode node{&at, name, -1, {}};
      if (element.is_choice && chosen[element_index] != 0 && chosen[element_index] != type_choice) {
        const TypeRef& previous = element.types[chosen[element_index] - 1];
        Report(&node, "structure",
               "Only one type is allowed for " + std::string(element.path) + ", found " +
                   Quote(ChoiceName(element, previous)) + " and " + Quote(name));
        continue;
      }
      chosen[element_index] = type_choice;
      if (element.max == 0) {
        Report(&node, "structure", "Element " + Quote(name) + " is not allowed here (max 0)");
        continue;
      }
      if (underscore) {
        ValidatePrimitiveExtension(member.second, object, element, *match.type, key, node);
      } else {
        ValidateElement(member.second, object, element, *match.type, node, inside_contained);
      }
    }
    if (Stopped() || type.required_count == 0) return;
    for (size_t i = 0; i < element_count; ++i) {
      const ElementDef& element = type.elements[i];
      if (element.min > 0 && chosen[i] == 0) {
        PathNode missing{&at, element.name, -1, {}};
        Report(&missing, "required",
               "Missing required element " + Quote(element.name) + " (" + std::string(element.path) + ", min " +
                   std::to_string(element.min) + ")");
      }
    }
  }

  // The value of member `node.name`: an array for repeating elements, else one value.
  void ValidateElement(const json::Value& value, const json::Object& object, const ElementDef& element,
                       const TypeRef& type, const PathNode& node, bool inside_contained) {
    if (!element.is_array) {
      if (value.is_array()) {
        Report(&node, "structure",
               "Element " + Quote(node.name) + " must be a single value, not an array (" + std::string(element.path) +
                   " has max 1)");
        return;
      }
      ValidateValue(value, element, type, node, inside_contained);
      return;
    }
    if (!value.is_array()) {
      Report(&node, "structure",
             "Element " + Quote(node.name) + " must be a JSON array (" + std::string(element.path) +
                 " repeats), not " + std::string(JsonTypeName(value)));
      return;
    }
    const json::Array& items = value.as_array();
    if (items.empty()) {
      Report(&node, "structure", "Element " + Quote(node.name) + " must not be an empty array");
      return;
    }
    if (element.max != kUnbounded && items.size() > static_cast<size_t>(element.max)) {
      Report(&node, "structure",
             "Element " + Quote(node.name) + " has " + std::to_string(items.size()) + " values, at most " +
                 std::to_string(element.max) + " allowed");
    }
    if (items.size() < static_cast<size_t>(element.min)) {
      Report(&node, "required",
             "Element " + Quote(node.name) + " has " + std::to_string(items.size()) + " values, at least " +
                 std::to_string(element.min) + " required");
    }
    // A null item is the placeholder for a value that has only extensions, in `_name`.
    const json::Value* extensions = nullptr;
    if (type.type->is_primitive()) {
      extensions = FindUnderscoreSibling(object, node.name);
      if (extensions != nullptr && !extensions->is_array()) extensions = nullptr;
    }
    for (size_t i = 0; i < items.size() && !Stopped(); ++i) {
      PathNode item{node.parent, node.name, static_cast<int64_t>(i), {}};
      if (items[i].is_null()) {
        const bool paired = extensions != nullptr && i < extensions->as_array().size() &&
                            !extensions->as_array()[i].is_null();
        if (!paired) {
          Report(&item, "structure",
                 "null is only allowed in a primitive array when the matching _" + std::string(node.name) +
                     " item has extensions");
        }
        continue;
      }
      ValidateValue(items[i], element, type, item, inside_contained);
    }
  }

  // One (non-array) value of an element.
  void ValidateValue(const json::Value& value, const ElementDef& element, const TypeRef& type_ref,
                     const PathNode& node, bool inside_contained) {
    const TypeDef& type = *type_ref.type;
    if (type.is_primitive()) {
      ValidatePrimitive(value, element, type.primitive, node);
      return;
    }
    if (type.is_resource()) {
      const bool contained = element.name == "contained";
      if (contained && inside_contained) {
        Report(&node, "invalid", "A contained resource must not contain resources");
        return;
      }
      ValidateNestedResource(value, node, contained);
      return;
    }
    if (!value.is_object()) {
      Report(&node, "structure",
             "Element " + Quote(node.name) + " must be a JSON object (" + std::string(type.name) + "), not " +
                 std::string(JsonTypeName(value)));
      return;
    }
    const json::Object& object = value.as_object();
    if (object.empty()) {
      Report(&node, "structure", "Element " + Quote(node.name) + " must not be an empty object");
      return;
    }
    ValidateObject(object, type, node, inside_contained);
    const KnownTypes& known = Known();
    if (&type == known.extension) CheckExtension(object, node);
    if (element.binding != nullptr && element.binding->checkable) {
      if (&type == known.coding) CheckCoding(object, *element.binding, node);
      if (&type == known.codeable_concept) CheckCodeableConcept(object, *element.binding, node);
    }
  }

  void ValidatePrimitive(const json::Value& value, const ElementDef& element, Primitive primitive,
                         const PathNode& node) {
    const JsonKind kind = JsonKindOf(primitive);
    const std::string* text = nullptr;
    switch (kind) {
      case JsonKind::kBool:
        if (!value.is_bool()) return ReportJsonType(value, "a JSON boolean", node);
        return;
      case JsonKind::kNumber:
        if (!value.is_number()) return ReportJsonType(value, "a JSON number", node);
        text = &value.number_text();
        break;
      case JsonKind::kString:
        if (!value.is_string()) return ReportJsonType(value, "a JSON string", node);
        text = &value.as_string();
        break;
    }
    if (!IsValidPrimitiveText(primitive, *text)) {
      Report(&node, "value",
             "Value " + Quote(*text) + " of " + Quote(node.name) + " is not " +
                 std::string(DescribePrimitiveRule(primitive)));
      return;
    }
    if (primitive == Primitive::kCode && element.binding != nullptr && element.binding->checkable &&
        !ValueSetContains(*element.binding, {}, *text)) {
      Report(&node, "code-invalid",
             "Code " + Quote(*text) + " is not in the required value set " + std::string(element.binding->url));
    }
  }

  void ReportJsonType(const json::Value& value, std::string_view expected, const PathNode& node) {
    Report(&node, "structure",
           "Element " + Quote(node.name) + " must be " + std::string(expected) + ", not " +
               std::string(JsonTypeName(value)));
  }

  // `_name`: the id and extensions of a primitive value, one object or an array of
  // objects and nulls parallel to the value array.
  void ValidatePrimitiveExtension(const json::Value& value, const json::Object& object, const ElementDef& element,
                                  const TypeRef& type, std::string_view key, const PathNode& node) {
    if (!type.type->is_primitive() || element.is_attribute) {
      Report(&node, "structure", "Element " + Quote(key) + " is not allowed: " + std::string(element.path) +
                                      " is not a primitive that can have extensions");
      return;
    }
    if (!element.is_array) {
      if (!value.is_object()) {
        Report(&node, "structure", "Element " + Quote(key) + " must be a JSON object, not " +
                                        std::string(JsonTypeName(value)));
        return;
      }
      ValidateExtensionObject(value.as_object(), *type.type, key, node);
      return;
    }
    if (!value.is_array()) {
      Report(&node, "structure", "Element " + Quote(key) + " must be a JSON array, not " +
                                      std::string(JsonTypeName(value)));
      return;
    }
    const json::Array& items = value.as_array();
    const json::Value* values = FindMember(object, node.name);
    if (values != nullptr && !values->is_array()) values = nullptr;  // reported with the value
    if (values != nullptr && values->as_array().size() != items.size()) {
      Report(&node, "structure",
             "Element " + Quote(key) + " has " + std::to_string(items.size()) + " items but " + Quote(node.name) +
                 " has " + std::to_string(values->as_array().size()));
      return;
    }
    if (items.empty()) {
      Report(&node, "structure", "Element " + Quote(key) + " must not be an empty array");
      return;
    }
    for (size_t i = 0; i < items.size() && !Stopped(); ++i) {
      PathNode item{node.parent, node.name, static_cast<int64_t>(i), {}};
      if (items[i].is_null()) {
        // A null on both sides is reported once, with the value array.
        if (values == nullptr) {
          Report(&item, "structure", "null in " + Quote(key) + " needs a value at the same index of " +
                                          Quote(node.name));
        }
        continue;
      }
      if (!items[i].is_object()) {
        Report(&item, "structure", "Items of " + Quote(key) + " must be JSON objects or null, not " +
                                        std::string(JsonTypeName(items[i])));
        continue;
      }
      ValidateExtensionObject(items[i].as_object(), *type.type, key, item);
    }
  }

  void ValidateExtensionObject(const json::Object& object, const TypeDef& primitive, std::string_view key,
                               const PathNode& node) {
    if (object.empty()) {
      Report(&node, "structure", "Element " + Quote(key) + " must not be an empty object");
      return;
    }
    // The primitive's type lists exactly what may be here: id and extension.
    ValidateObject(object, primitive, node, /*inside_contained=*/false);
  }

  // ext-1: an extension has a value or nested extensions, not both and not neither.
  void CheckExtension(const json::Object& object, const PathNode& node) {
    bool has_value = false;
    bool has_extension = false;
    for (const json::Member& member : object) {
      const std::string_view key = member.first;
      if (key.starts_with("value") || key.starts_with("_value")) has_value = true;
      if (key == "extension") has_extension = true;
    }
    if (has_value && has_extension) {
      Report(&node, "invalid", "An extension must have either a value or nested extensions, not both");
    } else if (!has_value && !has_extension) {
      Report(&node, "invalid", "An extension must have either a value or nested extensions");
    }
  }

  // Codings are checked only when their system is one the value set draws from: other
  // systems may be translations the value set does not speak about.
  void CheckCoding(const json::Object& coding, const ValueSetDef& value_set, const PathNode& node) {
    const json::Value* system = FindMember(coding, "system");
    const json::Value* code = FindMember(coding, "code");
    if (system == nullptr || code == nullptr || !system->is_string() || !code->is_string()) return;
    if (!ValueSetHasSystem(value_set, system->as_string())) return;
    if (!ValueSetContains(value_set, system->as_string(), code->as_string())) {
      PathNode at{&node, "code", -1, {}};
      Report(&at, "code-invalid",
             "Code " + Quote(code->as_string()) + " of system " + Quote(system->as_string()) +
                 " is not in the required value set " + std::string(value_set.url));
    }
  }

  void CheckCodeableConcept(const json::Object& codeable_concept, const ValueSetDef& value_set, const PathNode& node) {
    const json::Value* codings = FindMember(codeable_concept, "coding");
    if (codings == nullptr || !codings->is_array()) return;
    const json::Array& items = codings->as_array();
    for (size_t i = 0; i < items.size(); ++i) {
      if (!items[i].is_object()) continue;
      PathNode coding{&node, "coding", static_cast<int64_t>(i), {}};
      CheckCoding(items[i].as_object(), value_set, coding);
    }
  }

  std::vector<Issue> issues_;
  bool stopped_ = false;
};

}  // namespace

Status ValidateResource(const json::Value& resource) {
  Known();  // checks the model once, before any per-object bookkeeping relies on it
  Validator validator;
  return validator.Run(resource);
}

}  // namespace ehr::fhir
