// Who may set a resource's security labels (meta.security), which consent rules and
// policies key on: a client may not assign them at will (mass assignment).
//
// SERVICE (integrations, imports) sets them freely. DOCTOR and NURSE may add labels (a
// clinical judgement that tightens access: "restricted", "psychiatry") but not remove or
// change one. Every other role leaves them as they are. An update that leaves meta.security
// out removes the labels like any other element does, so it is refused to those who may
// not remove them: they send the labels back as they read them.
#pragma once

#include <optional>

#include "core/status.h"
#include "security/pipeline.h"
#include "store/store.h"

namespace ehr::api {

// `v` replaces `old` (nullopt or deleted: nothing).
Status CheckSecurityLabels(const security::Principal& who, const store::NewVersion& v,
                           const std::optional<store::VersionRecord>& old);

}  // namespace ehr::api
