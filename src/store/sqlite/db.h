// A thin RAII layer over the SQLite C API for this backend: a Connection owns one sqlite3
// handle and a cache of prepared statements; a Stmt borrows a cached statement for one use.
//
// Thread safety: a Connection (and every Stmt borrowed from it) is used by one thread at a
// time; the store hands connections to threads (one writer, a pool of readers).
// Errors become Status values through StatusFromSqlite, whose messages carry only the
// operation name and SQLite's generic error text, never bound values (no PHI).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/status.h"

namespace ehr::store::sqlite {

// Busy, locked, I/O, full disk, out of memory -> kUnavailable (worth a retry);
// constraint violations -> kConflict; anything else (corruption, misuse) -> kInternal.
Status StatusFromSqlite(int rc, std::string_view operation);

class Connection;

// One use of a prepared statement: bind, step, read columns. On destruction the statement
// is reset and its bindings cleared, ready for the next borrower. Bound text and blobs are
// not copied: they must stay alive until the Stmt is destroyed.
class Stmt {
 public:
  Stmt(sqlite3_stmt* stmt, std::string_view operation) : stmt_(stmt), operation_(operation) {}
  Stmt(Stmt&& other) noexcept
      : stmt_(std::exchange(other.stmt_, nullptr)), operation_(other.operation_), bind_rc_(other.bind_rc_) {}
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt& operator=(Stmt&&) = delete;
  ~Stmt();

  // Parameters are 1-based, as in SQLite.
  Stmt& BindText(int index, std::string_view text);
  Stmt& BindBlob(int index, std::string_view bytes);
  Stmt& BindInt(int index, int64_t value);
  Stmt& BindNull(int index);

  // Advances to the next row: true when a row is available, false when done.
  Result<bool> Step();
  // Steps to completion, discarding any rows (INSERT/UPDATE/DELETE and control statements).
  Status Run();

  // Column accessors (0-based) valid after Step() returned true.
  int64_t ColumnInt(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool ColumnIsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string ColumnText(int col) const;
  std::string ColumnBlob(int col) const;

  // Number of rows changed by the last Run() of an INSERT/UPDATE/DELETE.
  int64_t Changes() const { return sqlite3_changes64(sqlite3_db_handle(stmt_)); }

 private:
  sqlite3_stmt* stmt_;
  std::string_view operation_;  // static text naming the statement in error messages
  int bind_rc_ = SQLITE_OK;     // first bind failure, reported by the next Step()
};

// Flags for Connection::Open.
enum class OpenMode { kReadWriteCreate, kReadWrite };

class Connection {
  struct SqlHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

 public:
  // Opens `path` in multi-thread mode (no per-connection mutex: one thread at a time) with
  // extended result codes enabled.
  static Result<std::unique_ptr<Connection>> Open(const std::string& path, OpenMode mode);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Borrows the cached prepared statement for `sql` (prepared on first use; the cache keeps
  // its own copy of the text). `operation` names it in error messages and must outlive the
  // Stmt (a string literal).
  Result<Stmt> Prepare(std::string_view sql, std::string_view operation);
  // Runs one cached statement with no parameters to completion (BEGIN, COMMIT, SAVEPOINT...).
  Status Run(std::string_view sql, std::string_view operation);
  // Runs uncached SQL text that may hold several statements (pragmas, schema changes).
  Status ExecScript(const std::string& sql, std::string_view operation);
  // Runs a pragma (or any single statement) returning one text value, e.g. journal_mode.
  Result<std::string> QueryText(const std::string& sql, std::string_view operation);

  // True when no transaction is open (SQLite rolled back on its own after some errors).
  bool InAutocommit() const { return sqlite3_get_autocommit(db_) != 0; }
  // Runs `body` (returning Status) inside BEGIN IMMEDIATE: committed when it succeeds,
  // rolled back when it or the commit fails. For the small databases beside the store's
  // (accounts, the MPI), which have no writer thread of their own.
  template <typename F>
  Status InTransaction(F&& body) {
    EHR_RETURN_IF_ERROR(Run("BEGIN IMMEDIATE", "begin"));
    Status st = body();
    if (st.ok()) st = Run("COMMIT", "commit");
    if (!st.ok() && !InAutocommit()) (void)Run("ROLLBACK", "rollback");
    return st;
  }
  sqlite3* raw() const { return db_; }

  // Integer keys read from the database that a caller may remember between statements
  // (search_param keys: queries.cc). Whoever rolls a transaction back clears it, since a
  // key created in that transaction is gone and its number may be given out again.
  using KeyMemo = std::unordered_map<std::string, int64_t, SqlHash, std::equal_to<>>;
  KeyMemo& key_memo() { return key_memo_; }

  // The right edge of the audit log's Merkle tree as this connection's last append left it
  // (audit_log.cc): the complete subtree of each set bit of `size`, largest first, so that
  // an append reads no subtree back. It counts only while the key memo still holds its mark
  // (a rollback clears the memo) and the log still has `size` entries (another connection
  // may have appended); else the next append reloads it.
  struct AuditEdge {
    uint64_t size = 0;
    std::vector<std::string> peaks;
  };
  AuditEdge& audit_edge() { return audit_edge_; }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*, SqlHash, std::equal_to<>> cache_;
  KeyMemo key_memo_;
  AuditEdge audit_edge_;
};

}  // namespace ehr::store::sqlite
