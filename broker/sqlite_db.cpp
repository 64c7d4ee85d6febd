#include "broker/sqlite_db.h"

namespace sigil::broker::sql {

Result<Stmt> Stmt::Prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK) {
    return Fail(Code::kInternal, std::string("sqlite prepare: ") + sqlite3_errmsg(db));
  }
  return Stmt(db, s);
}

Stmt& Stmt::Bind(int i, const std::string& v) {
  bind_failed_ |= sqlite3_bind_text(stmt_.get(), i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT) != SQLITE_OK;
  return *this;
}
Stmt& Stmt::Bind(int i, ByteSpan v) {
  static const std::uint8_t kEmpty = 0;
  bind_failed_ |= sqlite3_bind_blob(stmt_.get(), i, v.empty() ? &kEmpty : v.data(), static_cast<int>(v.size()),
                                    SQLITE_TRANSIENT) != SQLITE_OK;
  return *this;
}
Stmt& Stmt::Bind(int i, std::int64_t v) {
  bind_failed_ |= sqlite3_bind_int64(stmt_.get(), i, v) != SQLITE_OK;
  return *this;
}

Result<bool> Stmt::Step() {
  if (bind_failed_) return Fail(Code::kInternal, "sqlite bind failed");
  int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  std::string msg = std::string("store: ") + sqlite3_errmsg(db_);
  if ((rc & 0xff) == SQLITE_CONSTRAINT) return Fail(Code::kAlreadyExists, msg);
  return Fail(Code::kUnavailable, msg);
}

Result<void> Stmt::Run() {
  for (;;) {
    SIGIL_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Ok();
  }
}

std::string Stmt::Text(int col) const {
  const unsigned char* t = sqlite3_column_text(stmt_.get(), col);
  int n = sqlite3_column_bytes(stmt_.get(), col);
  return t ? std::string(reinterpret_cast<const char*>(t), static_cast<std::size_t>(n)) : std::string();
}
Bytes Stmt::Blob(int col) const {
  const void* b = sqlite3_column_blob(stmt_.get(), col);
  int n = sqlite3_column_bytes(stmt_.get(), col);
  const auto* p = static_cast<const std::uint8_t*>(b);
  return b ? Bytes(p, p + n) : Bytes();
}
std::int64_t Stmt::Int(int col) const { return sqlite3_column_int64(stmt_.get(), col); }
int Stmt::Type(int col) const { return sqlite3_column_type(stmt_.get(), col); }

Result<void> Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = std::string("store: ") + (err ? err : "error");
    sqlite3_free(err);
    return Fail(Code::kUnavailable, msg);
  }
  return Ok();
}

}  // namespace sigil::broker::sql
