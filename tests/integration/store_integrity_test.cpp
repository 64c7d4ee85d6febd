// The store is not trusted by being there (issue 11), against the real sigild and sigil, each
// test on its own data directory: damage SQLite reports while the broker runs makes it refuse
// every later change and challenge (and /readyz 503) while staying up; a deleted store.db, a
// malformed page and a replaced
// token_key.public row are refused at start with a message naming the file (and no store is
// created), and so is a store on a read-only file system; a full disk under a running broker makes /readyz 503 and writes (challenges, admin
// changes) fail closed with a clear error while the broker stays up, and it recovers by itself
// when space returns.
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/file_io.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace sigil::integration {
namespace {

using testing::CommandResult;

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

void Sql(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  char* err = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

class StoreIntegrityBroker : public ::testing::Test {
 protected:
  std::string Data() const { return root_ + "/broker"; }
  std::string Db() const { return Data() + "/store.db"; }

  void Init() {
    auto init = testing::Run({testing::BinPath("sigild"), "init", "--data-dir", Data(), "--dev-root-key", "--dev-tee",
                              "--listen", "127.0.0.1:0"});
    ASSERT_EQ(init.exit_code, 0) << init.err;
  }

  // `sigild serve` that is expected to refuse: bounded, so a broker that starts fails the test
  // (exit 124) instead of hanging it.
  CommandResult ServeExpectingRefusal() {
    return testing::Run({"/usr/bin/timeout", "20", testing::BinPath("sigild"), "serve", "--data-dir", Data(), "--listen",
                         "127.0.0.1:0"});
  }

  void Start(const std::vector<std::string>& extra = {}) {
    std::string port_file = dir_.File("port");
    ::unlink(port_file.c_str());
    std::vector<std::string> argv{testing::BinPath("sigild"), "serve", "--data-dir", Data(), "--port-file", port_file};
    argv.insert(argv.end(), extra.begin(), extra.end());
    sigild_ = std::make_unique<testing::BackgroundProcess>(argv, dir_.File("sigild.log"));
    std::string port = testing::WaitForFile(port_file, 20);
    ASSERT_FALSE(port.empty()) << "sigild did not start: " << ReadTextFile(dir_.File("sigild.log")).value_or("");
    url_ = "https://127.0.0.1:" + port.substr(0, port.find('\n'));
  }

  CommandResult Sigil(std::vector<std::string> args) const {
    args.insert(args.begin(), {testing::BinPath("sigil"), "--admin-dir", Data() + "/admin", "--broker", url_});
    return testing::Run(args);
  }

  // HTTP status and body of a request (-w appends the status on its own line).
  std::pair<int, std::string> Curl(const std::string& path, const std::string& post_body = "") const {
    std::vector<std::string> args{"/usr/bin/curl", "-sS", "--max-time", "10", "--cacert", Data() + "/admin/ca.pem",
                                  "-w", "\n%{http_code}"};
    if (!post_body.empty()) args.insert(args.end(), {"-H", "content-type: application/json", "--data", post_body});
    args.push_back(url_ + path);
    auto r = testing::Run(args);
    auto nl = r.out.rfind('\n');
    if (r.exit_code != 0 || nl == std::string::npos) return {-1, r.err};
    return {std::atoi(r.out.c_str() + nl + 1), r.out.substr(0, nl)};
  }

  void TearDown() override {
    if (sigild_) sigild_->Stop();
    sigild_.reset();
    if (mounted_) testing::Run({"/usr/bin/umount", "-l", root_});
  }

  testing::TempDir dir_;
  std::string root_ = dir_.path();
  // A 24 MiB tmpfs of its own as the data directory's root (needs CAP_SYS_ADMIN); returns why
  // not, empty on success. Unmounted in TearDown.
  std::string MountSmallTmpfs() {
    root_ = dir_.File("fs");
    if (::mkdir(root_.c_str(), 0700) != 0) return "mkdir failed";
    auto m = testing::Run({"/usr/bin/mount", "-t", "tmpfs", "-o", "size=24m,mode=0700", "tmpfs", root_});
    if (m.exit_code != 0) return m.err.empty() ? "mount failed" : m.err;
    mounted_ = true;
    return "";
  }

  bool mounted_ = false;
  std::unique_ptr<testing::BackgroundProcess> sigild_;
  std::string url_;
};

TEST_F(StoreIntegrityBroker, ADeletedStoreIsRefusedAndNotRecreated) {
  ASSERT_NO_FATAL_FAILURE(Init());
  for (const char* suffix : {"", "-wal", "-shm"}) ::unlink((Db() + suffix).c_str());
  auto r = ServeExpectingRefusal();
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.exit_code, 124) << "sigild served without a store";
  EXPECT_NE(r.err.find("store " + Db() + " does not exist; was the data directory initialised (sigild init)?"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(Exists(Db())) << "serve left a new, empty store.db behind";
}

TEST_F(StoreIntegrityBroker, AMalformedPageIsRefusedAtStartNamingTheFile) {
  ASSERT_NO_FATAL_FAILURE(Init());
  ASSERT_NO_FATAL_FAILURE(Start());
  for (auto args : std::vector<std::vector<std::string>>{{"tenant", "create", "acme"}, {"key", "create", "acme/k1"}}) {
    auto r = Sigil(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  ASSERT_EQ(sigild_->Stop(), 0);
  sigild_.reset();
  // Overwrite one page in the middle of the file (no SQLite involved), as a disk or a careless
  // tool would.
  struct stat st;
  ASSERT_EQ(::stat(Db().c_str(), &st), 0);
  const off_t page = 4096, pages = st.st_size / page;
  ASSERT_GT(pages, 4);
  int fd = ::open(Db().c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  std::string junk(page, '\x5a');
  ASSERT_EQ(::pwrite(fd, junk.data(), junk.size(), (pages / 2) * page), page);
  ::close(fd);
  auto r = ServeExpectingRefusal();
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.exit_code, 124) << "sigild served from a damaged store";
  EXPECT_NE(r.err.find("store " + Db() + " is damaged"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Recovery:"), std::string::npos) << r.err;
}

TEST_F(StoreIntegrityBroker, DamageFoundAtRunTimeFailsClosedAndTheRestartIsRefused) {
  ASSERT_NO_FATAL_FAILURE(Init());
  ASSERT_NO_FATAL_FAILURE(Start());
  for (auto args : std::vector<std::vector<std::string>>{{"tenant", "create", "acme"}, {"key", "create", "acme/k1"}}) {
    auto r = Sigil(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  ASSERT_EQ(Curl("/readyz").first, 200);
  // While the broker runs: its pages go into the file, the audit table's root page is smashed,
  // and a commit by a second connection makes the broker drop its page cache and read the file.
  Sql(Db(), "PRAGMA wal_checkpoint(TRUNCATE)");
  std::int64_t root = 0;
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(Db().c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT rootpage FROM sqlite_schema WHERE name='audit'", -1, &st, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    root = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
  }
  ASSERT_GT(root, 1);
  int fd = ::open(Db().c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  std::string junk(4096, '\x5a');
  ASSERT_EQ(::pwrite(fd, junk.data(), junk.size(), (root - 1) * 4096), 4096);
  ::close(fd);
  Sql(Db(), "INSERT OR REPLACE INTO meta(k, v) VALUES('other-writer', x'01')");

  // The next audited change meets the damage and is refused; so is everything after it, the
  // challenge too (its table is intact), and readiness says why. The broker stays up.
  auto create = Sigil({"key", "create", "acme/k2"});
  EXPECT_NE(create.exit_code, 0);
  EXPECT_NE(create.err.find("store_corrupt"), std::string::npos) << create.err;
  auto [cs, cb] = Curl("/v1/challenge", R"({"tenant":"acme","tee":"dev"})");
  EXPECT_EQ(cs, 503) << cb;
  EXPECT_NE(cb.find("store_corrupt"), std::string::npos) << cb;
  auto [rs, rb] = Curl("/readyz");
  EXPECT_EQ(rs, 503) << rb;
  EXPECT_NE(rb.find("store_corrupt"), std::string::npos) << rb;
  // Anonymous callers get the tag, never paths on the broker's disk (those go to its log).
  EXPECT_EQ(rb.find(Db()), std::string::npos) << rb;
  EXPECT_EQ(cb.find(Db()), std::string::npos) << cb;
  EXPECT_EQ(Curl("/healthz").first, 200);
  ASSERT_EQ(sigild_->Stop(), 0);
  sigild_.reset();
  auto r = ServeExpectingRefusal();
  EXPECT_NE(r.exit_code, 124) << "sigild served from a damaged store after a restart";
  EXPECT_NE(r.err.find("store " + Db() + " is damaged"), std::string::npos) << r.err;
}

TEST_F(StoreIntegrityBroker, AReplacedTokenKeyIsRefusedWithAnAlarm) {
  ASSERT_NO_FATAL_FAILURE(Init());
  Sql(Db(), "UPDATE meta SET v=randomblob(32) WHERE k='token_key.public'");
  auto r = ServeExpectingRefusal();
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.exit_code, 124) << "sigild started with a token key someone else holds";
  EXPECT_NE(r.err.find("ALARM"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("token_key.public"), std::string::npos) << r.err;
}

TEST_F(StoreIntegrityBroker, AReplacedAuditKeyIsRefusedWithAnAlarm) {
  ASSERT_NO_FATAL_FAILURE(Init());
  Sql(Db(), "UPDATE meta SET v=randomblob(32) WHERE k='audit_key.public'");
  auto r = ServeExpectingRefusal();
  EXPECT_NE(r.exit_code, 124);
  EXPECT_NE(r.err.find("ALARM"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("audit_key.public"), std::string::npos) << r.err;
}

TEST_F(StoreIntegrityBroker, AStoreOnAReadOnlyFileSystemIsRefusedAtStart) {
  // SQLite would quietly open it read-only, and the broker could then record no release at all.
  if (std::string why = MountSmallTmpfs(); !why.empty()) GTEST_SKIP() << "cannot mount a tmpfs here (" << why << ")";
  ASSERT_NO_FATAL_FAILURE(Init());
  auto ro = testing::Run({"/usr/bin/mount", "-o", "remount,ro", root_});
  ASSERT_EQ(ro.exit_code, 0) << ro.err;
  auto r = ServeExpectingRefusal();
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.exit_code, 124) << "sigild served from a store it cannot write";
  EXPECT_NE(r.err.find("store " + Db() + " can only be opened read-only"), std::string::npos) << r.err;
}

TEST_F(StoreIntegrityBroker, AFullDiskMakesTheBrokerNotReadyAndWritesFailClosedUntilSpaceReturns) {
  // A small file system of its own for the data directory (needs CAP_SYS_ADMIN).
  if (std::string why = MountSmallTmpfs(); !why.empty()) GTEST_SKIP() << "cannot mount a tmpfs here (" << why << ")";
  ASSERT_NO_FATAL_FAILURE(Init());
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_EQ(Sigil({"tenant", "create", "acme"}).exit_code, 0);
  ASSERT_EQ(Curl("/readyz").first, 200);

  // Fill the file system.
  const std::string filler = root_ + "/filler";
  testing::Run({"/usr/bin/dd", "if=/dev/zero", "of=" + filler, "bs=1M", "count=64"});
  ASSERT_TRUE(Exists(filler));

  auto [status, body] = Curl("/readyz");
  EXPECT_EQ(status, 503) << body;
  EXPECT_NE(body.find("store_"), std::string::npos) << body;
  // A challenge (the first write of every release) and an audited admin change fail closed.
  auto [cs, cb] = Curl("/v1/challenge", R"({"tenant":"acme","tee":"dev"})");
  EXPECT_EQ(cs, 503) << cb;
  EXPECT_NE(cb.find("store_unwritable"), std::string::npos) << cb;
  auto create = Sigil({"key", "create", "acme/k1"});
  EXPECT_NE(create.exit_code, 0);
  EXPECT_NE(create.err.find("store_unwritable"), std::string::npos) << create.err;
  // The broker stays up.
  EXPECT_EQ(Curl("/healthz").first, 200);
  EXPECT_EQ(Curl("/readyz").first, 503);

  // Space returns: the broker's probe notices within seconds, without a restart.
  ASSERT_EQ(::unlink(filler.c_str()), 0);
  int ready = 0;
  for (int i = 0; i < 40 && ready != 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    ready = Curl("/readyz").first;
  }
  EXPECT_EQ(ready, 200) << "not ready again after space returned";
  auto again = Sigil({"key", "create", "acme/k1"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(Curl("/v1/challenge", R"({"tenant":"acme","tee":"dev"})").first, 200);
  auto verify = Sigil({"audit", "verify", "acme"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

// The documented lines of docs/cli.md: `sigild init ... --store sqlite:PATH` keeps the store where
// it says (and makes no DATA/store.db), and `sigild serve ... --tag-existing-rows` tags, once,
// authority rows written before rows were authenticated; until then they are refused (ALARM).
TEST_F(StoreIntegrityBroker, AStoreElsewhereAndRowsFromBeforeTaggingTaggedOnceByTheOperator) {
  auto init = testing::Run({testing::BinPath("sigild"), "init", "--data-dir", Data(), "--dev-root-key", "--dev-tee",
                            "--listen", "127.0.0.1:0", "--store", "sqlite:elsewhere.db"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  const std::string db = Data() + "/elsewhere.db";
  EXPECT_TRUE(Exists(db));
  EXPECT_FALSE(Exists(Db()));
  ASSERT_NO_FATAL_FAILURE(Start());
  for (auto args : std::vector<std::vector<std::string>>{{"tenant", "create", "acme"}, {"key", "create", "acme/model"}}) {
    auto r = Sigil(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  auto before = Sigil({"key", "public", "acme/model"});
  ASSERT_EQ(before.exit_code, 0) << before.err;
  ASSERT_EQ(sigild_->Stop(), 0);
  sigild_.reset();

  Sql(db, "UPDATE key_versions SET mac=x''");  // as a store from before schema 3 has them
  ASSERT_NO_FATAL_FAILURE(Start());
  auto refused = Sigil({"key", "public", "acme/model"});
  EXPECT_NE(refused.exit_code, 0) << refused.out;
  EXPECT_NE(refused.err.find("ALARM"), std::string::npos) << refused.err;
  ASSERT_EQ(sigild_->Stop(), 0);
  sigild_.reset();

  ASSERT_NO_FATAL_FAILURE(Start({"--tag-existing-rows"}));
  ASSERT_EQ(sigild_->Stop(), 0);
  sigild_.reset();
  ASSERT_NO_FATAL_FAILURE(Start());
  auto after = Sigil({"key", "public", "acme/model"});
  EXPECT_EQ(after.exit_code, 0) << after.err;
  EXPECT_EQ(after.out, before.out);
}

// Requests are answered on handler threads, not on the I/O threads (`sigild serve --threads N
// --handler-threads N`): while a challenge waits on a store someone else holds locked, /healthz
// on another connection is answered at once. With the handler on the one I/O thread it waited
// for the store's busy timeout (2 s).
TEST_F(StoreIntegrityBroker, AStoreThatBlocksStallsNoOtherConnection) {
  Init();
  Start({"--threads", "1", "--handler-threads", "2"});
  ASSERT_EQ(Sigil({"tenant", "create", "acme"}).exit_code, 0);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(Db().c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  int challenge_status = 0;
  std::thread challenge([&] { challenge_status = Curl("/v1/challenge", R"({"tenant":"acme","tee":"dev"})").first; });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto start = std::chrono::steady_clock::now();
  auto health = Curl("/healthz");
  const auto took = std::chrono::steady_clock::now() - start;
  challenge.join();
  sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  EXPECT_EQ(health.first, 200) << health.second;
  EXPECT_LT(took, std::chrono::milliseconds(1000)) << "/healthz waited for the store";
  EXPECT_EQ(challenge_status, 503) << "the challenge should have failed closed on the locked store";
  EXPECT_EQ(Curl("/v1/challenge", R"({"tenant":"acme","tee":"dev"})").first, 200);
}

}  // namespace
}  // namespace sigil::integration
