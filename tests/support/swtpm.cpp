#include "tests/support/swtpm.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <utility>
#include <vector>

namespace sigil::testing {
namespace {

// Binds 127.0.0.1:port (0 = any); returns the bound port or 0. The socket is closed again: the
// port is only probably free when swtpm binds it, hence the retry in Start().
int ProbeBind(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  socklen_t len = sizeof a;
  int got = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    got = ntohs(a.sin_port);
  }
  close(fd);
  return got;
}

// A pair (P, P+1) that both bind right now.
int FreePortPair() {
  for (int i = 0; i < 50; ++i) {
    int p = ProbeBind(0);
    if (p > 0 && p < 65535 && ProbeBind(p + 1) == p + 1) return p;
  }
  return 0;
}

bool Accepts(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

pid_t Spawn(const std::vector<std::string>& argv, const std::string& log) {
  pid_t pid = fork();
  if (pid == 0) {
    int in = open("/dev/null", O_RDONLY);
    int out = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    dup2(in, 0);
    dup2(out, 1);
    dup2(out, 2);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    std::vector<char*> args;
    for (const auto& s : argv) args.push_back(const_cast<char*>(s.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  return pid;
}

void Terminate(pid_t pid) {
  if (pid <= 0) return;
  kill(pid, SIGTERM);
  int status = 0;
  for (int i = 0; i < 100; ++i) {
    if (waitpid(pid, &status, WNOHANG) == pid) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
}

}  // namespace

Result<Swtpm> Swtpm::Start(const std::string& state_dir) {
  const std::string log = state_dir + "/swtpm.log";
  for (int attempt = 0; attempt < 5; ++attempt) {
    int port = FreePortPair();
    if (port == 0) return Fail(Code::kUnavailable, "swtpm: no free loopback port pair");
    pid_t pid = Spawn({"swtpm", "socket", "--tpm2", "--tpmstate", "dir=" + state_dir, "--server",
                       "type=tcp,port=" + std::to_string(port) + ",bindaddr=127.0.0.1", "--ctrl",
                       "type=tcp,port=" + std::to_string(port + 1) + ",bindaddr=127.0.0.1",
                       "--flags", "not-need-init,startup-clear"},
                      log);
    if (pid < 0) return Fail(Code::kUnavailable, "swtpm: fork failed");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    int status = 0;
    bool exited = false;
    while (std::chrono::steady_clock::now() < deadline) {
      if (waitpid(pid, &status, WNOHANG) == pid) {
        exited = true;
        break;
      }
      if (Accepts(port + 1) && Accepts(port)) return Swtpm(pid, port);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!exited) {
      Terminate(pid);
      return Fail(Code::kUnavailable, "swtpm did not accept connections on 127.0.0.1:" +
                                          std::to_string(port) + " within 20 s; see " + log);
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
      return Fail(Code::kUnavailable, "swtpm is not installed (exec failed); see " + log);
    }
    // Most likely lost the port race; try another pair.
  }
  return Fail(Code::kUnavailable, "swtpm exited at start five times; see " + log);
}

Swtpm::Swtpm(Swtpm&& o) noexcept : pid_(std::exchange(o.pid_, -1)), port_(o.port_) {}

Swtpm& Swtpm::operator=(Swtpm&& o) noexcept {
  if (this != &o) {
    Stop();
    pid_ = std::exchange(o.pid_, -1);
    port_ = o.port_;
  }
  return *this;
}

Swtpm::~Swtpm() { Stop(); }

std::string Swtpm::Tcti() const { return "swtpm:host=127.0.0.1,port=" + std::to_string(port_); }

void Swtpm::Stop() { Terminate(std::exchange(pid_, -1)); }

}  // namespace sigil::testing
