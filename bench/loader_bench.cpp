// sigil-bench-loader: the loader against its baselines, per size, on the same content in the
// page cache (issue 5, "Speed and memory"). For each size it writes a pseudorandom plaintext,
// encrypts it to an .sgl the way `sigil model encrypt` does (with the plaintext SHA-256) and to
// an age file, then measures, best of --reps (the four measurements interleaved, so a noisy
// moment of a shared machine hits them alike), each in a fresh child process (fork) so its peak
// RSS is its own:
//
//   decrypt  DecryptToMemfd with T threads as `sigil-load run` does it: open, chunk key, memfd,
//            parallel pread + AES-256-GCM in place + pwrite, mlock, seal. Timed inside the child
//            (setup to sealed fd), so process exit (freeing the memfd) is not counted.
//   dec_dg   the same with the plaintext SHA-256 check (sigil-load run --verify-digest).
//   plain    the plaintext file read into a LockedMemfd the same way (T threads, 4 MiB units,
//            256 KiB pread + pwrite slices, mlock, seal), no crypto: the load_time_vs_plain base.
//   age      `age -d -i KEY -o /dev/null FILE` (fork to exit), output discarded: the cheapest
//            thing age can be asked to do.
//
// Peak RSS is getrusage-style ru_maxrss of the child from wait4(2). It counts every page the
// child maps, and the memfd's pages are mapped (locked), so it includes the model itself as
// shmem RSS: rss_over_model = ru_maxrss - model size is the loader's overhead.
//
//   sigil-bench-loader --openssl-gbps G [--sizes-mib 64,256,1024,4096] [--threads T]
//                      [--reps R] [--dir D]
//
// Prints a table; last line:
//   loader: size_gib=S threads=T throughput_vs_openssl=X load_time_vs_plain=Y speedup_vs_age=Z rss_over_model_mib=W
// for the largest size measured. GB = 1e9 bytes.
#include <fcntl.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "loader/container_reader.h"
#include "loader/container_writer.h"
#include "loader/locked_buffer.h"
#include "loader/locked_memfd.h"
#include "loader/memfd_decrypt.h"

namespace {

using sigil::loader::Container;
using sigil::loader::ContainerHeader;

struct Args {
  std::vector<std::uint64_t> sizes_mib = {64, 256, 1024, 4096};
  unsigned threads = 0;
  int reps = 3;
  double openssl_gbps = 0;
  std::string dir;
};

bool ParseArgs(int argc, char** argv, Args& a) try {
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    if (i + 1 >= argc) return false;
    std::string v = argv[++i];
    if (k == "--sizes-mib") {
      a.sizes_mib.clear();
      std::stringstream ss(v);
      for (std::string s; std::getline(ss, s, ',');) a.sizes_mib.push_back(std::stoull(s));
    } else if (k == "--threads") {
      a.threads = static_cast<unsigned>(std::stoul(v));
    } else if (k == "--reps") {
      a.reps = std::stoi(v);
    } else if (k == "--openssl-gbps") {
      a.openssl_gbps = std::stod(v);
    } else if (k == "--dir") {
      a.dir = v;
    } else {
      return false;
    }
  }
  return !a.sizes_mib.empty() && a.reps > 0 && a.openssl_gbps > 0;
} catch (const std::exception&) {  // std::stoul on a non-number
  return false;
}

// Writes `bytes` of cheap pseudorandom data (xorshift64) to `path`.
bool WritePlaintext(const std::string& path, std::uint64_t bytes, std::uint64_t seed) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  std::vector<std::uint64_t> buf(1 << 17);
  std::uint64_t x = 0x9E3779B97F4A7C15ull ^ seed;
  for (std::uint64_t done = 0; done < bytes;) {
    for (auto& w : buf) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      w = x;
    }
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(bytes - done, buf.size() * 8));
    if (std::fwrite(buf.data(), 1, n, f) != n) return false;
    done += n;
  }
  return std::fclose(f) == 0;
}

// Touches `bytes` of fresh anonymous memory and frees it, so the measurement that follows finds
// that much memory just freed, as every other measurement does. In a VM with free page
// reporting (virtio-balloon), memory left free for a few seconds goes back to the host, and
// the next allocation of it costs a host fault per page: without this, whichever measurement
// follows a quiet moment (age, which allocates nothing, or the warm-up reads) pays several
// times more for its memfd than the one after it (measured: plain 2x slower than decrypt at
// 4 GiB purely from its position in the round).
void PrimeMemory(std::uint64_t bytes) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return;
  const long page = ::sysconf(_SC_PAGESIZE);
  volatile std::uint8_t* v = static_cast<std::uint8_t*>(p);
  for (std::uint64_t off = 0; off < bytes; off += static_cast<std::uint64_t>(page)) v[off] = 1;
  ::munmap(p, bytes);
}

// Reads the file once so that every measurement starts from the page cache.
bool Warm(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  std::vector<char> buf(1 << 20);
  ssize_t n;
  while ((n = ::read(fd, buf.data(), buf.size())) > 0) {
  }
  ::close(fd);
  return n == 0;
}

// Drops `others` from the page cache (they were written back by sync), reads `input` into it,
// then primes `bytes` of memory: the state every measurement starts from.
bool OnlyCached(const std::string& input, const std::vector<std::string>& others, std::uint64_t bytes) {
  for (const auto& path : others) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
  }
  if (!Warm(input)) return false;
  PrimeMemory(bytes);
  return true;
}

ContainerHeader BenchHeader() {
  ContainerHeader h;
  h.tenant = "bench";
  h.key_name = "model";
  h.key_version = 1;
  h.enc.resize(sigil::loader::kEncSize);
  h.sealed_dek.resize(sigil::loader::kSealedDekSize);
  // Unchecked, a failed generator would leave zeros: stop instead (scripts/check_rng_calls.sh).
  if (RAND_bytes(h.enc.data(), static_cast<int>(h.enc.size())) != 1 ||
      RAND_bytes(h.sealed_dek.data(), static_cast<int>(h.sealed_dek.size())) != 1 ||
      RAND_bytes(h.salt.data(), static_cast<int>(h.salt.size())) != 1) {
    std::abort();
  }
  return h;
}

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Sample {
  double seconds = -1;      // < 0: failed
  long maxrss_kib = 0;      // ru_maxrss of the child
  double cpu_s = 0;         // user + system CPU time of the child (load-independent cost)
};

double CpuSeconds(const rusage& ru) {
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// CPU seconds (user + system, all threads) of this process so far.
double SelfCpuSeconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return CpuSeconds(ru);
}

// Set by a load just before it returns: its CPU time up to the sealed memfd, not counting the
// final wipe and the freeing of the pages that follow (the wall time excludes them too).
double g_cpu_when_loaded = -1;

// Runs `body` in a forked child; the time is the child's own measurement (seconds, sent back
// through a pipe), the RSS the child's ru_maxrss.
Sample InChild(const std::function<double()>& body) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return {};
  pid_t pid = ::fork();
  if (pid < 0) return {};
  if (pid == 0) {
    ::close(p[0]);
    double s[2] = {body(), g_cpu_when_loaded};
    ssize_t w = ::write(p[1], s, sizeof s);
    ::_exit(w == sizeof s && s[0] >= 0 ? 0 : 1);
  }
  ::close(p[1]);
  double s[2] = {-1, -1};
  ssize_t r = ::read(p[0], s, sizeof s);
  ::close(p[0]);
  int status = 0;
  rusage ru{};
  ::wait4(pid, &status, 0, &ru);
  Sample out;
  if (r == sizeof s && WIFEXITED(status) && WEXITSTATUS(status) == 0) out.seconds = s[0];
  out.maxrss_kib = ru.ru_maxrss;
  out.cpu_s = s[1] >= 0 ? s[1] : CpuSeconds(ru);
  return out;
}

// The load_time_vs_plain baseline: the plaintext read into a LockedMemfd exactly as
// DecryptToMemfd writes it (same units, slices, threads, locking and sealing), minus crypto.
double LoadPlain(const std::string& path, unsigned threads) {
  constexpr std::size_t kUnit = 4u << 20, kSlice = 256u << 10;
  double t0 = Now();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  std::uint64_t size = static_cast<std::uint64_t>(::lseek(fd, 0, SEEK_END));
  (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  auto m = sigil::loader::LockedMemfd::Create(size);
  if (!m) return -1;
  std::atomic<std::uint64_t> next{0};
  std::atomic<bool> ok{true};
  auto work = [&] {
    auto buf = sigil::loader::LockedBuffer::Create(kSlice);
    if (!buf) return ok.store(false);
    for (std::uint64_t u; (u = next.fetch_add(1)) * kUnit < size;) {
      std::uint64_t end = std::min<std::uint64_t>(size, (u + 1) * kUnit);
      for (std::uint64_t off = u * kUnit; off < end; off += kSlice) {
        std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(kSlice, end - off));
        if (::pread(fd, buf->data(), n, static_cast<off_t>(off)) != static_cast<ssize_t>(n) ||
            !m->WriteAt(off, std::span(buf->data(), n))) {
          return ok.store(false);
        }
      }
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) pool.emplace_back(work);
  for (auto& th : pool) th.join();
  ::close(fd);
  if (!ok || !m->Seal()) return -1;
  g_cpu_when_loaded = SelfCpuSeconds();
  return Now() - t0;
}

double LoadSgl(const std::string& path, const sigil::SecretBytes& dek, unsigned threads, bool digest) {
  double t0 = Now();
  auto c = Container::Open(path);
  if (!c) return -1;
  sigil::loader::DecryptOptions o;
  o.threads = threads;
  o.verify_digest = digest;
  auto m = sigil::loader::DecryptToMemfd(*c, dek, o);
  if (!m) {
    std::fprintf(stderr, "decrypt failed: %s\n", m.error().message().c_str());
    return -1;
  }
  if (!m->locked()) std::fprintf(stderr, "note: %s\n", m->lock_warning().c_str());
  g_cpu_when_loaded = SelfCpuSeconds();
  return Now() - t0;
}

// fork + exec of argv; true on exit status 0. stdout/stderr of the child go to /dev/null unless
// `keep_output`. `cpu_s`, if given, receives the child's CPU time.
bool Exec(const std::vector<std::string>& argv, bool keep_output = false, double* cpu_s = nullptr) {
  pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) {
    if (!keep_output) {
      int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 1);
      ::dup2(null, 2);
    }
    std::vector<char*> v;
    for (const auto& s : argv) v.push_back(const_cast<char*>(s.c_str()));
    v.push_back(nullptr);
    ::execvp(v[0], v.data());
    ::_exit(127);
  }
  int status = 0;
  rusage ru{};
  ::wait4(pid, &status, 0, &ru);
  if (cpu_s != nullptr) *cpu_s = CpuSeconds(ru);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::string AgeRecipient(const std::string& key_file) {
  std::string cmd = "age-keygen -y '" + key_file + "'";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return "";
  char line[256] = {};
  bool got = std::fgets(line, sizeof line, p) != nullptr;
  ::pclose(p);
  std::string r = got ? line : "";
  while (!r.empty() && (r.back() == '\n' || r.back() == '\r')) r.pop_back();
  return r;
}

std::uint64_t MemAvailable() {
  std::ifstream f("/proc/meminfo");
  std::string k;
  std::uint64_t v = 0;
  std::string unit;
  while (f >> k >> v >> unit) {
    if (k == "MemAvailable:") return v << 10;
  }
  return 0;
}

struct Row {
  std::uint64_t size_mib = 0;
  double dec_s = 0, plain_s = 0, age_s = 0, dg_s = 0;
  double dec_cpu = 0, plain_cpu = 0, age_cpu = 0;  // CPU seconds of the best run
  long dec_rss_kib = 0, plain_rss_kib = 0;
};

// Runs every measurement once per round, `reps` rounds, and keeps each one's best time (and its
// CPU time) and its peak RSS over all rounds. Stops at the first failure (seconds < 0).
std::vector<Sample> BestInterleaved(int reps, const std::vector<std::function<Sample()>>& measurements) {
  std::vector<Sample> best(measurements.size());
  for (int r = 0; r < reps; ++r) {
    for (std::size_t i = 0; i < measurements.size(); ++i) {
      Sample s = measurements[i]();
      if (s.seconds < 0) {
        best[i] = s;
        return best;
      }
      if (best[i].seconds < 0 || s.seconds < best[i].seconds) best[i].seconds = s.seconds, best[i].cpu_s = s.cpu_s;
      best[i].maxrss_kib = std::max(best[i].maxrss_kib, s.maxrss_kib);
    }
  }
  return best;
}

int Run(const Args& a) {
  std::string base = a.dir.empty() ? (getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp") : a.dir;
  std::string tmpl = base + "/sigil-bench-loader-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  const std::string dir = tmpl;
  struct Cleanup {
    std::string d;
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(d, ec);
    }
  } cleanup{dir};
  const unsigned threads = a.threads != 0 ? a.threads : sigil::loader::UsableCpus();
  const std::string key = dir + "/age.key";
  if (!Exec({"age-keygen", "-o", key})) {
    std::fprintf(stderr, "age-keygen failed (is age installed? scripts/setup.sh)\n");
    return 1;
  }
  const std::string recipient = AgeRecipient(key);
  if (recipient.rfind("age1", 0) != 0) {
    std::fprintf(stderr, "cannot read the age recipient of %s\n", key.c_str());
    return 1;
  }
  std::printf("threads=%u reps=%d (best time of reps; RSS = peak over reps) openssl_1core_gbps=%.3f\n", threads,
              a.reps, a.openssl_gbps);
  std::vector<Row> rows;
  for (std::uint64_t mib : a.sizes_mib) {
    const std::uint64_t bytes = mib << 20;
    // plain + .sgl + .age in memory (if TMPDIR is a tmpfs they cannot be dropped from it), plus
    // the memfd being filled.
    if (MemAvailable() < 4 * bytes + (512ull << 20)) {
      std::printf("size_mib=%llu skipped: MemAvailable %llu MiB < 4 x size + 512 MiB\n",
                  static_cast<unsigned long long>(mib), static_cast<unsigned long long>(MemAvailable() >> 20));
      continue;
    }
    const std::string plain = dir + "/plain.bin", sgl = dir + "/model.sgl", agef = dir + "/model.age";
    auto dek = sigil::SecretBytes::Random(32);
    sigil::loader::EncryptOptions eo;  // as `sigil model encrypt`: 4 MiB chunks, with the SHA-256
    if (!WritePlaintext(plain, bytes, mib) || !dek ||
        !sigil::loader::EncryptFileWithDek(plain, sgl, BenchHeader(), *dek, eo) ||
        !Exec({"age", "-r", recipient, "-o", agef, plain})) {
      std::fprintf(stderr, "setup failed for %llu MiB in %s\n", static_cast<unsigned long long>(mib), dir.c_str());
      return 1;
    }
    // Written back first, so no measurement shares the machine with the flusher or reads pages
    // still under writeback, and the inputs can be dropped from the page cache (OnlyCached).
    ::sync();
    Row row;
    row.size_mib = mib;
    std::vector<Sample> best = BestInterleaved(
        // Before each measurement (untimed): the other two inputs are dropped from the page
        // cache and this one is read into it, so only one input and the memfd compete for memory
        // (with all three cached, at 4 GiB the memfd's allocation had to reclaim page cache, a
        // cost that fell on whichever measurement came at the wrong moment); then memory is
        // primed (PrimeMemory) so every allocation starts from the same state.
        a.reps, {[&] { return OnlyCached(plain, {sgl, agef}, bytes) ? InChild([&] { return LoadPlain(plain, threads); }) : Sample{}; },
                 [&] { return OnlyCached(sgl, {plain, agef}, bytes) ? InChild([&] { return LoadSgl(sgl, *dek, threads, false); }) : Sample{}; },
                 [&] { return OnlyCached(sgl, {plain, agef}, bytes) ? InChild([&] { return LoadSgl(sgl, *dek, threads, true); }) : Sample{}; },
                 [&] {
                   if (!OnlyCached(agef, {plain, sgl}, bytes)) return Sample{};
                   Sample s;
                   double t0 = Now();
                   if (Exec({"age", "-d", "-i", key, "-o", "/dev/null", agef}, false, &s.cpu_s)) s.seconds = Now() - t0;
                   return s;
                 }});
    const Sample &p = best[0], &d = best[1], &dg = best[2], &g = best[3];
    if (p.seconds < 0 || d.seconds < 0 || dg.seconds < 0 || g.seconds < 0) {
      std::fprintf(stderr, "a measurement failed at %llu MiB\n", static_cast<unsigned long long>(mib));
      return 1;
    }
    row.plain_s = p.seconds, row.dec_s = d.seconds, row.age_s = g.seconds, row.dg_s = dg.seconds;
    row.plain_rss_kib = p.maxrss_kib, row.dec_rss_kib = d.maxrss_kib;
    row.plain_cpu = p.cpu_s, row.dec_cpu = d.cpu_s, row.age_cpu = g.cpu_s;
    rows.push_back(row);
    std::filesystem::remove(plain);
    std::filesystem::remove(sgl);
    std::filesystem::remove(agef);
  }
  if (rows.empty()) {
    std::fprintf(stderr, "no size could be measured\n");
    return 1;
  }
  std::printf("%9s %9s %9s %9s %9s %9s %9s %8s %8s %8s %8s %8s %10s %10s %9s %8s %8s %8s %9s\n", "size_mib",
              "dec_s", "plain_s", "age_s", "dec_GB/s", "plain_GB/s", "age_GB/s", "vs_ossl", "pln_ossl", "vs_plain",
              "vs_age", "age_pln", "rss_dec_MiB", "rss_pln_MiB", "rss_over", "dec_cpu", "pln_cpu", "age_cpu",
              "dec_dg_s");
  auto gbps = [](const Row& r, double s) { return static_cast<double>(r.size_mib << 20) / s / 1e9; };
  for (const Row& r : rows) {
    double vs_ossl = gbps(r, r.dec_s) / (threads * a.openssl_gbps);
    double plain_vs_ossl = gbps(r, r.plain_s) / (threads * a.openssl_gbps);
    std::printf("%9llu %9.3f %9.3f %9.3f %9.3f %10.3f %9.3f %8.2f %8.2f %8.2f %8.2f %8.2f %11.1f %11.1f %9.1f %8.2f %8.2f %8.2f %9.3f\n",
                static_cast<unsigned long long>(r.size_mib), r.dec_s, r.plain_s, r.age_s, gbps(r, r.dec_s),
                gbps(r, r.plain_s), gbps(r, r.age_s), vs_ossl, plain_vs_ossl, r.dec_s / r.plain_s,
                r.age_s / r.dec_s, r.age_s / r.plain_s,
                r.dec_rss_kib / 1024.0, r.plain_rss_kib / 1024.0,
                r.dec_rss_kib / 1024.0 - static_cast<double>(r.size_mib), r.dec_cpu, r.plain_cpu, r.age_cpu, r.dg_s);
  }
  std::printf("(pln_ossl and age_pln: what vs_ossl and vs_age would be if decryption cost nothing beyond the plain "
              "copy into a locked memfd, measured in this run; "
              "*_cpu: user+system CPU seconds of that run up to the sealed memfd (age: the whole process); dec_dg_s: decrypt with --verify-digest; wall-clock "
              "ratios depend on the machine's load)\n");
  const Row& big = rows.back();
  std::printf(
      "loader: size_gib=%.3g threads=%u throughput_vs_openssl=%.2f load_time_vs_plain=%.2f speedup_vs_age=%.2f "
      "rss_over_model_mib=%.1f\n",
      static_cast<double>(big.size_mib) / 1024.0, threads, gbps(big, big.dec_s) / (threads * a.openssl_gbps),
      big.dec_s / big.plain_s, big.age_s / big.dec_s, big.dec_rss_kib / 1024.0 - static_cast<double>(big.size_mib));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (!ParseArgs(argc, argv, a)) {
    std::fprintf(stderr,
                 "usage: sigil-bench-loader --openssl-gbps G [--sizes-mib 64,256,1024,4096] [--threads T] "
                 "[--reps R] [--dir D]\n");
    return 2;
  }
  return Run(a);
}
