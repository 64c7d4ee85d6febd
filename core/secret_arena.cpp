#include "core/secret_arena.h"

#include <pthread.h>
#include <sodium.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "core/secret_bytes.h"

#if defined(__SANITIZE_ADDRESS__)
#define SIGIL_ARENA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SIGIL_ARENA_ASAN 1
#endif
#endif

#ifdef SIGIL_ARENA_ASAN
#include <sanitizer/asan_interface.h>
#define SIGIL_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define SIGIL_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define SIGIL_POISON(p, n) ((void)(p), (void)(n))
#define SIGIL_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace sigil::secret_arena {
namespace {

constexpr std::size_t kMinClass = 32;
constexpr std::size_t kClassCount = 8;  // 32, 64, ..., 4096
static_assert((kMinClass << (kClassCount - 1)) == kMaxClass);
// A region is at least 16 KiB and at least 8 blocks: few mappings per class, little locked
// memory when a class is barely used (a low RLIMIT_MEMLOCK still fits every class).
constexpr std::size_t kMinRegionBytes = 16 * 1024;
constexpr std::size_t kMinRegionBlocks = 8;

// Memory corruption in the one place that holds keys: stop rather than carry on.
[[noreturn]] void Corrupted(const char* what) {
  std::fprintf(stderr, "sigil: secret memory: %s\n", what);
  std::fflush(stderr);
  std::abort();
}

struct RegionRec {
  std::uint8_t* body = nullptr;  // after the leading guard page
  std::size_t bytes = 0;         // without the guard pages
  std::vector<bool> in_use;      // one per block, kept outside the secret memory itself
  bool Contains(const void* p) const {
    auto u = reinterpret_cast<std::uintptr_t>(p), b = reinterpret_cast<std::uintptr_t>(body);
    return u >= b && u < b + bytes;
  }
};

struct SizeClass {
  std::mutex mu;
  std::size_t block = 0;
  std::vector<RegionRec*> regions;  // guarded by mu; never unmapped
  std::vector<std::uint8_t*> free;  // guarded by mu; every block here is all zero

  RegionRec* Find(const void* p) {
    for (RegionRec* r : regions) {
      if (r->Contains(p)) return r;
    }
    return nullptr;
  }
};

struct Arena {
  bool enabled = true;
  std::size_t page = 4096;
  std::array<SizeClass, kClassCount> classes;

  Arena() {
    const char* env = std::getenv("SIGIL_SECRET_ARENA");
    enabled = !(env != nullptr && std::strcmp(env, "off") == 0);
    long ps = sysconf(_SC_PAGESIZE);
    if (ps > 0) page = static_cast<std::size_t>(ps);
    for (std::size_t i = 0; i < kClassCount; ++i) classes[i].block = kMinClass << i;
  }
  void LockAll() {
    for (SizeClass& c : classes) c.mu.lock();
  }
  void UnlockAll() {
    for (auto it = classes.rbegin(); it != classes.rend(); ++it) it->mu.unlock();
  }
};

// The arena is made at the first secret; fork() must not split that or any class operation.
// g_init_mu serialises creation with fork, and the fork handlers, registered before main so no
// thread can run before them, take every class lock (as glibc does for malloc) so a child never
// starts with a lock held by a thread it does not have.
std::mutex g_init_mu;
std::atomic<Arena*> g_arena{nullptr};

void BeforeFork() {
  g_init_mu.lock();
  if (Arena* a = g_arena.load(std::memory_order_acquire)) a->LockAll();
}
void AfterFork() {
  if (Arena* a = g_arena.load(std::memory_order_acquire)) a->UnlockAll();
  g_init_mu.unlock();
}
[[maybe_unused]] const int g_fork_handlers = pthread_atfork(BeforeFork, AfterFork, AfterFork);

// Never destroyed: SecretBytes held by static objects may be released after main returns.
Arena& TheArena() {
  if (Arena* a = g_arena.load(std::memory_order_acquire)) return *a;
  std::lock_guard<std::mutex> lock(g_init_mu);
  Arena* a = g_arena.load(std::memory_order_acquire);
  if (a == nullptr) {
    a = new Arena();
    g_arena.store(a, std::memory_order_release);
  }
  return *a;
}

std::size_t ClassIndex(std::size_t n) {
  std::size_t need = n + kTailBytes, i = 0;
  while ((kMinClass << i) < need) ++i;
  return i;
}

// mlock through the system call itself: AddressSanitizer's interceptor for mlock() does nothing
// and reports success, which would leave an ASan build's secrets unlocked without a word.
int LockPages(void* p, std::size_t bytes) { return static_cast<int>(syscall(SYS_mlock, p, bytes)); }

std::string MlockError(int err, std::size_t bytes) {
  std::string msg = "cannot lock memory for secrets (mlock of " + std::to_string(bytes) +
                    " bytes: " + std::strerror(err) + ")";
  struct rlimit rl {};
  if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
    msg += "; RLIMIT_MEMLOCK is " + std::to_string(rl.rlim_cur) + " bytes, raise it (ulimit -l, LimitMEMLOCK=)";
  }
  return msg;
}

// Maps one more region for class c: guard page, body, guard page. Called with c.mu held.
Result<void> Grow(SizeClass& c, std::size_t page) {
  std::size_t blocks = std::max(kMinRegionBlocks, kMinRegionBytes / c.block);
  std::size_t bytes = blocks * c.block;
  bytes = (bytes + page - 1) / page * page;
  blocks = bytes / c.block;
  std::size_t total = bytes + 2 * page;
  void* base = mmap(nullptr, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) {
    return Fail(Code::kUnavailable, std::string("cannot map memory for secrets: ") + std::strerror(errno));
  }
  auto* body = static_cast<std::uint8_t*>(base) + page;
  auto undo = [&](std::string msg) {
    munmap(base, total);
    return Fail(Code::kUnavailable, std::move(msg));
  };
  if (mprotect(body, bytes, PROT_READ | PROT_WRITE) != 0) {
    return undo(std::string("cannot map memory for secrets (mprotect): ") + std::strerror(errno));
  }
  if (madvise(body, bytes, MADV_DONTDUMP) != 0) {
    return undo(std::string("cannot exclude secret memory from core dumps (madvise): ") + std::strerror(errno));
  }
  // No MADV_WIPEONFORK: tests and tools fork children that go on using secrets made before
  // the fork (sodium_malloc memory did not have it either); HardenProcess covers dumps.
  if (LockPages(body, bytes) != 0) return undo(MlockError(errno, bytes));
  SIGIL_POISON(body, bytes);

  auto* rec = new RegionRec{body, bytes, std::vector<bool>(blocks, false)};
  c.regions.push_back(rec);
  c.free.reserve(c.free.size() + blocks);
  // Lowest address on top of the stack: handed out first.
  for (std::size_t i = blocks; i-- > 0;) c.free.push_back(body + i * c.block);
  return Ok();
}

}  // namespace

bool IsPooled(std::size_t n) { return n > 0 && n <= kMaxPooledSecret && TheArena().enabled; }

std::size_t ClassSize(std::size_t n) { return IsPooled(n) ? (kMinClass << ClassIndex(n)) : 0; }

Result<std::uint8_t*> Allocate(std::size_t n) {
  EnsureSodium();
  if (n == 0) return Fail(Code::kInternal, "secret memory: zero-length allocation");
  Arena& arena = TheArena();
  if (!IsPooled(n)) {
    // sodium_malloc: its own mapping between guard pages, a canary, MADV_DONTDUMP. It ignores
    // a failed mlock, so lock again here and fail the way the pool does.
    void* p = sodium_malloc(n);
    if (p == nullptr) return Fail(Code::kUnavailable, "cannot allocate locked memory for a secret");
    if (LockPages(p, n) != 0) {
      int err = errno;
      sodium_free(p);
      return Fail(Code::kUnavailable, MlockError(err, n));
    }
    sodium_memzero(p, n);
    return static_cast<std::uint8_t*>(p);
  }
  SizeClass& c = arena.classes[ClassIndex(n)];
  std::uint8_t* p = nullptr;
  {
    std::lock_guard<std::mutex> lock(c.mu);
    if (c.free.empty()) SIGIL_RETURN_IF_ERROR(Grow(c, arena.page));
    p = c.free.back();
    c.free.pop_back();
    RegionRec* r = c.Find(p);
    if (r == nullptr) Corrupted("free list holds a block outside every region");
    r->in_use[static_cast<std::size_t>(p - r->body) / c.block] = true;
  }
  // Blocks are wiped when freed; anything else here was written through a stale pointer or by
  // an overflow from a neighbour. (sodium_is_zero is not instrumented, so poisoning is no bar.)
  if (sodium_is_zero(p, c.block) != 1) Corrupted("a free block was written after it was released");
  SIGIL_UNPOISON(p, n);
  return p;
}

void Free(std::uint8_t* p, std::size_t n) noexcept {
  if (p == nullptr) return;
  if (!IsPooled(n)) {
    sodium_free(p);  // checks its canary, zeroes, munlocks and unmaps
    return;
  }
  SizeClass& c = TheArena().classes[ClassIndex(n)];
  std::lock_guard<std::mutex> lock(c.mu);
  RegionRec* r = c.Find(p);
  if (r == nullptr) Corrupted("release of memory that did not come from the secret pool");
  auto offset = static_cast<std::size_t>(p - r->body);
  if (offset % c.block != 0) Corrupted("release of a pointer inside a secret block");
  std::size_t index = offset / c.block;
  if (!r->in_use[index]) Corrupted("double release of a secret block");
  // The slack after the secret was zero when handed out and nothing may write it.
  if (sodium_is_zero(p + n, c.block - n) != 1) Corrupted("a secret was written past its end");
  sodium_memzero(p, n);
  SIGIL_POISON(p, c.block);
  r->in_use[index] = false;
  c.free.push_back(p);  // capacity reserved in Grow: no allocation here
}

std::optional<Region> RegionOf(const void* p) {
  for (SizeClass& c : TheArena().classes) {
    std::lock_guard<std::mutex> lock(c.mu);
    if (RegionRec* r = c.Find(p)) return Region{r->body, r->bytes};
  }
  return std::nullopt;
}

bool IsZeroForTest(const void* p, std::size_t bytes) {
  return sodium_is_zero(static_cast<const unsigned char*>(p), bytes) == 1;
}

}  // namespace sigil::secret_arena
