// Starts the inference engine as a child that can reach the decrypted weights only through one
// inherited, sealed memfd: `{model}` in its arguments becomes /proc/self/fd/N. The child gets
// RLIMIT_CORE 0, PR_SET_NO_NEW_PRIVS and dies with its parent. The binary is executed from the
// same open file descriptor that was measured (fexecve), so what ran is what was attested.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"

namespace sigil::loader {

struct EngineCommand {
  int binary_fd = -1;             // open O_RDONLY|O_CLOEXEC on the engine binary (measured)
  std::vector<std::string> argv;  // argv[0] is the name shown; "{model}" is substituted
  int model_fd = -1;              // the sealed memfd
};

// Opens the engine binary for measurement and execution (PATH lookup for bare names).
Result<int> OpenEngineBinary(const std::string& name_or_path);

// Runs the engine and waits; returns its exit status (128+signal if killed).
Result<int> RunEngine(const EngineCommand& cmd);

}  // namespace sigil::loader
