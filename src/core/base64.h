// base64url (RFC 4648 section 5) without padding, as JWTs, JWKs and sealed cursors use it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ehr {

std::string Base64UrlEncode(std::string_view bytes);
// Strict: refuses padding, characters outside the url alphabet, a length of 4n+1, and
// non-zero unused bits in the last character, so that every byte string has exactly one
// accepted encoding (a token cannot be altered without changing its bytes).
std::optional<std::string> Base64UrlDecode(std::string_view text);

// Standard base64 with padding (RFC 4648 section 4), for Basic authentication and PEM.
std::string Base64Encode(std::string_view bytes);
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace ehr
