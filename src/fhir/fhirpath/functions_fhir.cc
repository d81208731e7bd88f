// The FHIR additions to FHIRPath (R4 FHIRPath section 2.5), reflection (type()), and the
// FHIRPath 2.0 boundary functions the R4 suite uses.
#include "fhir/fhirpath/functions_internal.h"
#include "fhir/fhirpath/quantity.h"

namespace ehr::fhirpath {
namespace {

constexpr std::string_view kCoreProfilePrefix = "http://hl7.org/fhir/StructureDefinition/";

EHR_FHIRPATH_FN(ExtensionFn) {
  std::optional<std::string> url = ev.ArgString(call, 0, scope);
  if (!url) return {};
  Collection extensions;
  for (const Item& item : input) {
    if (item.is_element()) AppendChildren(item.element(), "extension", extensions);
  }
  Collection out;
  for (const Item& ext : extensions) {
    const json::Value* v = ext.element().value;
    if (v != nullptr && v->is_object() && v->GetString("url") == *url) out.push_back(ext);
  }
  return out;
}

EHR_FHIRPATH_FN(HasValue) {
  if (input.size() != 1) return OneBoolean(false);
  const Item& item = input[0];
  if (item.is_system()) return OneBoolean(true);
  return OneBoolean(HasPrimitiveValue(item.element()));
}

EHR_FHIRPATH_FN(GetValue) {
  if (input.size() != 1 || !input[0].is_element() || !HasPrimitiveValue(input[0].element())) return {};
  std::optional<Item> s = ToSystem(input[0]);
  return s ? OneItem(std::move(*s)) : Collection{};
}

// The resource a reference points at: contained (#id), an entry of the Bundle being
// evaluated (by fullUrl or Type/id), or what the caller's resolver finds.
const json::Value* ResolveReference(Evaluator& ev, std::string_view reference) {
  const json::Value* root = ev.root_resource();
  if (reference.empty()) return nullptr;
  if (reference[0] == '#') {
    if (root == nullptr) return nullptr;
    if (reference.size() == 1) return root;
    if (const json::Value* contained = root->Find("contained"); contained != nullptr && contained->is_array()) {
      for (const json::Value& c : contained->as_array()) {
        if (c.GetString("id") == reference.substr(1)) return &c;
      }
    }
    return nullptr;
  }
  if (root != nullptr && root->GetString("resourceType") == "Bundle") {
    if (const json::Value* entries = root->Find("entry"); entries != nullptr && entries->is_array()) {
      for (const json::Value& entry : entries->as_array()) {
        const json::Value* resource = entry.Find("resource");
        if (resource == nullptr) continue;
        std::string_view full_url = entry.GetString("fullUrl");
        if (full_url == reference) return resource;
        std::string type_id = std::string(resource->GetString("resourceType")) + "/" +
                              std::string(resource->GetString("id"));
        if (reference == type_id || (full_url.size() > reference.size() && full_url.ends_with(reference) &&
                                     full_url[full_url.size() - reference.size() - 1] == '/')) {
          return resource;
        }
      }
    }
  }
  if (ev.options().resolver) {
    std::shared_ptr<const json::Value> found = ev.options().resolver(reference);
    if (found) {
      const json::Value* raw = found.get();
      ev.arena().resolved.push_back(std::move(found));
      return raw;
    }
  }
  return nullptr;
}

EHR_FHIRPATH_FN(Resolve) {
  Collection out;
  for (const Item& item : input) {
    std::string reference;
    if (std::optional<std::string_view> s = StringView(item)) {
      reference = *s;
    } else if (item.is_element() && item.element().value != nullptr && item.element().value->is_object()) {
      reference = item.element().value->GetString("reference");
    }
    if (const json::Value* target = ResolveReference(ev, reference)) out.push_back(Item::Elem(RootElement(*target)));
  }
  return out;
}

// type(): a TypeInfo object {namespace, name}, navigable like any element.
EHR_FHIRPATH_FN(TypeFn) {
  Collection out;
  for (const Item& item : input) {
    TypeName t = TypeOf(item);
    json::Value info = json::Value::MakeObject();
    info.Set("namespace", json::Value(std::string(t.ns)));
    info.Set("name", json::Value(std::string(t.name)));
    const json::Value& kept = ev.arena().values.emplace_back(std::move(info));
    out.push_back(Item::Elem(Element{&kept, nullptr, nullptr, nullptr}));
  }
  return out;
}

EHR_FHIRPATH_FN(ConformsTo) {
  std::optional<std::string> url = ev.ArgString(call, 0, scope);
  if (!url) return {};
  Collection out;
  for (const Item& item : input) {
    if (ev.options().profiles != nullptr) {
      if (std::optional<bool> r = ev.options().profiles->ConformsTo(item, *url)) {
        out.push_back(Item::Boolean(*r));
        continue;
      }
    }
    if (!url->starts_with(kCoreProfilePrefix)) ev.Fail(call, "unknown profile " + *url);
    std::string_view type = std::string_view(*url).substr(kCoreProfilePrefix.size());
    if (fhir::FindType(type) == nullptr) ev.Fail(call, "unknown profile " + *url);
    out.push_back(Item::Boolean(IsOfType(item, "FHIR", type)));
  }
  return out;
}

EHR_FHIRPATH_FN(MemberOf) {
  std::optional<std::string> url = ev.ArgString(call, 0, scope);
  const Item* item = ev.Single(call, input, "memberOf()");
  if (!url || item == nullptr) return {};
  if (ev.options().terminology != nullptr) {
    if (std::optional<bool> r = ev.options().terminology->MemberOf(*item, *url)) return OneBoolean(*r);
  }
  // The value sets of the R4 required bindings are known without a terminology server.
  const fhir::ValueSetDef* vs = nullptr;
  for (const fhir::ValueSetDef& candidate : fhir::RequiredValueSets()) {
    std::string_view u = candidate.url;
    if (u.substr(0, u.find('|')) == *url || u == *url) vs = &candidate;
  }
  if (vs == nullptr || !vs->checkable) return {};
  auto check = [&](std::string_view system, std::string_view code) {
    return fhir::ValueSetContains(*vs, system, code);
  };
  if (std::optional<std::string_view> code = StringView(*item)) return OneBoolean(check({}, *code));
  if (!item->is_element() || item->element().value == nullptr || !item->element().value->is_object()) return {};
  const json::Value& v = *item->element().value;
  std::vector<const json::Value*> codings;
  if (const json::Value* cs = v.Find("coding"); cs != nullptr && cs->is_array()) {
    for (const json::Value& c : cs->as_array()) codings.push_back(&c);
  } else {
    codings.push_back(&v);
  }
  for (const json::Value* c : codings) {
    if (check(c->GetString("system"), c->GetString("code"))) return OneBoolean(true);
  }
  return OneBoolean(false);
}

Collection SubsumesImpl(Evaluator& ev, const Expr& call, const Collection& input, const Scope& scope, bool reverse) {
  const Item* a = ev.Single(call, input, call.name + "()");
  Collection other = ev.Arg(call, 0, scope);
  const Item* b = ev.Single(call.arg(0), other, call.name + "()");
  if (a == nullptr || b == nullptr || ev.options().terminology == nullptr) return {};
  std::optional<bool> r = reverse ? ev.options().terminology->Subsumes(*b, *a) : ev.options().terminology->Subsumes(*a, *b);
  return r ? OneBoolean(*r) : Collection{};
}
EHR_FHIRPATH_FN(Subsumes) { return SubsumesImpl(ev, call, input, scope, false); }
EHR_FHIRPATH_FN(SubsumedBy) { return SubsumesImpl(ev, call, input, scope, true); }

// elementDefinition(): the model's definitions are tables, not ElementDefinition
// resources; a Profiles implementation that holds StructureDefinitions supplies them.
EHR_FHIRPATH_FN(ElementDefinition) {
  Collection out;
  if (ev.options().profiles == nullptr) return out;
  for (const Item& item : input) {
    std::shared_ptr<const json::Value> definition = ev.options().profiles->ElementDefinition(item);
    if (!definition) continue;
    const json::Value* raw = definition.get();
    ev.arena().resolved.push_back(std::move(definition));
    out.push_back(Item::Elem(RootElement(*raw, "ElementDefinition")));
  }
  return out;
}

EHR_FHIRPATH_FN(Slice) {
  std::optional<std::string> profile = ev.ArgString(call, 0, scope);
  std::optional<std::string> name = ev.ArgString(call, 1, scope);
  if (!profile || !name) return {};
  if (ev.options().profiles == nullptr) ev.Fail(call, "slice() needs the profile " + *profile);
  Collection out;
  for (const Item& item : input) {
    std::optional<bool> in = ev.options().profiles->InSlice(item, *profile, *name);
    if (!in) ev.Fail(call, "unknown slice " + *name + " of " + *profile);
    if (*in) out.push_back(item);
  }
  return out;
}

// checkModifiers(url...): the input, unless an element carries a modifier extension
// not named; then an error (the caller did not say it understands it).
EHR_FHIRPATH_FN(CheckModifiers) {
  Collection allowed = ev.Arg(call, 0, scope);
  for (const Item& item : input) {
    if (!item.is_element()) continue;
    Collection modifiers;
    AppendChildren(item.element(), "modifierExtension", modifiers);
    for (const Item& m : modifiers) {
      std::string_view url = m.element().value != nullptr ? m.element().value->GetString("url") : "";
      bool known = false;
      for (const Item& a : allowed) {
        if (StringView(a) == url) known = true;
      }
      if (!known) ev.Fail(call, "unknown modifier extension " + std::string(url));
    }
  }
  return input;
}

EHR_FHIRPATH_FN(HtmlChecks) { return OneBoolean(true); }

// --- FHIRPath 2.0 additions used by the R4 suite ---

std::optional<Item> SingleSystem(Evaluator& ev, const Expr& call, const Collection& input) {
  const Item* item = ev.Single(call, input, call.name + "()");
  if (item == nullptr) return std::nullopt;
  return ToSystem(*item);
}

Collection Boundary(Evaluator& ev, const Expr& call, const Collection& input, const Scope& scope, bool low) {
  std::optional<Item> s = SingleSystem(ev, call, input);
  if (!s) return {};
  std::optional<int64_t> precision;
  if (call.arg_count() > 0) {
    precision = ev.ArgInteger(call, 0, scope);
    if (!precision) return {};
  }
  switch (s->kind()) {
    case ItemKind::kInteger:
    case ItemKind::kDecimal: {
      Decimal d = NumericValue(*s);
      std::optional<Decimal> r = low ? d.LowBoundary(static_cast<int>(precision.value_or(8)))
                                     : d.HighBoundary(static_cast<int>(precision.value_or(8)));
      return r ? OneItem(Item::Dec(*r)) : Collection{};
    }
    case ItemKind::kQuantity: {
      const Quantity& q = s->quantity();
      std::optional<Decimal> r = low ? q.value.LowBoundary(static_cast<int>(precision.value_or(8)))
                                     : q.value.HighBoundary(static_cast<int>(precision.value_or(8)));
      return r ? OneItem(Item::Qty(Quantity{*r, q.unit})) : Collection{};
    }
    case ItemKind::kDate:
    case ItemKind::kDateTime:
    case ItemKind::kTime: {
      std::optional<int> p;
      if (precision) p = static_cast<int>(*precision);
      Temporal value = s->temporal();
      // FHIR has no hour-only time: T08 stands for 08:00 (the suite's comment on
      // HighBoundaryDateTimeMillisecond1), so its boundaries are those of that minute.
      if (value.kind == TemporalKind::kDateTime && value.precision == TemporalPrecision::kHour) {
        value.precision = TemporalPrecision::kMinute;
      }
      std::optional<Temporal> r = low ? LowBoundary(value, p) : HighBoundary(value, p);
      return r ? OneItem(Item::Time(*r)) : Collection{};
    }
    default:
      return {};
  }
}
EHR_FHIRPATH_FN(LowBoundaryFn) { return Boundary(ev, call, input, scope, true); }
EHR_FHIRPATH_FN(HighBoundaryFn) { return Boundary(ev, call, input, scope, false); }

EHR_FHIRPATH_FN(Precision) {
  std::optional<Item> s = SingleSystem(ev, call, input);
  if (!s) return {};
  switch (s->kind()) {
    case ItemKind::kDecimal: return OneItem(Item::Integer(s->decimal().scale()));
    case ItemKind::kInteger: return OneItem(Item::Integer(0));
    case ItemKind::kDate:
    case ItemKind::kDateTime:
    case ItemKind::kTime: return OneItem(Item::Integer(s->temporal().PrecisionDigits()));
    default: return {};
  }
}

EHR_FHIRPATH_FN(Comparable) {
  std::optional<Item> a = SingleSystem(ev, call, input);
  Collection other = ev.Arg(call, 0, scope);
  std::optional<Item> b = SingleSystem(ev, call.arg(0), other);
  if (!a || !b) return {};
  if (a->kind() != ItemKind::kQuantity || b->kind() != ItemKind::kQuantity) {
    ev.Fail(call, "comparable() needs Quantities");
  }
  return OneBoolean(QuantitiesComparable(a->quantity(), b->quantity()));
}

constexpr FunctionDef kFhir[] = {
    {"extension", 1, 1, ExtensionFn},
    {"hasValue", 0, 0, HasValue},
    {"getValue", 0, 0, GetValue},
    {"resolve", 0, 0, Resolve},
    {"type", 0, 0, TypeFn},
    {"conformsTo", 1, 1, ConformsTo},
    {"memberOf", 1, 1, MemberOf},
    {"subsumes", 1, 1, Subsumes},
    {"subsumedBy", 1, 1, SubsumedBy},
    {"elementDefinition", 0, 0, ElementDefinition},
    {"slice", 2, 2, Slice},
    {"checkModifiers", 1, 1, CheckModifiers},
    {"htmlChecks", 0, 0, HtmlChecks},
    {"htmlChecks2", 0, 0, HtmlChecks},
    {"lowBoundary", 0, 1, LowBoundaryFn},
    {"highBoundary", 0, 1, HighBoundaryFn},
    {"precision", 0, 0, Precision},
    {"comparable", 1, 1, Comparable},
};

}  // namespace

std::span<const FunctionDef> FhirFunctions() { return kFhir; }

}  // namespace ehr::fhirpath
