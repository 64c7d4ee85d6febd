// A user-space stand-in for the kernel's configfs-tsm (Documentation/ABI/testing/configfs-tsm)
// over a plain temporary directory, so the attester's real code path runs unchanged. A thread
// watches the root with inotify: when an entry directory appears it populates the attributes
// (provider, auxblob, an empty inblob, outblob as a FIFO so that reading it blocks until the
// "TSM" has answered, exactly like the kernel's outblob read), then `generation` last. When the
// attester closes inblob after writing, it records the inblob, bumps generation by
// `generation_step` (1 = well-behaved; 2 = another writer raced us) and serves `outblob`.
// `initial_generation` is the text `generation` starts with (a broken kernel could show anything).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/bytes.h"

namespace sigil::enclave::tsm::testing {

class FakeTsmKernel {
 public:
  FakeTsmKernel(std::string root, std::string provider, Bytes outblob, Bytes auxblob,
                int generation_step = 1, std::string initial_generation = "0")
      : root_(std::move(root)),
        provider_(std::move(provider)),
        outblob_(std::move(outblob)),
        auxblob_(std::move(auxblob)),
        step_(generation_step),
        initial_generation_(std::move(initial_generation)) {
    ::mkdir(root_.c_str(), 0700);
    inotify_ = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    inotify_add_watch(inotify_, root_.c_str(), IN_CREATE);
    if (::pipe2(stop_, O_CLOEXEC) != 0) stop_[0] = stop_[1] = -1;
    thread_ = std::thread([this] { Loop(); });
  }
  ~FakeTsmKernel() {
    if (::write(stop_[1], "x", 1) < 0) {
    }
    thread_.join();
    ::close(inotify_);
    ::close(stop_[0]);
    ::close(stop_[1]);
  }
  FakeTsmKernel(const FakeTsmKernel&) = delete;
  FakeTsmKernel& operator=(const FakeTsmKernel&) = delete;

  // Every inblob received, in order.
  std::vector<Bytes> inblobs() {
    std::lock_guard lock(mu_);
    return inblobs_;
  }

 private:
  static void WriteFile(const std::string& path, const Bytes& data) {
    const std::string tmp = path + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return;
    if (!data.empty() && ::write(fd, data.data(), data.size()) < 0) {
    }
    ::close(fd);
    ::rename(tmp.c_str(), path.c_str());  // readers see all or nothing
  }
  static Bytes ReadFile(const std::string& path) {
    Bytes out;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return out;
    std::uint8_t buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) out.insert(out.end(), buf, buf + n);
    ::close(fd);
    return out;
  }

  void Populate(const std::string& name) {
    const std::string entry = root_ + "/" + name;
    WriteFile(entry + "/provider", ToBytes(provider_ + "\n"));
    if (!auxblob_.empty()) WriteFile(entry + "/auxblob", auxblob_);
    WriteFile(entry + "/inblob", {});
    ::mkfifo((entry + "/outblob").c_str(), 0600);
    const int wd = inotify_add_watch(inotify_, entry.c_str(), IN_CLOSE_WRITE);
    entries_[wd] = entry;
    generation_[wd] = 0;
    WriteFile(entry + "/generation", ToBytes(initial_generation_ + "\n"));
  }

  void Answer(int wd) {
    const std::string entry = entries_[wd];
    {
      std::lock_guard lock(mu_);
      inblobs_.push_back(ReadFile(entry + "/inblob"));
    }
    generation_[wd] += step_;
    WriteFile(entry + "/generation", ToBytes(std::to_string(generation_[wd]) + "\n"));
    const int fd = ::open((entry + "/outblob").c_str(), O_WRONLY | O_CLOEXEC);  // waits for the reader
    if (fd < 0) return;
    if (::write(fd, outblob_.data(), outblob_.size()) < 0) {
    }
    ::close(fd);
  }

  void Loop() {
    alignas(inotify_event) char buf[4096];
    while (true) {
      pollfd fds[2] = {{inotify_, POLLIN, 0}, {stop_[0], POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) continue;
      if (fds[1].revents != 0) return;
      const ssize_t n = ::read(inotify_, buf, sizeof buf);
      for (ssize_t off = 0; off < n;) {
        auto* ev = reinterpret_cast<inotify_event*>(buf + off);
        const std::string name = ev->len > 0 ? ev->name : "";
        if ((ev->mask & IN_CREATE) && (ev->mask & IN_ISDIR) && entries_.count(ev->wd) == 0) {
          Populate(name);
        } else if ((ev->mask & IN_CLOSE_WRITE) && name == "inblob") {
          Answer(ev->wd);
        }
        off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
      }
    }
  }

  std::string root_, provider_;
  Bytes outblob_, auxblob_;
  int step_;
  std::string initial_generation_;
  int inotify_ = -1;
  int stop_[2] = {-1, -1};
  std::map<int, std::string> entries_;
  std::map<int, std::uint64_t> generation_;
  std::mutex mu_;
  std::vector<Bytes> inblobs_;
  std::thread thread_;
};

}  // namespace sigil::enclave::tsm::testing
