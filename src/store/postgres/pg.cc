#include "store/postgres/pg.h"

#include <libpq-fe.h>

#include <bit>
#include <charconv>
#include <cstdlib>
#include <cstring>

namespace ehr::store::pg {
namespace {

bool IsBinary(const PGresult* r, int column) { return PQfformat(r, column) == 1; }

uint64_t BigEndian(const char* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

Rows::~Rows() {
  if (result_ != nullptr) PQclear(result_);
}

int Rows::size() const { return PQntuples(result_); }
bool Rows::IsNull(int row, int column) const { return PQgetisnull(result_, row, column) != 0; }
std::string_view Rows::Text(int row, int column) const {
  return {PQgetvalue(result_, row, column), static_cast<size_t>(PQgetlength(result_, row, column))};
}
int64_t Rows::Int(int row, int column) const {
  const char* v = PQgetvalue(result_, row, column);
  if (!IsBinary(result_, column)) return std::strtoll(v, nullptr, 10);
  const int n = PQgetlength(result_, row, column);
  const uint64_t bits = BigEndian(v, n);
  switch (n) {
    case 2: return static_cast<int16_t>(bits);
    case 4: return static_cast<int32_t>(bits);
    default: return static_cast<int64_t>(bits);
  }
}
bool Rows::Bool(int row, int column) const {
  const char* v = PQgetvalue(result_, row, column);
  return IsBinary(result_, column) ? v[0] != 0 : v[0] == 't';
}
double Rows::Double(int row, int column) const {
  const char* v = PQgetvalue(result_, row, column);
  if (!IsBinary(result_, column)) return std::strtod(v, nullptr);
  return std::bit_cast<double>(BigEndian(v, 8));
}

std::string DoubleText(double d) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, ec == std::errc() ? end : buf);
}

std::string ArrayLiteral(const std::vector<std::string_view>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.push_back('"');
    for (char c : values[i]) {
      if (c == '\0') continue;
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

namespace {

// `v`'s low `bytes` bytes, big-endian (PostgreSQL's binary formats).
void PutBigEndian(std::string& out, uint64_t v, int bytes) {
  for (int shift = 8 * (bytes - 1); shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

}  // namespace

void BinaryArray::Length(uint32_t n) { PutBigEndian(elements_, n, 4); }

void BinaryArray::Add(std::string_view text) {
  if (text.find('\0') == std::string_view::npos) {
    Length(static_cast<uint32_t>(text.size()));
    elements_.append(text);
  } else {
    std::string kept;
    for (char c : text) {
      if (c != '\0') kept.push_back(c);
    }
    Length(static_cast<uint32_t>(kept.size()));
    elements_.append(kept);
  }
  ++count_;
}

void BinaryArray::Add(int64_t value) {
  Length(8);
  PutBigEndian(elements_, static_cast<uint64_t>(value), 8);
  ++count_;
}

void BinaryArray::Add(double value) { Add(std::bit_cast<int64_t>(value)); }

Param BinaryArray::Build() const {
  // ndim, has-nulls, element type; then the dimension's length and lower bound (1).
  constexpr uint32_t kTextOid = 25, kInt8Oid = 20, kFloat8Oid = 701;
  const uint32_t oid = element_ == Of::kText ? kTextOid : element_ == Of::kBigint ? kInt8Oid : kFloat8Oid;
  std::string out;
  out.reserve(20 + elements_.size());
  for (uint64_t word : {uint64_t{1}, uint64_t{0}, uint64_t{oid}, uint64_t{count_}, uint64_t{1}}) PutBigEndian(out, word, 4);
  out.append(elements_);
  return Param::Bytes(out);
}

Status StatusOf(const PGresult* result, const PGconn* conn) {
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const char* primary = result != nullptr ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string message = Trimmed(primary != nullptr ? primary : (conn != nullptr ? PQerrorMessage(conn) : "no result"));
  message = "postgres: " + message;
  const std::string_view code = state != nullptr ? state : "";
  if (code == "42501") return Status::Forbidden(message);
  if (code.starts_with("23") || code == "40001") return Status::Conflict(message);
  if (code.empty() || code.starts_with("08") || code.starts_with("57P")) return Status::Unavailable(message);
  return Status::Invalid(message);
}

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& conninfo, const std::string& setup) {
  // libpq's complaint about a malformed string quotes the part at fault, which may be the
  // password: only that the string is malformed is said.
  char* parse_error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(conninfo.c_str(), &parse_error);
  if (parsed == nullptr) {
    if (parse_error != nullptr) PQfreemem(parse_error);
    return Status::Invalid("postgres: the connection string is malformed");
  }
  PQconninfoFree(parsed);
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (conn == nullptr) return Status::Unavailable("postgres: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string why = Trimmed(PQerrorMessage(conn));
    PQfinish(conn);
    return Status::Unavailable("postgres: cannot connect: " + why);
  }
  // Notices ("relation already exists, skipping") are not errors: not printed.
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
  std::unique_ptr<Connection> out(new Connection(conn));
  out->setup_ = setup;
  if (!setup.empty()) EHR_RETURN_IF_ERROR(out->Exec(setup));
  return out;
}

Connection::~Connection() { PQfinish(conn_); }

bool Connection::healthy() const { return PQstatus(conn_) == CONNECTION_OK; }
bool Connection::failed_transaction() const { return PQtransactionStatus(conn_) == PQTRANS_INERROR; }
bool Connection::in_transaction() const {
  const PGTransactionStatusType status = PQtransactionStatus(conn_);
  return status == PQTRANS_INTRANS || status == PQTRANS_INERROR;
}

Status Connection::Reconnect() {
  prepared_.clear();
  preparing_.clear();
  sent_ = 0;
  on_rows_.clear();
  PQreset(conn_);
  if (PQstatus(conn_) != CONNECTION_OK) return Status::Unavailable("postgres: cannot reconnect: " + Trimmed(PQerrorMessage(conn_)));
  return setup_.empty() ? Status::Ok() : Exec(setup_);
}

Status Connection::Exec(std::string_view sql) {
  // Run even when a sent statement failed (a ROLLBACK must), but that failure is the result.
  const Status synced = Sync();
  PGresult* r = PQexec(conn_, std::string(sql).c_str());
  const ExecStatusType st = PQresultStatus(r);
  Status out = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? Status::Ok() : StatusOf(r, conn_);
  PQclear(r);
  return synced.ok() ? out : synced;
}

Result<Rows> Connection::ExecRows(std::string_view sql) {
  EHR_RETURN_IF_ERROR(Sync());
  return Finish(PQexec(conn_, std::string(sql).c_str()));
}

Result<Rows> Connection::Finish(PGresult* r) {
  const ExecStatusType st = PQresultStatus(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    Status why = StatusOf(r, conn_);
    PQclear(r);
    return why;
  }
  return Rows(r);
}

namespace {

struct Wire {
  std::vector<const char*> values;
  std::vector<int> lengths;
  std::vector<int> formats;
  explicit Wire(const std::vector<Param>& params) {
    for (const Param& p : params) {
      values.push_back(p.null() ? nullptr : p.value().data());
      lengths.push_back(p.null() ? 0 : static_cast<int>(p.value().size()));
      formats.push_back(p.binary() ? 1 : 0);
    }
  }
};

}  // namespace

Result<Rows> Connection::Query(std::string_view sql, const std::vector<Param>& params) {
  EHR_RETURN_IF_ERROR(Sync());
  Wire w(params);
  return Finish(PQexecParams(conn_, std::string(sql).c_str(), static_cast<int>(params.size()), nullptr, w.values.data(),
                             w.lengths.data(), w.formats.data(), 0));
}

Result<std::string> Connection::Prepared(std::string_view sql, int params, bool pipelined) {
  const std::string text(sql);
  if (auto it = prepared_.find(text); it != prepared_.end()) return it->second;
  std::string name = "ehr" + std::to_string(++names_);
  if (pipelined) {
    if (PQsendPrepare(conn_, name.c_str(), text.c_str(), params, nullptr) == 0) return StatusOf(nullptr, conn_);
    ++sent_;
    on_rows_.emplace_back();
    preparing_.push_back(text);
  } else {
    PGresult* made = PQprepare(conn_, name.c_str(), text.c_str(), params, nullptr);
    if (PQresultStatus(made) != PGRES_COMMAND_OK) {
      Status why = StatusOf(made, conn_);
      PQclear(made);
      return why;
    }
    PQclear(made);
  }
  prepared_.emplace(text, name);
  return name;
}

Result<Rows> Connection::Run(std::string_view sql, const std::vector<Param>& params) {
  if (sent_ > 0) {
    EHR_RETURN_IF_ERROR(Send(sql, params));
    std::optional<Result<Rows>> mine;
    EHR_RETURN_IF_ERROR(Collect(&mine));
    return std::move(*mine);
  }
  EHR_ASSIGN_OR_RETURN(std::string name, Prepared(sql, static_cast<int>(params.size()), false));
  Wire w(params);
  return Finish(PQexecPrepared(conn_, name.c_str(), static_cast<int>(params.size()), w.values.data(),
                               w.lengths.data(), w.formats.data(), 1));
}

Status Connection::Send(std::string_view sql, const std::vector<Param>& params) { return Send(sql, params, nullptr); }

Status Connection::Send(std::string_view sql, const std::vector<Param>& params, OnRows on_rows) {
  if (PQpipelineStatus(conn_) == PQ_PIPELINE_OFF && PQenterPipelineMode(conn_) == 0) return StatusOf(nullptr, conn_);
  EHR_ASSIGN_OR_RETURN(std::string name, Prepared(sql, static_cast<int>(params.size()), true));
  Wire w(params);
  if (PQsendQueryPrepared(conn_, name.c_str(), static_cast<int>(params.size()), w.values.data(), w.lengths.data(),
                          w.formats.data(), 1) == 0) {
    return StatusOf(nullptr, conn_);
  }
  ++sent_;
  on_rows_.push_back(std::move(on_rows));
  return Status::Ok();
}

Status Connection::Sync() { return sent_ > 0 ? Collect(nullptr) : Status::Ok(); }

Status Connection::Collect(std::optional<Result<Rows>>* last) {
  const int commands = sent_;
  sent_ = 0;
  std::vector<OnRows> on_rows;
  on_rows.swap(on_rows_);
  Status first = PQpipelineSync(conn_) != 0 ? Status::Ok() : StatusOf(nullptr, conn_);
  bool lost = !first.ok();  // no more results will come: the connection is gone
  // Each command's result, then a null; the sync point's result last. A failed command's
  // followers come as PGRES_PIPELINE_ABORTED.
  for (int i = 0; i < commands && !lost; ++i) {
    PGresult* r = PQgetResult(conn_);
    if (r == nullptr) {
      if (first.ok()) first = Status::Unavailable("postgres: the server sent no result (connection lost)");
      lost = true;
      break;
    }
    const ExecStatusType st = PQresultStatus(r);
    const bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok && first.ok()) {
      first = st == PGRES_PIPELINE_ABORTED ? Status::Internal("postgres: a pipelined statement was not run")
                                           : StatusOf(r, conn_);
    }
    if (last != nullptr && i == commands - 1 && ok) {
      last->emplace(Rows(r));
    } else if (ok && on_rows[static_cast<size_t>(i)]) {
      Rows rows(r);  // cleared when done with
      if (Status handled = on_rows[static_cast<size_t>(i)](rows); !handled.ok() && first.ok()) first = handled;
    } else {
      PQclear(r);
    }
    while ((r = PQgetResult(conn_)) != nullptr) PQclear(r);
  }
  if (!lost) {
    PGresult* sync = PQgetResult(conn_);
    if (sync == nullptr || PQresultStatus(sync) != PGRES_PIPELINE_SYNC) {
      if (first.ok()) first = Status::Unavailable("postgres: the pipeline lost its place (connection lost)");
    }
    PQclear(sync);
  }
  if (PQexitPipelineMode(conn_) == 0 && first.ok()) first = StatusOf(nullptr, conn_);
  // A statement prepared in a pipeline that failed may not exist: prepared again, under a new name.
  if (!first.ok()) {
    for (const std::string& text : preparing_) prepared_.erase(text);
  }
  preparing_.clear();
  if (!first.ok()) {
    if (last != nullptr) last->reset();
    return first;
  }
  return Status::Ok();
}

}  // namespace ehr::store::pg
