#include "store/postgres/pg.h"

#include <libpq-fe.h>

#include <cstdlib>

namespace ehr::store::pg {

Rows::~Rows() {
  if (result_ != nullptr) PQclear(result_);
}

int Rows::size() const { return PQntuples(result_); }
bool Rows::IsNull(int row, int column) const { return PQgetisnull(result_, row, column) != 0; }
std::string_view Rows::Text(int row, int column) const {
  return {PQgetvalue(result_, row, column), static_cast<size_t>(PQgetlength(result_, row, column))};
}
int64_t Rows::Int(int row, int column) const { return std::strtoll(PQgetvalue(result_, row, column), nullptr, 10); }

Status StatusOf(const PGresult* result, const PGconn* conn) {
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const char* primary = result != nullptr ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string message = primary != nullptr ? primary : (conn != nullptr ? PQerrorMessage(conn) : "no result");
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  message = "postgres: " + message;
  const std::string_view code = state != nullptr ? state : "";
  if (code == "42501") return Status::Forbidden(message);
  if (code == "23505" || code == "40001") return Status::Conflict(message);
  if (code.empty() || code.starts_with("08") || code.starts_with("57P")) return Status::Unavailable(message);
  return Status::Invalid(message);
}

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& conninfo) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (conn == nullptr) return Status::Unavailable("postgres: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string why = PQerrorMessage(conn);
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    PQfinish(conn);
    return Status::Unavailable("postgres: cannot connect: " + why);
  }
  // Notices ("relation already exists, skipping") are not errors: not printed.
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<Connection>(new Connection(conn));
}

Connection::~Connection() { PQfinish(conn_); }

Status Connection::Exec(std::string_view sql) {
  PGresult* r = PQexec(conn_, std::string(sql).c_str());
  const ExecStatusType st = PQresultStatus(r);
  Status out = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? Status::Ok() : StatusOf(r, conn_);
  PQclear(r);
  return out;
}

Result<Rows> Connection::Query(std::string_view sql, const std::vector<Param>& params) {
  std::vector<const char*> values;
  std::vector<int> lengths;
  for (const Param& p : params) {
    values.push_back(p ? p->data() : nullptr);
    lengths.push_back(p ? static_cast<int>(p->size()) : 0);
  }
  PGresult* r = PQexecParams(conn_, std::string(sql).c_str(), static_cast<int>(params.size()), nullptr, values.data(),
                             lengths.data(), nullptr, 0);
  const ExecStatusType st = PQresultStatus(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    Status why = StatusOf(r, conn_);
    PQclear(r);
    return why;
  }
  return Rows(r);
}

}  // namespace ehr::store::pg
