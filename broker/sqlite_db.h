// Thin RAII layer over the SQLite C API used by sqlite_store.cpp: a connection and prepared
// statements with typed binds and column reads. Every error carries sqlite3_errmsg.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>

#include "core/bytes.h"
#include "core/result.h"

namespace sigil::broker::sql {

struct DbCloser {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;

class Stmt {
 public:
  static Result<Stmt> Prepare(sqlite3* db, const char* sql);
  Stmt(Stmt&&) noexcept = default;
  Stmt& operator=(Stmt&&) noexcept = default;

  Stmt& Bind(int i, const std::string& v);
  Stmt& Bind(int i, ByteSpan v);
  Stmt& Bind(int i, std::int64_t v);
  // SQLITE_ROW -> true, SQLITE_DONE -> false; anything else is an error (kUnavailable, or
  // kAlreadyExists for a constraint violation).
  Result<bool> Step();
  Result<void> Run();  // Step() until done

  std::string Text(int col) const;
  Bytes Blob(int col) const;
  std::int64_t Int(int col) const;
  int Type(int col) const;  // SQLITE_INTEGER, SQLITE_TEXT, ...: what the row really holds

 private:
  struct Finalizer {
    void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
  };
  Stmt(sqlite3* db, sqlite3_stmt* s) : db_(db), stmt_(s) {}
  sqlite3* db_;
  std::unique_ptr<sqlite3_stmt, Finalizer> stmt_;
  bool bind_failed_ = false;
};

Result<void> Exec(sqlite3* db, const char* sql);

}  // namespace sigil::broker::sql
