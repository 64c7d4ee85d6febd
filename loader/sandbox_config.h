// The engine sandbox's configuration and its canonical serialisation. The canonical bytes are
// the `sandbox_config` input of the dev measurement (enclave/measurement.h), so a reference
// value approves an engine binary *and* the confinement it runs under: changing either changes
// the measurement. The seccomp filter (sandbox_seccomp.h) is built from the same DeniedSyscalls()
// list that is serialised here, so the measured description cannot drift from the filter.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

namespace sigil::loader {

struct SandboxConfig {
  // socket(2) only for AF_UNIX (other families fail with EPERM) and io_uring_setup(2) denied
  // (io_uring's IORING_OP_SOCKET would bypass the socket rule; seccomp does not see its ops).
  bool no_network = false;
  // A fresh, empty network namespace (CLONE_NEWNET) when sigil-load has CAP_SYS_ADMIN;
  // otherwise the engine shares the host's and sigil-load prints a note. Filesystem AF_UNIX
  // sockets still work across namespaces, so an engine can serve on a socket path.
  bool private_netns = true;
  // The weights memfd must be locked in memory (mlock): if RLIMIT_MEMLOCK refuses, the load
  // fails. `sigil-load run --allow-unlocked` sets this to continue unlocked (swappable) with a
  // warning instead; being part of the measured configuration, that choice changes the
  // measurement, so a reference value approved without it does not admit it.
  bool allow_unlocked_weights = false;
};

// Syscalls the filter makes fail with EPERM whatever their arguments (sorted, by name as
// libseccomp knows them): ptrace, process_vm_readv/writev and pidfd_getfd (taking another
// process's descriptors), plus io_uring_setup with no_network.
std::vector<std::string> DeniedSyscalls(const SandboxConfig& config);

// Short canonical JSON (sorted keys, no whitespace), e.g.
// {"caps":"none","core":"rlimit0,filter0,nondumpable","fds":"stdio+weights",
//  "netns":"private_if_privileged","seccomp":{"deny_eperm":[...],"foreign_arch":"kill",
//  "socket":"any"},"v":1,"weights":"mlock_required"}
// "caps":"none": the engine starts with no capability (engine_exec.h); "weights" is
// "mlock_required", or "mlock_best_effort" with allow_unlocked_weights.
std::string CanonicalSandboxConfig(const SandboxConfig& config);

}  // namespace sigil::loader
