#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <tuple>

#include "core/digest.h"
#include "loader/container_reader.h"
#include "loader/memfd_decrypt.h"
#include "tests/support/matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/loader/loader_test_util.h"

namespace sigil::loader {
namespace {

using ::sigil::testing::TempDir;
using ::testing::HasSubstr;

constexpr std::uint32_t kChunk = 4096;

EncryptOptions SmallChunks(bool digest = true) {
  EncryptOptions o;
  o.chunk_size = kChunk;
  o.plaintext_sha256 = digest;
  return o;
}

// (plaintext size, threads)
class RoundTrip : public ::testing::TestWithParam<std::tuple<std::size_t, unsigned>> {};

TEST_P(RoundTrip, MemfdHoldsExactlyThePlaintext) {
  auto [size, threads] = GetParam();
  TempDir dir;
  Bytes pt = testing::Pseudorandom(size, static_cast<std::uint32_t>(size));
  SecretBytes dek = testing::RandomDek();
  ASSERT_OK_AND_ASSIGN(ContainerHeader h, testing::EncryptBytes(dir.path(), "m", pt, dek, testing::TemplateHeader(),
                                                                SmallChunks(size % 2 == 0)));
  EXPECT_EQ(h.plaintext_size, size);
  ASSERT_OK_AND_ASSIGN(Container c, Container::Open(dir.File("m.sgl")));
  EXPECT_TRUE(c.header() == h);
  DecryptOptions opt;
  opt.threads = threads;
  ASSERT_OK_AND_ASSIGN(LockedMemfd m, DecryptToMemfd(c, dek, opt));
  EXPECT_TRUE(m.sealed());
  EXPECT_EQ(m.size(), size);
  EXPECT_EQ(testing::ReadFd(m.fd()), pt);
  auto view = m.ReadOnlyView();
  EXPECT_EQ(Bytes(view.begin(), view.end()), pt);

  // The streaming decryptor gives the same bytes.
  std::string out = dir.File("out.bin");
  int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  EXPECT_OK(DecryptToStream(c, dek, fd));
  ::close(fd);
  EXPECT_EQ(testing::ReadBytes(out), pt);
}

INSTANTIATE_TEST_SUITE_P(
    SizesAndThreads, RoundTrip,
    ::testing::Combine(::testing::Values(0, 1, kChunk - 1, kChunk, kChunk + 1, 3 * kChunk + 7, 37 * kChunk + 100),
                       ::testing::Values(1u, 2u, 4u)),
    [](const auto& p) {
      return "size" + std::to_string(std::get<0>(p.param)) + "_threads" + std::to_string(std::get<1>(p.param));
    });

TEST(Decrypt, DefaultThreadsAndProgress) {
  TempDir dir;
  Bytes pt = testing::Pseudorandom(10 * kChunk + 5, 1);
  SecretBytes dek = testing::RandomDek();
  ASSERT_OK(testing::EncryptBytes(dir.path(), "m", pt, dek, testing::TemplateHeader(), SmallChunks()));
  ASSERT_OK_AND_ASSIGN(Container c, Container::Open(dir.File("m.sgl")));
  DecryptOptions opt;  // threads = 0: hardware concurrency
  std::uint64_t last_done = 0, calls = 0;
  opt.progress = [&](std::uint64_t done, std::uint64_t total) {
    EXPECT_EQ(total, pt.size());
    EXPECT_GE(done, last_done);
    last_done = done;
    ++calls;
  };
  ASSERT_OK_AND_ASSIGN(LockedMemfd m, DecryptToMemfd(c, dek, opt));
  EXPECT_GE(calls, 1u);
  EXPECT_EQ(last_done, pt.size());
  EXPECT_EQ(testing::ReadFd(m.fd()), pt);
}

TEST(Encrypt, ProgressCountsBothPassesAndOutputIsAtomic) {
  TempDir dir;
  Bytes pt = testing::Pseudorandom(5 * kChunk, 2);
  EncryptOptions opt = SmallChunks(true);
  std::uint64_t last = 0;
  opt.progress = [&](std::uint64_t done, std::uint64_t total) {
    EXPECT_EQ(total, 2 * pt.size());
    last = done;
  };
  SecretBytes dek = testing::RandomDek();
  ASSERT_OK_AND_ASSIGN(ContainerHeader h, testing::EncryptBytes(dir.path(), "m", pt, dek, testing::TemplateHeader(), opt));
  EXPECT_EQ(last, 2 * pt.size());
  ASSERT_TRUE(h.plaintext_sha256.has_value());
  EXPECT_EQ(*h.plaintext_sha256, Sha256(pt));
  EXPECT_NE(::access(dir.File("m.sgl").c_str(), F_OK), -1);
  EXPECT_EQ(::access(dir.File("m.sgl.partial").c_str(), F_OK), -1);
}

TEST(Encrypt, FailureLeavesNoOutput) {
  TempDir dir;
  SecretBytes dek = testing::RandomDek();
  EncryptOptions opt = SmallChunks();
  // Missing input, a directory as input, a bad chunk size, a 16-byte DEK: nothing is written.
  EXPECT_CODE(EncryptFileWithDek(dir.File("none"), dir.File("o.sgl"), testing::TemplateHeader(), dek, opt),
              Code::kNotFound);
  EXPECT_CODE(EncryptFileWithDek(dir.path(), dir.File("o.sgl"), testing::TemplateHeader(), dek, opt),
              Code::kInvalidArgument);
  testing::WriteBytes(dir.File("in"), Bytes(100, 1));
  opt.chunk_size = 1000;
  EXPECT_CODE(EncryptFileWithDek(dir.File("in"), dir.File("o.sgl"), testing::TemplateHeader(), dek, opt),
              Code::kInvalidArgument);
  ASSERT_OK_AND_ASSIGN(SecretBytes short_dek, SecretBytes::Random(16));
  EXPECT_CODE(EncryptFileWithDek(dir.File("in"), dir.File("o.sgl"), testing::TemplateHeader(), short_dek,
                                 SmallChunks()),
              Code::kInvalidArgument);
  EXPECT_CODE(EncryptFileWithDek(dir.File("in"), dir.File("in"), testing::TemplateHeader(), dek, SmallChunks()),
              Code::kInvalidArgument);
  EXPECT_EQ(::access(dir.File("o.sgl").c_str(), F_OK), -1);
  EXPECT_EQ(::access(dir.File("o.sgl.partial").c_str(), F_OK), -1);
  EXPECT_EQ(testing::ReadBytes(dir.File("in")), Bytes(100, 1));
}

TEST(Encrypt, InputChangingMidwayLeavesNoOutput) {
  TempDir dir;
  std::string in = dir.File("in");
  testing::WriteBytes(in, testing::Pseudorandom(8 * kChunk, 4));
  EncryptOptions opt = SmallChunks(false);
  opt.progress = [&](std::uint64_t, std::uint64_t) { (void)::truncate(in.c_str(), kChunk); };
  SecretBytes dek = testing::RandomDek();
  auto r = EncryptFileWithDek(in, dir.File("o.sgl"), testing::TemplateHeader(), dek, opt);
  EXPECT_CODE(r, Code::kUnavailable);
  EXPECT_THAT(r.error().message(), HasSubstr("shrank"));
  EXPECT_EQ(::access(dir.File("o.sgl").c_str(), F_OK), -1);
  EXPECT_EQ(::access(dir.File("o.sgl.partial").c_str(), F_OK), -1);
}

TEST(Encrypt, GuessesContentType) {
  EXPECT_EQ(GuessContentType("/m/model.safetensors"), "application/safetensors");
  EXPECT_EQ(GuessContentType("x.gguf"), "application/x-gguf");
  EXPECT_EQ(GuessContentType("data.bin"), "application/octet-stream");
  TempDir dir;
  SecretBytes dek = testing::RandomDek();
  testing::WriteBytes(dir.File("w.safetensors"), Bytes(10, 0));
  ASSERT_OK_AND_ASSIGN(ContainerHeader h, EncryptFileWithDek(dir.File("w.safetensors"), dir.File("w.sgl"),
                                                             testing::TemplateHeader(), dek, SmallChunks()));
  EXPECT_EQ(h.content_type, "application/safetensors");
}

TEST(Memfd, DecryptedMemfdIsSealedAndNotInherited) {
  TempDir dir;
  Bytes pt = testing::Pseudorandom(3 * kChunk, 3);
  SecretBytes dek = testing::RandomDek();
  ASSERT_OK(testing::EncryptBytes(dir.path(), "m", pt, dek, testing::TemplateHeader(), SmallChunks()));
  ASSERT_OK_AND_ASSIGN(Container c, Container::Open(dir.File("m.sgl")));
  ASSERT_OK_AND_ASSIGN(LockedMemfd m, DecryptToMemfd(c, dek));
  EXPECT_TRUE(m.locked()) << m.lock_warning();
  int fd = m.fd();
  errno = 0;
  EXPECT_EQ(::pwrite(fd, "x", 1, 0), -1);
  EXPECT_EQ(errno, EPERM);
  errno = 0;
  EXPECT_EQ(::ftruncate(fd, 1), -1);
  EXPECT_EQ(errno, EPERM);
  EXPECT_EQ(::ftruncate(fd, static_cast<off_t>(2 * pt.size())), -1);
  EXPECT_EQ(::mmap(nullptr, pt.size(), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), MAP_FAILED);
  void* ro = ::mmap(nullptr, pt.size(), PROT_READ, MAP_SHARED, fd, 0);  // what an engine does
  ASSERT_NE(ro, MAP_FAILED);
  EXPECT_EQ(Bytes(static_cast<std::uint8_t*>(ro), static_cast<std::uint8_t*>(ro) + pt.size()), pt);
  ::munmap(ro, pt.size());
  int seals = ::fcntl(fd, F_GET_SEALS);
  EXPECT_EQ(seals & (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL), F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
  EXPECT_NE(seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE), 0);
  EXPECT_EQ(::fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), -1);  // F_SEAL_SEAL: no more changes
  EXPECT_EQ(::fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  ASSERT_OK(m.SetInheritable(true));
  EXPECT_EQ(::fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
  ASSERT_OK(m.SetInheritable(false));
  EXPECT_EQ(::fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
}

}  // namespace
}  // namespace sigil::loader
