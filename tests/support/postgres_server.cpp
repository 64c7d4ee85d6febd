#include "tests/support/postgres_server.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "tests/support/process.h"

namespace sigil::testing {
namespace {

namespace fs = std::filesystem;

constexpr auto kReadyTimeout = std::chrono::seconds(60);  // hang guards only, not assertions
constexpr auto kStopTimeout = std::chrono::seconds(60);

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Tail(const std::string& path) {
  std::string s = Slurp(path);
  return s.size() > 2000 ? "..." + s.substr(s.size() - 2000) : s;
}

bool IsExecutable(const fs::path& p) { return access(p.c_str(), X_OK) == 0; }

// SIGIL_PG_BINDIR, else the highest /usr/lib/postgresql/<major>/bin that has the server (Debian
// keeps initdb and postgres only there; /usr/bin holds wrappers for the clients alone).
std::string FindBinDir() {
  auto complete = [](const fs::path& d) {
    return IsExecutable(d / "initdb") && IsExecutable(d / "postgres") && IsExecutable(d / "psql");
  };
  if (const char* env = std::getenv("SIGIL_PG_BINDIR"); env != nullptr && *env != '\0') {
    return complete(env) ? env : "";
  }
  std::error_code ec;
  fs::path best;
  int best_major = -1;
  for (const auto& e : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string name = e.path().filename().string();
    char* end = nullptr;
    long major = std::strtol(name.c_str(), &end, 10);
    if (end == name.c_str() || *end != '\0' || !complete(e.path() / "bin")) continue;
    if (major > best_major) {
      best_major = static_cast<int>(major);
      best = e.path() / "bin";
    }
  }
  return best.string();
}

// What the child does between fork and exec. Everything is prepared before fork() so the child
// calls only async-signal-safe functions (the test process may have threads).
struct ChildSpec {
  std::vector<std::string> argv, env;
  std::string cwd, log;
  bool switch_user = false;
  uid_t uid = 0;
  gid_t gid = 0;
  int death_signal = 0;  // PR_SET_PDEATHSIG, 0 for none
};

pid_t Spawn(const ChildSpec& l) {
  std::vector<char*> argv, envp;
  for (const auto& a : l.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : l.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid != 0) return pid;
  // The log is opened before dropping privileges: it may sit in a directory nobody cannot write.
  int in = open("/dev/null", O_RDONLY);
  int log = open(l.log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  if (in < 0 || log < 0) _exit(126);
  dup2(in, 0);
  dup2(log, 1);
  dup2(log, 2);
  if (l.switch_user && (setgroups(0, nullptr) != 0 || setgid(l.gid) != 0 || setuid(l.uid) != 0)) {
    _exit(126);
  }
  // After setuid: a change of credentials clears the parent-death signal (which is also why
  // `setpriv`/`runuser` in front of postgres would lose it).
  if (l.death_signal != 0) {
    prctl(PR_SET_PDEATHSIG, l.death_signal);
    if (getppid() != parent) _exit(126);  // the test died before prctl
  }
  // Postgres binaries resolve their own path with getcwd(); the test's cwd may be closed to nobody.
  if (chdir(l.cwd.c_str()) != 0) _exit(126);
  execve(argv[0], argv.data(), envp.data());
  _exit(127);
}

int Wait(pid_t pid) {
  int status = 0;
  if (pid <= 0 || waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// As root, `nobody` must be able to walk down through `dir` and all its parents. `dir` itself (a
// TempDir is 0700) gets o+x added; any other closed ancestor is reported rather than changed.
bool MakeReachable(const fs::path& dir, uid_t uid, gid_t gid, std::string* why) {
  for (fs::path p = dir; ; p = p.parent_path()) {
    struct stat st{};
    if (stat(p.c_str(), &st) != 0) {
      *why = "cannot stat " + p.string();
      return false;
    }
    bool ok = (st.st_mode & S_IXOTH) || (st.st_uid == uid && (st.st_mode & S_IXUSR)) ||
              (st.st_gid == gid && (st.st_mode & S_IXGRP));
    if (!ok && p == dir && st.st_uid == geteuid()) {
      ok = chmod(p.c_str(), (st.st_mode & 07777) | S_IXOTH) == 0;
    }
    if (!ok) {
      *why = p.string() + " is not searchable by the server user (uid " + std::to_string(uid) +
             "); put the test directory under /tmp";
      return false;
    }
    if (p == p.parent_path()) return true;
  }
}

// For a libpq URI query value: everything but unreserved characters and '/' percent-encoded.
std::string UriEncode(const std::string& s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string QuoteSqlLiteral(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += (c == '\'') ? std::string("''") : std::string(1, c);
  return out + "'";
}

}  // namespace

std::unique_ptr<PostgresServer> PostgresServer::Start(const std::string& dir) {
  std::unique_ptr<PostgresServer> pg(new PostgresServer());
  pg->bin_dir_ = FindBinDir();
  if (pg->bin_dir_.empty()) {
    ADD_FAILURE() << "PostgreSQL server binaries (initdb, postgres, psql) not found in "
                     "/usr/lib/postgresql/*/bin or $SIGIL_PG_BINDIR; scripts/setup.sh installs "
                     "Debian's postgresql package";
    return nullptr;
  }
  std::error_code ec;
  const fs::path base = fs::weakly_canonical(fs::absolute(dir), ec);
  const fs::path root = base / "pg";
  pg->socket_dir_ = root.string();
  pg->data_dir_ = (root / "data").string();
  pg->log_file_ = (root / "postgres.log").string();
  const std::string socket_file = pg->socket_dir_ + "/.s.PGSQL." + std::to_string(pg->port_);
  if (socket_file.size() >= sizeof(sockaddr_un{}.sun_path)) {
    ADD_FAILURE() << "postgres: socket path too long for a Unix socket: " << socket_file;
    return nullptr;
  }
  if (mkdir(root.c_str(), 0700) != 0) {
    ADD_FAILURE() << "postgres: cannot create " << root << ": " << std::strerror(errno);
    return nullptr;
  }
  pg->uid_ = geteuid();
  pg->gid_ = getegid();
  if (pg->uid_ == 0) {
    // The server refuses to run as root; nobody owns nothing else on the system.
    const passwd* pw = getpwnam("nobody");
    if (pw == nullptr) {
      ADD_FAILURE() << "postgres: running as root and there is no user 'nobody' to run the server";
      return nullptr;
    }
    pg->switch_user_ = true;
    pg->uid_ = pw->pw_uid;
    pg->gid_ = pw->pw_gid;
    std::string why;
    if (chown(root.c_str(), pg->uid_, pg->gid_) != 0 ||
        !MakeReachable(base, pg->uid_, pg->gid_, &why)) {
      ADD_FAILURE() << "postgres: cannot hand " << root << " to nobody: " << why;
      return nullptr;
    }
  }

  // --no-sync: only initdb's own files skip fsync (a test never survives a power cut anyway);
  // the running server keeps fsync on.
  const std::string initdb_log = (root / "initdb.log").string();
  ChildSpec init{{pg->bin_dir_ + "/initdb", "-D", pg->data_dir_, "-U", "sigil", "--auth=trust",
                  "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"},
              {"PATH=/usr/bin:/bin", "LC_ALL=C", "TZ=UTC"},
              pg->socket_dir_, initdb_log, pg->switch_user_, pg->uid_, pg->gid_, SIGKILL};
  if (int rc = Wait(Spawn(init)); rc != 0) {
    ADD_FAILURE() << "postgres: initdb exited with " << rc << ":\n" << Tail(initdb_log);
    return nullptr;
  }
  std::ofstream conf(pg->data_dir_ + "/postgresql.conf", std::ios::app);
  conf << "\n# tests/support/postgres_server.cpp: Unix socket only, private directory\n"
       << "listen_addresses = ''\n"
       << "unix_socket_directories = " << QuoteSqlLiteral(pg->socket_dir_) << "\n"
       << "port = " << pg->port_ << "\n"
       << "fsync = on\nsynchronous_commit = on\nfull_page_writes = on\n"
       << "shared_buffers = 16MB\nmax_connections = 100\n";
  conf.close();
  if (!conf) {
    ADD_FAILURE() << "postgres: cannot write " << pg->data_dir_ << "/postgresql.conf";
    return nullptr;
  }
  if (!pg->Launch()) return nullptr;
  return pg;
}

bool PostgresServer::Launch() {
  // SIGQUIT if the test dies: an immediate shutdown, which (unlike SIGKILL) still removes the
  // server's shared memory segment on the way out.
  ChildSpec l{{bin_dir_ + "/postgres", "-D", data_dir_},
           {"PATH=/usr/bin:/bin", "LC_ALL=C"},
           socket_dir_, log_file_, switch_user_, uid_, gid_, SIGQUIT};
  pid_ = Spawn(l);
  if (pid_ < 0) {
    ADD_FAILURE() << "postgres: fork failed";
    return false;
  }
  // Ready when postmaster.pid names this process and its status line (8th) says "ready": the
  // same signal pg_ctl waits for. A socket that accepts is not enough (it answers "starting up").
  const std::string pid_file = data_dir_ + "/postmaster.pid";
  const auto deadline = std::chrono::steady_clock::now() + kReadyTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      ADD_FAILURE() << "postgres exited at start; " << log_file_ << ":\n" << Tail(log_file_);
      return false;
    }
    std::istringstream in(Slurp(pid_file));
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    if (lines.size() >= 8 && lines[0] == std::to_string(pid_) && lines[7].rfind("ready", 0) == 0) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Shutdown(SIGQUIT, "start timeout");
  ADD_FAILURE() << "postgres did not become ready; " << log_file_ << ":\n" << Tail(log_file_);
  return false;
}

void PostgresServer::Shutdown(int signal, const char* how) {
  if (pid_ <= 0) return;
  kill(pid_, signal);
  const auto deadline = std::chrono::steady_clock::now() + kStopTimeout;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  pid_ = -1;
  ADD_FAILURE() << "postgres did not stop after " << how << "; killed. Log: " << log_file_;
}

PostgresServer::~PostgresServer() { Shutdown(SIGQUIT, "immediate shutdown"); }

void PostgresServer::Stop() { Shutdown(SIGINT, "fast shutdown"); }

void PostgresServer::StopImmediate() { Shutdown(SIGQUIT, "immediate shutdown"); }

bool PostgresServer::Restart() {
  Stop();
  return Launch();
}

std::string PostgresServer::Url(const std::string& database) const {
  return "postgresql:///" + UriEncode(database) + "?host=" + UriEncode(socket_dir_) +
         "&port=" + std::to_string(port_) + "&user=sigil";
}

std::string PostgresServer::CreateDatabase(const std::string& name) {
  std::string ident = "\"";
  for (char c : name) ident += (c == '"') ? std::string("\"\"") : std::string(1, c);
  Psql("postgres", "CREATE DATABASE " + ident + "\"");
  return Url(name);
}

std::string PostgresServer::Psql(const std::string& database, const std::string& sql) {
  // -X: no ~/.psqlrc; -q: no command tags ("INSERT 0 1") in the output.
  CommandResult r = Run({bin_dir_ + "/psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h",
                         socket_dir_, "-p", std::to_string(port_), "-U", "sigil", "-d", database,
                         "-c", sql},
                        {"PGCONNECT_TIMEOUT=10"});
  if (r.exit_code != 0) {
    ADD_FAILURE() << "psql on " << database << " exited with " << r.exit_code << "\nSQL: " << sql
                  << "\n" << r.err;
  }
  while (!r.out.empty() && r.out.back() == '\n') r.out.pop_back();
  return r.out;
}

}  // namespace sigil::testing
