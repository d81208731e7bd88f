// The index rows of one FHIRPath result item, by search parameter type (FHIR R4 search,
// 3.1.1.4 "Search Types"). Internal to search::Indexer; separate so that the rules per
// data type can be read (and tested) apart from the evaluation around them. Pure
// functions, thread-safe.
#pragma once

#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "fhir/fhirpath/temporal.h"
#include "fhir/fhirpath/value.h"
#include "fhir/model/model.h"
#include "store/store.h"

namespace ehr::search::internal {

// Appends to `rows` what `item` gives for the parameter `code` of `type` (see indexer.h
// for the rules). Items of a data type the parameter type does not index add nothing.
// kComposite and kSpecial add nothing.
void AppendRows(fhir::SearchParamType type, std::string_view code, const fhirpath::Item& item,
                store::IndexRows& rows);

// The component parameters of a composite whose rows store.h can hold (see
// store::CompositeParam): a token, then one component of another type or two numbers.
// Empty for any other shape (no R4 composite has one) or an unknown component.
std::vector<const fhir::SearchParamDef*> CompositeComponents(const fhir::SearchParamDef& composite);

// The resource type and id a reference names: "Patient/123", "Patient/123/_history/2",
// and absolute URLs ending in one of those ("http://x/fhir/Patient/123"), when the type is
// an R4 resource type and the id a valid id. nullopt for urn:uuid:/urn:oid:, "#local",
// conditional references ("Patient?identifier=...") and anything else.
struct TypeAndId {
  std::string_view type;
  std::string_view id;
};
std::optional<TypeAndId> ParseTypeAndId(std::string_view reference);

// The instants a date, dateTime or instant covers at its precision, inclusive, in UTC
// microseconds: 2013-01-15 -> [2013-01-15T00:00:00.000000Z, 2013-01-15T23:59:59.999999Z].
// Values without an offset are taken as UTC. nullopt for a Time.
std::optional<std::pair<Micros, Micros>> TemporalRange(const fhirpath::Temporal& value);

}  // namespace ehr::search::internal
