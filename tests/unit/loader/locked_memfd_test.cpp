#include <fcntl.h>
#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>

#include "loader/container_reader.h"
#include "loader/locked_buffer.h"
#include "loader/locked_memfd.h"
#include "loader/memfd_decrypt.h"
#include "tests/support/matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/loader/loader_test_util.h"

namespace sigil::loader {
namespace {

using ::testing::HasSubstr;

bool AllZero(const Bytes& b) {
  return std::all_of(b.begin(), b.end(), [](std::uint8_t x) { return x == 0; });
}

TEST(LockedMemfd, FillSealRead) {
  ASSERT_OK_AND_ASSIGN(LockedMemfd m, LockedMemfd::Create(10000));
  EXPECT_TRUE(m.locked()) << m.lock_warning();
  Bytes data = testing::Pseudorandom(10000, 1);
  ASSERT_OK(m.WriteAt(5000, ByteSpan(data).subspan(5000)));
  ASSERT_OK(m.WriteAt(0, ByteSpan(data).first(5000)));
  EXPECT_CODE(m.WriteAt(9999, ByteSpan(data).first(2)), Code::kInternal);
  ASSERT_OK(m.Seal());
  EXPECT_CODE(m.WriteAt(0, ByteSpan(data).first(1)), Code::kInternal);
  auto view = m.ReadOnlyView();
  EXPECT_EQ(Bytes(view.begin(), view.end()), data);
  EXPECT_EQ(testing::ReadFd(m.fd()), data);
  EXPECT_CODE(m.Seal(), Code::kInternal);
  LockedMemfd moved = std::move(m);
  EXPECT_EQ(testing::ReadFd(moved.fd()), data);
}

TEST(LockedMemfd, WrittenPagesAreMappedInTheLockedMapping) {
  constexpr std::size_t kSize = 1 << 20;
  ASSERT_OK_AND_ASSIGN(LockedMemfd m, LockedMemfd::Create(kSize));
  ASSERT_OK(m.WriteAt(0, testing::Pseudorandom(kSize, 5)));
  ASSERT_OK(m.Seal());
  // /proc/self/smaps: the memfd mapping is VM_LOCKED and all its pages are resident in it.
  std::ifstream smaps("/proc/self/smaps");
  bool in_mapping = false;
  std::size_t rss_kb = 0, locked_kb = 0;
  for (std::string line; std::getline(smaps, line);) {
    if (line.find("memfd:sigil-model") != std::string::npos) in_mapping = true;
    else if (in_mapping && line.rfind("Rss:", 0) == 0) rss_kb = std::stoul(line.substr(4));
    else if (in_mapping && line.rfind("Locked:", 0) == 0) locked_kb = std::stoul(line.substr(7));
    else if (in_mapping && line.rfind("VmFlags:", 0) == 0) {
      EXPECT_THAT(line, HasSubstr(" lo"));  // VM_LOCKED
      EXPECT_THAT(line, HasSubstr(" dd"));  // VM_DONTDUMP
      break;
    }
  }
  EXPECT_TRUE(in_mapping);
  EXPECT_EQ(rss_kb, kSize / 1024);
  EXPECT_EQ(locked_kb, kSize / 1024);
}

TEST(LockedMemfd, WipeAndUnsealedDestructionZeroThePages) {
  Bytes data = testing::Pseudorandom(8192, 2);
  int keep = -1;
  {
    ASSERT_OK_AND_ASSIGN(LockedMemfd m, LockedMemfd::Create(data.size()));
    ASSERT_OK(m.WriteAt(0, data));
    m.Wipe();
    EXPECT_TRUE(AllZero(testing::ReadFd(m.fd())));
    ASSERT_OK(m.WriteAt(0, data));
    keep = ::dup(m.fd());  // observes the file after the object is gone
  }
  Bytes after = testing::ReadFd(keep);
  ::close(keep);
  EXPECT_EQ(after.size(), data.size());
  EXPECT_TRUE(AllZero(after));
}

TEST(LockedMemfd, SealedWeightsAreWipedForEveryHolderWhenTheLoaderIsDone) {
  // The engine's descriptor (here a dup) outlives the LockedMemfd, as when sigil-load run's
  // engine leaves a child behind: it must read zeros, not the weights, once the loader is done.
  Bytes data = testing::Pseudorandom(3 * 4096 + 17, 6);
  int engine_fd = -1;
  {
    ASSERT_OK_AND_ASSIGN(LockedMemfd m, LockedMemfd::Create(data.size()));
    ASSERT_OK(m.WriteAt(0, data));
    ASSERT_OK(m.Seal());
    engine_fd = ::dup(m.fd());
    EXPECT_EQ(testing::ReadFd(engine_fd), data);
  }
  Bytes after = testing::ReadFd(engine_fd);
  ::close(engine_fd);
  EXPECT_EQ(after.size(), data.size());
  EXPECT_TRUE(AllZero(after));
}

TEST(LockedMemfd, SealRefusesEveryWayToWriteExceptTheLoadersOwnMapping) {
  Bytes data = testing::Pseudorandom(8192, 8);
  ASSERT_OK_AND_ASSIGN(LockedMemfd m, LockedMemfd::Create(data.size()));
  ASSERT_OK(m.WriteAt(0, data));
  ASSERT_OK(m.Seal());
  // What an engine could try with the inherited fd, reopened read-write through /proc.
  int rw = ::open(("/proc/self/fd/" + std::to_string(m.fd())).c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(rw, 0);
  errno = 0;
  EXPECT_EQ(::pwrite(rw, "x", 1, 0), -1);
  EXPECT_EQ(errno, EPERM);
  EXPECT_EQ(::ftruncate(rw, 0), -1);
  EXPECT_EQ(errno, EPERM);
  EXPECT_EQ(::fallocate(rw, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096), -1);
  EXPECT_EQ(errno, EPERM);
  EXPECT_EQ(::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, rw, 0), MAP_FAILED);
  EXPECT_EQ(errno, EPERM);
  void* ro = ::mmap(nullptr, 4096, PROT_READ, MAP_SHARED, rw, 0);  // engines map the weights like this
  ASSERT_NE(ro, MAP_FAILED);
  EXPECT_EQ(::mprotect(ro, 4096, PROT_READ | PROT_WRITE), -1) << "a read-only mapping became writable";
  EXPECT_EQ(errno, EACCES);
  EXPECT_EQ(std::memcmp(ro, data.data(), 4096), 0);
  ::munmap(ro, 4096);
  ::close(rw);
  EXPECT_EQ(testing::ReadFd(m.fd()), data);
  m.Wipe();  // the loader's own mapping still writes: that is the final wipe
  EXPECT_TRUE(AllZero(testing::ReadFd(m.fd())));
}

TEST(LockedMemfd, WipingAFailedLoadTouchesOnlyThePagesThatWereWritten) {
  // A load that fails early must not allocate the rest of the model just to zero it.
  constexpr std::uint64_t kSize = 64ull << 20;
  ASSERT_OK_AND_ASSIGN(LockedMemfd m, LockedMemfd::Create(kSize));
  Bytes data = testing::Pseudorandom(3 * 4096, 9);
  ASSERT_OK(m.WriteAt(kSize / 2, data));
  m.Wipe();
  struct stat st {};
  ASSERT_EQ(::fstat(m.fd(), &st), 0);
  EXPECT_LE(static_cast<std::uint64_t>(st.st_blocks) * 512, 1ull << 20) << "wipe allocated the holes";
  Bytes back(data.size());
  ASSERT_EQ(::pread(m.fd(), back.data(), back.size(), static_cast<off_t>(kSize / 2)), static_cast<ssize_t>(back.size()));
  EXPECT_TRUE(AllZero(back));
}

TEST(LockedMemfd, EmptyFile) {
  ASSERT_OK_AND_ASSIGN(LockedMemfd m, LockedMemfd::Create(0));
  ASSERT_OK(m.Seal());
  EXPECT_TRUE(m.ReadOnlyView().empty());
  EXPECT_EQ(::pwrite(m.fd(), "x", 1, 0), -1);
}

TEST(LockedBuffer, ZeroedMappingOfRequestedSize) {
  ASSERT_OK_AND_ASSIGN(LockedBuffer b, LockedBuffer::Create(5000));
  EXPECT_EQ(b.size(), 5000u);
  b.span()[4999] = 7;
  LockedBuffer moved = std::move(b);
  EXPECT_EQ(moved.span()[4999], 7);
  ASSERT_OK_AND_ASSIGN(LockedBuffer empty, LockedBuffer::Create(0));
  EXPECT_EQ(empty.size(), 0u);
}

// Drops CAP_IPC_LOCK (root ignores RLIMIT_MEMLOCK otherwise) and caps the limit at 64 KiB.
bool LowerMemlockLimit() {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (syscall(SYS_capget, &hdr, data) != 0) return false;
  data[CAP_IPC_LOCK / 32].effective &= ~(1u << (CAP_IPC_LOCK % 32));
  if (syscall(SYS_capset, &hdr, data) != 0) return false;
  rlimit rl{64 << 10, 64 << 10};
  return setrlimit(RLIMIT_MEMLOCK, &rl) == 0;
}

// Runs `body` in a child with a low memlock limit; the child's exit code is the number of
// failed checks (gtest assertions do not cross fork).
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

TEST(LockedMemfd, MemlockLimitGivesWarningOrFailure) {
  int failures = InLowMemlockChild([] {
    int bad = 0;
    auto warn = LockedMemfd::Create(4 << 20);
    bad += !warn.has_value();
    if (warn) {
      bad += warn->locked();
      bad += warn->lock_warning().find("ulimit -l") == std::string::npos;
      bad += warn->lock_warning().find("LimitMEMLOCK=") == std::string::npos;
      bad += warn->lock_warning().find("65536 bytes") == std::string::npos;
      bad += !warn->WriteAt(0, Bytes(4 << 20, 1)).has_value();
      bad += !warn->Seal().has_value();
    }
    MemfdOptions strict;
    strict.require_lock = true;
    auto fail = LockedMemfd::Create(4 << 20, strict);
    bad += fail.has_value() || fail.error().code() != Code::kUnavailable;
    return bad;
  });
  EXPECT_EQ(failures, 0);
}

TEST(LockedMemfd, DecryptUnderMemlockLimit) {
  ::sigil::testing::TempDir dir;
  Bytes pt = testing::Pseudorandom(1 << 20, 3);
  SecretBytes dek = testing::RandomDek();
  EncryptOptions eo;
  eo.chunk_size = 64 << 10;
  ASSERT_OK(testing::EncryptBytes(dir.path(), "m", pt, dek, testing::TemplateHeader(), eo));
  ASSERT_OK_AND_ASSIGN(Container c, Container::Open(dir.File("m.sgl")));
  int failures = InLowMemlockChild([&] {
    int bad = 0;
    auto m = DecryptToMemfd(c, dek);
    bad += !m.has_value();
    if (m) bad += m->locked() + (m->lock_warning().empty() ? 1 : 0) + (testing::ReadFd(m->fd()) != pt);
    DecryptOptions strict;
    strict.require_lock = true;
    auto s = DecryptToMemfd(c, dek, strict);
    bad += s.has_value() || s.error().code() != Code::kUnavailable;
    return bad;
  });
  EXPECT_EQ(failures, 0);
}

}  // namespace
}  // namespace sigil::loader
