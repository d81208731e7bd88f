// A FHIR search as a backend-neutral plan: search::ParseSearchQuery builds it from the
// query string (validating every parameter, value, modifier and prefix against the R4
// model), and each backend (SQLite now, PostgreSQL later) executes it against the index
// rows of store.h. Nothing here knows HTTP or SQL. Plain data; copyable.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "core/clock.h"

namespace ehr::store {

// Which index a clause reads. kId and kLastUpdated are columns of the resource itself.
enum class ParamKind : uint8_t {
  kString,
  kToken,
  kDate,
  kNumber,
  kQuantity,
  kReference,
  kUri,
  kComposite,    // values are CompositeValue; Clause::components gives each component's kind
  kText,         // _text (the narrative) and _content (every string): values are TextValue
  kId,           // _id
  kLastUpdated,  // _lastUpdated
  kList,         // _list: values are TokenValue, the List's id as code
  kNear,         // Location near: values are NearValue (rows: store.h kNearLatitude, kNearLongitude)
};

enum class Prefix : uint8_t { kEq, kNe, kGt, kLt, kGe, kLe, kSa, kEb, kAp };

enum class Modifier : uint8_t {
  kNone,
  kMissing,     // any kind: `missing` says true/false
  kExact,       // string
  kContains,    // string, uri: the value anywhere in the row
  kText,        // token: matches TokenRow::text (normalised starts-with)
  kNot,         // token: resources with no row equal to any value (including no row at all)
  kAbove,       // uri (prefix of the value); token: the code and its ancestors, which the API
  kBelow,       // uri (value is a prefix of the row); token: the code and its descendants
                // layer expands (api/value_sets.h) before a store sees the query
  kOfType,      // token on Identifier: values are OfTypeValue (type system|type code|value)
  kIdentifier,  // reference: values are TokenValue, matched against Reference.identifier
  kType,        // reference `:Patient`: `type` holds the resource type
  kIn,          // token: values are UriValue, ValueSet canonical URLs; the API layer expands
  kNotIn,       // them into kNone / kNot token values before a store sees the query (api/value_sets.h)
};

// Token: `system|code`, `|code` (no system), `system|` (any code of system), `code`.
struct TokenValue {
  std::optional<std::string> system;  // nullopt: any system; "": the row has no system
  std::optional<std::string> code;    // nullopt: any code (the `system|` form)
};
// String: the default is starts-with on the normalised text, `:contains` anywhere in it,
// `:exact` equality with the text as written.
struct StringValue {
  std::string normalized;  // search::NormalizeString of the value
  std::string exact;       // as given (unescaped)
};
// Date: the range [low, high] (inclusive, UTC microseconds) that the value's precision
// implies (`2013-01` is all of January), and the prefix to compare the row's range with
// (FHIR R4 search 3.1.1.4: eq = row range within value range, gt = row ends after the
// value, sa = row starts after the value ends, ap = within 10% of the gap to now...).
struct DateValue {
  Prefix prefix = Prefix::kEq;
  Micros low = 0;
  Micros high = 0;
};
// Number: the value and its implicit range from its precision (100 -> [99.5, 100.5)).
struct NumberValue {
  Prefix prefix = Prefix::kEq;
  double value = 0;
  double low = 0;
  double high = 0;
};
// Quantity: `[prefix]number|system|code`; system and code may be empty. When the unit is
// UCUM and parses, canonical_* hold the value and range in canonical units and the
// backend compares with QuantityRow::canonical_*.
struct QuantityValue {
  Prefix prefix = Prefix::kEq;
  double value = 0;
  double low = 0;
  double high = 0;
  std::string system;
  std::string code;
  double canonical_value = 0;
  double canonical_low = 0;
  double canonical_high = 0;
  std::string canonical_unit;  // empty: compare value/system/code as given
};
// Reference: `id`, `Type/id`, or an absolute URL (matched against ReferenceRow::url, and
// when it ends in Type/id of this server's base, also as Type/id).
struct ReferenceValue {
  std::string type;  // empty: any type
  std::string id;    // empty when only `url` applies
  std::string url;
};
struct UriValue {
  std::string uri;
};
// Token `:of-type` (`identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|446053`):
// an Identifier with a type coding of this system and code, and this value. All three are
// required (R4 search 3.1.1.4.7).
struct OfTypeValue {
  std::string type_system;
  std::string type_code;
  std::string value;
};
// One component of a composite value (no composite nests in another).
using ComponentValue =
    std::variant<TokenValue, StringValue, DateValue, NumberValue, QuantityValue, ReferenceValue, UriValue>;
// Composite (`code-value-quantity=http://loinc.org|8480-6$gt100`): one value per component,
// in the order of the parameter's components, of the kinds in Clause::components. Every R4
// composite starts with a token (a TokenValue here) that names what the rest measures.
struct CompositeValue {
  std::vector<ComponentValue> components;
};
// Full text (_text, _content): the groups are OR-ed, the phrases of a group all required; a
// phrase is one or more words, matched in order and next to each other. Words are what the
// backend's tokenizer makes of the text (letters and digits; case and accents folded).
struct TextValue {
  std::vector<std::vector<std::string>> groups;
};
// Location `near=latitude|longitude|distance|units`: positions within `distance_km` of the
// point (great-circle distance on a sphere of the Earth's mean radius).
struct NearValue {
  double latitude = 0;
  double longitude = 0;
  double distance_km = 0;
};
// _id values and _lastUpdated values reuse TokenValue::code and DateValue.
using SearchValue = std::variant<TokenValue, StringValue, DateValue, NumberValue, QuantityValue, ReferenceValue,
                                 UriValue, CompositeValue, TextValue, OfTypeValue, NearValue>;

struct Clause {
  std::string param;  // the code as in the index rows ("birthdate", "subject", "_id")
  ParamKind kind = ParamKind::kToken;
  Modifier modifier = Modifier::kNone;
  bool missing = false;            // for kMissing
  std::string type;                // for kType: the target resource type
  std::vector<SearchValue> values;  // OR-ed; empty only for kMissing and chains
  // kComposite: the kind of each component (kToken first, then kQuantity, kDate, ...), and
  // the composites whose rows the clause reads when `param` has none of its own, being
  // their union (Observation combo-code-value-quantity: code-value-quantity and
  // component-code-value-quantity); empty: the rows of `param`.
  std::vector<ParamKind> components;
  std::vector<std::string> composite_parts;
  // Chained search (`subject:Patient.name=peter`): this clause is a reference parameter and
  // matches resources whose referenced resource (of `type` when set) matches `chain`.
  std::vector<Clause> chain;       // zero or one element
  // Reverse chain (`_has:Observation:patient:code=1234`): matches resources referenced by a
  // resource of `has_type` through its reference parameter `has_param`, that resource
  // matching `chain`. `param` is "_has" then.
  std::string has_type;
  std::string has_param;
};

struct SortKey {
  std::string param;
  ParamKind kind = ParamKind::kLastUpdated;
  bool descending = false;
};

// _include / _revinclude: `source_type:param[:target_type]`.
struct Include {
  std::string source_type;
  std::string param;
  std::string target_type;  // empty: any
  bool reverse = false;     // _revinclude
  bool iterate = false;     // :iterate
  bool wildcard = false;    // `*`: every reference parameter of source_type
};

enum class TotalMode : uint8_t { kNone, kEstimate, kAccurate };

// Membership of a compartment (`/fhir/Patient/123/Observation`, `$everything`): resources
// that refer to `type/id` through one of `links` (a resource type and one of its reference
// parameters, from the CompartmentDefinition), and the compartment's own resource when
// `type` is among the searched types. Several ids: the union of their compartments.
// `other_types_pass`: resources of types that are never in such a compartment (no link,
// not `type`) pass the filter instead of failing it.
struct CompartmentFilter {
  std::string type;
  std::vector<std::string> ids;
  std::vector<std::pair<std::string, std::string>> links;
  bool other_types_pass = false;
};

// Resources hidden from the caller although within its reach (what a patient's Consent
// denies them): those in the compartment of one of `compartment.ids`, of one of `types`
// (empty: any type), carrying one of the `labels` (meta.security; empty: regardless) and
// none of `except_labels`, and, when `resources` is not empty, one of those (type, id),
// and none of `except_resources`.
struct Exclusion {
  CompartmentFilter compartment;
  std::vector<std::string> types;
  std::vector<TokenValue> labels;
  std::vector<TokenValue> except_labels;
  std::vector<std::pair<std::string, std::string>> resources;
  std::vector<std::pair<std::string, std::string>> except_resources;
};

// Resources of `types` only when they match one of `any_of` (each an AND of clauses over
// those types' parameters; an empty one matches every resource): what SMART granular
// scopes grant (`patient/Observation.rs?category=laboratory`), $everything's care dates.
// No alternative: none of `types`. Other types pass.
struct TypeFilter {
  std::vector<std::string> types;
  std::vector<std::vector<Clause>> any_of;

  bool Covers(const std::string& type) const {
    for (const std::string& t : types) {
      if (t == type) return true;
    }
    return false;
  }
};

struct SearchQuery {
  std::string tenant;
  std::vector<std::string> types;  // one type for /fhir/{type}; several or none (all) for /fhir?_type=
  std::vector<Clause> clauses;     // AND-ed
  std::optional<CompartmentFilter> compartment;  // AND-ed with the clauses
  // The caller's reach (the patients whose records they may see), with other_types_pass:
  // it bounds the matches, and also what chains and _has test (their targets and sources),
  // so that neither answers questions about records outside it.
  std::optional<CompartmentFilter> access;
  // Hidden within the reach: left out of the matches and the total, and out of what chains
  // and _has test, like what lies outside `access`.
  std::vector<Exclusion> hidden;
  // Bound like `access`: matches, chain targets and _has sources of these types.
  std::vector<TypeFilter> filters;
  std::vector<SortKey> sort;       // empty: newest change first
  std::vector<Include> includes;
  int count = 50;
  TotalMode total = TotalMode::kAccurate;
  bool count_only = false;  // _summary=count: only the total
  // Opaque position from SearchPage::next_cursor of the previous page; empty: first page.
  std::string cursor;
};

struct SearchMatch {
  std::string type;
  std::string id;
  int64_t version = 0;
  Micros last_updated = 0;
  std::string body;
};

struct SearchPage {
  std::vector<SearchMatch> matches;
  std::vector<SearchMatch> included;  // from includes; no duplicates, none of the matches
  std::optional<int64_t> total;       // per TotalMode
  std::string next_cursor;            // empty when this is the last page
};

}  // namespace ehr::store
