// Runs an operator-configured command and captures its standard output, bounded in time and
// size: how sigil-load asks NVIDIA's tools for GPU reports (docs/cli.md --gpu-report-cmd).
// The command gets no shell, stdin from /dev/null, sigil-load's stderr (its diagnostics reach the
// operator) and environment, and its own process group, so a timeout or an oversized output
// kills whatever it started too. Nothing else of sigil-load's is inherited: every descriptor
// sigil-load opens is close-on-exec.
// Thread-safety: RunCapture may be called concurrently; each call owns its child and pipe.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "core/result.h"

namespace sigil::loader::gpu {

struct CommandSpec {
  std::vector<std::string> argv;  // argv[0] without '/' is searched in PATH
  std::chrono::milliseconds timeout{60000};
  std::size_t max_output = 1 << 20;
};

// The command's whole stdout once it exited with status 0. The child is always reaped (and its
// process group killed first, on failure) before this returns. Fails with
//  kInvalidArgument   empty argv;
//  kUnavailable       it could not be started, exited non-zero, was killed by a signal, or did
//                     not finish (output closed and process exited) within `timeout`;
//  kMalformedEvidence it wrote more than `max_output` bytes.
Result<std::string> RunCapture(const CommandSpec& spec);

}  // namespace sigil::loader::gpu
