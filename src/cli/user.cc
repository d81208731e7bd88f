// ehr user add|list|disable|enable|reset-password|set-roles, and ehr token: account
// administration and tokens for scripts, on the data directory (the server may be running:
// changes reach it within seconds, through its session checks).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "cli/admin_audit.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/identity_setup.h"
#include "cli/store_choice.h"
#include "cli/key_store.h"

namespace ehr::cli {
namespace {

int Fail(const char* command, const Status& st) {
  std::fprintf(stderr, "ehr %s: %s\n", command, st.message().c_str());
  return st.code() == Code::kInvalid || st.code() == Code::kConflict || st.code() == Code::kNotFound ? 1 : 2;
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size() && !text.empty()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (comma > start) out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

// The password from EHR_USER_PASSWORD, else the first line of standard input (never a flag:
// flags end up in shell histories and process listings).
std::string ReadPassword() {
  if (const char* env = std::getenv("EHR_USER_PASSWORD"); env != nullptr && *env) return env;
  if (isatty(STDIN_FILENO)) std::fprintf(stderr, "password: ");
  std::string line;
  std::getline(std::cin, line);
  return line;
}

}  // namespace

int User(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: ehr user add|list|disable|enable|reset-password|set-roles --data DIR ...\n");
    return 2;
  }
  const std::string action = argv[2];
  auto args = ParseArgs(argc, argv, 3, WithStoreFlags(WithKeyStoreFlags({"data", "user", "roles", "tenants", "fhir-user"})));
  if (!args.ok()) return Fail("user", args.status());
  auto h = OpenIdentity(*args, "", 0);
  if (!h.ok()) return Fail("user", h.status());
  security::Identity& id = *h->identity;
  const std::string name = args->Get("user");
  if (action == "list") {
    auto users = id.Users();
    if (!users.ok()) return Fail("user", users.status());
    for (const auto& u : *users) {
      std::string roles, tenants;
      for (const auto& r : u.roles) roles += (roles.empty() ? "" : ",") + r;
      for (const auto& t : u.tenants) tenants += (tenants.empty() ? "" : ",") + t;
      std::printf("%s\troles=%s\ttenants=%s%s%s%s\n", u.username.c_str(), roles.c_str(), tenants.c_str(),
                  u.fhir_user.empty() ? "" : ("\tfhir_user=" + u.fhir_user).c_str(), u.disabled ? "\tdisabled" : "",
                  u.totp_confirmed ? "\tmfa" : "");
    }
    return 0;
  }
  if (name.empty()) return Fail("user", Status::Invalid("--user NAME is required"));
  Status st;
  if (action == "add") {
    st = id.AddUser({name, ReadPassword(), SplitList(args->Get("roles")), SplitList(args->Get("tenants")),
                     args->Get("fhir-user")})
             .status();
  } else if (action == "disable" || action == "enable") {
    st = id.SetDisabled(name, action == "disable");
  } else if (action == "reset-password") {
    st = id.SetPassword(name, ReadPassword());
  } else if (action == "set-roles") {
    st = id.SetRoles(name, SplitList(args->Get("roles")));
  } else {
    return Fail("user", Status::Invalid("unknown action '" + action + "'"));
  }
  if (!st.ok()) return Fail("user", st);
  std::fprintf(stderr, "ehr user: %s %s\n", action.c_str(), name.c_str());
  // The account's name goes in the entry's detail (personal data of staff), its roles in
  // the outcome.
  const std::string roles = action == "add" || action == "set-roles" ? " roles " + args->Get("roles") : "";
  st = RecordInNodeLog(*args, {"user-" + action, "default", "", {"user/" + name}, action + roles});
  if (!st.ok()) return Fail("user", Status::Unavailable("recording it in the audit log: " + st.message()));
  return 0;
}

int Client(int argc, char** argv) {
  const std::string action = argc > 2 ? argv[2] : "";
  auto args = ParseArgs(argc, argv, 3, WithStoreFlags(WithKeyStoreFlags({"data", "id", "name", "redirect-uri", "scope",
                                                                         "confidential", "jwks", "roles", "tenant"})));
  if (!args.ok()) return Fail("client", args.status());
  auto h = OpenIdentity(*args, "", 0);
  if (!h.ok()) return Fail("client", h.status());
  if (action == "list") {
    auto clients = h->smart->Clients();
    if (!clients.ok()) return Fail("client", clients.status());
    for (const auto& c : *clients) {
      std::printf("%s\t%s\tscope=%s%s%s\n", c.id.c_str(), c.name.c_str(), c.scope.c_str(),
                  c.secret_hash.empty() ? "" : "\tconfidential", c.jwks.empty() ? "" : "\tjwks");
    }
    return 0;
  }
  if (action != "add") {
    std::fprintf(stderr, "usage: ehr client add|list --data DIR ...\n");
    return 2;
  }
  security::NewClient c;
  c.id = args->Get("id");
  c.name = args->Get("name");
  c.redirect_uris = SplitList(args->Get("redirect-uri"));
  c.scope = args->Get("scope");
  c.confidential = args->Get("confidential", "no") == "yes";
  c.roles = SplitList(args->Get("roles"));
  c.tenant = args->Get("tenant");
  if (args->Has("jwks")) {
    std::FILE* f = std::fopen(args->Get("jwks").c_str(), "rb");
    if (f == nullptr) return Fail("client", Status::Invalid("cannot read " + args->Get("jwks")));
    char buf[4096];
    size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) c.jwks.append(buf, n);
    std::fclose(f);
  }
  auto secret = h->smart->AddClient(c);
  if (!secret.ok()) return Fail("client", secret.status());
  if (!secret->empty()) std::printf("client_secret %s\n", secret->c_str());
  std::fprintf(stderr, "ehr client: added %s\n", c.id.c_str());
  Status st = RecordInNodeLog(*args, {"client-add", c.tenant.empty() ? "default" : c.tenant, "",
                                                  {"client/" + c.id}, "scope " + c.scope});
  if (!st.ok()) return Fail("client", Status::Unavailable("recording it in the audit log: " + st.message()));
  return 0;
}

int Token(int argc, char** argv) {
  auto args = ParseArgs(argc, argv, 2,
                        WithStoreFlags(WithKeyStoreFlags({"data", "user", "scope", "tenant", "base-url", "ttl-seconds"})));
  if (!args.ok()) return Fail("token", args.status());
  auto ttl = ParseInt("ttl-seconds", args->Get("ttl-seconds", "900"), 60, 24 * 3600);
  if (!ttl.ok()) return Fail("token", ttl.status());
  auto h = OpenIdentity(*args, args->Get("base-url"), *ttl);
  if (!h.ok()) return Fail("token", h.status());
  auto tokens = h->identity->MintTokens(args->Get("user"), args->Get("scope"), args->Get("tenant"));
  if (!tokens.ok()) return Fail("token", tokens.status());
  // Recorded before the token is shown: a token nobody can account for never leaves.
  Status st = RecordInNodeLog(*args, {"token-issue", args->Get("tenant", "default"), "",
                                                  {"user/" + args->Get("user")}, "scope " + args->Get("scope")});
  if (!st.ok()) return Fail("token", Status::Unavailable("recording it in the audit log: " + st.message()));
  std::printf("%s\n", tokens->access_token.c_str());
  return 0;
}

}  // namespace ehr::cli
