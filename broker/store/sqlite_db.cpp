#include "broker/store/sqlite_db.h"

namespace sigil::broker::sql {

bool IsCorruption(int rc) { return (rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB; }

bool IsWriteFailure(int rc) {
  switch (rc & 0xff) {
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
      return true;
    default:
      return false;
  }
}

std::string Health::Note(int rc, const std::string& sqlite_message) {
  if (IsCorruption(rc)) {
    {
      std::lock_guard lock(mu_);
      if (!corrupt_.load()) corrupt_detail_ = sqlite_message;
      corrupt_.store(true);
    }
    return CorruptMessage();
  }
  std::lock_guard lock(mu_);
  if (IsWriteFailure(rc)) {
    write_failure_ = "store_unwritable: the store " + path_ + " cannot take writes (" + sqlite_message +
                     "; disk full, read-only file system or I/O error?)";
    return write_failure_;
  }
  return "store: " + sqlite_message;
}

void Health::WriteCommitted() {
  std::lock_guard lock(mu_);
  write_failure_.clear();
}

std::string Health::CorruptMessage() const {
  std::lock_guard lock(mu_);
  return "store_corrupt: the store " + path_ + " is damaged (" + corrupt_detail_ +
         "); this broker refuses every release and change until it is restarted on a sound store. "
         "Stop sigild, keep a copy of the damaged file, restore store.db from a backup (or salvage it with "
         "`sqlite3 store.db .recover`) and start sigild again: it checks the file before serving";
}

std::string Health::Problem() const {
  if (corrupt_.load()) return CorruptMessage();
  std::lock_guard lock(mu_);
  return write_failure_;
}

StmtCache::~StmtCache() {
  for (auto& [sql, s] : idle_) sqlite3_finalize(s);
}

sqlite3_stmt* StmtCache::Take(const std::string& sql) {
  std::lock_guard lock(mu_);
  auto it = idle_.find(sql);
  if (it == idle_.end()) return nullptr;
  sqlite3_stmt* s = it->second;
  idle_.erase(it);
  return s;
}

void StmtCache::Put(const std::string& sql, sqlite3_stmt* s) {
  std::lock_guard lock(mu_);
  if (!idle_.emplace(sql, s).second) sqlite3_finalize(s);  // the same SQL was in use twice
}

void Stmt::Finalizer::operator()(sqlite3_stmt* s) const noexcept {
  if (cache == nullptr) {
    sqlite3_finalize(s);
    return;
  }
  // Reset ends the statement's read or write on the database (its transaction, in autocommit);
  // cleared bindings drop the copies of bound values, which may be wrapped key material.
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  try {
    cache->Put(sql, s);
  } catch (...) {
    sqlite3_finalize(s);
  }
}

Result<Stmt> Stmt::Prepare(sqlite3* db, const char* sql, Health* health, StmtCache* cache) {
  if (cache != nullptr) {
    if (sqlite3_stmt* idle = cache->Take(sql)) return Stmt(db, idle, health, Finalizer{cache, sql});
  }
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v2(db, sql, -1, &s, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(s);
    // Preparing reads the schema: a damaged schema page shows up here first.
    if (health && (IsCorruption(rc) || IsWriteFailure(rc))) {
      return Fail(Code::kUnavailable, health->Note(rc, sqlite3_errmsg(db)));
    }
    return Fail(Code::kInternal, std::string("sqlite prepare: ") + sqlite3_errmsg(db));
  }
  return Stmt(db, s, health, Finalizer{cache, cache ? std::string(sql) : std::string()});
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
  std::string msg = health_ ? health_->Note(rc, sqlite3_errmsg(db_)) : std::string("store: ") + sqlite3_errmsg(db_);
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

Result<void> Exec(sqlite3* db, const char* sql, Health* health) {
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string detail = err ? err : sqlite3_errstr(rc);
    std::string msg = health ? health->Note(rc, detail) : "store: " + detail;
    sqlite3_free(err);
    return Fail(Code::kUnavailable, msg);
  }
  return Ok();
}

Result<std::unique_ptr<ReaderPool>> ReaderPool::Open(const std::string& path, int count, Health* health) {
  std::unique_ptr<ReaderPool> pool(new ReaderPool(health));
  for (int i = 0; i < count; ++i) {
    sqlite3* raw = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, nullptr);
    DbPtr db(raw);
    if (rc != SQLITE_OK) {
      return Fail(Code::kUnavailable, "cannot open a reader of store " + path + ": " +
                                          (raw ? sqlite3_errmsg(raw) : "out of memory"));
    }
    sqlite3_busy_timeout(db.get(), 2000);
    SIGIL_RETURN_IF_ERROR(Exec(db.get(), "PRAGMA query_only=ON", health));
    pool->conns_.push_back(Conn{std::move(db), std::make_unique<StmtCache>(), false});
  }
  return pool;
}

ReaderPool::Lease ReaderPool::Acquire() {
  std::unique_lock lock(mu_);
  for (;;) {
    if (!exclusive_ && !exclusive_waiting_) {
      for (std::size_t i = 0; i < conns_.size(); ++i) {
        if (!conns_[i].busy) {
          conns_[i].busy = true;
          ++busy_;
          return Lease(*this, i);
        }
      }
    }
    idle_cv_.wait(lock);
  }
}

void ReaderPool::Return(std::size_t i) {
  std::lock_guard lock(mu_);
  conns_[i].busy = false;
  --busy_;
  // An exclusive holder waits for the last reader; otherwise one waiting reader can go on.
  if (exclusive_waiting_) {
    idle_cv_.notify_all();
  } else {
    idle_cv_.notify_one();
  }
}

ReaderPool::Lease::~Lease() { pool_.Return(i_); }

Result<Stmt> ReaderPool::Lease::Prepare(const std::string& q) {
  Conn& c = pool_.conns_[i_];
  return Stmt::Prepare(c.db.get(), q.c_str(), pool_.health_, c.statements.get());
}

}  // namespace sigil::broker::sql
