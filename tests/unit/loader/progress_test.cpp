// ProgressReporter (loader/progress.h): the --json line format (docs/cli.md), silence when not a
// TTY, and the bar on a real pseudo-terminal. No timing assertions: only the first report and
// the completing one are guaranteed to be written, so that is all the tests rely on.
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "core/encoding.h"
#include "core/json.h"
#include "loader/container_reader.h"
#include "loader/memfd_decrypt.h"
#include "loader/progress.h"
#include "tests/support/matchers.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/loader/loader_test_util.h"

namespace sigil::loader {
namespace {

using ::sigil::testing::TempDir;
using ::testing::HasSubstr;

std::vector<Json> JsonLines(const std::string& path) {
  Bytes raw = testing::ReadBytes(path);
  std::istringstream in(std::string(raw.begin(), raw.end()));
  std::vector<Json> out;
  for (std::string line; std::getline(in, line);) {
    auto j = ParseJson(line, "progress line");
    EXPECT_TRUE(j.has_value()) << line;
    if (j) out.push_back(*j);
  }
  return out;
}

int OpenOut(const std::string& path) { return ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600); }

TEST(Progress, JsonLinesHaveTheDocumentedFields) {
  TempDir dir;
  int fd = OpenOut(dir.File("p"));
  ASSERT_GE(fd, 0);
  {
    ProgressReporter r("encrypt", ProgressMode::kJson, fd);
    EXPECT_TRUE(r.active());
    r.Update(0, 1000);
    r.Update(400, 1000);
    r.Update(1000, 1000);
    r.Update(1000, 1000);  // after completion: ignored
  }
  ::close(fd);
  auto lines = JsonLines(dir.File("p"));
  ASSERT_GE(lines.size(), 2u);
  ASSERT_LE(lines.size(), 3u);
  for (const Json& j : lines) {
    EXPECT_EQ(j.value("type", ""), "progress");
    EXPECT_EQ(j.value("task", ""), "encrypt");
    EXPECT_EQ(j.value("total_bytes", 0), 1000);
    EXPECT_TRUE(j.contains("done_bytes") && j.contains("elapsed_s") && j.contains("rate_bytes_per_s") &&
                j.contains("eta_s") && j.contains("complete"))
        << j.dump();
  }
  EXPECT_EQ(lines.front().value("done_bytes", -1), 0);
  EXPECT_FALSE(lines.front().value("complete", true));
  EXPECT_EQ(lines.back().value("done_bytes", -1), 1000);
  EXPECT_TRUE(lines.back().value("complete", false));
  EXPECT_TRUE(lines.back()["eta_s"].is_null() || lines.back()["eta_s"].get<double>() == 0.0);
}

TEST(Progress, SilentWhenNotATtyOrNone) {
  TempDir dir;
  for (ProgressMode mode : {ProgressMode::kAuto, ProgressMode::kNone}) {
    int fd = OpenOut(dir.File("q"));
    ASSERT_GE(fd, 0);
    {
      ProgressReporter r("decrypt", mode, fd);  // a regular file is not a TTY
      EXPECT_FALSE(r.active());
      r.Update(0, 10);
      r.Update(10, 10);
    }
    ::close(fd);
    EXPECT_TRUE(testing::ReadBytes(dir.File("q")).empty());
  }
}

TEST(Progress, BarOnAPseudoTerminal) {
  int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  ASSERT_GE(master, 0);
  ASSERT_EQ(::grantpt(master), 0);
  ASSERT_EQ(::unlockpt(master), 0);
  int slave = ::open(::ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
  ASSERT_GE(slave, 0);
  {
    ProgressReporter r("decrypt", ProgressMode::kAuto, slave);
    EXPECT_TRUE(r.active());
    r.Update(0, 3ull << 30);
    r.Update(3ull << 30, 3ull << 30);
  }
  std::string out;
  char buf[4096];
  ::fcntl(master, F_SETFL, O_NONBLOCK);
  for (ssize_t n; (n = ::read(master, buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  ::close(slave);
  ::close(master);
  EXPECT_THAT(out, HasSubstr("decrypt ["));
  EXPECT_THAT(out, HasSubstr("100%"));
  EXPECT_THAT(out, HasSubstr("3.0 GiB / 3.0 GiB"));
  EXPECT_THAT(out, HasSubstr("/s"));
  EXPECT_THAT(out, HasSubstr("ETA 00:00"));
}

TEST(Progress, HumanBytes) {
  EXPECT_EQ(HumanBytes(17), "17 B");
  EXPECT_EQ(HumanBytes(1536), "1.5 KiB");
  EXPECT_EQ(HumanBytes(312.0 * 1024 * 1024), "312.0 MiB");
  EXPECT_EQ(HumanBytes(5.0 * (1ull << 40)), "5.0 TiB");
}

TEST(Progress, DecryptReportsThroughJsonUpToTheWholeSize) {
  TempDir dir;
  Bytes pt = testing::Pseudorandom(40 * 4096 + 3, 2);
  SecretBytes dek = testing::RandomDek();
  EncryptOptions eo;
  eo.chunk_size = 4096;
  ASSERT_OK(testing::EncryptBytes(dir.path(), "m", pt, dek, testing::TemplateHeader(), eo));
  ASSERT_OK_AND_ASSIGN(Container c, Container::Open(dir.File("m.sgl")));
  int fd = OpenOut(dir.File("p"));
  ASSERT_GE(fd, 0);
  {
    ProgressReporter r("decrypt", ProgressMode::kJson, fd);
    DecryptOptions opt;
    opt.threads = 2;
    opt.progress = r.Fn();
    ASSERT_OK(DecryptToMemfd(c, dek, opt));
  }
  ::close(fd);
  auto lines = JsonLines(dir.File("p"));
  ASSERT_FALSE(lines.empty());
  std::int64_t prev = -1;
  for (const Json& j : lines) {
    EXPECT_EQ(j.value("task", ""), "decrypt");
    EXPECT_EQ(j.value("total_bytes", std::int64_t{0}), static_cast<std::int64_t>(pt.size()));
    EXPECT_GE(j.value("done_bytes", std::int64_t{-1}), prev);
    prev = j.value("done_bytes", std::int64_t{-1});
  }
  EXPECT_EQ(prev, static_cast<std::int64_t>(pt.size()));
  EXPECT_TRUE(lines.back().value("complete", false));
}

// The CLI end: `sigil model encrypt --json` writes progress lines on stderr and its result on
// stdout; without --json and with stderr not a terminal (a pipe here) it writes no progress.
TEST(Progress, ModelEncryptJsonProgressOnStderr) {
  TempDir dir;
  Bytes pk = testing::Pseudorandom(32, 77);  // any 32 bytes make an X25519 public key
  std::string pub = R"({"key":"llama3","public_key":")" + Base64UrlEncode(pk) +
                    R"(","suite":"X25519-HKDF-SHA256-AES-256-GCM","tenant":"acme","type":"sigil-public-key","version":1})";
  testing::WriteBytes(dir.File("k.pub"), Bytes(pub.begin(), pub.end()));
  const std::size_t size = 9u << 20;
  testing::WriteBytes(dir.File("m.bin"), testing::Pseudorandom(size, 4));
  auto r = ::sigil::testing::Run({::sigil::testing::BinPath("sigil"), "model", "encrypt", "--recipient",
                                  dir.File("k.pub"), dir.File("m.bin"), dir.File("m.sgl"), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_OK_AND_ASSIGN(Json result, ParseJson(r.out, "stdout"));
  EXPECT_EQ(result.value("plaintext_size", std::int64_t{0}), static_cast<std::int64_t>(size));
  testing::WriteBytes(dir.File("err"), Bytes(r.err.begin(), r.err.end()));
  auto lines = JsonLines(dir.File("err"));
  ASSERT_GE(lines.size(), 2u) << r.err;
  for (const Json& j : lines) EXPECT_EQ(j.value("task", ""), "encrypt");
  EXPECT_EQ(lines.back().value("done_bytes", std::int64_t{0}), static_cast<std::int64_t>(2 * size));
  EXPECT_EQ(lines.back().value("total_bytes", std::int64_t{0}), static_cast<std::int64_t>(2 * size));
  EXPECT_TRUE(lines.back().value("complete", false));

  auto quiet = ::sigil::testing::Run({::sigil::testing::BinPath("sigil"), "model", "encrypt", "--recipient",
                                      dir.File("k.pub"), dir.File("m.bin"), dir.File("m2.sgl")});
  ASSERT_EQ(quiet.exit_code, 0) << quiet.err;
  EXPECT_EQ(quiet.err, "");
}

}  // namespace
}  // namespace sigil::loader
