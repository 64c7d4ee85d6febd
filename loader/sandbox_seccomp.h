// The engine's seccomp filter, built with libseccomp from a SandboxConfig and exported as a
// classic BPF program in the parent, so the forked child only has to install it: one prctl(2),
// async-signal-safe, no allocation after fork() in a multi-threaded loader.
//
// Default action ALLOW; every syscall in DeniedSyscalls() returns -1/EPERM; with no_network,
// socket(2) with a domain other than AF_UNIX returns -1/EPERM; a syscall made through a foreign
// ABI (i386 int 0x80, x32) kills the process, so the rules cannot be sidestepped that way.
// The filter survives execve(2) and is inherited by every descendant (seccomp(2)).
// Thread-safety: immutable after Build().
#pragma once

#include <linux/filter.h>

#include <vector>

#include "core/result.h"
#include "loader/sandbox_config.h"

namespace sigil::loader {

class SeccompProgram {
 public:
  // kInternal naming the libseccomp call that failed (or the syscall name it did not know).
  static Result<SeccompProgram> Build(const SandboxConfig& config);

  // Installs the filter on the calling thread (needs PR_SET_NO_NEW_PRIVS or CAP_SYS_ADMIN).
  // Returns 0 or an errno value. Async-signal-safe.
  int Install() const noexcept;
  std::size_t instructions() const { return filter_.size(); }

 private:
  std::vector<sock_filter> filter_;
};

}  // namespace sigil::loader
