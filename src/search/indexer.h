// search::Indexer: the search index rows (store::IndexRows) of a resource, computed from
// the FHIRPath expressions of the R4 search parameters that apply to its type.
//
// What each parameter type indexes (FHIR R4 search, 3.1.1.4):
//   string     string/markdown values as written; HumanName family, given, prefix,
//              suffix, text; Address line, city, district, state, postalCode, country,
//              text; other data types their string elements. One row per value,
//              normalised (NormalizeString) and exact.
//   token      code/string/id/uri/boolean values as the code; Coding system|code with
//              its display as text; CodeableConcept a row per coding with the display and
//              (when it differs) the concept text, or a text-only row without codings;
//              Identifier system|value with type.text, and a `<param>:of-type` row per
//              type coding (store::ModifierParam); ContactPoint value.
//   date       date/dateTime/instant as the range its precision covers (no offset: UTC);
//              Period start..end, open ends unbounded; Timing the outer limits of its
//              events and repeat.boundsPeriod.
//   number     integer/decimal values; a Range its low and high values.
//   quantity   Quantity and its profiles (Age, Duration, ...) value/system/code/unit,
//              plus the UCUM canonical form; Money value with its currency as code
//              (system urn:iso:std:iso:4217); a Range a row per end.
//   reference  "Type/id[/_history/v]" type and id; absolute URLs as url, with type and
//              id when they end in Type/id; urn:uuid:/urn:oid: as url; canonicals as url;
//              "#contained", conditional and identifier-only references nothing;
//              Reference.identifier a `<param>:identifier` token row.
//   uri        uri/url/canonical/oid/uuid values.
//   composite  for each item the composite's expression selects, every code|system of its
//              first component (a token) with the rows of the other component(s) evaluated
//              on the same item, the token folded into the rows' parameter name
//              (store::CompositeParam; two number components make one DateRow).
//   _text      the narrative without markup; _content every string of the resource
//              (IndexRows::narrative and ::content, see full_text.h).
// Identical rows of one resource are kept once.
//
// Not indexed here: _id and _lastUpdated (columns of the store), _query, _list, _has,
// _type and the special parameter `near`.
//
// Thread-safe: an Indexer is immutable after construction.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fhir/json/value.h"
#include "fhir/model/model.h"
#include "store/store.h"

namespace ehr::search {

struct IndexerOptions {
  // FHIRPath step budget of one parameter on one resource (fhirpath::EvalOptions): a
  // parameter that exhausts it is skipped, so a hostile resource cannot stall a write.
  uint64_t max_steps = 10'000'000;
};

class Indexer {
 public:
  // All R4 search parameters of the model, compiled once (on the first call), with the
  // default options; shared by every caller for the life of the process.
  static const Indexer& Default();

  explicit Indexer(const IndexerOptions& options = {});
  ~Indexer();
  Indexer(const Indexer&) = delete;
  Indexer& operator=(const Indexer&) = delete;

  // The index rows of a resource (its resourceType decides the parameters; an unknown or
  // missing resourceType gives no rows). Parameters whose expression fails to evaluate on
  // this resource are skipped, never failing the write, and counted in `skipped` when
  // given.
  store::IndexRows Index(const json::Value& resource, int* skipped = nullptr) const;

  // Only the reference rows of `params` (of the resource's type): what the patient
  // compartment of a resource needs, at a fraction of Index's cost.
  std::vector<store::ReferenceRow> References(const json::Value& resource,
                                              std::span<const std::string_view> params) const;

  // Parameters whose expression did not compile, and why: they are never indexed.
  struct CompileFailure {
    std::string param_id;  // "Patient-birthdate"
    std::string message;
  };
  const std::vector<CompileFailure>& compile_failures() const;

 private:
  struct Plan;
  std::unique_ptr<const Plan> plan_;
};

namespace internal {
// The branches of a top-level union (`A.x | B.y | ...`) that can select anything in a
// resource of `resource_type`: those that do not start with another resource type's name.
// Many R4 parameters share one expression across 30 types (clinical-patient); evaluating
// only the resource's own branch is most of the indexing time saved. Returns `expression`
// unchanged when nothing can be dropped, an empty string when every branch can.
std::string ExpressionForType(std::string_view expression, std::string_view resource_type);

// The composites whose rows make up `composite` on `resource_type`, when its expression is
// the union of theirs and its components are theirs (same types, same expressions):
// Observation combo-code-value-quantity is code-value-quantity | component-code-value-quantity.
// Such a composite is not indexed (its rows would be theirs again, under another name);
// a search reads theirs. Empty for a composite indexed in its own right.
std::vector<std::string_view> CompositeParts(const fhir::SearchParamDef& composite, std::string_view resource_type);
}  // namespace internal

}  // namespace ehr::search
