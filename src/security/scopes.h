// SMART on FHIR scopes (App Launch 2.x, with the 1.0 forms): what a token's "scope" claim
// grants, parsed from untrusted text. Parsing never fails and never guesses: a scope it
// does not understand exactly (misspelt, permissions out of order or repeated, an unknown
// type) grants nothing and is listed in `ignored`.
//
//   context/Type.permissions[?query]
//   context:     patient | user | system
//   Type:        a resource type or *
//   permissions: v1 read (= rs), write (= cud), * (= cruds); v2 a subset of c r u d s in
//                that order
//   query:       v2 granular scopes (patient/Observation.rs?category=laboratory): the
//                permissions only on resources of that (one) type that match the search
//                parameters, which the API layer evaluates (a query it cannot run
//                matches nothing).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ehr::security {

enum Permission : uint8_t { kCreate = 1, kRead = 2, kUpdate = 4, kDelete = 8, kSearch = 16 };

enum class ScopeContext { kPatient, kUser, kSystem };

struct ResourceScope {
  ScopeContext context = ScopeContext::kUser;
  std::string type;  // a resource type, or "*"
  uint8_t permissions = 0;
  std::string query;  // granular: search parameters (without "?"); empty: every resource
};

// How scopes grant something: not at all (nullopt), on every resource (an empty list), or
// on the resources that match one of the listed queries.
using Grant = std::optional<std::vector<std::string>>;
// a OR b.
Grant Either(Grant a, Grant b);

struct Scopes {
  std::vector<ResourceScope> resources;
  bool openid = false;
  bool fhir_user = false;
  bool offline_access = false;
  bool launch = false;          // "launch": an EHR launch
  bool launch_patient = false;  // "launch/patient": ask for a patient context
  std::vector<std::string> ignored;

  // How the scopes of `context` grant all of `permissions` on `type`. A granular scope
  // counts with the unconditional permissions on the type (`.r` and `.s?category=x` grant
  // search on category x).
  Grant GrantOf(ScopeContext context, std::string_view type, uint8_t permissions) const;
  // Whether they grant them on every resource of `type`.
  bool Grants(ScopeContext context, std::string_view type, uint8_t permissions) const {
    const Grant g = GrantOf(context, type, permissions);
    return g && g->empty();
  }
  // The scopes of `requested` that `this` grants, as text (for narrowing a token's scope
  // to what the client asked for: a request never widens it). Two granular scopes meet in
  // the AND of their queries.
  std::string Intersect(const Scopes& requested) const;
};

Scopes ParseScopes(std::string_view text);

// "cruds" letters of `permissions`, in order.
std::string PermissionLetters(uint8_t permissions);

}  // namespace ehr::security
