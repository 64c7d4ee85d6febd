// Least privilege, end to end with the real binaries (issue 10): the weights must be locked in
// memory unless the operator opts out, and the opt-out is a different measurement; the CLI
// refuses an admin key others can read; sigild removes the root passphrase from its environment
// and `sigild init` is as hardened as `serve` before it reads a secret.
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "core/file_io.h"
#include "tests/integration/broker_fixture.h"
#include "tests/support/matchers.h"

namespace sigil::integration {
namespace {

using testing::BinPath;
using testing::CommandResult;
using testing::TempDir;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Starts argv in a child that first runs `prepare` (limits, credentials), with stdout/stderr
// in files under `dir` and `env` added to the environment. Everything the child needs is built
// before the fork: the test process has other threads, so between fork and exec the child may
// only make async-signal-safe calls. An allocation there (a string built in the child, putenv)
// could wait forever on an allocator lock another thread held at the fork.
pid_t Spawn(const std::vector<std::string>& argv, const std::string& dir, const std::function<void()>& prepare,
            const std::vector<std::string>& env = {}) {
  const std::string out_path = dir + "/out", err_path = dir + "/err";
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> envp;
  for (char** e = environ; *e != nullptr; ++e) envp.push_back(*e);
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid != 0) return pid;
  prepare();
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // after prepare(): a change of uid clears it
  int in = ::open("/dev/null", O_RDONLY);
  int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
  int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
  if (in < 0 || out < 0 || err < 0) _exit(125);
  ::dup2(in, 0);
  ::dup2(out, 1);
  ::dup2(err, 2);
  ::execve(args[0], args.data(), envp.data());
  _exit(127);
}

int Wait(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Runs argv where mlock cannot succeed even for root: CAP_IPC_LOCK out of the bounding set (so
// the exec'd program does not get it) and RLIMIT_MEMLOCK at 64 KiB.
CommandResult RunWithoutMemlock(const std::vector<std::string>& argv) {
  TempDir io;
  pid_t pid = Spawn(argv, io.path(), [] {
    struct rlimit small {64 << 10, 64 << 10};
    if (::prctl(PR_CAPBSET_DROP, CAP_IPC_LOCK, 0, 0, 0) != 0 || ::setrlimit(RLIMIT_MEMLOCK, &small) != 0) _exit(124);
  });
  CommandResult r;
  r.exit_code = Wait(pid);
  r.out = Slurp(io.File("out"));
  r.err = Slurp(io.File("err"));
  return r;
}

class Mlock : public ::testing::Test {
 protected:
  void SetUp() override {
    auto& env = BrokerEnv::Get();
    // 1 MiB: far above the 64 KiB limit. Any file type works.
    std::string text;
    for (int i = 0; text.size() < (1u << 20); ++i) text += "weights line " + std::to_string(i) + "\n";
    text.resize(1u << 20);
    ASSERT_OK(WriteFileAtomic(dir_.File("model.bin"), AsBytes(text), 0600));
    auto pub = env.Sigil({"key", "public", "acme/model"});
    ASSERT_EQ(pub.exit_code, 0) << pub.err;
    ASSERT_OK(WriteFileAtomic(dir_.File("model.pub"), AsBytes(pub.out), 0644));
    auto enc = env.Sigil({"model", "encrypt", "--recipient", dir_.File("model.pub"), dir_.File("model.bin"),
                          dir_.File("model.sgl")});
    ASSERT_EQ(enc.exit_code, 0) << enc.err;
  }
  std::string Measure(const std::vector<std::string>& flags) {
    std::vector<std::string> argv{BinPath("sigil-load"), "measure", "--engine", BinPath("sigil-sandbox-probe")};
    argv.insert(argv.end(), flags.begin(), flags.end());
    auto m = testing::Run(argv);
    EXPECT_EQ(m.exit_code, 0) << m.err;
    return m.out.substr(0, m.out.find('\n'));
  }
  void Approve(const std::string& measurement) {
    BrokerEnv::Get().Sigil({"refs", "add", "acme", "engines", measurement});  // may exist already
  }
  std::vector<std::string> RunArgs(const std::vector<std::string>& flags) {
    auto& env = BrokerEnv::Get();
    std::vector<std::string> argv{BinPath("sigil-load"), "run", "--broker", env.url(), "--ca", env.ca(), "--tenant",
                                  "acme", "--dev-platform-key", env.data_dir() + "/dev/platform.key", "--model",
                                  dir_.File("model.sgl")};
    argv.insert(argv.end(), flags.begin(), flags.end());
    for (const char* a : {"--", "PROBE", "--out", "REPORT", "--model", "{model}"}) argv.push_back(a);
    argv[argv.size() - 5] = BinPath("sigil-sandbox-probe");
    argv[argv.size() - 3] = dir_.File("report");
    return argv;
  }
  TempDir dir_;
};

TEST_F(Mlock, FailedMlockIsAnErrorByDefault) {
  Approve(Measure({}));
  auto r = RunWithoutMemlock(RunArgs({}));
  EXPECT_EQ(r.exit_code, 3) << r.err;  // kUnavailable
  EXPECT_NE(r.err.find("RLIMIT_MEMLOCK is 65536 bytes"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--allow-unlocked"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.File("report"))) << "the engine must not start";
  // --require-mlock is the default now: accepted, same outcome; it contradicts --allow-unlocked.
  EXPECT_EQ(RunWithoutMemlock(RunArgs({"--require-mlock"})).exit_code, 3);
  auto both = testing::Run(RunArgs({"--require-mlock", "--allow-unlocked"}));
  EXPECT_EQ(both.exit_code, 2) << both.err;
}

TEST_F(Mlock, OptingOutIsAnotherMeasurementThatNeedsItsOwnApproval) {
  std::string locked = Measure({}), unlocked = Measure({"--allow-unlocked"});
  ASSERT_EQ(unlocked.size(), 96u);
  EXPECT_NE(locked, unlocked);
  Approve(locked);
  auto refused = RunWithoutMemlock(RunArgs({"--allow-unlocked"}));
  EXPECT_EQ(refused.exit_code, 4) << refused.err;  // the policy approves only the locked form
  EXPECT_NE(refused.err.find("policy_denied"), std::string::npos) << refused.err;
  Approve(unlocked);
  auto ok = RunWithoutMemlock(RunArgs({"--allow-unlocked"}));
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.err.find("WARNING: mlock of 1048576 bytes refused"), std::string::npos) << ok.err;
  EXPECT_NE(Slurp(dir_.File("report")).find("model_bytes=1048576"), std::string::npos);
}

TEST_F(Mlock, CApiRequiresLockedPagesByDefault) {
  auto& env = BrokerEnv::Get();
  auto m = testing::Run({BinPath("sigil-load"), "measure", "--engine", BinPath("sigil-c-example"), "--in-process"});
  ASSERT_EQ(m.exit_code, 0) << m.err;
  Approve(m.out.substr(0, m.out.find('\n')));
  auto r = RunWithoutMemlock({BinPath("sigil-c-example"), env.url(), env.ca(), "acme",
                              env.data_dir() + "/dev/platform.key", dir_.File("model.sgl")});
  EXPECT_EQ(r.exit_code, 3) << r.err;  // SIGIL_LOAD_UNAVAILABLE
  EXPECT_NE(r.err.find("RLIMIT_MEMLOCK"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

// ssh's rule for identity files, applied to the admin key.
TEST(AdminKey, ReadableOrWritableByOthersIsRefusedNamingTheFix) {
  auto& env = BrokerEnv::Get();
  TempDir dir;
  for (const char* f : {"ca.pem", "admin.pem", "admin.key", "broker.json"}) {
    std::filesystem::copy_file(env.admin_dir() + "/" + f, dir.File(f));
  }
  const std::string key = dir.File("admin.key");
  auto list = [&] { return testing::Run({BinPath("sigil"), "--admin-dir", dir.path(), "--broker", env.url(), "tenant", "list"}); };
  ASSERT_EQ(::chmod(key.c_str(), 0600), 0);
  ASSERT_EQ(list().exit_code, 0);
  for (mode_t mode : {0640, 0604, 0620, 0602, 0644, 0666}) {
    ASSERT_EQ(::chmod(key.c_str(), mode), 0);
    auto r = list();
    EXPECT_NE(r.exit_code, 0) << std::oct << mode;
    char text[8];
    std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode));
    EXPECT_NE(r.err.find(key + ": permissions " + text + " are too open"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("chmod 600 " + key), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty());
  }
  ASSERT_EQ(::chmod(key.c_str(), 0400), 0);
  EXPECT_EQ(list().exit_code, 0) << "owner-only read is fine";
}

// The passphrase handed to `sigild serve` through SIGIL_ROOT_PASSPHRASE is overwritten in the
// process's environment block once read: /proc/PID/environ no longer shows it.
TEST(RootPassphrase, RemovedFromTheEnvironmentOnceRead) {
  TempDir dir;
  const std::string pass = "SIGIL-TEST-PASSPHRASE-7d1f0c";
  auto init = testing::Run({BinPath("sigild"), "init", "--data-dir", dir.File("d"), "--listen", "127.0.0.1:0"},
                           {"SIGIL_ROOT_PASSPHRASE=" + pass});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  testing::BackgroundProcess serve({BinPath("sigild"), "serve", "--data-dir", dir.File("d"), "--port-file", dir.File("port")},
                                   dir.File("serve.log"), {"SIGIL_ROOT_PASSPHRASE=" + pass});
  ASSERT_FALSE(testing::WaitForFile(dir.File("port"), 30).empty()) << Slurp(dir.File("serve.log"));
  std::string environ = Slurp("/proc/" + std::to_string(serve.pid()) + "/environ");
  ASSERT_FALSE(environ.empty());
  EXPECT_EQ(environ.find(pass), std::string::npos) << "the passphrase is still in /proc/PID/environ";
  EXPECT_EQ(serve.Stop(), 0);
}

// `sigild init` hardens itself before it reads the passphrase: run as an ordinary user (nobody)
// with core dumps allowed, and caught while it waits on a FIFO for the passphrase, it has
// RLIMIT_CORE 0 and is not dumpable (the files in /proc/PID then belong to root, not to nobody).
TEST(SigildInit, HardenedBeforeReadingThePassphrase) {
  constexpr uid_t kNobody = 65534;
  // The child must start with core dumps allowed. An earlier test in the same process can have
  // lowered this process's hard limit for good (the C API hardens the process that loads a
  // model), and then the child cannot raise it: the precondition is gone, so say so rather than
  // time out. CTest runs each test in its own process, where it holds.
  struct rlimit core {};
  ASSERT_EQ(::getrlimit(RLIMIT_CORE, &core), 0);
  if (core.rlim_max != RLIM_INFINITY) {
    struct rlimit raised {core.rlim_cur, RLIM_INFINITY};
    if (::setrlimit(RLIMIT_CORE, &raised) != 0) {
      GTEST_SKIP() << "this process's hard core limit was lowered by an earlier test and cannot be raised again; "
                      "run this test on its own (as CTest does)";
    }
  }
  TempDir dir;
  ASSERT_EQ(::chmod(dir.path().c_str(), 0777), 0);
  const std::string fifo = dir.File("pass.fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0666), 0);
  ASSERT_EQ(::chmod(fifo.c_str(), 0666), 0);
  pid_t pid = Spawn({BinPath("sigild"), "init", "--data-dir", dir.File("d"), "--passphrase-file", fifo, "--listen",
                     "127.0.0.1:0"},
                    dir.path(), [] {
                      struct rlimit cores {RLIM_INFINITY, RLIM_INFINITY};
                      if (::setrlimit(RLIMIT_CORE, &cores) != 0 || ::setgroups(0, nullptr) != 0 ||
                          ::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) {
                        _exit(124);
                      }
                    });
  // Opening the FIFO for writing succeeds once sigild has opened it for reading.
  int w = -1;
  for (int i = 0; i < 300 && w < 0; ++i) {
    w = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (w < 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_GE(w, 0) << "sigild init never opened the passphrase file: " << Slurp(dir.File("err"));
  const std::string proc = "/proc/" + std::to_string(pid);
  std::string limits = Slurp(proc + "/limits");
  struct stat st {};
  ASSERT_EQ(::stat((proc + "/environ").c_str(), &st), 0);  // not /proc/PID itself: always the euid
  std::string status = Slurp(proc + "/status");
  EXPECT_NE(status.find("Uid:\t65534"), std::string::npos) << status;
  std::istringstream lines(limits);
  std::string core_line;
  for (std::string l; std::getline(lines, l);) {
    if (l.rfind("Max core file size", 0) == 0) core_line = l;
  }
  std::istringstream fields(core_line.substr(std::strlen("Max core file size")));
  std::string soft, hard;
  fields >> soft >> hard;
  EXPECT_EQ(soft, "0") << core_line;
  EXPECT_EQ(hard, "0") << core_line;
  EXPECT_EQ(st.st_uid, 0u) << "sigild init is dumpable: /proc/PID/environ belongs to uid " << st.st_uid;
  const std::string line = "a passphrase for the test\n";
  ASSERT_EQ(::write(w, line.data(), line.size()), static_cast<ssize_t>(line.size()));
  ::close(w);
  EXPECT_EQ(Wait(pid), 0) << Slurp(dir.File("err"));
}

}  // namespace
}  // namespace sigil::integration
