#include "loader/engine_exec.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace sigil::loader {

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
    if (fd >= 0) return fd;
  }
  return Fail(Code::kNotFound, "engine '" + name + "' not found or not executable");
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
  pid_t pid = ::fork();
  if (pid < 0) return Fail(Code::kUnavailable, std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    // Child: only the model fd is inherited on top of stdio (everything else is O_CLOEXEC).
    int flags = ::fcntl(cmd.model_fd, F_GETFD);
    struct rlimit no_core {0, 0};
    if (flags < 0 || ::fcntl(cmd.model_fd, F_SETFD, flags & ~FD_CLOEXEC) != 0 || ::setrlimit(RLIMIT_CORE, &no_core) != 0 ||
        ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || ::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) {
      std::fprintf(stderr, "sigil-load: cannot prepare the engine process: %s\n", std::strerror(errno));
      _exit(126);
    }
    std::vector<char*> cargs;
    for (auto& a : args) cargs.push_back(a.data());
    cargs.push_back(nullptr);
    ::fexecve(cmd.binary_fd, cargs.data(), environ);
    std::fprintf(stderr, "sigil-load: cannot execute the engine: %s\n", std::strerror(errno));
    _exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Fail(Code::kInternal, std::string("waitpid: ") + std::strerror(errno));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace sigil::loader
