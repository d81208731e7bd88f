// A thin layer over libpq for the PostgreSQL backend (issue 8): a connection, statements
// with parameters (always sent separately from the SQL text, never spliced into it), their
// rows, and errors mapped to Status by SQLSTATE.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

typedef struct pg_conn PGconn;
typedef struct pg_result PGresult;

namespace ehr::store::pg {

// The rows of a statement.
class Rows {
 public:
  explicit Rows(PGresult* result) : result_(result) {}
  ~Rows();
  Rows(Rows&& other) noexcept : result_(other.result_) { other.result_ = nullptr; }
  Rows& operator=(Rows&&) = delete;

  int size() const;
  bool IsNull(int row, int column) const;
  std::string_view Text(int row, int column) const;
  int64_t Int(int row, int column) const;

 private:
  PGresult* result_;
};

using Param = std::optional<std::string>;  // nullopt: SQL NULL

class Connection {
 public:
  // kUnavailable when the server cannot be reached (the reason, never the password).
  static Result<std::unique_ptr<Connection>> Open(const std::string& conninfo);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // One or more statements without parameters (schema changes, BEGIN, ...).
  Status Exec(std::string_view sql);
  // One statement with text parameters $1, $2, ...
  Result<Rows> Query(std::string_view sql, const std::vector<Param>& params = {});

 private:
  explicit Connection(PGconn* conn) : conn_(conn) {}
  PGconn* conn_;
};

// kForbidden for insufficient privilege and row-level security (42501), kConflict for
// unique violations (23505) and serialization failures (40001), kUnavailable for lost
// connections (08...) and shutdown (57P...), kInvalid for other errors; the message is
// PostgreSQL's primary message (no statement text, no parameter values).
Status StatusOf(const PGresult* result, const PGconn* conn);

}  // namespace ehr::store::pg
