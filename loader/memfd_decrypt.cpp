#include "loader/memfd_decrypt.h"

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
#include "loader/chunk_crypto.h"
#include "loader/locked_buffer.h"

namespace sigil::loader {
namespace {

// Each chunk is read, decrypted and written in slices this big, through one locked buffer per
// worker that stays in L2: pread copies ciphertext in, AES-GCM runs in place, pwrite copies the
// plaintext into the memfd. Writing with pwrite instead of through a shared writable mapping
// avoids one page fault per 4 KiB (much slower, and serialised, in a VM) and leaves no writable
// mapping to tear down before F_SEAL_WRITE.
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
  std::mutex mu;
  std::condition_variable cv;
  unsigned finished = 0;                  // guarded by mu
  std::optional<Error> error;             // guarded by mu: the lowest-index failure
  std::uint64_t error_index = kNone;      // guarded by mu

  Job(const Container& container, const SecretBytes& key, LockedMemfd& memfd)
      : c(container), chunk_key(key), out(memfd) {}

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
      if (auto r = DecryptChunk(job, *cipher, *buf, i); !r) {
        job.Fail(i, std::move(r).error());
        break;
      }
      job.done_bytes.fetch_add(job.c.layout().plain_size(i), std::memory_order_relaxed);
    }
  }
  std::lock_guard<std::mutex> lock(job.mu);
  ++job.finished;
  job.cv.notify_all();
}

unsigned ThreadCount(unsigned requested, std::uint64_t chunks) {
  unsigned t = requested != 0 ? requested : std::max(1u, std::thread::hardware_concurrency());
  return static_cast<unsigned>(std::min<std::uint64_t>({t, chunks, 256}));
}

// Runs `threads` workers to completion, reporting progress from the calling thread.
void RunWorkers(Job& job, unsigned threads, const ProgressFn& progress, std::uint64_t total) {
  std::vector<std::thread> pool;
  pool.reserve(threads);
  for (unsigned t = 0; t < threads; ++t) {
    try {
      pool.emplace_back(Worker, std::ref(job));
    } catch (const std::system_error&) {
      break;  // fewer threads than asked; the ones running share all chunks
    }
  }
  if (pool.empty()) Worker(job);
  const unsigned started = pool.empty() ? 1 : static_cast<unsigned>(pool.size());
  if (progress) {
    std::unique_lock<std::mutex> lock(job.mu);
    while (!job.cv.wait_for(lock, std::chrono::milliseconds(100), [&] { return job.finished == started; })) {
      lock.unlock();
      progress(job.done_bytes.load(std::memory_order_relaxed), total);
      lock.lock();
    }
  }
  for (auto& th : pool) th.join();
}

Result<void> CheckDigest(const Container& c, std::span<const std::uint8_t> plaintext) {
  const auto& want = *c.header().plaintext_sha256;
  Sha256Digest got = Sha256(plaintext);
  if (!ConstantTimeEqual(got, want)) {
    return Fail(Code::kVerificationFailed, c.path() + ": every chunk authenticated but the plaintext SHA-256 " +
                                               HexEncode(got) + " differs from the header's " + HexEncode(want) +
                                               " (bad encryptor); no plaintext was released");
  }
  return Ok();
}

}  // namespace

Result<LockedMemfd> DecryptToMemfd(const Container& c, const SecretBytes& dek, const DecryptOptions& options) {
  const ContainerHeader& h = c.header();
  SIGIL_ASSIGN_OR_RETURN(SecretBytes chunk_key, DeriveChunkKey(dek, h.salt));
  MemfdOptions mo;
  mo.name = options.memfd_name;
  mo.require_lock = options.require_lock;
  SIGIL_ASSIGN_OR_RETURN(LockedMemfd memfd, LockedMemfd::Create(h.plaintext_size, mo));
  Job job(c, chunk_key, memfd);
  RunWorkers(job, ThreadCount(options.threads, c.layout().count()), options.progress, h.plaintext_size);
  if (job.error) {
    memfd.Wipe();  // unverified plaintext of the bad chunk and everything else goes
    return std::move(*job.error);
  }
  if (options.verify_digest && h.plaintext_sha256) {
    if (auto r = CheckDigest(c, memfd.ReadOnlyView()); !r) {
      memfd.Wipe();
      return r.error();
    }
  }
  SIGIL_RETURN_IF_ERROR(memfd.Seal());
  if (options.progress) options.progress(h.plaintext_size, h.plaintext_size);
  return memfd;
}

}  // namespace sigil::loader
