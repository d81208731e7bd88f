// Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP): HMAC-SHA-1, 30-second steps,
// 6 digits, the parameters every authenticator app supports.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"

namespace ehr::security {

inline constexpr int64_t kTotpStepSeconds = 30;

// The HOTP value of `counter` with `digits` digits (RFC 4226 section 5.3).
std::string Hotp(std::string_view secret, uint64_t counter, int digits = 6, std::string_view hash = "SHA1");

// The time step that accepts `code` at `now`, looking one step either side for clock skew;
// steps at or before `last_used_step` are refused, so that a code works only once.
std::optional<int64_t> CheckTotp(std::string_view secret, std::string_view code, Micros now, int64_t last_used_step);

// RFC 4648 base32 without padding (how authenticator apps take secrets).
std::string Base32Encode(std::string_view bytes);

// otpauth://totp/ISSUER:ACCOUNT?secret=...&issuer=...&algorithm=SHA1&digits=6&period=30
std::string TotpUri(std::string_view secret, std::string_view issuer, std::string_view account);

}  // namespace ehr::security
