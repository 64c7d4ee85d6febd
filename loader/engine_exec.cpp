#include "loader/engine_exec.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "loader/sandbox_caps.h"
#include "loader/sandbox_image.h"
#include "loader/sandbox_seccomp.h"

namespace sigil::loader {
namespace {

// Everything the child needs, computed before fork() so the child only makes syscalls.
struct ChildPlan {
  int binary_fd;
  std::vector<char*> argv;
  std::vector<int> keep_fds;
  bool new_netns;
  const SeccompProgram* seccomp;
  pid_t parent;
};

// Async-signal-safe "sigil-load: cannot prepare the engine process: STEP: errno N", then _exit.
[[noreturn]] void ChildDie(const char* step, int err, int status) {
  char num[12];
  char* p = num + sizeof num;
  unsigned v = static_cast<unsigned>(err);
  do {
    *--p = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0 && p > num);
  const char* prefix = status == 127 ? "sigil-load: cannot execute the engine: "
                                     : "sigil-load: cannot prepare the engine process: ";
  auto put = [](const char* s, std::size_t len) { (void)!::write(STDERR_FILENO, s, len); };
  put(prefix, std::strlen(prefix));
  put(step, std::strlen(step));
  put(": errno ", 8);
  put(p, static_cast<std::size_t>(num + sizeof num - p));
  put("\n", 1);
  _exit(status);
}

// Marks every fd >= 3 close-on-exec; close_range(2) since Linux 5.11, else one fcntl per fd.
void CloseOnExecAboveStdio() {
  if (::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
  long max = ::sysconf(_SC_OPEN_MAX);
  for (long fd = 3; fd < (max > 0 ? max : 1024); ++fd) {
    int flags = ::fcntl(static_cast<int>(fd), F_GETFD);
    if (flags >= 0) ::fcntl(static_cast<int>(fd), F_SETFD, flags | FD_CLOEXEC);
  }
}

[[noreturn]] void RunChild(const ChildPlan& p) {
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) ChildDie("PR_SET_PDEATHSIG", errno, 126);
  if (::getppid() != p.parent) _exit(126);  // the loader died before PDEATHSIG was armed
  CloseOnExecAboveStdio();
  for (int fd : p.keep_fds) {
    int flags = ::fcntl(fd, F_GETFD);
    if (flags < 0 || ::fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) != 0) ChildDie("inherit weights fd", errno, 126);
  }
  struct rlimit no_core {0, 0};
  if (::setrlimit(RLIMIT_CORE, &no_core) != 0) ChildDie("RLIMIT_CORE", errno, 126);
  // coredump_filter survives execve (proc(5)); with a pipe core_pattern RLIMIT_CORE is not
  // applied, so this keeps the weights mapping out of a core even then.
  if (int f = ::open("/proc/self/coredump_filter", O_WRONLY | O_CLOEXEC); f >= 0) {
    (void)!::write(f, "0", 1);
    ::close(f);
  }
  if (p.new_netns && ::unshare(CLONE_NEWNET) != 0) ChildDie("unshare(CLONE_NEWNET)", errno, 126);
  // After the namespace (CAP_SYS_ADMIN), before the filter: nothing below needs a capability.
  if (int err = DropAllCapabilities(); err != 0) ChildDie("drop capabilities", err, 126);
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ChildDie("PR_SET_NO_NEW_PRIVS", errno, 126);
  if (int err = p.seccomp->Install(); err != 0) ChildDie("seccomp filter", err, 126);
  ::fexecve(p.binary_fd, p.argv.data(), environ);
  ChildDie("fexecve", errno, 127);
}

bool CanUnshareNet() { return HasEffectiveCapability(CAP_SYS_ADMIN); }

}  // namespace

Result<int> OpenEngineBinary(const std::string& name) {
  std::vector<std::string> candidates;
  if (name.find('/') != std::string::npos) {
    candidates.push_back(name);
  } else if (const char* path = std::getenv("PATH")) {
    std::string p = path;
    std::size_t start = 0;
    while (start <= p.size()) {
      std::size_t end = p.find(':', start);
      if (end == std::string::npos) end = p.size();
      candidates.push_back(p.substr(start, end - start) + "/" + name);
      start = end + 1;
    }
  }
  for (const auto& c : candidates) {
    if (::access(c.c_str(), X_OK) != 0) continue;
    int fd = ::open(c.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    Result<int> image = CopyToSealedImage(fd);
    ::close(fd);
    if (!image && image.error().code() == Code::kInvalidArgument) continue;  // a directory
    if (!image) return Fail(image.error().code(), c + ": " + image.error().message());
    return image;
  }
  return Fail(Code::kNotFound, "engine '" + name + "' not found or not executable");
}

std::vector<std::string> SandboxNotes(const SandboxConfig& config) {
  std::vector<std::string> notes;
  if (config.private_netns && !CanUnshareNet()) {
    notes.push_back(std::string("the engine shares the host network namespace: a private one needs CAP_SYS_ADMIN") +
                    (config.no_network ? " (--no-network's seccomp rule still refuses non-AF_UNIX sockets)" : ""));
  }
  if (SuidDumpable() == 1) {
    notes.push_back("fs.suid_dumpable is 1: the engine stays dumpable, so same-user processes can ptrace it "
                    "and read its memory; set it to 0 (sysctl fs.suid_dumpable=0)");
  }
  return notes;
}

Result<int> RunEngine(const EngineCommand& cmd) {
  if (cmd.argv.empty()) return Fail(Code::kInvalidArgument, "no engine command given (after --)");
  std::string model_path = "/proc/self/fd/" + std::to_string(cmd.model_fd);
  std::vector<std::string> args;
  for (const auto& a : cmd.argv) {
    std::string s = a;
    for (auto pos = s.find("{model}"); pos != std::string::npos; pos = s.find("{model}", pos + model_path.size())) {
      s.replace(pos, 7, model_path);
    }
    args.push_back(s);
  }
  SIGIL_ASSIGN_OR_RETURN(SeccompProgram seccomp, SeccompProgram::Build(cmd.sandbox));
  SIGIL_RETURN_IF_ERROR(MakeImageExecuteOnly(cmd.binary_fd));
  ChildPlan plan{cmd.binary_fd, {}, {}, cmd.sandbox.private_netns && CanUnshareNet(), &seccomp, ::getpid()};
  for (auto& a : args) plan.argv.push_back(a.data());
  plan.argv.push_back(nullptr);
  if (cmd.model_fd >= 0) plan.keep_fds.push_back(cmd.model_fd);
  for (int fd : cmd.extra_fds) {
    if (fd < 0) return Fail(Code::kInvalidArgument, "engine: invalid extra descriptor " + std::to_string(fd));
    plan.keep_fds.push_back(fd);
  }
  pid_t pid = ::fork();
  if (pid < 0) return Fail(Code::kUnavailable, std::string("fork: ") + std::strerror(errno));
  if (pid == 0) RunChild(plan);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Fail(Code::kInternal, std::string("waitpid: ") + std::strerror(errno));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace sigil::loader
