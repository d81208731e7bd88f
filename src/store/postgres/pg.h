// A thin layer over libpq for the PostgreSQL backend (issue 8): a connection, statements
// with parameters (always sent separately from the SQL text, never spliced into it), their
// rows, and errors mapped to Status by SQLSTATE.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"

typedef struct pg_conn PGconn;
typedef struct pg_result PGresult;

namespace ehr::store::pg {

// The rows of a statement. Values may come as text or in PostgreSQL's binary format
// (Connection::Run); the accessors read either.
class Rows {
 public:
  explicit Rows(PGresult* result) : result_(result) {}
  ~Rows();
  Rows(Rows&& other) noexcept : result_(other.result_) { other.result_ = nullptr; }
  Rows& operator=(Rows&&) = delete;

  int size() const;
  bool IsNull(int row, int column) const;
  // The bytes of a text or bytea value (binary results), or its text form.
  std::string_view Text(int row, int column) const;
  std::string String(int row, int column) const { return std::string(Text(row, column)); }
  int64_t Int(int row, int column) const;  // smallint, integer or bigint
  bool Bool(int row, int column) const;
  double Double(int row, int column) const;  // double precision

 private:
  PGresult* result_;
};

// A statement parameter: text, which the server reads as the type the statement gives it
// (integers, arrays: ArrayLiteral), or bytes sent as they are (bytea), or NULL.
class Param {
 public:
  Param(std::nullopt_t) {}  // NOLINT: implicit, like std::optional
  Param(std::string text) : value_(std::move(text)) {}  // NOLINT
  Param(std::string_view text) : value_(std::string(text)) {}  // NOLINT
  Param(const char* text) : value_(std::string(text)) {}  // NOLINT
  static Param Int(int64_t v) { return Param(std::to_string(v)); }
  static Param Bool(bool v) { return Param(v ? "t" : "f"); }
  static Param Bytes(std::string_view bytes) {
    Param p{std::string(bytes)};
    p.binary_ = true;
    return p;
  }

  bool null() const { return !value_.has_value(); }
  bool binary() const { return binary_; }
  const std::string& value() const { return *value_; }

 private:
  std::optional<std::string> value_;
  bool binary_ = false;
};

// A number as its shortest round-trip text, which PostgreSQL reads back exactly.
std::string DoubleText(double d);

// The text form of a one-dimensional array of text values for a `$n::text[]` parameter.
// PostgreSQL text cannot hold NUL: NUL characters are left out.
std::string ArrayLiteral(const std::vector<std::string_view>& values);

// A one-dimensional array parameter in PostgreSQL's binary format, for a statement that
// casts it to the array type (`$n::text[]`, `$n::bigint[]`, `$n::float8[]`): the server
// reads it without parsing text (array_recv), the client writes it without quoting.
class BinaryArray {
 public:
  enum class Of { kText, kBigint, kFloat8 };
  explicit BinaryArray(Of element) : element_(element) {}
  // Text without NUL characters (PostgreSQL text cannot hold them: left out, as ArrayLiteral does).
  void Add(std::string_view text);
  void Add(int64_t value);
  void Add(double value);
  size_t size() const { return count_; }
  Param Build() const;

 private:
  void Length(uint32_t n);
  Of element_;
  size_t count_ = 0;
  std::string elements_;  // each element: its length (4 bytes, big-endian), then its bytes
};

class Connection {
 public:
  // kUnavailable when the server cannot be reached (the reason, never the password).
  // `setup`: statements run at once and again after every Reconnect (session settings).
  static Result<std::unique_ptr<Connection>> Open(const std::string& conninfo, const std::string& setup = "");
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // One or more statements without parameters (schema changes, BEGIN, ...).
  Status Exec(std::string_view sql);
  // The same, with the rows of the last statement (as text), in one round trip.
  Result<Rows> ExecRows(std::string_view sql);
  // One statement with parameters $1, $2, ...; results as text.
  Result<Rows> Query(std::string_view sql, const std::vector<Param>& params = {});
  // The same, prepared on this connection at its first use and reused after; results in
  // binary format. For the statements the store runs again and again.
  Result<Rows> Run(std::string_view sql, const std::vector<Param>& params = {});

  // Pipelining (libpq's pipeline mode): Send() sends a prepared statement whose only result
  // is success or failure (SAVEPOINT, an insert) without waiting for it. The sent
  // statements run, in order, before the next Run(), which takes them in the same round
  // trip and fails with the first of their errors (its own statement then does not run);
  // Sync() waits for them alone. Exec(), ExecRows() and Query() sync first (Exec() then
  // runs its statements even when a sent one failed, and returns that failure).
  Status Send(std::string_view sql, const std::vector<Param>& params = {});
  // The same for a statement whose rows matter: `on_rows` is given them when they come,
  // in the round trip of the next Run() or Sync(), which fails with its error (the
  // statements after it still run: the server saw no error).
  using OnRows = std::function<Status(const Rows&)>;
  Status Send(std::string_view sql, const std::vector<Param>& params, OnRows on_rows);
  Status Sync();

  // False once the connection to the server is lost.
  bool healthy() const;
  // In a transaction that a failed statement aborted (until ROLLBACK [TO SAVEPOINT]).
  bool failed_transaction() const;
  // In a transaction (BEGIN without its COMMIT or ROLLBACK yet), failed or not.
  bool in_transaction() const;
  // Reconnects a lost connection (prepared statements are made again as they are used).
  Status Reconnect();

 private:
  explicit Connection(PGconn* conn) : conn_(conn) {}
  Result<Rows> Finish(PGresult* r);
  // The statement's prepared name, preparing it first (in the pipeline when `pipelined`).
  Result<std::string> Prepared(std::string_view sql, int params, bool pipelined);
  // Ends the pipeline: the results of the sent statements, and of the last one into `last`
  // when given.
  Status Collect(std::optional<Result<Rows>>* last);
  PGconn* conn_;
  std::string setup_;
  std::unordered_map<std::string, std::string> prepared_;  // SQL text -> statement name
  int64_t names_ = 0;      // statement names handed out (never reused)
  int sent_ = 0;           // commands in the pipeline whose results are not read yet
  std::vector<OnRows> on_rows_;  // per command sent (empty for most), in order
  std::vector<std::string> preparing_;  // SQL texts prepared in the pipeline, unconfirmed
};

// kForbidden for insufficient privilege and row-level security (42501), kConflict for
// integrity constraint violations (23...: unique keys, checks, the audit log's guards) and
// serialization failures (40001), kUnavailable for lost
// connections (08...) and shutdown (57P...), kInvalid for other errors; the message is
// PostgreSQL's primary message (no statement text, no parameter values).
Status StatusOf(const PGresult* result, const PGconn* conn);

}  // namespace ehr::store::pg
