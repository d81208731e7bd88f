// A reader connection of the PostgreSQL store and the tenant its session is set to: every
// read runs with the tenant set, so row-level security admits that tenant's rows only.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "store/postgres/pg.h"

namespace ehr::store::pg {

struct Reader {
  std::unique_ptr<Connection> conn;
  std::string tenant;

  // The connection, reconnected if it was lost, with its session set to `tenant`.
  Result<Connection*> For(std::string_view for_tenant) {
    EHR_ASSIGN_OR_RETURN(Connection * c, Shared());
    if (for_tenant.empty()) return Status::Internal("storage: a tenant is required");
    if (tenant != for_tenant) {
      tenant.clear();
      EHR_RETURN_IF_ERROR(c->Run("SELECT set_config('ehr.tenant', $1, false)", {for_tenant}).status());
      tenant = for_tenant;
    }
    return c;
  }
  // The connection, for what is not tenant data (the audit log, the tenant list).
  Result<Connection*> Shared() {
    if (!conn->healthy()) {
      tenant.clear();
      EHR_RETURN_IF_ERROR(conn->Reconnect());
    }
    return conn.get();
  }
};

}  // namespace ehr::store::pg
