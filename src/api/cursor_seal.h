// Paging cursors sealed for the client: the store's cursor names the last row of a page by
// its sort values (a birth date, a name), which must not travel in clear in links that end
// up in logs, browser histories and referrers. A sealed cursor is AES-256-GCM under a
// server key, bound to the tenant (additional authenticated data), with a random nonce:
// the client learns nothing from it, cannot alter it, and cannot replay it in another
// tenant. base64url without padding, so it needs no escaping in a URL.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace ehr::api {

class CursorSeal {
 public:
  static constexpr size_t kKeyBytes = 32;
  // `key`: kKeyBytes secret bytes; empty: a random key for this process (cursors then stop
  // working when it restarts).
  explicit CursorSeal(std::string key = {});

  std::string Seal(std::string_view tenant, std::string_view cursor) const;
  // The store's cursor, or kInvalid when `sealed` was not made by Seal with this key and
  // tenant.
  Result<std::string> Open(std::string_view tenant, std::string_view sealed) const;

 private:
  std::string key_;
};

// The server's cursor key in `path`: read when the file exists (kKeyBytes bytes), else
// created with random bytes and mode 0600.
Result<std::string> LoadOrCreateCursorKey(const std::string& path);

}  // namespace ehr::api
