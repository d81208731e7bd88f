// The part of a resource a client asks for with `_summary` and `_elements`
// (http://hl7.org/fhir/R4/search.html#summary, #elements), on search and read.
//
// What each request keeps, besides `resourceType`:
//   _summary=true   id, meta and the summary elements of the resource (below);
//   _summary=text   id, meta, text and the top-level mandatory elements (min >= 1);
//   _summary=data   everything but text;
//   _elements=a,b   id, meta, the listed top-level elements and the top-level mandatory ones;
//   _summary=false or count, no _elements: the resource as it is (count returns no resources).
// Every cut resource is marked with the meta.tag
// http://terminology.hl7.org/CodeSystem/v3-ObservationValue|SUBSETTED (added once).
//
// The summary (`_summary=true`) follows ElementDefinition.isSummary in the R4 base
// definitions (ElementDef::is_summary), with the rules the R4 ElementDefinition.isSummary
// comment gives for reading the flags:
//   - an element that is mandatory (min >= 1) or a modifier is in the summary even where
//     the definitions forget to say so (R4 marks DomainResource.modifierExtension, and
//     e.g. Provenance.agent, as not summary; dropping a modifier could change meaning,
//     dropping a mandatory element would make the result invalid);
//   - inside a backbone element (Observation.component) the same flags of its children
//     apply, so Observation.component.referenceRange is dropped while code and value stay.
//     (This is what the spec's "only elements marked isSummary" says and what HAPI does,
//     which tests isSummary at every level. A backbone left with no member is dropped.);
//   - a data type value (HumanName, CodeableConcept, Extension, ...) is kept whole, except
//     Attachment.data at any depth: "Other than Attachment.data, all data type properties
//     are included in the summary form". The data types' own isSummary flags are not used
//     (R4 marks Extension.url and Extension.value[x] as not summary, which cannot be meant);
//   - a resource inside a summary element (Bundle.entry.resource) is kept whole.
// Elements the model does not know are not part of any subset except _summary=data.
//
// Thread-safe: no shared mutable state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fhir/json/value.h"

namespace ehr::fhir {

enum class SummaryMode : uint8_t { kFalse, kTrue, kText, kData, kCount };

// A `_summary` value ("true", "text", "data", "count", "false"), or nullopt.
std::optional<SummaryMode> ParseSummaryMode(std::string_view value);

// What one request asks to see of each resource.
struct Subset {
  SummaryMode summary = SummaryMode::kFalse;
  std::vector<std::string> elements;  // _elements: top-level JSON element names; empty when not given

  // True when resources are returned as they are stored.
  bool whole() const { return elements.empty() && (summary == SummaryMode::kFalse || summary == SummaryMode::kCount); }
};

// The part of `resource` (a resource object with a resourceType) that `subset` selects,
// tagged SUBSETTED; `resource` itself when subset.whole(). `elements` together with a
// `summary` of true, text or data is a caller error (the parsers reject it): the
// summary wins.
json::Value SubsetOf(json::Value resource, const Subset& subset);

// The same over JSON text, as stored: `text` itself when subset.whole() or when it is not a
// JSON object (stored resources always are).
std::string SubsetJson(std::string text, const Subset& subset);

}  // namespace ehr::fhir
