// "No plaintext outside locked memory", end to end through the real broker: while `sigil-load
// run` holds a marker-rich model decrypted and a hostile engine (sigil-sandbox-probe) has it
// open, no file containing the marker exists in the model's directory, the loader's working
// directory, the test's working directory, /tmp or /dev/shm, and none of the loader's or the
// engine's open descriptors names a file with it (memfds are fine: they are memory). And a
// crash of the loader after decryption leaves no core file, even with RLIMIT_CORE unlimited.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "core/encoding.h"
#include "core/file_io.h"
#include "tests/integration/broker_fixture.h"
#include "tests/support/matchers.h"

namespace sigil::integration {
namespace {

namespace fs = std::filesystem;
using testing::BinPath;

constexpr std::uintmax_t kMaxScan = std::uintmax_t{256} << 20;  // bigger files predate the load

// True if the file open at `fd` contains `marker` (chunked; matches across chunk borders).
bool FdContains(int fd, const std::string& marker) {
  std::string window;
  std::vector<char> buf(1 << 20);
  for (;;) {
    ssize_t n = read(fd, buf.data(), buf.size());
    if (n <= 0) return false;
    window.append(buf.data(), static_cast<std::size_t>(n));
    if (window.find(marker) != std::string::npos) return true;
    window.erase(0, window.size() > marker.size() ? window.size() - marker.size() : 0);
  }
}

// `follow` for /proc/PID/fd/N, which are (magic) symlinks; never for directory walks.
bool FileContains(const std::string& path, const std::string& marker, bool follow = false) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | (follow ? 0 : O_NOFOLLOW));
  if (fd < 0) return false;
  bool hit = FdContains(fd, marker);
  close(fd);
  return hit;
}

// Regular files under `root` modified at or after `since` that contain `marker`. Files older
// than the load cannot hold its plaintext, which keeps the scan of /tmp and the build tree cheap.
std::vector<std::string> FilesContaining(const std::string& root, const std::string& marker, time_t since) {
  std::vector<std::string> hits;
  std::error_code ec;
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    struct stat st {};
    if (lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (st.st_mtime < since || static_cast<std::uintmax_t>(st.st_size) > kMaxScan) continue;
    if (FileContains(it->path(), marker)) hits.push_back(it->path());
  }
  return hits;
}

struct OpenFiles {
  std::vector<std::string> memfds;      // "/memfd:NAME (deleted)": memory, not disk
  std::vector<std::string> with_marker; // files on a filesystem (deleted or not) holding plaintext
};

OpenFiles ScanOpenFiles(pid_t pid, const std::string& marker) {
  OpenFiles r;
  std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::error_code lec;
    std::string target = fs::read_symlink(e.path(), lec).string();
    if (lec || target.empty() || target[0] != '/') continue;  // pipe:, socket:, anon_inode:
    if (target.rfind("/memfd:", 0) == 0) {
      r.memfds.push_back(target);
    } else if (target.rfind("/dev/", 0) != 0 && target.rfind("/proc/", 0) != 0 && FileContains(e.path(), marker, true)) {
      r.with_marker.push_back(target);
    }
  }
  return r;
}

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += x + "\n";
  return s;
}

// Starts argv with `cwd` as working directory, stdio to `log`, killed if the test dies; with
// `unlimited_core`, RLIMIT_CORE is raised to unlimited first.
pid_t Spawn(const std::vector<std::string>& argv, const std::string& cwd, const std::string& log, bool unlimited_core) {
  pid_t pid = fork();
  if (pid == 0) {
    int in = open("/dev/null", O_RDONLY);
    int out = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0 || chdir(cwd.c_str()) != 0) _exit(120);
    struct rlimit unlimited {RLIM_INFINITY, RLIM_INFINITY};
    if (unlimited_core && setrlimit(RLIMIT_CORE, &unlimited) != 0) _exit(121);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

std::map<std::string, std::string> ReadReport(const std::string& path) {
  std::map<std::string, std::string> r;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    auto eq = line.find('=');
    if (eq != std::string::npos) r[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return r;
}

class NoPlaintext : public ::testing::Test {
 protected:
  void SetUp() override {
    auto& env = BrokerEnv::Get();
    std::random_device rd;
    Bytes rnd(12);
    for (auto& b : rnd) b = static_cast<std::uint8_t>(rd());
    marker_ = "SIGIL-PLAINTEXT-MARKER-" + HexEncode(rnd);  // fresh: no stale file can match
    std::string text;
    for (int i = 0; text.size() < (1u << 20); ++i) text += marker_ + "-" + std::to_string(i) + "\n";
    ASSERT_OK(WriteFileAtomic(dir_.File("model.bin"), AsBytes(text), 0600));
    auto pub = env.Sigil({"key", "public", "acme/model"});
    ASSERT_EQ(pub.exit_code, 0) << pub.err;
    ASSERT_OK(WriteFileAtomic(dir_.File("model.pub"), AsBytes(pub.out), 0644));
    auto enc = env.Sigil({"model", "encrypt", "--recipient", dir_.File("model.pub"), dir_.File("model.bin"), dir_.File("model.sgl")});
    ASSERT_EQ(enc.exit_code, 0) << enc.err;
    ASSERT_EQ(unlink(dir_.File("model.bin").c_str()), 0);  // from here on only ciphertext is on disk
    ASSERT_TRUE(FilesContaining(dir_.path(), marker_, 0).empty());
    auto m = sigil::testing::Run({BinPath("sigil-load"), "measure", "--engine", BinPath("sigil-sandbox-probe")});
    ASSERT_EQ(m.exit_code, 0) << m.err;
    ASSERT_EQ(env.Sigil({"refs", "add", "acme", "engines", m.out.substr(0, 96)}).exit_code, 0);
  }

  // Starts the load; returns the loader's pid and sets engine_ once the probe has read the model.
  pid_t StartLoad(const std::string& cwd, bool unlimited_core) {
    auto& env = BrokerEnv::Get();
    std::vector<std::string> argv{BinPath("sigil-load"), "run", "--broker", env.url(), "--ca", env.ca(), "--tenant", "acme",
                                  "--dev-platform-key", env.data_dir() + "/dev/platform.key", "--model", dir_.File("model.sgl"),
                                  "--", BinPath("sigil-sandbox-probe"), "--out", dir_.File("report"), "--model", "{model}",
                                  "--marker", marker_, "--pidfile", dir_.File("engine.pid")};
    pid_t loader = Spawn(argv, cwd, dir_.File("loader.log"), unlimited_core);
    std::string pid = sigil::testing::WaitForFile(dir_.File("engine.pid"), 60);
    engine_ = pid.empty() ? -1 : static_cast<pid_t>(std::stol(pid));
    return loader;
  }

  std::string Log() {
    auto b = ReadFile(dir_.File("loader.log"));
    return b ? std::string(b->begin(), b->end()) : "";
  }

  sigil::testing::TempDir dir_;
  std::string marker_;
  pid_t engine_ = -1;
};

TEST_F(NoPlaintext, NoFileWithPlaintextAppearsDuringALoad) {
  sigil::testing::TempDir cwd;
  time_t since = time(nullptr) - 1;
  pid_t loader = StartLoad(cwd.path(), false);
  ASSERT_GT(engine_, 0) << "the engine did not start:\n" << Log();
  auto report = ReadReport(dir_.File("report"));
  ASSERT_EQ(report["model_marker"], "1") << "the engine must see the plaintext (through its memfd)";

  std::vector<std::string> roots{dir_.path(), cwd.path(), fs::current_path().string(), "/tmp", "/dev/shm"};
  if (const char* t = std::getenv("TMPDIR")) roots.push_back(t);
  for (const auto& root : roots) EXPECT_EQ(Join(FilesContaining(root, marker_, since)), "") << "plaintext on disk under " << root;
  // Both processes are non-dumpable: only root (CAP_SYS_PTRACE) may list their descriptors; for
  // anyone else that refusal is the protection itself, and the probe lists its own fds.
  if (access(("/proc/" + std::to_string(loader) + "/fd").c_str(), R_OK | X_OK) == 0) {
    OpenFiles loader_files = ScanOpenFiles(loader, marker_);
    OpenFiles engine_files = ScanOpenFiles(engine_, marker_);
    EXPECT_EQ(Join(loader_files.with_marker), "");
    EXPECT_EQ(Join(engine_files.with_marker), "");
    EXPECT_FALSE(loader_files.memfds.empty()) << "the loader holds the weights memfd";
    ASSERT_EQ(engine_files.memfds.size(), 1u) << Join(engine_files.memfds);  // only the weights
    EXPECT_NE(engine_files.memfds[0].find("(deleted)"), std::string::npos);
  } else {
    EXPECT_NE(geteuid(), 0u);
    std::printf("note: not root: the loader's and engine's descriptors are not listable (non-dumpable)\n");
  }

  kill(engine_, SIGKILL);
  int st = 0;
  ASSERT_EQ(waitpid(loader, &st, 0), loader);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 128 + SIGKILL) << Log();
  for (const auto& root : roots) EXPECT_EQ(Join(FilesContaining(root, marker_, since)), "") << "left under " << root;
}

// When the engine is done, sigil-load overwrites the weights before it exits: a descriptor of
// the memfd that outlives the run (here the test's, taken as root through /proc; in life, one
// the engine passed to a child) then reads zeros, not the model.
TEST_F(NoPlaintext, WeightsAreZeroedWhenTheRunEnds) {
  sigil::testing::TempDir cwd;
  pid_t loader = StartLoad(cwd.path(), false);
  ASSERT_GT(engine_, 0) << "the engine did not start:\n" << Log();
  std::string fd_dir = "/proc/" + std::to_string(loader) + "/fd";
  if (access(fd_dir.c_str(), R_OK | X_OK) != 0) {
    kill(engine_, SIGKILL);
    waitpid(loader, nullptr, 0);
    GTEST_SKIP() << "not root: the non-dumpable loader's descriptors cannot be opened from outside";
  }
  int held = -1;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fd_dir, ec)) {
    std::error_code lec;
    if (fs::read_symlink(e.path(), lec).string().rfind("/memfd:sigil-model", 0) == 0) {
      held = open(e.path().c_str(), O_RDONLY | O_CLOEXEC);
      break;
    }
  }
  ASSERT_GE(held, 0) << "no weights memfd among the loader's descriptors";
  struct stat before {};
  ASSERT_EQ(fstat(held, &before), 0);
  EXPECT_TRUE(FdContains(held, marker_)) << "the held descriptor must see the weights during the run";
  kill(engine_, SIGKILL);
  int st = 0;
  ASSERT_EQ(waitpid(loader, &st, 0), loader);
  struct stat after {};
  ASSERT_EQ(fstat(held, &after), 0);
  EXPECT_EQ(after.st_size, before.st_size);
  ASSERT_EQ(lseek(held, 0, SEEK_SET), 0);
  EXPECT_FALSE(FdContains(held, marker_)) << "the weights outlived the run";
  ASSERT_EQ(lseek(held, 0, SEEK_SET), 0);
  std::vector<char> buf(1 << 16);
  bool all_zero = true;
  for (ssize_t n; (n = read(held, buf.data(), buf.size())) > 0;) {
    all_zero = all_zero && std::all_of(buf.begin(), buf.begin() + n, [](char c) { return c == 0; });
  }
  EXPECT_TRUE(all_zero);
  close(held);
}

// The scanner finds what it is looking for (so an empty result above means something).
TEST_F(NoPlaintext, ScannerFindsAPlaintextFile) {
  sigil::testing::TempDir other;
  ASSERT_OK(WriteFileAtomic(other.File("leak"), AsBytes("prefix " + marker_ + " suffix"), 0600));
  EXPECT_EQ(FilesContaining(other.path(), marker_, time(nullptr) - 5).size(), 1u);
  int fd = open(other.File("leak").c_str(), O_RDONLY);
  EXPECT_EQ(ScanOpenFiles(getpid(), marker_).with_marker.size(), 1u);
  close(fd);
}

// "7f12...-7f13... r--p 00000000 00:01 42  /memfd:sigil-model (deleted)" starts a mapping.
bool IsMappingHeader(const std::string& line) {
  std::string range = line.substr(0, line.find(' '));
  return range.find('-') != std::string::npos &&
         range.find_first_not_of("0123456789abcdef-") == std::string::npos;
}

// Is a crashing dumpable process given a core file here? (core_pattern may pipe elsewhere.)
bool DumpableCrashWritesCore(const std::string& dir) {
  pid_t pid = fork();
  if (pid == 0) {
    struct rlimit unlimited {RLIM_INFINITY, RLIM_INFINITY};
    if (chdir(dir.c_str()) != 0 || setrlimit(RLIMIT_CORE, &unlimited) != 0) _exit(1);

    raise(SIGSEGV);
    _exit(2);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  for (const auto& e : fs::directory_iterator(dir)) fs::remove(e.path());
  return WIFSIGNALED(st) && WCOREDUMP(st);
}

TEST_F(NoPlaintext, LoaderCrashAfterDecryptionLeavesNoCore) {
  sigil::testing::TempDir crash;
  bool control = DumpableCrashWritesCore(crash.path());
  pid_t loader = StartLoad(crash.path(), true);
  ASSERT_GT(engine_, 0) << "the engine did not start:\n" << Log();
  // The decrypted weights' mapping in the loader carries MADV_DONTDUMP ("dd", proc(5) smaps).
  // Only root can read a non-dumpable process's smaps; for others the refusal is the protection.
  std::ifstream smaps("/proc/" + std::to_string(loader) + "/smaps");
  bool readable = smaps.is_open() && smaps.peek() != std::ifstream::traits_type::eof();
  if (!readable) {
    EXPECT_NE(geteuid(), 0u);
    std::printf("note: not root: the loader's smaps is not readable (non-dumpable)\n");
  }
  bool in_memfd = false;
  int memfd_maps = 0, without_dd = 0;
  for (std::string line; std::getline(smaps, line);) {
    if (IsMappingHeader(line)) {
      in_memfd = line.find("/memfd:") != std::string::npos;
      memfd_maps += in_memfd;
    } else if (in_memfd && line.rfind("VmFlags:", 0) == 0) {
      without_dd += line.find(" dd") == std::string::npos;
    }
  }
  if (readable) {
    EXPECT_GT(memfd_maps, 0) << "no memfd mapping found in the loader";
  }
  EXPECT_EQ(without_dd, 0) << "a memfd mapping of the loader lacks MADV_DONTDUMP";

#if defined(__SANITIZE_ADDRESS__)
  // ASan installs its own SIGSEGV handler in the loader and aborts instead of letting the kernel
  // decide about a core; the crash half of this test is meaningful in the release build only.
  kill(loader, SIGKILL);
  waitpid(loader, nullptr, 0);
  GTEST_SKIP() << "the SIGSEGV/core check runs in the non-sanitizer build";
#endif
  ASSERT_EQ(kill(loader, SIGSEGV), 0);
  int st = 0;
  ASSERT_EQ(waitpid(loader, &st, 0), loader);
  ASSERT_TRUE(WIFSIGNALED(st)) << st;
  EXPECT_EQ(WTERMSIG(st), SIGSEGV);
  EXPECT_FALSE(WCOREDUMP(st)) << "the kernel dumped the loader's core";
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(crash.path())) left.push_back(e.path().filename().string());
  EXPECT_EQ(Join(left), "") << "files left where the core would go";
  if (!control) std::printf("note: core_pattern does not write cores to the working directory here\n");
  // The engine dies with its parent (PR_SET_PDEATHSIG); it is non-dumpable and killed, no core.
  for (int i = 0; i < 100 && kill(engine_, 0) == 0; ++i) usleep(50 * 1000);
  EXPECT_NE(kill(engine_, 0), 0) << "the engine outlived the loader";
}

}  // namespace
}  // namespace sigil::integration
