// The PostgreSQL test server itself (tests/support/postgres_server.h): it starts from nothing,
// serves SQL over its private Unix socket only, keeps committed data across a fast stop and
// across an immediate (crash-like) stop, and is gone when the fixture is destroyed.
#include "tests/support/postgres_server.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "tests/support/temp_dir.h"

namespace sigil::testing {
namespace {

bool Alive(pid_t pid) { return kill(pid, 0) == 0; }

TEST(PostgresServerTest, CreatesDatabaseRunsSqlAndKeepsDataAcrossRestart) {
  TempDir dir;
  auto pg = PostgresServer::Start(dir.path());
  ASSERT_NE(pg, nullptr);
  EXPECT_TRUE(pg->running());
  // PostgreSQL refuses root: as root the server runs as someone else.
  struct stat st {};
  ASSERT_EQ(stat(pg->data_dir().c_str(), &st), 0);
  if (geteuid() == 0) {
    EXPECT_NE(st.st_uid, 0u);
  } else {
    EXPECT_EQ(st.st_uid, geteuid());
  }

  const std::string url = pg->CreateDatabase("keys");
  EXPECT_EQ(url, "postgresql:///keys?host=" + pg->socket_dir() + "&port=" +
                     std::to_string(pg->port()) + "&user=sigil");
  EXPECT_EQ(pg->Psql("keys", "SELECT current_user"), "sigil");
  EXPECT_EQ(pg->Psql("keys", "SHOW fsync"), "on");
  EXPECT_EQ(pg->Psql("keys", "SHOW listen_addresses"), "");  // no TCP at all
  pg->Psql("keys", "CREATE TABLE t (id int PRIMARY KEY, v text); "
                   "INSERT INTO t VALUES (1, 'one'), (2, 'two')");
  EXPECT_EQ(pg->Psql("keys", "SELECT id, v FROM t ORDER BY id"), "1|one\n2|two");

  const pid_t first = pg->pid();
  pg->Stop();
  EXPECT_FALSE(pg->running());
  EXPECT_FALSE(Alive(first));
  ASSERT_TRUE(pg->Restart());
  EXPECT_EQ(pg->Psql("keys", "SELECT v FROM t WHERE id = 2"), "two");

  // Committed before an immediate shutdown (no checkpoint): WAL replay brings it back.
  pg->Psql("keys", "UPDATE t SET v = 'uno' WHERE id = 1");
  pg->StopImmediate();
  ASSERT_TRUE(pg->Restart());
  EXPECT_EQ(pg->Psql("keys", "SELECT v FROM t WHERE id = 1"), "uno");
}

TEST(PostgresServerTest, DestructionStopsTheServer) {
  TempDir dir;
  pid_t pid = -1;
  {
    auto pg = PostgresServer::Start(dir.path());
    ASSERT_NE(pg, nullptr);
    pid = pg->pid();
    EXPECT_TRUE(Alive(pid));
  }
  EXPECT_FALSE(Alive(pid));
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/pg/.s.PGSQL.5432"));
}

TEST(PostgresServerTest, SqlErrorFailsTheTest) {
  TempDir dir;
  auto pg = PostgresServer::Start(dir.path());
  ASSERT_NE(pg, nullptr);
  EXPECT_NONFATAL_FAILURE(pg->Psql("postgres", "SELECT * FROM no_such_table"), "no_such_table");
}

}  // namespace
}  // namespace sigil::testing
