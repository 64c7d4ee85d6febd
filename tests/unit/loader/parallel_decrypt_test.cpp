// The parallel in-memory decryptor (memfd_decrypt.h): exact bytes at every size boundary and
// thread count, and every tamper case refused whichever worker meets it, with nothing of the
// corrupt file left reachable (no memfd open or mapped) and the digest check, which now runs
// overlapped with decryption, still refusing a bad encryptor.
#include <linux/capability.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <tuple>

#include "core/digest.h"
#include "loader/chunk_crypto.h"
#include "loader/container_reader.h"
#include "loader/memfd_decrypt.h"
#include "tests/support/matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/loader/loader_test_util.h"

namespace sigil::loader {
namespace {

using ::sigil::testing::TempDir;
using ::testing::HasSubstr;

// (plaintext size, threads), with 64 KiB chunks.
constexpr std::uint32_t kBigChunk = 64u << 10;
class ParallelSizes : public ::testing::TestWithParam<std::tuple<std::size_t, unsigned>> {};

TEST_P(ParallelSizes, MemfdHoldsExactlyThePlaintext) {
  auto [size, threads] = GetParam();
  TempDir dir;
  Bytes pt = testing::Pseudorandom(size, static_cast<std::uint32_t>(size) + 17);
  SecretBytes dek = testing::RandomDek();
  EncryptOptions eo;
  eo.chunk_size = kBigChunk;
  ASSERT_OK(testing::EncryptBytes(dir.path(), "m", pt, dek, testing::TemplateHeader(), eo));
  ASSERT_OK_AND_ASSIGN(Container c, Container::Open(dir.File("m.sgl")));
  DecryptOptions opt;
  opt.threads = threads;
  ASSERT_OK_AND_ASSIGN(LockedMemfd m, DecryptToMemfd(c, dek, opt));
  EXPECT_TRUE(m.sealed());
  ASSERT_EQ(m.size(), size);
  EXPECT_EQ(Sha256(m.ReadOnlyView()), Sha256(pt));
  EXPECT_EQ(testing::ReadFd(m.fd()), pt);
}

INSTANTIATE_TEST_SUITE_P(
    ChunkBoundaries, ParallelSizes,
    ::testing::Combine(::testing::Values(0, 1, kBigChunk - 1, kBigChunk, kBigChunk + 1, 8 * kBigChunk - 1,
                                         8 * kBigChunk, 8 * kBigChunk + 1, 33 * kBigChunk),
                       ::testing::Values(1u, 2u, 8u)),
    [](const auto& p) {
      return "size" + std::to_string(std::get<0>(p.param)) + "_threads" + std::to_string(std::get<1>(p.param));
    });

TEST(ParallelDecrypt, UsableCpusIsAtLeastOne) { EXPECT_GE(UsableCpus(), 1u); }

// 64 chunks of 4 KiB (the last one 123 bytes), decrypted by 2 or 8 workers.
constexpr std::uint32_t kChunk = 4096;
constexpr std::size_t kStride = kChunk + kTagSize;
constexpr std::uint64_t kChunks = 64;

class ParallelTamper : public ::testing::TestWithParam<unsigned> {
 protected:
  void SetUp() override {
    pt_ = testing::Pseudorandom((kChunks - 1) * kChunk + 123, 5);
    EncryptOptions o;
    o.chunk_size = kChunk;
    auto h = testing::EncryptBytes(dir_.path(), "a", pt_, dek_, testing::TemplateHeader(), o);
    ASSERT_TRUE(h.has_value());
    header_ = *h;
    file_ = testing::ReadBytes(dir_.File("a.sgl"));
    ASSERT_OK_AND_ASSIGN(Bytes hb, SerializeHeader(header_));
    hsize_ = hb.size();
  }
  std::ptrdiff_t At(std::size_t i) const { return static_cast<std::ptrdiff_t>(hsize_ + i * kStride); }

  // Decrypts `bytes` with GetParam() workers; must fail. Checks that no memfd of the model is
  // left open or mapped, and returns the error.
  Error Refused(const Bytes& bytes, bool verify_digest = false) {
    std::string path = dir_.File("t.sgl");
    testing::WriteBytes(path, bytes);
    auto c = Container::Open(path);
    if (!c) return c.error();
    DecryptOptions opt;
    opt.threads = GetParam();
    opt.verify_digest = verify_digest;
    std::uint64_t last_done = 0;
    opt.progress = [&](std::uint64_t done, std::uint64_t) { last_done = done; };
    auto m = DecryptToMemfd(*c, dek_, opt);
    EXPECT_EQ(testing::ModelMemfdsOpenOrMapped(), 0) << "a memfd with plaintext of a bad file is reachable";
    EXPECT_LT(last_done, pt_.size()) << "progress reported a failed load as complete";
    if (m.has_value()) return Error(Code::kInternal, "the parallel decryptor accepted a modified container");
    return m.error();
  }

  TempDir dir_;
  Bytes pt_;
  SecretBytes dek_ = testing::RandomDek();
  ContainerHeader header_;
  Bytes file_;
  std::size_t hsize_ = 0;
};

TEST_P(ParallelTamper, OriginalDecrypts) {
  ASSERT_OK_AND_ASSIGN(Container c, Container::Open(dir_.File("a.sgl")));
  ASSERT_EQ(c.layout().count(), kChunks);
  DecryptOptions opt;
  opt.threads = GetParam();
  ASSERT_OK_AND_ASSIGN(LockedMemfd m, DecryptToMemfd(c, dek_, opt));
  EXPECT_EQ(testing::ReadFd(m.fd()), pt_);
}

TEST_P(ParallelTamper, CorruptFirstMiddleOrLastChunk) {
  for (std::size_t i : {std::size_t{0}, std::size_t{31}, std::size_t{kChunks - 1}}) {
    for (std::size_t pos : {std::size_t{0}, std::size_t{100}, std::size_t{122}}) {  // 122 < the last chunk's size
      Bytes bad = file_;
      bad[static_cast<std::size_t>(At(i)) + pos] ^= 0x01;
      Error e = Refused(bad);
      EXPECT_EQ(e.code(), Code::kVerificationFailed) << e.message();
      EXPECT_THAT(e.message(), HasSubstr("chunk " + std::to_string(i) + " of 64"));
      EXPECT_THAT(e.message(), HasSubstr("no plaintext was released"));
    }
  }
}

TEST_P(ParallelTamper, CorruptTagOfTheLastChunk) {
  Bytes bad = file_;
  bad.back() ^= 0x80;
  Error e = Refused(bad);
  EXPECT_EQ(e.code(), Code::kVerificationFailed);
  EXPECT_THAT(e.message(), HasSubstr("chunk 63 of 64"));
}

TEST_P(ParallelTamper, TwoBadChunksReportTheFirstWhicheverWorkerMeetsItFirst) {
  Bytes bad = file_;
  bad[static_cast<std::size_t>(At(50))] ^= 1;
  bad[static_cast<std::size_t>(At(9)) + 7] ^= 1;
  Error e = Refused(bad);
  EXPECT_EQ(e.code(), Code::kVerificationFailed);
  EXPECT_THAT(e.message(), HasSubstr("chunk 9 of 64"));
}

TEST_P(ParallelTamper, ReorderedChunks) {
  Bytes bad = file_;
  std::swap_ranges(bad.begin() + At(20), bad.begin() + At(21), bad.begin() + At(21));
  Error e = Refused(bad);
  EXPECT_EQ(e.code(), Code::kVerificationFailed);
  EXPECT_THAT(e.message(), HasSubstr("chunk 20 of 64"));
}

TEST_P(ParallelTamper, ChunkReplacedByAnotherOfTheSameFile) {
  Bytes bad = file_;
  std::copy(file_.begin() + At(3), file_.begin() + At(4), bad.begin() + At(40));
  Error e = Refused(bad);
  EXPECT_EQ(e.code(), Code::kVerificationFailed);
  EXPECT_THAT(e.message(), HasSubstr("chunk 40 of 64"));
}

TEST_P(ParallelTamper, TruncationIsRefusedBeforeAnyDecryption) {
  Bytes dropped_last(file_.begin(), file_.begin() + At(kChunks - 1));  // at a chunk boundary
  Error e = Refused(dropped_last);
  EXPECT_EQ(e.code(), Code::kInvalidArgument);
  EXPECT_THAT(e.message(), HasSubstr("truncated"));
  Bytes one_short(file_.begin(), file_.end() - 1);
  e = Refused(one_short);
  EXPECT_EQ(e.code(), Code::kInvalidArgument);
  EXPECT_THAT(e.message(), HasSubstr("truncated: 1 bytes missing"));
}

TEST_P(ParallelTamper, WrongDigestFromABadEncryptorIsRefusedAfterAllChunksVerify) {
  ContainerHeader h = header_;
  ASSERT_TRUE(h.plaintext_sha256.has_value());
  (*h.plaintext_sha256)[31] ^= 1;
  ASSERT_OK_AND_ASSIGN(Bytes hb, SerializeHeader(h));
  ASSERT_OK_AND_ASSIGN(SecretBytes key, DeriveChunkKey(dek_, h.salt));
  ASSERT_OK_AND_ASSIGN(ChunkCipher enc, ChunkCipher::Create(key, hb, ChunkCipher::Direction::kEncrypt));
  Bytes file = hb;
  ChunkLayout layout(hb.size(), h);
  for (std::uint64_t i = 0; i < layout.count(); ++i) {
    Bytes chunk(pt_.begin() + static_cast<std::ptrdiff_t>(layout.plain_offset(i)),
                pt_.begin() + static_cast<std::ptrdiff_t>(layout.plain_offset(i) + layout.plain_size(i)));
    ASSERT_OK(enc.Begin(i, layout.is_last(i)));
    ASSERT_OK(enc.Update(chunk.data(), chunk.size()));
    ChunkTag tag;
    ASSERT_OK(enc.FinishEncrypt(tag));
    file.insert(file.end(), chunk.begin(), chunk.end());
    file.insert(file.end(), tag.begin(), tag.end());
  }
  Error e = Refused(file, /*verify_digest=*/true);
  EXPECT_EQ(e.code(), Code::kVerificationFailed);
  EXPECT_THAT(e.message(), HasSubstr("plaintext SHA-256"));
}

TEST_P(ParallelTamper, WrongDek) {
  dek_ = testing::RandomDek();
  Error e = Refused(file_);
  EXPECT_EQ(e.code(), Code::kVerificationFailed);
  EXPECT_THAT(e.message(), HasSubstr("chunk 0 of 64"));
}

INSTANTIATE_TEST_SUITE_P(Threads, ParallelTamper, ::testing::Values(2u, 8u),
                         [](const auto& p) { return "threads" + std::to_string(p.param); });

// RLIMIT_MEMLOCK smaller than the model, in a child without CAP_IPC_LOCK (root ignores the
// limit otherwise): the parallel load still succeeds, unlocked, with a warning that names the
// limit and the fix; require_lock refuses with the same text.
bool LowerMemlockLimit() {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (syscall(SYS_capget, &hdr, data) != 0) return false;
  data[CAP_IPC_LOCK / 32].effective &= ~(1u << (CAP_IPC_LOCK % 32));
  if (syscall(SYS_capset, &hdr, data) != 0) return false;
  rlimit rl{256 << 10, 256 << 10};
  return setrlimit(RLIMIT_MEMLOCK, &rl) == 0;
}

int InLowMemlockChild(const std::function<int()>& body) {
  pid_t pid = fork();
  if (pid == 0) {
    if (!LowerMemlockLimit()) _exit(100);
    _exit(body());
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 200;
}

TEST(ParallelDecrypt, MemlockLimitSmallerThanTheModel) {
  TempDir dir;
  Bytes pt = testing::Pseudorandom(4 << 20, 9);  // 4 MiB model, 256 KiB limit
  SecretBytes dek = testing::RandomDek();
  EncryptOptions eo;
  eo.chunk_size = 256 << 10;
  ASSERT_OK(testing::EncryptBytes(dir.path(), "m", pt, dek, testing::TemplateHeader(), eo));
  ASSERT_OK_AND_ASSIGN(Container c, Container::Open(dir.File("m.sgl")));
  int failures = InLowMemlockChild([&] {
    int bad = 0;
    DecryptOptions opt;
    opt.threads = 4;
    auto m = DecryptToMemfd(c, dek, opt);
    bad += !m.has_value();
    if (m) {
      const std::string& w = m->lock_warning();
      bad += m->locked();
      bad += w.find("RLIMIT_MEMLOCK is 262144 bytes") == std::string::npos;
      bad += w.find("ulimit -l") == std::string::npos;
      bad += w.find("LimitMEMLOCK=infinity") == std::string::npos;
      bad += w.find("CAP_IPC_LOCK") == std::string::npos;
      bad += m->sealed() ? 0 : 1;
      bad += Sha256(m->ReadOnlyView()) != Sha256(pt);
    }
    opt.require_lock = true;
    auto s = DecryptToMemfd(c, dek, opt);
    bad += s.has_value() || s.error().code() != Code::kUnavailable ||
           s.error().message().find("RLIMIT_MEMLOCK") == std::string::npos;
    bad += testing::ModelMemfdsOpenOrMapped() != (m ? 2 : 0);  // m's fd and mapping only
    return bad;
  });
  EXPECT_EQ(failures, 0);
}

}  // namespace
}  // namespace sigil::loader
