// The secret pool behind SecretBytes (core/secret_arena.h): locked, never dumped, guarded,
// wiped on release, reused without new mappings, safe from several threads, misuse aborts.
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/secret_arena.h"
#include "core/secret_bytes.h"
#include "tests/support/matchers.h"

namespace sigil {
namespace {

const std::uint8_t* Ptr(const SecretBytes& s) { return s.Reveal(SecretAccess::Get()).data(); }

// The /proc/self/smaps entry of the mapping that contains p.
struct Smaps {
  bool found = false;
  long size_kb = -1;
  long locked_kb = -1;
  std::string vmflags;
};

Smaps SmapsFor(const void* p) {
  auto addr = reinterpret_cast<std::uintptr_t>(p);
  std::ifstream in("/proc/self/smaps");
  Smaps out;
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    std::uintptr_t lo = 0, hi = 0;
    char dash = 0;
    std::istringstream head(line);
    if (head >> std::hex >> lo >> dash >> hi && dash == '-' && line.find(':') > line.find(' ')) {
      if (out.found) break;  // the next mapping starts
      inside = addr >= lo && addr < hi;
      out.found = inside;
      continue;
    }
    if (!inside) continue;
    std::istringstream field(line);
    std::string key;
    field >> key;
    if (key == "Size:") field >> out.size_kb;
    if (key == "Locked:") field >> out.locked_kb;
    if (key == "VmFlags:") out.vmflags = line.substr(key.size());
  }
  return out;
}

bool HasFlag(const std::string& vmflags, const std::string& flag) {
  std::istringstream in(vmflags);
  for (std::string f; in >> f;) {
    if (f == flag) return true;
  }
  return false;
}

std::size_t MappingCount() {
  std::ifstream in("/proc/self/maps");
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

TEST(SecretArena, PooledSecretIsLockedAndExcludedFromCoreDumps) {
  ASSERT_OK_AND_ASSIGN(SecretBytes key, SecretBytes::Random(32));
  ASSERT_TRUE(secret_arena::IsPooled(32));
  auto region = secret_arena::RegionOf(Ptr(key));
  ASSERT_TRUE(region.has_value()) << "a 32-byte secret should come from the pool";
  Smaps m = SmapsFor(Ptr(key));
  ASSERT_TRUE(m.found);
  // The whole region is one mapping: every page of it locked, marked "do not dump".
  EXPECT_EQ(m.size_kb * 1024, static_cast<long>(region->bytes));
  EXPECT_EQ(m.locked_kb, m.size_kb);
  EXPECT_TRUE(HasFlag(m.vmflags, "lo")) << m.vmflags;
  EXPECT_TRUE(HasFlag(m.vmflags, "dd")) << m.vmflags;
  // Readable and writable, and nothing else.
  EXPECT_TRUE(HasFlag(m.vmflags, "rd") && HasFlag(m.vmflags, "wr") && !HasFlag(m.vmflags, "ex")) << m.vmflags;
}

TEST(SecretArena, RegionHasInaccessibleGuardPagesOnBothSides) {
  ASSERT_OK_AND_ASSIGN(SecretBytes key, SecretBytes::Random(32));
  auto region = secret_arena::RegionOf(Ptr(key));
  ASSERT_TRUE(region.has_value());
  Smaps before = SmapsFor(region->begin - 1), after = SmapsFor(region->begin + region->bytes);
  ASSERT_TRUE(before.found && after.found);
  for (const Smaps* g : {&before, &after}) {
    EXPECT_FALSE(HasFlag(g->vmflags, "rd") || HasFlag(g->vmflags, "wr")) << g->vmflags;
  }
}

// Death tests run in a fresh re-executed child: its pool is its own.
class SecretArenaDeath : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(SecretArenaDeath, WritingOneBytePastTheRegionFaults) {
  EXPECT_DEATH(
      {
        auto key = SecretBytes::Random(32);
        auto region = secret_arena::RegionOf(Ptr(*key));
        volatile std::uint8_t* past = const_cast<std::uint8_t*>(region->begin + region->bytes);
        *past = 1;
      },
      "");
}

TEST_F(SecretArenaDeath, WritingOneByteBeforeTheRegionFaults) {
  EXPECT_DEATH(
      {
        auto key = SecretBytes::Random(32);
        auto region = secret_arena::RegionOf(Ptr(*key));
        volatile std::uint8_t* before = const_cast<std::uint8_t*>(region->begin) - 1;
        *before = 1;
      },
      "");
}

// Overflow inside the pool: caught at release by the slack check, or by ASan at the write.
TEST_F(SecretArenaDeath, WritePastASecretsEndAborts) {
  EXPECT_DEATH(
      {
        auto key = SecretBytes::Random(32);
        std::uint8_t* p = key->RevealMutable(SecretAccess::Get()).data();
        p[32] = 0x41;
      },
      "written past its end|AddressSanitizer");
}

TEST_F(SecretArenaDeath, DoubleReleaseAborts) {
  EXPECT_DEATH(
      {
        auto p = secret_arena::Allocate(32);
        secret_arena::Free(*p, 32);
        secret_arena::Free(*p, 32);
      },
      "double release");
}

TEST_F(SecretArenaDeath, ReleaseOfAForeignPointerAborts) {
  EXPECT_DEATH(
      {
        static std::uint8_t not_a_secret[64];
        secret_arena::Free(not_a_secret, 32);
      },
      "did not come from the secret pool");
}

TEST_F(SecretArenaDeath, WriteAfterReleaseIsCaughtWhenTheBlockIsReused) {
  EXPECT_DEATH(
      {
        auto p = secret_arena::Allocate(32);
        std::uint8_t* stale = *p;
        secret_arena::Free(stale, 32);
        volatile std::uint8_t* w = stale;
        *w = 7;
        (void)secret_arena::Allocate(32);
      },
      "written after it was released|AddressSanitizer");
}

TEST(SecretArena, ReleasedBlockIsWipedAndReusedZeroed) {
  const std::uint8_t* where = nullptr;
  {
    ASSERT_OK_AND_ASSIGN(SecretBytes key, SecretBytes::Allocate(48));
    auto bytes = key.RevealMutable(SecretAccess::Get());
    for (auto& b : bytes) b = 0xA5;
    where = Ptr(key);
    ASSERT_FALSE(secret_arena::IsZeroForTest(where, 48));
  }
  // Still mapped (the pool keeps its pages), and every byte of the block is zero.
  ASSERT_TRUE(secret_arena::RegionOf(where).has_value());
  EXPECT_TRUE(secret_arena::IsZeroForTest(where, secret_arena::ClassSize(48)));
  // The next secret of that class gets the same block, zeroed.
  ASSERT_OK_AND_ASSIGN(SecretBytes next, SecretBytes::Allocate(40));
  EXPECT_EQ(Ptr(next), where);
  EXPECT_TRUE(secret_arena::IsZeroForTest(Ptr(next), 40));
}

TEST(SecretArena, ManyLiveSecretsShareAFewMappings) {
  std::size_t before = MappingCount();
  std::vector<SecretBytes> keys;
  for (int i = 0; i < 1000; ++i) {
    ASSERT_OK_AND_ASSIGN(SecretBytes k, SecretBytes::Random(32));
    keys.push_back(std::move(k));
  }
  // One guarded mapping per secret would add at least 1000 entries to /proc/self/maps.
  EXPECT_LT(MappingCount() - before, 30u);
  std::size_t again = MappingCount();
  for (int round = 0; round < 3; ++round) {
    keys.clear();
    for (int i = 0; i < 1000; ++i) keys.push_back(*SecretBytes::Random(32));
  }
  EXPECT_EQ(MappingCount(), again) << "released blocks are reused, not mapped again";
}

TEST(SecretArena, SizeClassBoundaries) {
  EXPECT_EQ(secret_arena::ClassSize(1), 32u);
  EXPECT_EQ(secret_arena::ClassSize(16), 32u);
  EXPECT_EQ(secret_arena::ClassSize(17), 64u);  // 16 bytes of slack always
  EXPECT_EQ(secret_arena::ClassSize(32), 64u);
  EXPECT_EQ(secret_arena::ClassSize(64), 128u);
  EXPECT_EQ(secret_arena::ClassSize(secret_arena::kMaxPooledSecret), 4096u);
  EXPECT_TRUE(secret_arena::IsPooled(secret_arena::kMaxPooledSecret));
  EXPECT_FALSE(secret_arena::IsPooled(secret_arena::kMaxPooledSecret + 1));
  EXPECT_EQ(secret_arena::ClassSize(secret_arena::kMaxPooledSecret + 1), 0u);
}

TEST(SecretArena, LargeSecretsGetTheirOwnGuardedLockedMapping) {
  constexpr std::size_t kBig = 64 * 1024;
  ASSERT_OK_AND_ASSIGN(SecretBytes big, SecretBytes::Allocate(kBig));
  EXPECT_FALSE(secret_arena::RegionOf(Ptr(big)).has_value());
  EXPECT_TRUE(secret_arena::IsZeroForTest(Ptr(big), kBig));
  Smaps m = SmapsFor(Ptr(big));
  ASSERT_TRUE(m.found);
  EXPECT_TRUE(HasFlag(m.vmflags, "dd")) << m.vmflags;
  EXPECT_GE(m.locked_kb * 1024, static_cast<long>(kBig));
  // Clone, move and release work across the two kinds of memory.
  ASSERT_OK_AND_ASSIGN(SecretBytes copy, big.Clone());
  EXPECT_TRUE(ConstantTimeEquals(big, copy));
  SecretBytes moved = std::move(big);
  EXPECT_EQ(moved.size(), kBig);
}

TEST(SecretArena, FourThreadsAllocateAndReleaseWithoutSharingABlock) {
  constexpr int kThreads = 4, kRounds = 4000, kLive = 24;
  const std::size_t sizes[] = {1, 16, 17, 32, 48, 64, 100, 200, 500, 1000, 2000, 4080, 5000};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<SecretBytes> live(kLive);
      std::vector<std::uint8_t> mark(kLive);
      auto intact = [&](int slot) {
        for (std::uint8_t b : live[slot].Reveal(SecretAccess::Get())) {
          if (b != mark[slot]) return false;
        }
        return true;
      };
      for (int i = 0; i < kRounds; ++i) {
        int slot = i % kLive;
        if (!intact(slot)) ++failures;
        std::size_t n = sizes[static_cast<std::size_t>(i * 7 + t) % std::size(sizes)];
        auto s = SecretBytes::Allocate(n);
        if (!s || !secret_arena::IsZeroForTest(Ptr(*s), n)) {
          ++failures;
          continue;
        }
        mark[slot] = static_cast<std::uint8_t>(t * 64 + i % 61 + 1);
        for (auto& b : s->RevealMutable(SecretAccess::Get())) b = mark[slot];
        live[slot] = std::move(*s);  // releases what the slot held
      }
      for (int slot = 0; slot < kLive; ++slot) {
        if (!intact(slot)) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

// fork() while another thread is inside the pool: the child can still allocate (the pool's locks
// are held across fork, not inherited mid-operation). A child that would deadlock is killed by
// its alarm and counted.
TEST(SecretArena, ChildForkedDuringPoolUseCanAllocate) {
  std::atomic<bool> stop{false};
  std::thread churn([&] {
    while (!stop) (void)SecretBytes::Random(32);
  });
  int bad = 0;
  for (int i = 0; i < 100; ++i) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      alarm(5);
      auto s = SecretBytes::Random(32);
      _exit(s && secret_arena::RegionOf(Ptr(*s)).has_value() ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++bad;
  }
  stop = true;
  churn.join();
  EXPECT_EQ(bad, 0);
}

// Without CAP_IPC_LOCK and with RLIMIT_MEMLOCK at zero the pool cannot lock a region: the
// allocation fails with kUnavailable naming the limit instead of handing out swappable memory,
// pooled or not.
// Runs in a death-test child; exits 0 when that is what happened.
[[noreturn]] void AllocateWithoutMemlock() {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (syscall(SYS_capget, &hdr, data) != 0) _exit(10);
  data[CAP_IPC_LOCK / 32].effective &= ~(1u << (CAP_IPC_LOCK % 32));
  if (syscall(SYS_capset, &hdr, data) != 0) _exit(11);
  rlimit rl{0, 0};
  if (setrlimit(RLIMIT_MEMLOCK, &rl) != 0) _exit(12);
  auto s = SecretBytes::Allocate(32);
  if (s) _exit(13);
  if (s.error().code() != Code::kUnavailable) _exit(14);
  // sodium_malloc alone would hand this out unlocked; the large-secret path refuses too.
  auto big = SecretBytes::Allocate(64 * 1024);
  if (big || big.error().code() != Code::kUnavailable) _exit(15);
  std::fprintf(stderr, "%s\n", s.error().message().c_str());
  _exit(0);
}

// SIGIL_SECRET_ARENA=off (read once, at the first secret) sends every secret to sodium_malloc.
[[noreturn]] void AllocateWithPoolOff() {
  setenv("SIGIL_SECRET_ARENA", "off", 1);
  auto s = SecretBytes::Random(32);
  if (!s) _exit(10);
  if (secret_arena::IsPooled(32) || secret_arena::RegionOf(Ptr(*s)).has_value()) _exit(11);
  if (!SmapsFor(Ptr(*s)).found || !HasFlag(SmapsFor(Ptr(*s)).vmflags, "dd")) _exit(12);
  *s = SecretBytes();
  _exit(0);
}

TEST_F(SecretArenaDeath, PoolCanBeTurnedOffForMeasurement) {
  EXPECT_EXIT(AllocateWithPoolOff(), ::testing::ExitedWithCode(0), "");
}

TEST_F(SecretArenaDeath, FailsClearlyWhenMemoryCannotBeLocked) {
  EXPECT_EXIT(AllocateWithoutMemlock(), ::testing::ExitedWithCode(0), "RLIMIT_MEMLOCK");
}

}  // namespace
}  // namespace sigil
