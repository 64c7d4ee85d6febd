// The sandbox's pieces on their own: the canonical configuration and what it does to the dev
// measurement, the seccomp program installed in a forked child, and the sealed engine image.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <functional>

#include "core/json.h"
#include "enclave/measurement.h"
#include "loader/sandbox_config.h"
#include "loader/sandbox_image.h"
#include "loader/sandbox_seccomp.h"
#include "tests/support/matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/loader/loader_test_util.h"

namespace sigil::loader {
namespace {

TEST(SandboxConfig, CanonicalFormIsStableJsonNamingTheRules) {
  SandboxConfig def;
  EXPECT_EQ(CanonicalSandboxConfig(def),
            R"({"caps":"none","core":"rlimit0,filter0,nondumpable","fds":"stdio+weights",)"
            R"("netns":"private_if_privileged",)"
            R"("seccomp":{"deny_eperm":["pidfd_getfd","process_vm_readv","process_vm_writev","ptrace"],)"
            R"("foreign_arch":"kill","socket":"any"},"v":1,"weights":"mlock_required"})");
  ASSERT_OK_AND_ASSIGN(Json j, ParseJson(CanonicalSandboxConfig({true, false}), "config"));
  EXPECT_EQ(j["seccomp"]["socket"], "af_unix_only");
  EXPECT_EQ(j["netns"], "host");
  EXPECT_EQ(j["seccomp"]["deny_eperm"].size(), 5u);  // + io_uring_setup
  SandboxConfig unlocked;
  unlocked.allow_unlocked_weights = true;
  ASSERT_OK_AND_ASSIGN(Json u, ParseJson(CanonicalSandboxConfig(unlocked), "config"));
  EXPECT_EQ(u["weights"], "mlock_best_effort");
}

TEST(SandboxConfig, EveryChangeOfBinaryOrConfigurationChangesTheMeasurement) {
  sigil::testing::TempDir dir;
  testing::WriteBytes(dir.File("a"), AsBytes(std::string("engine A")));
  testing::WriteBytes(dir.File("b"), AsBytes(std::string("engine B")));
  std::vector<std::string> seen;
  for (const char* bin : {"a", "b"}) {
    for (bool no_net : {false, true}) {
      for (bool netns : {false, true}) {
        for (bool unlocked : {false, true}) {
          ASSERT_OK_AND_ASSIGN(std::string m, enclave::MeasureEngine(dir.File(bin), CanonicalSandboxConfig({no_net, netns, unlocked})));
          for (const auto& s : seen) EXPECT_NE(m, s);
          seen.push_back(m);
        }
      }
    }
  }
  ASSERT_OK_AND_ASSIGN(std::string again, enclave::MeasureEngine(dir.File("a"), CanonicalSandboxConfig({})));
  EXPECT_EQ(again, seen[2]);  // deterministic: ("a", no_network=false, private_netns=true, locked)
}

// Runs `body` in a forked child after installing the program; returns the child's exit code.
int InFilteredChild(const SeccompProgram& p, const std::function<int()>& body) {
  pid_t pid = fork();
  if (pid == 0) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || p.Install() != 0) _exit(100);
    _exit(body());
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 200 + WTERMSIG(status);
}

int FailsWith(long rc, int err) { return rc == -1 && errno == err ? 0 : 1; }

TEST(SeccompProgram, DeniedCallsFailWithEperm) {
  ASSERT_OK_AND_ASSIGN(SeccompProgram p, SeccompProgram::Build({}));
  EXPECT_GT(p.instructions(), 4u);
  EXPECT_EQ(InFilteredChild(p, [] {
              char b[8];
              iovec v{b, sizeof b};
              return FailsWith(ptrace(PTRACE_TRACEME, 0, nullptr, nullptr), EPERM) +
                     2 * FailsWith(process_vm_readv(getppid(), &v, 1, &v, 1, 0), EPERM) +
                     4 * FailsWith(process_vm_writev(getppid(), &v, 1, &v, 1, 0), EPERM) +
                     8 * (socket(AF_INET, SOCK_STREAM, 0) < 0);  // allowed without no_network
            }),
            0);
}

TEST(SeccompProgram, NoNetworkLeavesOnlyUnixSockets) {
  ASSERT_OK_AND_ASSIGN(SeccompProgram p, SeccompProgram::Build({true, true}));
  EXPECT_EQ(InFilteredChild(p, [] {
              return FailsWith(socket(AF_INET, SOCK_STREAM, 0), EPERM) + 2 * FailsWith(socket(AF_INET6, SOCK_DGRAM, 0), EPERM) +
                     4 * FailsWith(socket(AF_NETLINK, SOCK_RAW, 0), EPERM) + 8 * (socket(AF_UNIX, SOCK_STREAM, 0) < 0);
            }),
            0);
}

TEST(SandboxImage, IsASealedCopyAndOnlyImagesAreMadeExecuteOnly) {
  sigil::testing::TempDir dir;
  Bytes content = testing::Pseudorandom(3 * 65536 + 17, 5);
  testing::WriteBytes(dir.File("engine"), content);
  chmod(dir.File("engine").c_str(), 0755);
  int file = open(dir.File("engine").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(file, 0);
  ASSERT_OK_AND_ASSIGN(int image, CopyToSealedImage(file));
  EXPECT_EQ(testing::ReadFd(image), content);
  EXPECT_TRUE(IsSealedImage(image));
  // What is measured through the image equals the measurement of the file it was copied from.
  std::string cfg = CanonicalSandboxConfig({});
  ASSERT_OK_AND_ASSIGN(std::string from_image, enclave::MeasureEngine("/proc/self/fd/" + std::to_string(image), cfg));
  ASSERT_OK_AND_ASSIGN(std::string from_file, enclave::MeasureEngine(dir.File("engine"), cfg));
  EXPECT_EQ(from_image, from_file);
  EXPECT_FALSE(IsSealedImage(file));
  int rw = open(("/proc/self/fd/" + std::to_string(image)).c_str(), O_RDWR);
  ASSERT_GE(rw, 0);
  EXPECT_EQ(write(rw, "x", 1), -1);
  EXPECT_EQ(errno, EPERM);
  close(rw);
  auto refused = MakeImageExecuteOnly(file);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), Code::kInvalidArgument);
  struct stat st {};
  ASSERT_EQ(stat(dir.File("engine").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u) << "a real file's mode must never change";
  ASSERT_OK(MakeImageExecuteOnly(image));
  ASSERT_EQ(fstat(image, &st), 0);
  EXPECT_EQ(st.st_mode & 07777, static_cast<unsigned>(S_IXUSR));
  close(image);
  close(file);
}

}  // namespace
}  // namespace sigil::loader
