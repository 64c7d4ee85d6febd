// Thin RAII layer over the SQLite C API used by sqlite_store.cpp: a connection and prepared
// statements with typed binds and column reads. Every error carries sqlite3_errmsg.
#pragma once

#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"

namespace sigil::broker::sql {

struct DbCloser {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;

// What the statements of one connection have learned about the file, for fail-closed behaviour
// and readiness (sqlite_store.cpp). Corruption (SQLITE_CORRUPT, SQLITE_NOTADB) is sticky: a
// damaged store is never trusted again by this process. A write failure (disk full, read-only
// file system, I/O error) lasts until a later write commits. Thread-safe.
class Health {
 public:
  explicit Health(std::string path) : path_(std::move(path)) {}
  const std::string& path() const { return path_; }
  // Classifies an SQLite result code; returns the message an error with it should carry.
  std::string Note(int rc, const std::string& sqlite_message);
  void WriteCommitted();
  bool corrupt() const { return corrupt_.load(); }
  // Empty if the store is usable; else why not (the corruption, or the last write failure).
  std::string Problem() const;
  // The message every operation refused because of corruption carries.
  std::string CorruptMessage() const;

 private:
  const std::string path_;
  std::atomic<bool> corrupt_{false};
  mutable std::mutex mu_;
  std::string corrupt_detail_;
  std::string write_failure_;
};

bool IsCorruption(int rc);
// Disk full, read-only, I/O error, locking protocol failure: the file cannot take writes now.
bool IsWriteFailure(int rc);

// Prepared statements kept for reuse, per connection: preparing (parsing and planning) the same
// SQL again for every call was about an eighth of the broker's CPU per release. A statement is
// taken out while a Stmt uses it and put back reset, with its bindings cleared. Thread-safe;
// destroy it before its connection.
class StmtCache {
 public:
  StmtCache() = default;
  ~StmtCache();
  StmtCache(const StmtCache&) = delete;
  StmtCache& operator=(const StmtCache&) = delete;
  sqlite3_stmt* Take(const std::string& sql);  // nullptr if none is idle
  void Put(const std::string& sql, sqlite3_stmt* s);

 private:
  std::mutex mu_;
  std::unordered_map<std::string, sqlite3_stmt*> idle_;
};

class Stmt {
 public:
  // With a cache, the statement comes from it when one is idle and goes back to it afterwards.
  static Result<Stmt> Prepare(sqlite3* db, const char* sql, Health* health = nullptr, StmtCache* cache = nullptr);
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
    StmtCache* cache = nullptr;
    std::string sql;
    void operator()(sqlite3_stmt* s) const noexcept;
  };
  Stmt(sqlite3* db, sqlite3_stmt* s, Health* h, Finalizer f) : db_(db), health_(h), stmt_(s, std::move(f)) {}
  sqlite3* db_;
  Health* health_;
  std::unique_ptr<sqlite3_stmt, Finalizer> stmt_;
  bool bind_failed_ = false;
};

Result<void> Exec(sqlite3* db, const char* sql, Health* health = nullptr);

// Read-only connections to the same file, so reads need not wait for the writer: in WAL mode a
// reader sees the last committed state while a write transaction (and its fsync) runs on the
// writer's connection. Each connection is leased to one thread at a time with its own statement
// cache; `PRAGMA query_only` makes any write through it an error. Thread-safe.
class ReaderPool {
 public:
  // Opens `count` connections to the existing file at `path`.
  static Result<std::unique_ptr<ReaderPool>> Open(const std::string& path, int count, Health* health);

  class Lease {
   public:
    Lease(Lease&&) = delete;
    ~Lease();
    Result<Stmt> Prepare(const std::string& q);

   private:
    friend class ReaderPool;
    Lease(ReaderPool& pool, std::size_t i) : pool_(pool), i_(i) {}
    ReaderPool& pool_;
    std::size_t i_;
  };
  // A free connection, waiting for one if all are in use. The lease must outlive every Stmt
  // prepared through it (declare it first), so the connection goes back with no statement active.
  Lease Acquire();

  // Holds every connection while `fn` runs: no read transaction is open meanwhile (a WAL
  // checkpoint that must reach the end of the log needs that).
  template <typename Fn>
  auto WithNoReaders(Fn&& fn) -> decltype(fn()) {
    std::unique_lock lock(mu_);
    exclusive_waiting_ = true;
    idle_cv_.wait(lock, [&] { return busy_ == 0 && !exclusive_; });
    exclusive_ = true;
    exclusive_waiting_ = false;
    lock.unlock();
    struct Release {
      ReaderPool& p;
      ~Release() {
        std::lock_guard l(p.mu_);
        p.exclusive_ = false;
        p.idle_cv_.notify_all();
      }
    } release{*this};
    return fn();
  }

 private:
  struct Conn {
    DbPtr db;
    std::unique_ptr<StmtCache> statements;  // finalized before db closes (declared after it)
    bool busy = false;
  };
  explicit ReaderPool(Health* health) : health_(health) {}
  void Return(std::size_t i);

  Health* health_;
  std::mutex mu_;
  std::condition_variable idle_cv_;
  std::vector<Conn> conns_;
  std::size_t busy_ = 0;
  bool exclusive_ = false;
  bool exclusive_waiting_ = false;
};

}  // namespace sigil::broker::sql
