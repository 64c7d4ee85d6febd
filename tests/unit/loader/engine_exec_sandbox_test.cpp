// RunEngine against a hostile engine (sigil-sandbox-probe): every forbidden call fails with the
// documented errno, only the weights descriptors are inherited, the sealed weights cannot be
// written, and another process of the same user can neither ptrace the engine nor read its
// memory through /proc/PID/mem or process_vm_readv.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <sstream>

#include "core/file_io.h"
#include "loader/engine_exec.h"
#include "loader/locked_memfd.h"
#include "loader/sandbox_caps.h"
#include "loader/sandbox_image.h"
#include "tests/support/matchers.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace sigil::loader {
namespace {

constexpr int kCapSysAdmin = 21;  // CAP_SYS_ADMIN, linux/capability.h
constexpr int kCapSetPcap = 8;    // CAP_SETPCAP
constexpr uid_t kNobody = 65534;

std::string Probe() { return sigil::testing::BinPath("sigil-sandbox-probe"); }

LockedMemfd Weights(const std::string& text) {
  auto m = LockedMemfd::Create(text.size());
  EXPECT_TRUE(m.has_value());
  EXPECT_TRUE(m->WriteAt(0, AsBytes(text)).has_value());
  EXPECT_TRUE(m->Seal().has_value());
  return std::move(*m);
}

std::map<std::string, std::string> ParseReport(const std::string& path) {
  std::map<std::string, std::string> r;
  auto text = ReadFile(path);
  if (!text) return r;
  std::istringstream in(std::string(text->begin(), text->end()));
  for (std::string line; std::getline(in, line);) {
    auto eq = line.find('=');
    if (eq != std::string::npos) r[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return r;
}

struct ProbeRun {
  int exit_code = -1;
  int model_fd = -1;
  std::map<std::string, std::string> report;
};

ProbeRun RunProbe(const SandboxConfig& config, const std::vector<int>& extra_fds = {}) {
  sigil::testing::TempDir dir;
  LockedMemfd weights = Weights("weights-for-the-probe");
  auto bin = OpenEngineBinary(Probe());
  EXPECT_TRUE(bin.has_value()) << bin.error().message();
  ProbeRun run;
  run.model_fd = weights.fd();
  auto rc = RunEngine({*bin, {"probe", "--out", dir.File("report"), "--model", "{model}"}, weights.fd(), extra_fds, config});
  close(*bin);
  EXPECT_TRUE(rc.has_value()) << rc.error().message();
  run.exit_code = rc.value_or(-1);
  run.report = ParseReport(dir.File("report"));
  return run;
}

TEST(EngineSandbox, ForbiddenCallsFailWithEpermAndWeightsStayReadOnly) {
  ProbeRun run = RunProbe({});
  ASSERT_EQ(run.exit_code, 0);
  auto& r = run.report;
  ASSERT_FALSE(r.empty()) << "the probe wrote no report";
  for (const char* call : {"ptrace_traceme", "ptrace_attach_parent", "process_vm_readv", "process_vm_writev", "pidfd_getfd"}) {
    EXPECT_EQ(r[call], "EPERM") << call;
  }
  EXPECT_EQ(r["socket_inet"], "OK") << "networking is allowed without --no-network";
  EXPECT_EQ(r["no_new_privs"], "1");
  EXPECT_EQ(r["seccomp"], "2");  // SECCOMP_MODE_FILTER
  // No capability at all, even when the loader (this test, normally root) holds every one.
  // The bounding set can only be emptied with CAP_SETPCAP, which an unprivileged run lacks
  // (and then has nothing an execve could raise).
  for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapAmb"}) EXPECT_EQ(r[set], "0000000000000000") << set;
  if (HasEffectiveCapability(kCapSetPcap)) {
    EXPECT_EQ(r["CapBnd"], "0000000000000000");
  }
  EXPECT_EQ(r["rlimit_core"], "0");
  EXPECT_EQ(r["coredump_filter"], "00000000");
  if (SuidDumpable() != 1) {
    EXPECT_EQ(r["dumpable"], "0");
  }
  // The weights: readable, never writable (F_SEAL_FUTURE_WRITE / F_SEAL_SHRINK).
  EXPECT_EQ(r["model_open"], "OK");
  EXPECT_EQ(r["model_bytes"], "21");
  EXPECT_EQ(r["model_pwrite"], "EBADF");  // opened read-only
  EXPECT_EQ(r["model_ftruncate"], "EINVAL");
  EXPECT_EQ(r["model_write"], "EPERM");
  EXPECT_EQ(r["model_mmap_shared_write"], "EPERM");
  EXPECT_EQ(r["model_mmap_shared_read"], "OK");
  EXPECT_EQ(r["model_mprotect_write"], "EACCES");
  if (HasEffectiveCapability(kCapSysAdmin)) {
    EXPECT_EQ(r["net_ifaces"], "lo") << "fresh network namespace";
  }
}

TEST(EngineSandbox, NoNetworkRefusesEveryNonUnixSocket) {
  ProbeRun run = RunProbe({true, false});
  ASSERT_EQ(run.exit_code, 0);
  auto& r = run.report;
  for (const char* call : {"socket_inet", "socket_inet6", "socket_netlink", "io_uring_setup", "ptrace_traceme"}) {
    EXPECT_EQ(r[call], "EPERM") << call;
  }
  EXPECT_EQ(r["socket_unix"], "OK");
}

TEST(EngineSandbox, OnlyStdioAndTheWeightsDescriptorsAreInherited) {
  int leaked = open("/dev/null", O_RDONLY);  // deliberately not O_CLOEXEC
  ASSERT_GE(leaked, 0);
  LockedMemfd shard = Weights("second shard");
  ProbeRun run = RunProbe({}, {shard.fd()});
  close(leaked);
  ASSERT_EQ(run.exit_code, 0);
  std::vector<int> want{0, 1, 2, run.model_fd, shard.fd()};
  std::sort(want.begin(), want.end());
  std::string expected;
  for (int fd : want) expected += (expected.empty() ? "" : ",") + std::to_string(fd);
  EXPECT_EQ(run.report["fds"], expected);
}

TEST(EngineSandbox, RefusesABinaryThatIsNotASealedImage) {
  int fd = open(Probe().c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  struct stat before {};
  ASSERT_EQ(fstat(fd, &before), 0);
  auto rc = RunEngine({fd, {"probe", "--out", "/dev/null"}, -1, {}, {}});
  ASSERT_FALSE(rc.has_value());
  EXPECT_EQ(rc.error().code(), Code::kInvalidArgument);
  struct stat after {};
  ASSERT_EQ(fstat(fd, &after), 0);
  EXPECT_EQ(before.st_mode, after.st_mode);
  close(fd);
}

// Become an ordinary user: as root, uid/gid nobody (all capabilities go with uid 0 -> non-0);
// otherwise stay as we are. Returns false on failure.
bool BecomeUnprivileged() {
  if (geteuid() != 0) return true;
  return setgroups(0, nullptr) == 0 && setresgid(kNobody, kNobody, kNobody) == 0 &&
         setresuid(kNobody, kNobody, kNobody) == 0;
}

int Expect(bool ok, int bit) { return ok ? 0 : 1 << bit; }

// The attacker: same uid as the engine, no capabilities. Bits 0-2: the engine was NOT protected
// (ptrace / /proc/PID/mem / process_vm_readv); bits 3-4: the control (its own dumpable child)
// could NOT be attached or read, i.e. the harness could not detect an unprotected process.
int Attack(pid_t engine) {
  if (!BecomeUnprivileged()) return 100;
  int bad = 0;
  errno = 0;
  bad |= Expect(ptrace(PTRACE_ATTACH, engine, nullptr, nullptr) == -1 && errno == EPERM, 0);
  int mem = open(("/proc/" + std::to_string(engine) + "/mem").c_str(), O_RDONLY);
  bad |= Expect(mem == -1 && errno == EACCES, 1);
  char b[8];
  iovec local{b, sizeof b}, remote{reinterpret_cast<void*>(0x400000), sizeof b};
  bad |= Expect(process_vm_readv(engine, &local, 1, &remote, 1, 0) == -1 && errno == EPERM, 2);
  int ready[2];
  if (pipe(ready) != 0) return 101;
  pid_t control = fork();
  if (control == 0) {
    // setresuid() above made this process non-dumpable (commit_creds); an ordinary process is.
    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    (void)!write(ready[1], "r", 1);
    for (;;) pause();
  }
  char r = 0;
  if (read(ready[0], &r, 1) != 1) return 102;
  bool attached = ptrace(PTRACE_ATTACH, control, nullptr, nullptr) == 0;
  int st = 0;
  if (attached) waitpid(control, &st, 0);
  bad |= Expect(attached, 3);
  int cmem = open(("/proc/" + std::to_string(control) + "/mem").c_str(), O_RDONLY);
  bad |= Expect(cmem >= 0, 4);
  kill(control, SIGKILL);
  waitpid(control, &st, 0);
  return bad;
}

TEST(EngineSandbox, SameUserProcessCannotPtraceOrReadTheEngine) {
  if (SuidDumpable() == 1) GTEST_SKIP() << "fs.suid_dumpable=1 keeps every process dumpable (sigil-load warns)";
  sigil::testing::TempDir dir;
  ASSERT_EQ(chmod(dir.path().c_str(), 0777), 0);
  pid_t loader = fork();
  ASSERT_GE(loader, 0);
  if (loader == 0) {
    // The "loader": an unprivileged process that starts the engine exactly as sigil-load does.
    if (!BecomeUnprivileged()) _exit(90);
    auto weights = LockedMemfd::Create(4);
    if (!weights || !weights->WriteAt(0, AsBytes(std::string("w8ts"))) || !weights->Seal()) _exit(91);
    auto bin = OpenEngineBinary(Probe());
    if (!bin) _exit(92);
    auto rc = RunEngine({*bin,
                         {"probe", "--out", dir.File("report"), "--model", "{model}", "--pidfile", dir.File("pid")},
                         weights->fd(), {}, {}});
    _exit(rc ? 0 : 93);
  }
  std::string pid_text = sigil::testing::WaitForFile(dir.File("pid"), 30);
  ASSERT_FALSE(pid_text.empty()) << "the engine did not start";
  pid_t engine = static_cast<pid_t>(std::stol(pid_text));
  EXPECT_EQ(ParseReport(dir.File("report"))["dumpable"], "0");

  pid_t attacker = fork();
  ASSERT_GE(attacker, 0);
  if (attacker == 0) _exit(Attack(engine));
  int st = 0;
  ASSERT_EQ(waitpid(attacker, &st, 0), attacker);
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 0) << "bits: 1 ptrace, 2 /proc/PID/mem, 4 process_vm_readv succeeded against the engine; "
                                   "8/16 the control process could not be attached/read";
  kill(engine, SIGKILL);
  ASSERT_EQ(waitpid(loader, &st, 0), loader);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "loader child status " << st;
}

}  // namespace
}  // namespace sigil::loader
