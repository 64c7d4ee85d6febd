#include "broker/store/pg_conn.h"

#include <poll.h>

#include <cstdlib>
#include <cstring>

namespace sigil::broker::pg {
namespace {

Failure Classify(const char* sqlstate) {
  if (sqlstate == nullptr || std::strlen(sqlstate) != 5) return Failure::kConnection;  // no server answer
  const std::string s(sqlstate);
  if (s == "23505") return Failure::kDuplicate;
  if (s.rfind("23", 0) == 0) return Failure::kConstraint;
  if (s.rfind("08", 0) == 0 || s.rfind("57P0", 0) == 0) return Failure::kConnection;
  if (s.rfind("XX", 0) == 0) return Failure::kCorrupt;
  if (s.rfind("53", 0) == 0) return Failure::kNoSpace;
  if (s == "40001" || s == "40P01") return Failure::kRetry;
  return Failure::kOther;
}

// libpq's messages end with a newline and may span lines; the store's errors are one line.
std::string OneLine(const char* text) {
  std::string out = text ? text : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  for (char& c : out) {
    if (c == '\n' || c == '\t') c = ' ';
  }
  return out;
}

}  // namespace

Params& Params::Text(std::string v) {
  values_.emplace_back(std::move(v));
  formats_.push_back(0);
  return *this;
}

Params& Params::Int(std::int64_t v) { return Text(std::to_string(v)); }

Params& Params::Blob(ByteSpan v) {
  values_.emplace_back(std::string(reinterpret_cast<const char*>(v.data()), v.size()));
  formats_.push_back(1);
  return *this;
}

Params& Params::Append(const Params& more) {
  values_.insert(values_.end(), more.values_.begin(), more.values_.end());
  formats_.insert(formats_.end(), more.formats_.begin(), more.formats_.end());
  return *this;
}

std::string Rows::Text(int row, int col) const {
  return std::string(PQgetvalue(res_.get(), row, col), static_cast<std::size_t>(PQgetlength(res_.get(), row, col)));
}

std::int64_t Rows::Int(int row, int col) const { return std::strtoll(PQgetvalue(res_.get(), row, col), nullptr, 10); }

Bytes Rows::Blob(int row, int col) const {
  // Text-format bytea arrives hex-escaped ("\x0a1b..."); PQunescapeBytea decodes it.
  std::size_t n = 0;
  unsigned char* raw = PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(res_.get(), row, col)), &n);
  if (raw == nullptr) return {};
  Bytes out(raw, raw + n);
  PQfreemem(raw);
  return out;
}

std::int64_t Rows::Affected() const {
  const char* n = PQcmdTuples(res_.get());
  return (n && *n) ? std::strtoll(n, nullptr, 10) : 0;
}

Result<std::unique_ptr<Conn>> Conn::Open(const std::string& url) {
  // A default connect_timeout so a vanished server cannot hold a request for the TCP timeout;
  // a connect_timeout in the URL (expanded after it) takes precedence.
  const char* keys[] = {"connect_timeout", "dbname", nullptr};
  const char* values[] = {"5", url.c_str(), nullptr};
  ConnPtr c(PQconnectdbParams(keys, values, /*expand_dbname=*/1));
  if (!c) return Fail(Code::kUnavailable, "store_unavailable: out of memory connecting to PostgreSQL");
  if (PQstatus(c.get()) != CONNECTION_OK) {
    return Fail(Code::kUnavailable, "store_unavailable: cannot connect to PostgreSQL: " + OneLine(PQerrorMessage(c.get())));
  }
  // Every string the broker stores is UTF-8; say so rather than depend on the server default.
  if (PQsetClientEncoding(c.get(), "UTF8") != 0) {
    return Fail(Code::kUnavailable, "store_unavailable: PostgreSQL refused client_encoding UTF8");
  }
  return std::unique_ptr<Conn>(new Conn(std::move(c)));
}

Outcome Conn::Exec(const std::string& sql, const Params& params) {
  std::vector<const char*> values;
  std::vector<int> lengths;
  for (const auto& v : params.values_) {
    values.push_back(v ? v->data() : nullptr);
    lengths.push_back(v ? static_cast<int>(v->size()) : 0);
  }
  return Finish(PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                             lengths.data(), params.formats_.data(), 0));
}

Outcome Conn::ExecScript(const std::string& sql) { return Finish(PQexec(conn_.get(), sql.c_str())); }

Outcome Conn::Finish(PGresult* res) {
  Outcome out;
  out.rows.res_.reset(res);
  const ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return out;
  const char* sqlstate = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  out.failure = Healthy() ? Classify(sqlstate) : Failure::kConnection;
  const std::string primary = res ? OneLine(PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)) : "";
  out.message = (sqlstate ? std::string(sqlstate) + " " : "") + (primary.empty() ? OneLine(PQerrorMessage(conn_.get())) : primary);
  return out;
}

bool Conn::StillOpen() {
  if (!Healthy()) return false;
  // An idle connection has nothing to read; readable means the server sent a goodbye (an
  // ErrorResponse such as 57P01 admin_shutdown) or closed the socket. (A rare asynchronous
  // ParameterStatus also counts: the cost is one needless reconnect.)
  pollfd p{PQsocket(conn_.get()), POLLIN, 0};
  return ::poll(&p, 1, 0) == 0;
}

bool Conn::Reset() {
  PQreset(conn_.get());
  return Healthy() && PQsetClientEncoding(conn_.get(), "UTF8") == 0;
}

}  // namespace sigil::broker::pg
