// sigil-sandbox-probe: a deliberately hostile "engine" for the sandbox tests. Started by
// RunEngine / `sigil-load run`, it tries what the sandbox must forbid and writes one
// `name=RESULT` line per attempt (RESULT is OK or the errno name) to --out, then optionally
// writes its pid to --pidfile and waits (up to 120 s) so a test can attack it from outside.
//
//   sigil-sandbox-probe --out FILE [--model PATH] [--marker TEXT] [--pidfile FILE]
#include <fcntl.h>
#include <linux/io_uring.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>


#if defined(__SANITIZE_ADDRESS__)
// Sanitizer builds only: LeakSanitizer stops the world with ptrace, which the engine sandbox's
// seccomp filter denies by design, so the leak check would abort every sandboxed run.
extern "C" int __lsan_is_turned_off() { return 1; }
#endif

namespace {

std::string ErrName(int err) {
  switch (err) {
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case EBADF: return "EBADF";
    case EINVAL: return "EINVAL";
    case ENOSYS: return "ENOSYS";
    case ESRCH: return "ESRCH";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EIO: return "EIO";
    default: return "errno" + std::to_string(err);
  }
}

// OK if rc >= 0 (closing a returned descriptor), else the errno name.
std::string Outcome(long rc, bool close_fd = false) {
  int err = errno;
  if (rc < 0) return ErrName(err);
  if (close_fd) ::close(static_cast<int>(rc));
  return "OK";
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string StatusField(const std::string& field) {
  std::istringstream in(ReadAll("/proc/self/status"));
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(field + ":", 0) == 0) {
      std::string v = line.substr(field.size() + 1);
      return v.substr(v.find_first_not_of(" \t"));
    }
  }
  return "?";
}

std::string OpenFds() {
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) return "?";
  int own = ::dirfd(d);
  std::vector<int> fds;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    int fd = std::atoi(e->d_name);
    if (fd != own) fds.push_back(fd);
  }
  ::closedir(d);
  std::sort(fds.begin(), fds.end());
  std::string out;
  for (int fd : fds) out += (out.empty() ? "" : ",") + std::to_string(fd);
  return out;
}

std::string Interfaces() {
  std::istringstream in(ReadAll("/proc/self/net/dev"));
  std::string out, line;
  for (int i = 0; std::getline(in, line); ++i) {
    if (i < 2) continue;  // two header lines
    std::string name = line.substr(0, line.find(':'));
    name = name.substr(name.find_first_not_of(' '));
    out += (out.empty() ? "" : ",") + name;
  }
  return out;
}

void ProbeModel(const std::string& path, const std::string& marker, std::vector<std::string>& r) {
  int fd = ::open(path.c_str(), O_RDONLY);
  r.push_back("model_open=" + Outcome(fd));
  if (fd < 0) return;
  std::string data = ReadAll(path);
  r.push_back("model_bytes=" + std::to_string(data.size()));
  if (!marker.empty()) r.push_back(std::string("model_marker=") + (data.find(marker) != std::string::npos ? "1" : "0"));
  char byte = 'X';
  r.push_back("model_pwrite=" + Outcome(::pwrite(fd, &byte, 1, 0)));
  r.push_back("model_ftruncate=" + Outcome(::ftruncate(fd, 0)));
  int rw = ::open(path.c_str(), O_RDWR);  // reopening the memfd read-write is allowed...
  r.push_back("model_reopen_rdwr=" + Outcome(rw));
  if (rw >= 0) {
    r.push_back("model_write=" + Outcome(::write(rw, &byte, 1)));  // ...but the seal refuses writes
    void* p = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, rw, 0);
    r.push_back("model_mmap_shared_write=" + Outcome(p == MAP_FAILED ? -1 : 0));
    if (p != MAP_FAILED) ::munmap(p, 4096);
    // A read-only shared mapping (how engines map weights) must not become writable later.
    void* ro = ::mmap(nullptr, 4096, PROT_READ, MAP_SHARED, rw, 0);
    r.push_back("model_mmap_shared_read=" + Outcome(ro == MAP_FAILED ? -1 : 0));
    if (ro != MAP_FAILED) {
      r.push_back("model_mprotect_write=" + Outcome(::mprotect(ro, 4096, PROT_READ | PROT_WRITE)));
      ::munmap(ro, 4096);
    }
    ::close(rw);
  }
  ::close(fd);
}

}  // namespace

int main(int argc, char** argv) {
  std::string out, model, marker, pidfile;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--out") out = v;
    else if (k == "--model") model = v;
    else if (k == "--marker") marker = v;
    else if (k == "--pidfile") pidfile = v;
  }
  if (out.empty()) {
    std::fprintf(stderr, "usage: sigil-sandbox-probe --out FILE [--model P] [--marker M] [--pidfile F]\n");
    return 2;
  }
  std::vector<std::string> r;
  r.push_back("fds=" + OpenFds());
  r.push_back("dumpable=" + std::to_string(::prctl(PR_GET_DUMPABLE)));
  r.push_back("no_new_privs=" + std::to_string(::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0)));
  r.push_back("seccomp=" + StatusField("Seccomp"));
  for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"}) {
    r.push_back(std::string(set) + "=" + StatusField(set));  // hex masks, as /proc/self/status shows them
  }
  rlimit core{};
  ::getrlimit(RLIMIT_CORE, &core);
  r.push_back("rlimit_core=" + std::to_string(core.rlim_cur));
  r.push_back("coredump_filter=" + ReadAll("/proc/self/coredump_filter"));
  if (!r.back().empty() && r.back().back() == '\n') r.back().pop_back();
  r.push_back("net_ifaces=" + Interfaces());
  pid_t parent = ::getppid();
  r.push_back("ptrace_traceme=" + Outcome(::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr)));
  r.push_back("ptrace_attach_parent=" + Outcome(::ptrace(PTRACE_ATTACH, parent, nullptr, nullptr)));
  char buf[16];
  iovec local{buf, sizeof buf}, remote{buf, sizeof buf};  // same address in the parent (fork)
  r.push_back("process_vm_readv=" + Outcome(::process_vm_readv(parent, &local, 1, &remote, 1, 0)));
  r.push_back("process_vm_writev=" + Outcome(::process_vm_writev(parent, &local, 1, &remote, 1, 0)));
  long pidfd = ::syscall(SYS_pidfd_open, parent, 0);
  r.push_back("pidfd_getfd=" + (pidfd < 0 ? "pidfd_open_" + Outcome(pidfd) : Outcome(::syscall(SYS_pidfd_getfd, pidfd, 0, 0), true)));
  if (pidfd >= 0) ::close(static_cast<int>(pidfd));
  r.push_back("socket_inet=" + Outcome(::socket(AF_INET, SOCK_STREAM, 0), true));
  r.push_back("socket_inet6=" + Outcome(::socket(AF_INET6, SOCK_DGRAM, 0), true));
  r.push_back("socket_netlink=" + Outcome(::socket(AF_NETLINK, SOCK_RAW, 0), true));
  r.push_back("socket_unix=" + Outcome(::socket(AF_UNIX, SOCK_STREAM, 0), true));
  io_uring_params params{};
  r.push_back("io_uring_setup=" + Outcome(::syscall(SYS_io_uring_setup, 1, &params), true));
  if (!model.empty()) ProbeModel(model, marker, r);

  std::string text;
  for (const auto& line : r) text += line + "\n";
  std::string tmp = out + ".tmp";
  if (FILE* f = std::fopen(tmp.c_str(), "w")) {
    std::fputs(text.c_str(), f);
    std::fclose(f);
    std::rename(tmp.c_str(), out.c_str());
  }
  if (pidfile.empty()) return 0;
  std::string ptmp = pidfile + ".tmp";
  if (FILE* f = std::fopen(ptmp.c_str(), "w")) {
    std::fprintf(f, "%d\n", static_cast<int>(::getpid()));
    std::fclose(f);
    std::rename(ptmp.c_str(), pidfile.c_str());
  }
  for (int i = 0; i < 1200; ++i) ::usleep(100 * 1000);  // killed by the test or by PDEATHSIG
  return 0;
}
