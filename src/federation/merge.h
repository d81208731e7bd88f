// The gateway's merge (issue 9): the answers of several regions' vaults to one request
// made into one searchset Bundle in memory, and the timeline rows of the web app. Nothing
// here is stored.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "fhir/json/value.h"

namespace ehr::federation {

struct RegionAnswer {
  std::string region;
  std::optional<json::Value> bundle;  // a Bundle, or nullopt when the region did not answer
  std::string problem;                // why not ("timed out after 2000 ms", "HTTP 503"): no PHI
};

// One Bundle (type searchset) holding every resource entry of the answered Bundles:
// - each resource tagged with its home region: meta.tag {system "urn:ehr:region", code R}
//   (added once) and meta.source "urn:ehr:region:R" (replaced);
// - de-duplicated: the same resourceType/id from the same region once (the highest
//   meta.versionId), fullUrl "urn:ehr:region:R:Type/id";
// - sorted by care date, newest first (federation/merge.cc lists the element per type:
//   effective[x], period.start, onset[x], authoredOn, date, issued, ...; meta.lastUpdated
//   when none), then by region, type and id for a stable order; Patients first;
// - OperationOutcome entries of the vaults' Bundles (search.mode "outcome") kept, tagged;
// - per region that did not answer, one OperationOutcome entry (search.mode "outcome",
//   severity warning, code "incomplete") naming the region and its problem;
// - total = the number of resource entries (outcomes excluded).
json::Value MergeBundles(std::vector<RegionAnswer> answers);

// The timeline of a merged Bundle: an array of rows {"date", "type", "summary", "region",
// "reference"}, newest first, one per resource of the patient's care (not Patient,
// OperationOutcome, nor the practitioners, organisations, locations and devices it names);
// summary is the resource's human text: code.text or the first coding's display (or code),
// with a value (valueQuantity "72 kg", valueString, valueCodeableConcept's text) when there
// is one; date is the care date as written (may be partial), "" when none.
json::Value Timeline(const json::Value& merged);

}  // namespace ehr::federation
