// What a search reads beyond its own matches, for the authorize step: a chain or a _has
// decides which resources match by testing other resources, so the caller must be allowed
// to read those types too, or the search becomes an oracle on data they cannot see.
// (Includes are not listed: included resources are filtered one by one instead, which
// changes neither the matches nor the total.)
#pragma once

#include <string>
#include <vector>

#include "security/pipeline.h"
#include "store/query.h"

namespace ehr::api {

// The types `q`'s chains and _has clauses read; "*" when a chain's target is unknown.
std::vector<std::string> TypesTestedBy(const store::SearchQuery& q);

// The Action of running `q`: its type (the first of several, the others in also_reads),
// the compartment it is bounded to, and TypesTestedBy.
security::Action SearchAction(const store::SearchQuery& q);

}  // namespace ehr::api
