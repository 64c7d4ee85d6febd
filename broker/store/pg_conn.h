// Thin RAII layer over libpq for pg_store.cpp: connections, parameterised statements (strings
// and integers as text, byte strings as binary bytea) and their results. Errors are values that
// carry PostgreSQL's SQLSTATE class, so the store can tell a lost server from a constraint
// violation from a damaged table.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"

namespace sigil::broker::pg {

struct ConnCloser {
  void operator()(PGconn* c) const noexcept { PQfinish(c); }
};
using ConnPtr = std::unique_ptr<PGconn, ConnCloser>;

// What went wrong with one statement, by SQLSTATE class (PostgreSQL manual, appendix A).
enum class Failure {
  kNone,
  kDuplicate,     // 23505 unique_violation
  kConstraint,    // other class 23 (foreign key, not null, check)
  kConnection,    // the server is unreachable, shut down or the connection broke (class 08, 57P0x)
  kCorrupt,       // class XX: data_corrupted, index_corrupted, internal error
  kNoSpace,       // class 53: disk full, out of memory, too many connections
  kRetry,         // 40001 serialization_failure, 40P01 deadlock_detected
  kOther,
};

// Statement parameters, in $1..$n order.
class Params {
 public:
  Params& Text(std::string v);
  Params& Int(std::int64_t v);
  Params& Blob(ByteSpan v);  // sent in binary format: no escaping, any bytes
  Params& Append(const Params& more);

 private:
  friend class Conn;
  std::vector<std::optional<std::string>> values_;
  std::vector<int> formats_;
};

// One statement's rows (text format; bytea columns decoded by Blob).
class Rows {
 public:
  int size() const { return res_ ? PQntuples(res_.get()) : 0; }
  bool IsNull(int row, int col) const { return PQgetisnull(res_.get(), row, col) != 0; }
  std::string Text(int row, int col) const;
  std::int64_t Int(int row, int col) const;
  Bytes Blob(int row, int col) const;
  // Rows changed by an INSERT/UPDATE/DELETE without RETURNING.
  std::int64_t Affected() const;

 private:
  friend class Conn;
  struct Clear {
    void operator()(PGresult* r) const noexcept { PQclear(r); }
  };
  std::unique_ptr<PGresult, Clear> res_;
};

// One statement's outcome: its rows, or why it failed.
struct Outcome {
  Rows rows;
  Failure failure = Failure::kNone;
  std::string message;  // on failure: PostgreSQL's message, with its SQLSTATE
  bool ok() const { return failure == Failure::kNone; }
};

// One connection to the server. Not thread-safe: the store hands each to one caller at a time.
class Conn {
 public:
  // Connects with `url` (a libpq connection URI or key=value string). Never blocks longer than
  // the URL's connect_timeout (the store adds one if absent).
  static Result<std::unique_ptr<Conn>> Open(const std::string& url);

  // Runs one statement. A broken connection is reported as kConnection and Healthy() turns false.
  Outcome Exec(const std::string& sql, const Params& params = Params());
  // Runs SQL text with no parameters (several statements allowed: schema, BEGIN, COMMIT).
  Outcome ExecScript(const std::string& sql);

  bool Healthy() const { return PQstatus(conn_.get()) == CONNECTION_OK; }
  // For an idle pooled connection: false if the server has closed it meanwhile (restart,
  // failover, idle timeout), found without a round trip by polling the socket.
  bool StillOpen();
  // Reconnects a broken connection in place (PQreset); false if the server is still away.
  bool Reset();

 private:
  explicit Conn(ConnPtr c) : conn_(std::move(c)) {}
  Outcome Finish(PGresult* res);
  ConnPtr conn_;
};

}  // namespace sigil::broker::pg
