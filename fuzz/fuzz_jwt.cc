// Bearer tokens (security/jwt.h) on arbitrary input: decoding never crashes, and nothing
// but a token signed by the trusted key verifies, whatever its header claims.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "security/jwt.h"

namespace {

void Check(bool ok, const char* what) { ehr::fuzz::Check(ok, "fuzz_jwt", what); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ehr;
  using namespace ehr::security;
  static const EcKey key = *EcKey::Generate();
  std::string_view input(reinterpret_cast<const char*>(data), size);
  Result<Jwt> jwt = DecodeJwt(input);
  if (!jwt.ok()) {
    Check(jwt.status().code() == Code::kUnauthorized, "a malformed token must be kUnauthorized");
  } else {
    VerifyOptions options;
    options.now = 1700000000LL * 1000000;
    Status st = VerifyJwt(*jwt, [](std::string_view) { return &key; }, options);
    Check(!st.ok(), "a token not signed by the key must not verify");
    // What the input claims, signed by the key, must verify (if it has a future exp).
    auto resigned = SignJwt(jwt->claims, key, "k");
    Check(resigned.ok(), "signing decoded claims must work");
    auto again = DecodeJwt(*resigned);
    if (resigned->size() <= kMaxJwtBytes) Check(again.ok(), "a signed token must decode");
    if (again.ok() && SecondsClaim(again->claims, "exp").value_or(0) > 1700000100 &&
        again->claims.Find("nbf") == nullptr && again->claims.Find("iat") == nullptr) {
      Check(VerifyJwt(*again, [](std::string_view) { return &key; }, options).ok(), "a signed token must verify");
    }
  }
  return 0;
}
