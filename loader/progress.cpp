#include "loader/progress.h"

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>

#include "core/json.h"

namespace sigil::loader {
namespace {

constexpr auto kBarInterval = std::chrono::milliseconds(100);
constexpr auto kJsonInterval = std::chrono::milliseconds(500);
constexpr int kBarWidth = 30;

std::string Eta(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--:--";
  auto s = static_cast<long long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%02lld:%02lld", s / 60, s % 60);
  }
  return buf;
}

}  // namespace

std::string HumanBytes(double bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) {
    bytes /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0) {
    std::snprintf(buf, sizeof buf, "%.0f B", bytes);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f %s", bytes, kUnits[u]);
  }
  return buf;
}

ProgressReporter::ProgressReporter(std::string task, ProgressMode mode, int fd)
    : task_(std::move(task)), mode_(mode), fd_(fd), start_(std::chrono::steady_clock::now()) {
  if (mode_ == ProgressMode::kAuto) mode_ = ::isatty(fd_) == 1 ? ProgressMode::kAuto : ProgressMode::kNone;
}

ProgressReporter::~ProgressReporter() { Finish(); }

void ProgressReporter::Write(const std::string& s) {
  // Best effort: progress output must never fail the job it reports on.
  for (std::size_t off = 0; off < s.size();) {
    ssize_t n = ::write(fd_, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    off += static_cast<std::size_t>(n);
  }
}

void ProgressReporter::Update(std::uint64_t done, std::uint64_t total) {
  if (mode_ == ProgressMode::kNone || completed_) return;
  auto now = std::chrono::steady_clock::now();
  bool complete = done >= total;
  auto interval = mode_ == ProgressMode::kJson ? kJsonInterval : kBarInterval;
  if (started_ && !complete && now - last_ < interval) return;
  started_ = true;
  completed_ = complete;
  last_ = now;
  double elapsed = std::chrono::duration<double>(now - start_).count();
  double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
  double eta = rate > 0 ? static_cast<double>(total - std::min(done, total)) / rate : -1;
  if (mode_ == ProgressMode::kJson) {
    Json j = {{"type", "progress"}, {"task", task_},  {"done_bytes", done},      {"total_bytes", total},
              {"elapsed_s", elapsed}, {"rate_bytes_per_s", rate}, {"complete", complete}};
    j["eta_s"] = eta >= 0 ? Json(eta) : Json(nullptr);
    Write(CanonicalJson(j) + "\n");
    return;
  }
  double frac = total == 0 ? 1.0 : static_cast<double>(done) / static_cast<double>(total);
  int fill = static_cast<int>(frac * kBarWidth);
  std::string bar(static_cast<std::size_t>(fill), '#');
  bar.resize(kBarWidth, '-');
  char line[256];
  std::snprintf(line, sizeof line, "\r%s [%s] %3.0f%% %s / %s  %s/s  ETA %s\x1b[K", task_.c_str(), bar.c_str(),
                frac * 100, HumanBytes(static_cast<double>(done)).c_str(),
                HumanBytes(static_cast<double>(total)).c_str(), HumanBytes(rate).c_str(),
                complete ? Eta(0).c_str() : Eta(eta).c_str());
  Write(line);
  bar_open_ = true;
}

void ProgressReporter::Finish() {
  if (bar_open_) Write("\n");
  bar_open_ = false;
}

}  // namespace sigil::loader
