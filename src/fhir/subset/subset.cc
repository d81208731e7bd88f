#include "fhir/subset/subset.h"

#include <algorithm>
#include <utility>

#include "fhir/model/model.h"

namespace ehr::fhir {
namespace {

constexpr std::string_view kSubsettedSystem = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue";
constexpr std::string_view kSubsettedCode = "SUBSETTED";

// `_birthDate` (a primitive's id and extensions) belongs to the element `birthDate`.
bool IsPrimitiveSibling(std::string_view key) { return key.size() > 1 && key[0] == '_'; }
std::string_view ElementName(std::string_view key) { return IsPrimitiveSibling(key) ? key.substr(1) : key; }

// See the header: the flags as the ElementDefinition.isSummary comment says to read them.
bool InSummary(const ElementDef& element) { return element.is_summary || element.is_modifier || element.min > 0; }

bool IsMandatory(const ElementMatch& match) { return match && match.element->min > 0; }

// The type whose elements the members of this member's value are: the element's type, or
// for a `_name` sibling the primitive type (whose elements are id and extension).
const TypeDef* ValueType(const ElementMatch& match) { return match ? match.type->type : nullptr; }

// Removes Attachment.data from a data type value (object or array of them) at any depth.
void DropAttachmentData(json::Value& value, const TypeDef& type, bool primitive_sibling) {
  if (value.is_array()) {
    for (json::Value& item : value.as_array()) DropAttachmentData(item, type, primitive_sibling);
    return;
  }
  if (!value.is_object()) return;
  // A primitive's own value holds nothing; its `_name` object holds id and extensions.
  if (type.is_primitive() && !primitive_sibling) return;
  if (type.is_resource()) return;  // a resource inside a data type is kept whole
  if (type.name == "Attachment") {
    value.Remove("data");
    value.Remove("_data");
  }
  for (json::Member& member : value.as_object()) {
    const TypeDef* member_type = ValueType(MatchElement(type, ElementName(member.first)));
    if (member_type != nullptr) DropAttachmentData(member.second, *member_type, IsPrimitiveSibling(member.first));
  }
}

// The summary members of an object of type `type` (a resource or a backbone element), in
// place; false when nothing is left.
bool KeepSummary(json::Value& value, const TypeDef& type);

// The summary form of a kept member's value; false when nothing is left of it.
bool SummarizeValue(json::Value& value, const TypeDef& type, bool primitive_sibling) {
  if (type.kind != TypeKind::kBackbone || primitive_sibling) {
    DropAttachmentData(value, type, primitive_sibling);
    return true;
  }
  if (value.is_array()) {
    json::Array kept;
    for (json::Value& item : value.as_array()) {
      if (KeepSummary(item, type)) kept.push_back(std::move(item));
    }
    value.as_array() = std::move(kept);
    return !value.as_array().empty();
  }
  return KeepSummary(value, type);
}

bool KeepSummary(json::Value& value, const TypeDef& type) {
  if (!value.is_object()) return true;  // not valid FHIR; not ours to repair
  json::Object kept;
  for (json::Member& member : value.as_object()) {
    if (member.first != "resourceType") {
      const ElementMatch match = MatchElement(type, ElementName(member.first));
      if (!match || !InSummary(*match.element)) continue;
      if (!SummarizeValue(member.second, *match.type->type, IsPrimitiveSibling(member.first))) continue;
    }
    kept.push_back(std::move(member));
  }
  value.as_object() = std::move(kept);
  return !value.as_object().empty();
}

// Keeps the top-level members `keep(name, match)` accepts; resourceType always stays.
template <typename Keep>
void KeepTopLevel(json::Value& resource, const TypeDef& type, Keep keep) {
  std::erase_if(resource.as_object(), [&](const json::Member& member) {
    if (member.first == "resourceType") return false;
    const std::string_view name = ElementName(member.first);
    return !keep(name, MatchElement(type, name));
  });
}

// Adds the SUBSETTED tag to meta.tag unless it is there; meta goes after id when new.
void TagSubsetted(json::Value& resource) {
  json::Value* meta = resource.Find("meta");
  if (meta == nullptr || !meta->is_object()) {
    const json::Object& members = resource.as_object();
    auto after = std::find_if(members.begin(), members.end(), [](const json::Member& m) { return m.first == "id"; });
    if (after == members.end()) {
      after =
          std::find_if(members.begin(), members.end(), [](const json::Member& m) { return m.first == "resourceType"; });
    }
    const size_t index = after == members.end() ? 0 : static_cast<size_t>(after - members.begin()) + 1;
    meta = &resource.SetAt(index, "meta", json::Value::MakeObject());
  }
  json::Value* tags = meta->Find("tag");
  if (tags == nullptr || !tags->is_array()) tags = &meta->Set("tag", json::Value::MakeArray());
  for (const json::Value& tag : tags->as_array()) {
    if (tag.GetString("system") == kSubsettedSystem && tag.GetString("code") == kSubsettedCode) return;
  }
  json::Value tag = json::Value::MakeObject();
  tag.Set("system", json::Value(std::string(kSubsettedSystem)));
  tag.Set("code", json::Value(std::string(kSubsettedCode)));
  tags->as_array().push_back(std::move(tag));
}

}  // namespace

std::optional<SummaryMode> ParseSummaryMode(std::string_view value) {
  if (value == "true") return SummaryMode::kTrue;
  if (value == "text") return SummaryMode::kText;
  if (value == "data") return SummaryMode::kData;
  if (value == "count") return SummaryMode::kCount;
  if (value == "false") return SummaryMode::kFalse;
  return std::nullopt;
}

json::Value SubsetOf(json::Value resource, const Subset& subset) {
  if (subset.whole() || !resource.is_object()) return resource;
  // An unknown type (never stored) is cut as a plain Resource: id and meta.
  const TypeDef* type = FindType(resource.GetString("resourceType"));
  if (type == nullptr || !type->is_resource()) type = FindType("Resource");

  auto is_id_or_meta = [](std::string_view name) { return name == "id" || name == "meta"; };
  switch (subset.summary) {
    case SummaryMode::kTrue:
      KeepSummary(resource, *type);
      break;
    case SummaryMode::kText:
      KeepTopLevel(resource, *type, [&](std::string_view name, const ElementMatch& match) {
        return is_id_or_meta(name) || name == "text" || IsMandatory(match);
      });
      break;
    case SummaryMode::kData:
      KeepTopLevel(resource, *type, [](std::string_view name, const ElementMatch&) { return name != "text"; });
      break;
    case SummaryMode::kFalse:
    case SummaryMode::kCount:
      KeepTopLevel(resource, *type, [&](std::string_view name, const ElementMatch& match) {
        // A choice element is asked for by its base name: `effective` keeps effectiveDateTime.
        auto asked = [&](std::string_view n) {
          return std::find(subset.elements.begin(), subset.elements.end(), n) != subset.elements.end();
        };
        return is_id_or_meta(name) || IsMandatory(match) || asked(name) ||
               (match.element != nullptr && match.element->is_choice && asked(match.element->name));
      });
      break;
  }
  TagSubsetted(resource);
  return resource;
}

std::string SubsetJson(std::string text, const Subset& subset) {
  if (subset.whole()) return text;
  Result<json::Value> parsed = json::Parse(text);  // the limits every write was parsed with
  if (!parsed.ok() || !parsed->is_object()) return text;
  return json::Write(SubsetOf(std::move(parsed).value(), subset));
}

}  // namespace ehr::fhir
