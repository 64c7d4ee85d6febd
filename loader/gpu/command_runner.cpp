#include "loader/gpu/command_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "core/unique_fd.h"

extern char** environ;

namespace sigil::loader::gpu {
namespace {

using Clock = std::chrono::steady_clock;

// Owns the spawned process: unless it was reaped by Wait(), the destructor kills its whole
// process group and reaps it, so no return path leaves a running command or a zombie.
class Child {
 public:
  explicit Child(pid_t pid) : pid_(pid) {}
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (reaped_) return;
    Kill();
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  void Kill() const { ::kill(-pid_, SIGKILL); }  // the group: the child leads its own (SETPGROUP)
  // True once the child exited (its status in *status); false if it is still running.
  Result<bool> TryWait(int* status) {
    pid_t r;
    while ((r = ::waitpid(pid_, status, WNOHANG)) < 0 && errno == EINTR) {
    }
    if (r < 0) return Fail(Code::kInternal, std::string("waitpid: ") + std::strerror(errno));
    reaped_ = r == pid_;
    return reaped_;
  }

 private:
  pid_t pid_;
  bool reaped_ = false;
};

// posix_spawn's attributes and file actions, destroyed on every path.
struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

Result<pid_t> Spawn(const std::vector<std::string>& argv, int stdout_fd) {
  SpawnSetup s;
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);  // a tool killed by SIGPIPE should see the default action
  int rc = posix_spawn_file_actions_addopen(&s.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  if (rc == 0) rc = posix_spawn_file_actions_adddup2(&s.actions, stdout_fd, STDOUT_FILENO);
  if (rc == 0) rc = posix_spawnattr_setpgroup(&s.attr, 0);
  if (rc == 0) rc = posix_spawnattr_setsigmask(&s.attr, &none);
  if (rc == 0) rc = posix_spawnattr_setsigdefault(&s.attr, &defaults);
  if (rc == 0) {
    rc = posix_spawnattr_setflags(&s.attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  }
  if (rc != 0) return Fail(Code::kInternal, std::string("posix_spawn setup: ") + std::strerror(rc));
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  rc = ::posix_spawnp(&pid, args[0], &s.actions, &s.attr, args.data(), environ);
  if (rc != 0) return Fail(Code::kUnavailable, "cannot run " + argv[0] + ": " + std::strerror(rc));
  return pid;
}

int RemainingMs(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 1 << 30));
}

// Reads `fd` to EOF, within the deadline and the size cap.
Result<std::string> ReadAll(int fd, const CommandSpec& spec, Clock::time_point deadline) {
  std::string out;
  char buf[65536];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    const int n = ::poll(&p, 1, RemainingMs(deadline));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Fail(Code::kInternal, std::string("poll: ") + std::strerror(errno));
    if (n == 0)
      return Fail(Code::kUnavailable, "did not finish within " + std::to_string(spec.timeout.count()) + " ms");
    const ssize_t got = ::read(fd, buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return Fail(Code::kUnavailable, std::string("reading its output: ") + std::strerror(errno));
    if (got == 0) return out;
    if (out.size() + static_cast<std::size_t>(got) > spec.max_output) {
      return Fail(Code::kMalformedEvidence, "wrote more than " + std::to_string(spec.max_output) + " bytes");
    }
    out.append(buf, static_cast<std::size_t>(got));
  }
}

std::string DescribeStatus(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("was killed by signal ") + ::strsignal(WTERMSIG(status));
  return "ended abnormally";
}

Result<std::string> Run(const CommandSpec& spec) {
  const auto deadline = Clock::now() + spec.timeout;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Fail(Code::kUnavailable, std::string("pipe: ") + std::strerror(errno));
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  SIGIL_ASSIGN_OR_RETURN(pid_t pid, Spawn(spec.argv, write_end.get()));
  Child child(pid);
  write_end = UniqueFd();  // only the child holds the write end now: EOF when it (and its group) close it
  SIGIL_ASSIGN_OR_RETURN(std::string out, ReadAll(read_end.get(), spec, deadline));
  // Output closed; the process must still exit before the deadline.
  int status = 0;
  for (;;) {
    SIGIL_ASSIGN_OR_RETURN(bool done, child.TryWait(&status));
    if (done) break;
    if (Clock::now() >= deadline) {
      return Fail(Code::kUnavailable, "did not exit within " + std::to_string(spec.timeout.count()) + " ms");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return Fail(Code::kUnavailable, DescribeStatus(status));
  return out;
}

}  // namespace

Result<std::string> RunCapture(const CommandSpec& spec) {
  if (spec.argv.empty() || spec.argv[0].empty()) return Fail(Code::kInvalidArgument, "empty command");
  auto r = Run(spec);
  if (!r) return Fail(r.error().code(), "GPU report command " + spec.argv[0] + ": " + r.error().message());
  return r;
}

}  // namespace sigil::loader::gpu
