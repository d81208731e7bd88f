#include "cli/identity_setup.h"

#include <cstdlib>
#include <cstring>

#include "cli/key_store.h"

namespace ehr::cli {

Result<IdentityHandle> OpenIdentity(const StoreChoice& choice, const std::string& data, const std::string& audience,
                                    int64_t access_ttl_seconds, keys::KeyEncryptionKeys* kek) {
  IdentityHandle h;
  EHR_ASSIGN_OR_RETURN(h.accounts, OpenAccountStore(choice, data, kek));
  security::IdentityOptions options;
  options.audience = audience;
  // With a public base URL, tokens name it as their issuer (OpenID Connect Discovery wants
  // a URL, and it is where /.well-known/openid-configuration is found); else "ehr".
  if (!audience.empty()) options.issuer = audience;
  if (access_ttl_seconds > 0) options.access_ttl_seconds = access_ttl_seconds;
  const char* cost = std::getenv("EHR_PASSWORD_COST");
  if (cost != nullptr && std::strcmp(cost, "low") == 0) options.password_cost = security::PasswordCost{1, 8 * 1024 * 1024};
  EHR_ASSIGN_OR_RETURN(h.identity, security::Identity::Open(*h.accounts, options));
  h.smart = std::make_unique<security::Smart>(*h.accounts, *h.identity);
  return h;
}

Result<IdentityHandle> OpenIdentity(const Args& args, const std::string& audience, int64_t access_ttl_seconds) {
  const std::string data = args.Get("data", "data");
  EHR_ASSIGN_OR_RETURN(StoreChoice choice, ParseStoreChoice(args));
  EHR_ASSIGN_OR_RETURN(KeyStore keys, OpenKeyStore(args, data));
  EHR_ASSIGN_OR_RETURN(IdentityHandle h, OpenIdentity(choice, data, audience, access_ttl_seconds, keys.kek.get()));
  h.kek = std::move(keys.kek);
  return h;
}

}  // namespace ehr::cli
