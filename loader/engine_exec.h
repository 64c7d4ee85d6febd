// Starts the inference engine as a confined child that reaches the decrypted weights only through
// inherited, sealed memfds: `{model}` in its arguments becomes /proc/self/fd/N. What the child
// gets before it executes the engine (docs/architecture.md, "Engine sandbox"):
//   - every descriptor >= 3 closed on exec except the weights fd(s) (close_range(2));
//   - RLIMIT_CORE 0 and coredump_filter 0;
//   - a fresh network namespace if the configuration asks for it and sigil-load has
//     CAP_SYS_ADMIN (SandboxNotes() says when it does not);
//   - every capability dropped (bounding, ambient, effective, permitted, inheritable:
//     sandbox_caps.h), so a root sigil-load starts an engine that holds none;
//   - PR_SET_NO_NEW_PRIVS, PR_SET_PDEATHSIG(SIGKILL);
//   - the seccomp filter of sandbox_seccomp.h (ptrace, process_vm_readv/writev, pidfd_getfd
//     fail with EPERM; with no_network also socket() other than AF_UNIX, and io_uring);
//   - fexecve(3) of the sealed, measured engine image made execute-only, so the engine starts
//     non-dumpable (sandbox_image.h): no core, no ptrace or /proc/PID/mem by same-user processes.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"
#include "loader/sandbox_config.h"

namespace sigil::loader {

struct EngineCommand {
  int binary_fd = -1;             // from OpenEngineBinary(): the sealed image that was measured
  std::vector<std::string> argv;  // argv[0] is the name shown; "{model}" is substituted
  int model_fd = -1;              // the sealed memfd ({model}); -1 for none
  std::vector<int> extra_fds;     // further descriptors the engine inherits (e.g. model shards)
  SandboxConfig sandbox;          // must be the configuration that was measured
};

// Finds the engine binary (PATH lookup for bare names) and copies it into a sealed in-memory
// image (sandbox_image.h): measure and execute that descriptor. kNotFound if no candidate is an
// executable regular file.
Result<int> OpenEngineBinary(const std::string& name_or_path);

// What this machine cannot give the configuration (no CAP_SYS_ADMIN for the network namespace,
// fs.suid_dumpable=1), one sentence each, for sigil-load to print as notes.
std::vector<std::string> SandboxNotes(const SandboxConfig& config);

// Runs the engine confined as above and waits; returns its exit status (128+signal if killed).
// A failure to confine the child is reported by the child on stderr with exit status 126
// (127 if the exec itself fails).
Result<int> RunEngine(const EngineCommand& cmd);

}  // namespace sigil::loader
