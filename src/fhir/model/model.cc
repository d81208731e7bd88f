#include "fhir/model/model.h"

#include <algorithm>
#include <cctype>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

#include "fhir/model/generated/tables.h"

namespace ehr::fhir {
namespace {

using generated::kTypes;

template <typename T, typename Key>
const T* FindSorted(std::span<const T> rows, std::string_view key, Key key_of) {
  auto it = std::lower_bound(rows.begin(), rows.end(), key,
                             [&](const T& row, std::string_view k) { return key_of(row) < k; });
  return it != rows.end() && key_of(*it) == key ? &*it : nullptr;
}

// Every JSON member name of every type, choice names spelled out ("valueQuantity"), in
// one open-addressing hash table. Built once; read-only afterwards.
class ElementIndex {
 public:
  ElementIndex() {
    size_t entries = 0;
    for (const TypeDef& type : kTypes) {
      for (const ElementDef& element : type.elements) entries += element.is_choice ? element.types.size() : 1;
    }
    size_t capacity = 16;
    while (capacity < entries * 2) capacity *= 2;
    slots_.resize(capacity);
    mask_ = capacity - 1;

    for (const TypeDef& type : kTypes) {
      const auto type_index = static_cast<uint32_t>(&type - kTypes);
      for (const ElementDef& element : type.elements) {
        if (!element.is_choice) {
          Insert(type_index, element.name, {&element, element.types.data()});
          continue;
        }
        for (const TypeRef& ref : element.types) {
          // deque: the strings never move, so the slots may keep views of them.
          std::string& name = choice_names_.emplace_back(element.name);
          name += static_cast<char>(std::toupper(static_cast<unsigned char>(ref.code[0])));
          name.append(ref.code.substr(1));
          Insert(type_index, name, {&element, &ref});
        }
      }
    }
  }

  ElementMatch Find(const TypeDef& owner, std::string_view name) const {
    // Only the generated types have elements in the index; compare addresses as integers
    // so a TypeDef from elsewhere is rejected without undefined pointer arithmetic.
    const auto address = reinterpret_cast<uintptr_t>(&owner);
    const auto first = reinterpret_cast<uintptr_t>(kTypes);
    if (address < first || address >= first + sizeof(kTypes)) return {};
    const auto type_index = static_cast<uint32_t>((address - first) / sizeof(TypeDef));
    const uint64_t hash = Hash(type_index, name);
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.match.element == nullptr) return {};
      if (slot.hash == hash && slot.type_index == type_index && slot.name == name) return slot.match;
    }
  }

 private:
  struct Slot {
    uint64_t hash = 0;
    uint32_t type_index = 0;
    std::string_view name;
    ElementMatch match;
  };

  static uint64_t Hash(uint32_t type_index, std::string_view name) {
    uint64_t h = 1469598103934665603ull ^ (uint64_t{type_index} * 0x9E3779B97F4A7C15ull);
    for (char c : name) {
      h ^= static_cast<unsigned char>(c);
      h *= 1099511628211ull;
    }
    return h ^ (h >> 29);
  }

  void Insert(uint32_t type_index, std::string_view name, ElementMatch match) {
    const uint64_t hash = Hash(type_index, name);
    size_t i = hash & mask_;
    while (slots_[i].match.element != nullptr) i = (i + 1) & mask_;
    slots_[i] = Slot{hash, type_index, name, match};
  }

  std::vector<Slot> slots_;  // linear probing, load factor <= 1/2
  size_t mask_ = 0;
  std::deque<std::string> choice_names_;
};

const ElementIndex& Elements() {
  static const ElementIndex index;
  return index;
}

// Search parameters per resource type, inherited ones (Resource, DomainResource) first.
class SearchParamIndex {
 public:
  SearchParamIndex() {
    std::unordered_map<std::string_view, std::vector<const SearchParamDef*>> declared;
    for (const SearchParamDef& param : generated::kSearchParams) {
      for (std::string_view base : param.base) declared[base].push_back(&param);
    }
    for (std::string_view resource_type : generated::kResourceTypeNames) {
      std::vector<const SearchParamDef*>& params = by_type_[resource_type];
      // Walk the base chain from the root down: Resource, DomainResource, the type.
      std::vector<std::string_view> chain;
      for (const TypeDef* type = FindType(resource_type); type != nullptr; type = FindType(type->base)) {
        chain.push_back(type->name);
      }
      for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
        auto found = declared.find(*it);
        if (found != declared.end()) params.insert(params.end(), found->second.begin(), found->second.end());
      }
    }
  }

  std::span<const SearchParamDef* const> For(std::string_view resource_type) const {
    auto it = by_type_.find(resource_type);
    if (it == by_type_.end()) return {};
    return it->second;
  }

 private:
  std::unordered_map<std::string_view, std::vector<const SearchParamDef*>> by_type_;
};

const SearchParamIndex& SearchParamsByType() {
  static const SearchParamIndex index;
  return index;
}

}  // namespace

bool IsResourceType(std::string_view name) {
  return std::binary_search(std::begin(generated::kResourceTypeNames), std::end(generated::kResourceTypeNames), name);
}

std::span<const std::string_view> ResourceTypes() { return generated::kResourceTypeNames; }

const TypeDef* FindType(std::string_view name) {
  return FindSorted(AllTypes(), name, [](const TypeDef& t) { return t.name; });
}

std::span<const TypeDef> AllTypes() { return kTypes; }

ElementMatch MatchElement(const TypeDef& owner, std::string_view json_name) {
  return Elements().Find(owner, json_name);
}

size_t MaxElementsPerType() { return generated::kMaxElementsPerType; }

std::span<const PrimitiveRule> PrimitiveRules() { return generated::kPrimitiveRules; }

const PrimitiveRule* FindPrimitiveRule(Primitive primitive) {
  for (const PrimitiveRule& rule : generated::kPrimitiveRules) {
    if (rule.primitive == primitive) return &rule;
  }
  return nullptr;
}

std::span<const ValueSetDef> RequiredValueSets() { return generated::kValueSets; }

bool ValueSetContains(const ValueSetDef& value_set, std::string_view system, std::string_view code) {
  for (const ValueSetSystem& group : value_set.systems) {
    if (!system.empty() && group.system != system) continue;
    if (std::binary_search(group.codes.begin(), group.codes.end(), code)) return true;
  }
  return false;
}

bool ValueSetHasSystem(const ValueSetDef& value_set, std::string_view system) {
  for (const ValueSetSystem& group : value_set.systems) {
    if (group.system == system) return true;
  }
  return false;
}

std::span<const SearchParamDef> SearchParams() { return generated::kSearchParams; }

std::span<const SearchParamDef* const> SearchParamsFor(std::string_view resource_type) {
  return SearchParamsByType().For(resource_type);
}

const SearchParamDef* FindSearchParam(std::string_view resource_type, std::string_view code) {
  for (const SearchParamDef* param : SearchParamsFor(resource_type)) {
    if (param->code == code) return param;
  }
  return nullptr;
}

const SearchParamDef* FindSearchParamByUrl(std::string_view url) {
  static const auto* const by_url = [] {
    auto* map = new std::unordered_map<std::string_view, const SearchParamDef*>();
    for (const SearchParamDef& param : SearchParams()) map->emplace(param.url, &param);
    return map;
  }();
  auto it = by_url->find(url);
  return it != by_url->end() ? it->second : nullptr;
}

std::span<const std::string_view> PatientCompartmentParams(std::string_view resource_type) {
  const generated::CompartmentRow* row =
      FindSorted(std::span<const generated::CompartmentRow>(generated::kPatientCompartment), resource_type,
                 [](const generated::CompartmentRow& r) { return r.resource_type; });
  return row != nullptr ? row->params : std::span<const std::string_view>();
}

}  // namespace ehr::fhir
