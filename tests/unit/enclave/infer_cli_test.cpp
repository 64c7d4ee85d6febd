// The sigil-infer binary end to end: exit codes, one-line errors, byte-identical output, and
// the /proc/self/fd/N hand-off that sigil-load uses.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <cstdio>
#include <string>

#include "core/file_io.h"
#include "enclave/infer_io.h"
#include "enclave/mlp.h"
#include "tests/support/matchers.h"
#include "tests/support/temp_dir.h"

namespace sigil::enclave {
namespace {

struct CliResult {
  int status;
  std::string out;  // stdout and stderr together
};

CliResult Infer(const std::string& args) {
  std::string cmd = std::string(SIGIL_BIN_DIR) + "/sigil-infer " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return {-1, "popen failed"};
  std::string out;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int st = ::pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

class InferCli : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = dir_.File("m.safetensors");
    CliResult r = Infer("make-weights " + model_ + " --seed 3 --dims 4,8,3");
    ASSERT_EQ(r.status, 0) << r.out;
  }
  sigil::testing::TempDir dir_;
  std::string model_;
};

TEST_F(InferCli, RunIsByteIdenticalAndMatchesTheLibrary) {
  CliResult a = Infer("run " + model_ + " --json");
  CliResult b = Infer("run " + model_ + " --json");
  ASSERT_EQ(a.status, 0) << a.out;
  EXPECT_EQ(a.out, b.out);
  ASSERT_OK_AND_ASSIGN(Mlp mlp, LoadMlp(model_));
  ASSERT_OK_AND_ASSIGN(auto out, mlp.Forward(DefaultInput(4)));
  EXPECT_EQ(a.out, FormatOutput(out, ArgMax(out), true));

  CliResult text = Infer("run " + model_ + " --input '0.1,0.2,0.3,0.4'");
  ASSERT_EQ(text.status, 0) << text.out;
  ASSERT_OK_AND_ASSIGN(auto out2, mlp.Forward(std::vector<float>{0.1f, 0.2f, 0.3f, 0.4f}));
  EXPECT_EQ(text.out, FormatOutput(out2, ArgMax(out2), false));
}

TEST_F(InferCli, MakeWeightsIsDeterministic) {
  std::string again = dir_.File("again.safetensors");
  ASSERT_EQ(Infer("make-weights " + again + " --seed 3 --dims 4,8,3").status, 0);
  EXPECT_EQ(ReadFile(model_).value(), ReadFile(again).value());
}

TEST_F(InferCli, ReadsAnInheritedSealedMemfd) {
  Bytes file = ReadFile(model_).value();
  int fd = ::memfd_create("weights", MFD_ALLOW_SEALING);  // no CLOEXEC: the child inherits it
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, file.data(), file.size()), static_cast<ssize_t>(file.size()));
  ASSERT_EQ(::fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL), 0);
  CliResult via_fd = Infer("run /proc/self/fd/" + std::to_string(fd) + " --json");
  ::close(fd);
  EXPECT_EQ(via_fd.status, 0) << via_fd.out;
  EXPECT_EQ(via_fd.out, Infer("run " + model_ + " --json").out);
}

bool OneErrorLine(const std::string& s) {
  return s.rfind("sigil-infer: error: ", 0) == 0 && s.find('\n') == s.size() - 1;
}

TEST_F(InferCli, BadInputsExitNonZeroWithOneLine) {
  ASSERT_OK(WriteFileAtomic(dir_.File("junk"), AsBytes("not a safetensors file")));
  for (const std::string& args :
       {"run " + dir_.File("junk"), "run " + dir_.File("absent"), "run " + model_ + " --input 1,2",
        "run " + model_ + " --input 1,x,3,4", "make-weights " + dir_.File("o") + " --dims 4"}) {
    CliResult r = Infer(args);
    EXPECT_EQ(r.status, 1) << args;
    EXPECT_TRUE(OneErrorLine(r.out)) << args << ": " << r.out;
  }
  EXPECT_NE(Infer("").status, 0);
  EXPECT_NE(Infer("run").status, 0);
}

}  // namespace
}  // namespace sigil::enclave
