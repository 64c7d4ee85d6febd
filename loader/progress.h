// Progress reporting for long byte-oriented jobs (`sigil model encrypt`, `sigil-load`): a bar
// with bytes, rate and ETA when stderr is a terminal, one JSON object per line with --json,
// nothing otherwise (pipes and logs stay clean). Format of the JSON lines: docs/cli.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "loader/container_writer.h"

namespace sigil::loader {

enum class ProgressMode {
  kAuto,  // a bar if the fd is a TTY, else silent
  kJson,  // JSON lines, whatever the fd is
  kNone,  // silent
};

// Not thread-safe: the decryptor and encryptor call their ProgressFn from one thread only.
class ProgressReporter {
 public:
  // `task` names the job in the output ("encrypt", "decrypt"); `fd` is where output goes.
  ProgressReporter(std::string task, ProgressMode mode, int fd);
  ~ProgressReporter();  // Finish()
  ProgressReporter(const ProgressReporter&) = delete;
  ProgressReporter& operator=(const ProgressReporter&) = delete;

  // Reports `done` of `total` bytes. The first call and the first call with done == total are
  // always written; others at most every 100 ms (bar) or 500 ms (JSON), so callers may call
  // as often as they like.
  void Update(std::uint64_t done, std::uint64_t total);
  // Ends the bar's line. Idempotent; nothing for JSON or silent modes.
  void Finish();
  // A ProgressFn bound to this reporter (which must outlive it).
  ProgressFn Fn() {
    return [this](std::uint64_t done, std::uint64_t total) { Update(done, total); };
  }
  bool active() const { return mode_ != ProgressMode::kNone; }

 private:
  void Write(const std::string& s);
  std::string task_;
  ProgressMode mode_;
  int fd_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_{};
  bool started_ = false;
  bool completed_ = false;
  bool bar_open_ = false;
};

// "1.5 GiB", "312.0 MiB", "17 B": binary units, one decimal.
std::string HumanBytes(double bytes);

}  // namespace sigil::loader
