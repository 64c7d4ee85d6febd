// The GPU report command (loader/gpu/command_line.h, command_runner.h): splitting without a
// shell, {nonce} substitution, and the runner's bounds: exit status, signal, timeout (a command
// that never ends, and one that closes its output but keeps running), output cap, a command that
// does not exist. Commands are /bin/sh scripts run as argv, so the test controls their behaviour.
#include <gtest/gtest.h>

#include <chrono>

#include "loader/gpu/command_line.h"
#include "loader/gpu/command_runner.h"
#include "tests/support/matchers.h"

namespace sigil::loader::gpu {
namespace {

using std::chrono::milliseconds;
using Words = std::vector<std::string>;

TEST(GpuCommandLineTest, SplitsLikeAShellWithoutExpansions) {
  EXPECT_EQ(SplitCommandLine("nvtrust-report --nonce {nonce}").value(),
            (Words{"nvtrust-report", "--nonce", "{nonce}"}));
  EXPECT_EQ(SplitCommandLine("  a\t b  ").value(), (Words{"a", "b"}));
  EXPECT_EQ(SplitCommandLine(R"(a 'b c' "d \"e\" \x" f\ g '')").value(), (Words{"a", "b c", R"(d "e" \x)", "f g", ""}));
  EXPECT_EQ(SplitCommandLine("x'y z'w").value(), (Words{"xy zw"}));
  // Nothing is expanded: these reach the program as typed.
  EXPECT_EQ(SplitCommandLine("echo $HOME ~ *; `id` > f").value(),
            (Words{"echo", "$HOME", "~", "*;", "`id`", ">", "f"}));
  for (const char* bad : {"", "   ", "a 'b", "a \"b", "a \\"}) {
    SCOPED_TRACE(bad);
    EXPECT_CODE(SplitCommandLine(bad), Code::kInvalidArgument);
  }
}

TEST(GpuCommandLineTest, NonceIsSubstitutedInEveryArgument) {
  const std::string n(64, 'a');
  EXPECT_EQ(SubstituteNonce({"tool", "--nonce={nonce}", "{nonce}{nonce}", "plain"}, n),
            (Words{"tool", "--nonce=" + n, n + n, "plain"}));
}

Result<std::string> Sh(const std::string& script, milliseconds timeout = milliseconds(5000),
                       std::size_t max = 1 << 20) {
  return RunCapture({{"/bin/sh", "-c", script}, timeout, max});
}

TEST(GpuCommandRunnerTest, CapturesStdoutOfASuccessfulCommand) {
  EXPECT_EQ(Sh("printf 'line1\\nline2\\n'; echo diag >&2").value(), "line1\nline2\n");
  // argv[0] without a slash is searched in PATH; arguments arrive unsplit.
  EXPECT_EQ(RunCapture({{"printf", "%s|", "a b", "{nonce}"}}).value(), "a b|{nonce}|");
  // stdin is /dev/null, not sigil-load's.
  EXPECT_EQ(Sh("cat; echo done").value(), "done\n");
}

TEST(GpuCommandRunnerTest, NonZeroExitAndSignalsAreErrors) {
  auto r = Sh("echo partial; exit 3");
  EXPECT_CODE(r, Code::kUnavailable);
  EXPECT_NE(r.error().message().find("exited with status 3"), std::string::npos) << r.error().message();
  auto k = Sh("kill -9 $$");
  EXPECT_CODE(k, Code::kUnavailable);
  EXPECT_NE(k.error().message().find("killed by signal"), std::string::npos) << k.error().message();
}

TEST(GpuCommandRunnerTest, MissingProgramIsAnError) {
  auto r = RunCapture({{"/nonexistent/nvtrust-report"}});
  EXPECT_CODE(r, Code::kUnavailable);
  EXPECT_NE(r.error().message().find("cannot run /nonexistent/nvtrust-report"), std::string::npos)
      << r.error().message();
  EXPECT_CODE(RunCapture({{}}), Code::kInvalidArgument);
}

TEST(GpuCommandRunnerTest, TimeoutKillsTheCommandAndWhatItStarted) {
  const auto start = std::chrono::steady_clock::now();
  // The grandchild (sleep) holds stdout open too: only killing the process group ends it.
  auto r = Sh("echo started; sleep 30; echo never", milliseconds(300));
  EXPECT_CODE(r, Code::kUnavailable);
  EXPECT_NE(r.error().message().find("did not finish within 300 ms"), std::string::npos) << r.error().message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  // Output closed, process still running.
  auto e = Sh("exec >&-; sleep 30", milliseconds(300));
  EXPECT_CODE(e, Code::kUnavailable);
  EXPECT_NE(e.error().message().find("did not exit within 300 ms"), std::string::npos) << e.error().message();
}

TEST(GpuCommandRunnerTest, OutputOverTheCapIsRefused) {
  // A command that would write forever: refused once it passes the cap, not read to the end.
  auto r = Sh("yes 0123456789abcdef", milliseconds(10000), 64 * 1024);
  EXPECT_CODE(r, Code::kMalformedEvidence);
  EXPECT_NE(r.error().message().find("wrote more than 65536 bytes"), std::string::npos) << r.error().message();
  // Exactly the cap is fine.
  EXPECT_EQ(Sh("head -c 4096 /dev/zero", milliseconds(5000), 4096).value().size(), 4096u);
}

}  // namespace
}  // namespace sigil::loader::gpu
