// The store is not trusted by being there (issue 11): a missing file is never created outside
// init, a damaged page is refused at open with the file and the recovery steps named, SQLite
// reporting corruption at run time makes the store fail closed for good, and readiness follows
// the outcome of writes (a file-size limit stands in for a full disk).
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <csignal>
#include <string>

#include "broker/store/sqlite_store.h"
#include "tests/support/matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/broker/store_harness.h"

namespace sigil::broker {
namespace {

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// Appends `n` audit records of ~600 bytes so the audit table spans many pages.
void FillAudit(Store& store, const std::string& tenant, int n) {
  for (int i = 0; i < n; ++i) {
    auto r = store.AppendAudit(tenant, [&](const std::optional<AuditRow>& head) -> Result<AuditRow> {
      std::uint64_t seq = head ? head->seq + 1 : 1;
      return AuditRow{seq, std::string(600, static_cast<char>('a' + seq % 26)), std::string(64, 'f'), ""};
    }, PlaceholderCheckpoints());
    ASSERT_TRUE(r.has_value()) << r.error().message();
  }
}

// Runs SQL through a second connection, as someone with the file would; returns the first
// column of the first row as an integer (0 if none).
std::int64_t Sql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  std::int64_t v = 0;
  int rc = sqlite3_step(st);
  EXPECT_TRUE(rc == SQLITE_ROW || rc == SQLITE_DONE) << sqlite3_errmsg(db);
  if (rc == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

// Overwrites page `page` (1-based) of the database file with a pattern, SQLite not involved.
void SmashPage(const std::string& path, std::int64_t page, std::int64_t page_size) {
  int fd = ::open(path.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  std::string junk(static_cast<std::size_t>(page_size), '\xa5');
  ASSERT_EQ(::pwrite(fd, junk.data(), junk.size(), (page - 1) * page_size), static_cast<ssize_t>(junk.size()));
  ::fsync(fd);
  ::close(fd);
}

TEST(StoreIntegrity, AMissingStoreIsNeverCreatedOutsideInit) {
  testing::TempDir dir;
  const std::string path = dir.File("store.db");
  auto r = OpenSqliteStore(path);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kNotFound);
  EXPECT_NE(r.error().message().find("store " + path + " does not exist; was the data directory initialised (sigild init)?"),
            std::string::npos)
      << r.error().message();
  EXPECT_FALSE(Exists(path));
  EXPECT_FALSE(Exists(path + "-wal"));
  // init's mode creates it.
  ASSERT_OK(OpenSqliteStore(path, StoreOpen::kCreate));
  EXPECT_TRUE(Exists(path));
}

TEST(StoreIntegrity, ADamagedPageIsRefusedAtOpenNamingTheFileAndTheRecovery) {
  testing::TempDir dir;
  const std::string path = dir.File("store.db");
  {
    ASSERT_OK_AND_ASSIGN(auto store, OpenSqliteStore(path, StoreOpen::kCreate));
    ASSERT_OK(CreateTenantForTest(*store, "acme", Bytes{1}));
    ASSERT_NO_FATAL_FAILURE(FillAudit(*store, "acme", 200));
  }  // closed: WAL checkpointed into the file and removed
  ASSERT_OK(OpenSqliteStore(path));  // sound before the damage
  const std::int64_t pages = Sql(path, "PRAGMA page_count");
  ASSERT_GT(pages, 20);
  ASSERT_NO_FATAL_FAILURE(SmashPage(path, pages / 2, Sql(path, "PRAGMA page_size")));
  auto r = OpenSqliteStore(path);
  ASSERT_FALSE(r.has_value()) << "a store with a malformed page was opened";
  const std::string& m = r.error().message();
  EXPECT_EQ(r.error().code(), Code::kUnavailable);
  EXPECT_NE(m.find("store " + path + " is damaged"), std::string::npos) << m;
  EXPECT_NE(m.find("integrity check"), std::string::npos) << m;
  EXPECT_NE(m.find("Recovery:"), std::string::npos) << m;
  EXPECT_NE(m.find(".recover"), std::string::npos) << m;
}

TEST(StoreIntegrity, CorruptionReportedAtRunTimeFailsClosedForGood) {
  testing::TempDir dir;
  const std::string path = dir.File("store.db");
  ASSERT_OK_AND_ASSIGN(auto store, OpenSqliteStore(path, StoreOpen::kCreate));
  ASSERT_OK(CreateTenantForTest(*store, "acme", Bytes{1}));
  ASSERT_NO_FATAL_FAILURE(FillAudit(*store, "acme", 200));
  ASSERT_OK(store->CheckReady());
  // Someone damages the audit table's root page in the file while the broker runs; a commit by
  // a second connection makes the broker's connection drop its page cache and read the file.
  Sql(path, "PRAGMA wal_checkpoint(TRUNCATE)");
  const std::int64_t root = Sql(path, "SELECT rootpage FROM sqlite_schema WHERE name='audit'");
  ASSERT_GT(root, 1);
  ASSERT_NO_FATAL_FAILURE(SmashPage(path, root, Sql(path, "PRAGMA page_size")));
  Sql(path, "INSERT OR REPLACE INTO meta(k, v) VALUES('other-writer', x'01')");

  auto append = store->AppendAudit("acme", [](const std::optional<AuditRow>&) -> Result<AuditRow> {
    return AuditRow{999, "{}", std::string(64, '0'), ""};
  }, PlaceholderCheckpoints());
  ASSERT_FALSE(append.has_value()) << "an audit record was appended to a damaged table";
  EXPECT_EQ(append.error().code(), Code::kUnavailable);
  EXPECT_EQ(append.error().message().rfind("store_corrupt:", 0), 0u) << append.error().message();
  // Sticky: tables that still read fine are refused too, and readiness says why.
  auto tenant = CreateTenantForTest(*store, "bob", Bytes{2});
  ASSERT_FALSE(tenant.has_value());
  EXPECT_NE(tenant.error().message().find("store_corrupt: the store " + path + " is damaged"), std::string::npos)
      << tenant.error().message();
  EXPECT_CODE(store->GetTenantKek("acme"), Code::kUnavailable);
  EXPECT_CODE(store->ProbeWrite(), Code::kUnavailable);
  auto ready = store->CheckReady();
  ASSERT_FALSE(ready.has_value());
  EXPECT_EQ(ready.error().message().rfind("store_corrupt:", 0), 0u) << ready.error().message();
}

// A file-size limit makes every write that needs the files to grow fail (EFBIG), as a full disk
// does (ENOSPC); SIGXFSZ is ignored so the write returns the error.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    ::getrlimit(RLIMIT_FSIZE, &saved_);
    old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    rlimit l = saved_;
    l.rlim_cur = bytes;
    ::setrlimit(RLIMIT_FSIZE, &l);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &saved_);
    std::signal(SIGXFSZ, old_handler_);
  }

 private:
  rlimit saved_{};
  void (*old_handler_)(int) = nullptr;
};

TEST(StoreIntegrity, ReadinessFollowsTheLastWriteAndRecovers) {
  testing::TempDir dir;
  const std::string path = dir.File("store.db");
  ASSERT_OK_AND_ASSIGN(auto store, OpenSqliteStore(path, StoreOpen::kCreate));
  ASSERT_OK(CreateTenantForTest(*store, "acme", Bytes{1}));
  ASSERT_OK(store->ProbeWrite());
  ASSERT_OK(store->CheckReady());
  {
    struct stat wal;
    ASSERT_EQ(::stat((path + "-wal").c_str(), &wal), 0);
    FileSizeLimit limit(static_cast<rlim_t>(wal.st_size));
    // The WAL must grow for these: they fail, and nothing reads as ready while they do.
    bool failed = false;
    for (int i = 0; i < 50 && !failed; ++i) {
      auto r = store->AppendAudit("acme", [](const std::optional<AuditRow>& head) -> Result<AuditRow> {
        std::uint64_t seq = head ? head->seq + 1 : 1;
        return AuditRow{seq, std::string(3000, 'x'), std::string(64, '0'), ""};
      }, PlaceholderCheckpoints());
      if (!r) {
        failed = true;
        EXPECT_EQ(r.error().code(), Code::kUnavailable);
        EXPECT_EQ(r.error().message().rfind("store_unwritable:", 0), 0u) << r.error().message();
      }
    }
    ASSERT_TRUE(failed) << "writes kept succeeding under the file-size limit";
    auto ready = store->CheckReady();
    ASSERT_FALSE(ready.has_value()) << "ready while writes fail";
    EXPECT_NE(ready.error().message().find(path), std::string::npos) << ready.error().message();
    EXPECT_FALSE(store->ProbeWrite().has_value());
    EXPECT_FALSE(store->CheckReady().has_value());
  }
  // Space is back: the next probe succeeds and readiness follows; the store was never damaged.
  ASSERT_OK(store->ProbeWrite());
  EXPECT_OK(store->CheckReady());
  EXPECT_OK(CreateTenantForTest(*store, "bob", Bytes{2}));
}

}  // namespace
}  // namespace sigil::broker
