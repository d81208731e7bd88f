// JSON Patch (RFC 6902) over the JSON document model, with JSON Pointer (RFC 6901) paths.
//
// Used by FHIR's PATCH interaction with `Content-Type: application/json-patch+json`.
// Pure functions over caller-owned values; thread-safe as long as the target is not
// shared with another thread.
#pragma once

#include <cstddef>

#include "core/status.h"
#include "fhir/json/value.h"

namespace ehr::fhir {

// Bounds a patch may not push the document past. A patch comes from a client, and `copy`
// can double the document per operation, so both the nesting and the amount of copying
// are capped. The depth matches json::ParseOptions so a patched document always parses back.
struct JsonPatchLimits {
  int max_depth = 128;                     // nested arrays/objects in the patched document
  size_t max_copied_values = size_t{1} << 20;  // values duplicated by all `copy` operations
};

// Applies `patch` (a JSON array of operations) to `target`.
//
// All or nothing: on any error `target` is left exactly as it was.
// Errors (diagnostics name the operation by its 0-based index in the patch array):
//   kInvalid        the patch document is malformed: not an array, an operation that is not
//                   an object, missing or non-string "op"/"path"/"from", missing "value",
//                   unknown op, bad JSON Pointer syntax, or a `move` into its own child.
//   kUnprocessable  the patch is well formed but cannot be applied to this document: a path
//                   that does not exist, an array index out of range or not a valid index
//                   (leading zero, "-" where an existing element is needed), a failed `test`,
//                   removing the root, or a result beyond `limits`.
// `test` compares with deep equality: member order is ignored and numbers are compared by
// exact decimal value (1 == 1.0 == 10e-1), never through binary floating point.
Status ApplyJsonPatch(json::Value& target, const json::Value& patch, const JsonPatchLimits& limits = {});

}  // namespace ehr::fhir
