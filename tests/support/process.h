// Running the project's binaries from tests: one-shot commands with captured output, and
// background servers that die with the test process (PR_SET_PDEATHSIG) and on destruction.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace sigil::testing {

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs argv[0] (a path) with the given extra environment ("NAME=value"), stdin from /dev/null.
CommandResult Run(const std::vector<std::string>& argv, const std::vector<std::string>& env = {});

class BackgroundProcess {
 public:
  BackgroundProcess(const std::vector<std::string>& argv, const std::string& log_file,
                    const std::vector<std::string>& env = {});
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;
  pid_t pid() const { return pid_; }
  // SIGTERM, then wait; returns the exit status (or -1).
  int Stop();

 private:
  pid_t pid_ = -1;
};

std::string BinPath(const std::string& name);  // SIGIL_BIN_DIR/name
// Waits up to `seconds` for `path` to exist and be non-empty; returns its contents or "".
std::string WaitForFile(const std::string& path, double seconds);

}  // namespace sigil::testing
