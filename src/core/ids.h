// Identifiers: random UUIDs for resource ids and request ids.
#pragma once

#include <string>
#include <string_view>

namespace ehr {

// A random (version 4) UUID in lowercase canonical form. Thread-safe; uses OpenSSL's CSPRNG.
std::string NewUuid();
// A short random request id (16 hex characters).
std::string NewRequestId();
// True for a valid FHIR id: [A-Za-z0-9\-\.]{1,64}.
bool IsValidFhirId(std::string_view id);
// Lowercase hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

}  // namespace ehr
