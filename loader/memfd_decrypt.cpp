#include "loader/memfd_decrypt.h"

#include <fcntl.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <vector>

#include "core/digest.h"
#include "core/encoding.h"
#include "core/ossl.h"
#include "loader/chunk_crypto.h"
#include "loader/fd_util.h"
#include "loader/locked_buffer.h"

namespace sigil::loader {
namespace {

// Each chunk is read, decrypted and written in slices this big, through one locked buffer per
// worker that stays in L2: pread copies ciphertext in, AES-GCM runs in place, pwrite copies the
// plaintext into the memfd. Writing with pwrite instead of through the memfd's mapping avoids
// one page fault per 4 KiB (much slower, and serialised, in a VM).
constexpr std::size_t kSlice = 256u << 10;
constexpr std::uint64_t kNone = std::numeric_limits<std::uint64_t>::max();

// State shared by the workers of one DecryptToMemfd call.
struct Job {
  const Container& c;
  const SecretBytes& chunk_key;
  LockedMemfd& out;
  std::atomic<std::uint64_t> next{0};
  std::atomic<std::uint64_t> first_bad{kNone};  // workers skip every chunk above it
  std::atomic<std::uint64_t> done_bytes{0};
  // ready[i] != 0 once chunk i is in the memfd and its tag verified (release/acquire), so the
  // calling thread can hash the plaintext in order while later chunks are still decrypting.
  std::vector<std::atomic<std::uint8_t>> ready;
  unsigned threads = 1;  // workers started: how far ahead each one asks for readahead
  std::mutex mu;
  std::condition_variable cv;
  unsigned finished = 0;                  // guarded by mu
  std::optional<Error> error;             // guarded by mu: the lowest-index failure
  std::uint64_t error_index = kNone;      // guarded by mu

  Job(const Container& container, const SecretBytes& key, LockedMemfd& memfd)
      : c(container), chunk_key(key), out(memfd), ready(container.layout().count()) {}

  void Fail(std::uint64_t index, Error e) {
    std::uint64_t cur = first_bad.load();
    while (index < cur && !first_bad.compare_exchange_weak(cur, index)) {
    }
    std::lock_guard<std::mutex> lock(mu);
    if (!error || index < error_index) {
      error = std::move(e);
      error_index = index;
    }
  }
};

// Decrypts chunk i into its place in the memfd, slice by slice through `buf`. The plaintext
// lands before the tag is checked; on failure the caller wipes the whole memfd.
Result<void> DecryptChunk(Job& job, ChunkCipher& cipher, LockedBuffer& buf, std::uint64_t i) {
  const ChunkLayout& layout = job.c.layout();
  std::size_t n = layout.plain_size(i);
  std::uint64_t off = layout.file_offset(i);
  SIGIL_RETURN_IF_ERROR(cipher.Begin(i, layout.is_last(i)));
  for (std::size_t s = 0; s < n; s += kSlice) {
    std::size_t m = std::min(kSlice, n - s);
    SIGIL_RETURN_IF_ERROR(internal::PreadFull(job.c.fd(), buf.data(), m, off + s, job.c.path()));
    SIGIL_RETURN_IF_ERROR(cipher.Update(buf.data(), m));
    SIGIL_RETURN_IF_ERROR(job.out.WriteAt(layout.plain_offset(i) + s, std::span(buf.data(), m)));
  }
  ChunkTag tag;
  SIGIL_RETURN_IF_ERROR(internal::PreadFull(job.c.fd(), tag.data(), tag.size(), off + n, job.c.path()));
  auto verified = cipher.FinishDecrypt(tag);
  if (!verified && verified.error().code() == Code::kVerificationFailed) return ChunkAuthError(job.c, i);
  return verified;
}

// Asks the kernel to start reading chunk `i` (the one this worker will probably take next) into
// the page cache, so that on a cold file the disk works while this worker decrypts. Only a
// hint: a no-op when the file is cached, and its failure changes nothing.
void Prefetch(const Job& job, std::uint64_t i) {
  const ChunkLayout& layout = job.c.layout();
  if (i >= layout.count()) return;
  (void)::posix_fadvise(job.c.fd(), static_cast<off_t>(layout.file_offset(i)),
                        static_cast<off_t>(layout.plain_size(i) + kTagSize), POSIX_FADV_WILLNEED);
}

void Worker(Job& job) {
  auto cipher = ChunkCipher::Create(job.chunk_key, job.c.header_bytes(), ChunkCipher::Direction::kDecrypt);
  auto buf = LockedBuffer::Create(std::max<std::size_t>(1, std::min<std::uint64_t>(kSlice, job.c.header().chunk_size)));
  if (!cipher || !buf) {
    job.Fail(0, !cipher ? std::move(cipher).error() : std::move(buf).error());
  } else {
    const std::uint64_t count = job.c.layout().count();
    for (;;) {
      std::uint64_t i = job.next.fetch_add(1, std::memory_order_relaxed);
      if (i >= count || i > job.first_bad.load(std::memory_order_acquire)) break;
      Prefetch(job, i + job.threads);
      if (auto r = DecryptChunk(job, *cipher, *buf, i); !r) {
        job.Fail(i, std::move(r).error());
        break;
      }
      job.done_bytes.fetch_add(job.c.layout().plain_size(i), std::memory_order_relaxed);
      job.ready[i].store(1, std::memory_order_release);
      std::lock_guard<std::mutex> lock(job.mu);  // wakes the hashing thread; once per chunk
      job.cv.notify_all();
    }
  }
  std::lock_guard<std::mutex> lock(job.mu);
  ++job.finished;
  job.cv.notify_all();
}

unsigned ThreadCount(unsigned requested, std::uint64_t chunks) {
  unsigned t = requested != 0 ? requested : UsableCpus();
  return static_cast<unsigned>(std::min<std::uint64_t>({t, chunks, 256}));
}

// SHA-256 of the plaintext, fed chunk by chunk in index order as chunks become ready.
class PlaintextHasher {
 public:
  Result<void> Init() {
    if (!md_ || EVP_DigestInit_ex(md_.get(), EVP_sha256(), nullptr) != 1) {
      return OpenSslError(Code::kInternal, "SHA-256 init");
    }
    return Ok();
  }
  // Hashes every ready chunk from the first not yet hashed; returns without waiting.
  Result<void> Advance(Job& job) {
    const ChunkLayout& layout = job.c.layout();
    auto view = job.out.ReadOnlyView();
    while (next_ < layout.count() && job.ready[next_].load(std::memory_order_acquire) != 0) {
      if (EVP_DigestUpdate(md_.get(), view.data() + layout.plain_offset(next_), layout.plain_size(next_)) != 1) {
        return OpenSslError(Code::kInternal, "SHA-256 update");
      }
      ++next_;
    }
    return Ok();
  }
  Result<void> Check(const Container& c) {
    const auto& want = *c.header().plaintext_sha256;
    Sha256Digest got{};
    unsigned len = 0;
    if (next_ != c.layout().count()) {
      return Fail(Code::kInternal, c.path() + ": plaintext hash stopped at chunk " + std::to_string(next_));
    }
    if (EVP_DigestFinal_ex(md_.get(), got.data(), &len) != 1) return OpenSslError(Code::kInternal, "SHA-256 final");
    if (!ConstantTimeEqual(got, want)) {
      return Fail(Code::kVerificationFailed, c.path() + ": every chunk authenticated but the plaintext SHA-256 " +
                                                 HexEncode(got) + " differs from the header's " + HexEncode(want) +
                                                 " (bad encryptor); no plaintext was released");
    }
    return Ok();
  }

 private:
  EvpMdCtxPtr md_{EVP_MD_CTX_new()};
  std::uint64_t next_ = 0;
};

// Runs `threads` workers to completion. Meanwhile the calling thread reports progress and, if
// `hasher` is set, hashes the chunks in order as they complete, so the digest check overlaps
// decryption instead of being a second, single-threaded pass over the whole plaintext.
Result<void> RunWorkers(Job& job, unsigned threads, const ProgressFn& progress, std::uint64_t total,
                        PlaintextHasher* hasher) {
  std::vector<std::thread> pool;
  pool.reserve(threads);
  job.threads = threads;
  for (unsigned t = 0; t < threads; ++t) {
    try {
      pool.emplace_back(Worker, std::ref(job));
    } catch (const std::system_error&) {
      break;  // fewer threads than asked; the ones running share all chunks
    }
  }
  if (pool.empty()) Worker(job);
  const unsigned started = pool.empty() ? 1 : static_cast<unsigned>(pool.size());
  Result<void> hashed = Ok();
  {
    std::unique_lock<std::mutex> lock(job.mu);
    auto last_report = std::chrono::steady_clock::now();
    while (job.finished != started) {
      job.cv.wait_for(lock, std::chrono::milliseconds(100));
      lock.unlock();
      if (hasher != nullptr && hashed && job.first_bad.load() == kNone) hashed = hasher->Advance(job);
      auto now = std::chrono::steady_clock::now();
      if (progress && now - last_report >= std::chrono::milliseconds(100)) {
        progress(job.done_bytes.load(std::memory_order_relaxed), total);
        last_report = now;
      }
      lock.lock();
    }
  }
  for (auto& th : pool) th.join();
  if (hasher != nullptr && hashed && job.first_bad.load() == kNone) hashed = hasher->Advance(job);  // the last chunks
  return hashed;
}

}  // namespace

unsigned UsableCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) {
    return static_cast<unsigned>(CPU_COUNT(&set));
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

Result<LockedMemfd> DecryptToMemfd(const Container& c, const SecretBytes& dek, const DecryptOptions& options) {
  const ContainerHeader& h = c.header();
  SIGIL_ASSIGN_OR_RETURN(SecretBytes chunk_key, DeriveChunkKey(dek, h.salt));
  MemfdOptions mo;
  mo.name = options.memfd_name;
  mo.require_lock = options.require_lock;
  SIGIL_ASSIGN_OR_RETURN(LockedMemfd memfd, LockedMemfd::Create(h.plaintext_size, mo));
  // Whole-file sequential readahead (larger kernel read-ahead window); only a hint.
  (void)::posix_fadvise(c.fd(), 0, 0, POSIX_FADV_SEQUENTIAL);
  Job job(c, chunk_key, memfd);
  std::optional<PlaintextHasher> hasher;
  if (options.verify_digest && h.plaintext_sha256) {
    hasher.emplace();
    SIGIL_RETURN_IF_ERROR(hasher->Init());
  }
  auto hashed = RunWorkers(job, ThreadCount(options.threads, c.layout().count()), options.progress,
                           h.plaintext_size, hasher ? &*hasher : nullptr);
  if (job.error) {
    memfd.Wipe();  // unverified plaintext of the bad chunk and everything else goes
    return std::move(*job.error);
  }
  if (hasher) {
    if (auto r = hashed ? hasher->Check(c) : hashed; !r) {
      memfd.Wipe();
      return r.error();
    }
  }
  SIGIL_RETURN_IF_ERROR(memfd.Seal());
  if (options.progress) options.progress(h.plaintext_size, h.plaintext_size);
  return memfd;
}

Result<void> DecryptHeldToStream(const Container& c, const SecretBytes& dek, int out_fd,
                                 const DecryptOptions& options, std::string* lock_warning) {
  DecryptOptions held = options;
  held.verify_digest = true;
  SIGIL_ASSIGN_OR_RETURN(LockedMemfd memfd, DecryptToMemfd(c, dek, held));
  if (!memfd.locked() && lock_warning != nullptr) *lock_warning = memfd.lock_warning();
  // Written in slices so that a failed write can say how much of the plaintext got out.
  constexpr std::size_t kSlice = 1 << 20;
  std::span<const std::uint8_t> all = memfd.ReadOnlyView();
  for (std::size_t done = 0; done < all.size();) {
    const std::size_t n = std::min(kSlice, all.size() - done);
    if (auto w = internal::WriteFull(out_fd, all.data() + done, n, "decrypted output"); !w) {
      return w.error().Wrap(c.path() + ": every chunk authenticated, but writing the output failed after at least " +
                            std::to_string(done) + " of " + std::to_string(all.size()) + " bytes");
    }
    done += n;
  }
  return Ok();
}

}  // namespace sigil::loader
