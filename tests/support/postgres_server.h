// A real PostgreSQL server for tests, started by the test itself in a directory it owns.
//
// initdb makes a fresh cluster in <dir>/pg/data; `postgres` then runs as a direct child of the
// test process (not daemonised through pg_ctl), so it gets PR_SET_PDEATHSIG and goes down with a
// crashed test instead of running forever. The signal follows the thread that called Start() or
// Restart(): call them from the test's main thread. It listens only on a Unix socket in <dir>/pg
// (no TCP at all: nothing else on the machine can reach it, parallel tests never share a port).
// The superuser is `sigil`, local connections are trusted (the socket directory is private), and
// fsync stays on because the store's durability is what the tests check.
//
// PostgreSQL refuses to run as root, and tests run as root in CI. As root, initdb and postgres run
// as `nobody` (present on every Debian): <dir>/pg is chowned to it and `dir` is made searchable
// (0711: others may pass through, not list). The test process, as root, still reaches the socket.
//
// Start() and Psql() record a gtest failure with the reason (binaries missing, initdb or startup
// failed, SQL error): setup.sh installs PostgreSQL, so its absence fails tests rather than skipping.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

namespace sigil::testing {

class PostgresServer {
 public:
  // initdb + start in `dir` (which must exist; the server lives in dir/pg). Waits until the server
  // accepts connections. On failure: ADD_FAILURE with the reason (and log tail), returns nullptr.
  static std::unique_ptr<PostgresServer> Start(const std::string& dir);
  ~PostgresServer();  // immediate shutdown (the data is about to be thrown away), then SIGKILL
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // libpq URI over the Unix socket, as the superuser:
  // postgresql:///DB?host=/abs/dir/pg&port=5432&user=sigil
  std::string Url(const std::string& database) const;
  // CREATE DATABASE name; returns Url(name).
  std::string CreateDatabase(const std::string& name);
  // Runs `sql` with psql -X -At -v ON_ERROR_STOP=1 as the superuser and returns its stdout without
  // the trailing newline (one row per line, columns separated by '|'). A multi-statement string is
  // one implicit transaction. On error: ADD_FAILURE with psql's stderr.
  std::string Psql(const std::string& database, const std::string& sql);

  // Fast shutdown (SIGINT: clients disconnected, checkpoint written); the data directory is kept.
  void Stop();
  // Immediate shutdown (SIGQUIT: no checkpoint), as after a crash: the next Restart() replays WAL.
  void StopImmediate();
  // Starts the server again on the same data, socket and port; waits until it accepts connections.
  // Returns false (after ADD_FAILURE) if it does not come up.
  bool Restart();

  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }  // the postmaster, or -1 when stopped
  const std::string& socket_dir() const { return socket_dir_; }
  int port() const { return port_; }
  const std::string& data_dir() const { return data_dir_; }
  const std::string& log_file() const { return log_file_; }  // server's stderr, appended per run

 private:
  PostgresServer() = default;
  bool Launch();                                  // spawn postgres, wait until ready
  void Shutdown(int signal, const char* how);     // signal, wait; SIGKILL if it hangs

  std::string bin_dir_, socket_dir_, data_dir_, log_file_;
  int port_ = 5432;  // any port works: the socket directory is private to this server
  uid_t uid_ = 0;    // the server's user (nobody when the test runs as root, else ourselves)
  gid_t gid_ = 0;
  bool switch_user_ = false;
  pid_t pid_ = -1;
};

}  // namespace sigil::testing
