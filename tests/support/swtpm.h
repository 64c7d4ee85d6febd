// A real TPM 2.0 for tests: swtpm (libtpms) in socket mode on 127.0.0.1, started on free ports
// and stopped by the test. The process dies with the test (PR_SET_PDEATHSIG) and on Stop() or
// destruction (SIGTERM, then SIGKILL). Its state (NV indexes, persistent objects, seeds) lives in
// `state_dir`: starting again on the same directory is a reboot of the same TPM (PCRs reset,
// persistent state kept). swtpm serves one client connection at a time; others queue.
#pragma once

#include <sys/types.h>

#include <string>

#include "core/result.h"

namespace sigil::testing {

class Swtpm {
 public:
  // Starts `swtpm socket --tpm2` with --flags not-need-init,startup-clear on a free port pair
  // (server P, control P+1; retried with new ports if the bind loses a race) and waits until it
  // accepts connections. `state_dir` must exist. kUnavailable if swtpm is missing or never comes up
  // (its log is in state_dir/swtpm.log).
  static Result<Swtpm> Start(const std::string& state_dir);

  Swtpm(Swtpm&& o) noexcept;
  Swtpm& operator=(Swtpm&& o) noexcept;
  Swtpm(const Swtpm&) = delete;
  Swtpm& operator=(const Swtpm&) = delete;
  ~Swtpm();

  // "swtpm:host=127.0.0.1,port=P" for Tss2_TctiLdr_Initialize / sigil-load --tpm-tcti.
  std::string Tcti() const;
  // The value for TPM2TOOLS_TCTI (tpm2-tools uses the same loader syntax).
  std::string ToolsTcti() const { return Tcti(); }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  // SIGTERM, wait up to 5 s, then SIGKILL. Idempotent.
  void Stop();

 private:
  Swtpm(pid_t pid, int port) : pid_(pid), port_(port) {}
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace sigil::testing
