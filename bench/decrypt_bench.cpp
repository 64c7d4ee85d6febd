// sigil-bench-decrypt: throughput of DecryptToMemfd (the loader's hot path) on a container in
// the page cache, with 1 and 2 threads, best of N runs. Each run is the whole call: memfd
// creation, page allocation, pread, AES-256-GCM decrypt in place, tag checks, mlock and seal.
//
//   sigil-bench-decrypt [--size-mib N] [--chunk-kib K] [--reps R] [--threads-max T] [--dir D]
//
// Also prints the memory floor (memfd_fill: the same memfd filled without crypto), since on a VM
// first-touch page allocation, not AES-GCM, can be the bound.
// Last line: decrypt_gbps_1t=X decrypt_gbps_2t=Y (GB = 1e9 bytes of plaintext).
#include <openssl/rand.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdlib>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "loader/container_reader.h"
#include "loader/container_writer.h"
#include "loader/locked_memfd.h"
#include "loader/memfd_decrypt.h"

namespace {

using sigil::loader::Container;
using sigil::loader::ContainerHeader;

struct Args {
  std::uint64_t size_mib = 256;
  std::uint32_t chunk_kib = 4096;
  int reps = 3;
  unsigned threads_max = 2;
  std::string dir;
};

bool ParseArgs(int argc, char** argv, Args& a) try {
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    if (i + 1 >= argc) return false;
    std::string v = argv[++i];
    if (k == "--size-mib") a.size_mib = std::stoull(v);
    else if (k == "--chunk-kib") a.chunk_kib = static_cast<std::uint32_t>(std::stoul(v));
    else if (k == "--reps") a.reps = std::stoi(v);
    else if (k == "--threads-max") a.threads_max = static_cast<unsigned>(std::stoul(v));
    else if (k == "--dir") a.dir = v;
    else return false;
  }
  return a.size_mib > 0 && a.reps > 0 && a.threads_max > 0;
} catch (const std::exception&) {  // std::stoul on a non-number
  return false;
}

// Writes `bytes` of cheap pseudorandom data (xorshift64) to `path`.
bool WritePlaintext(const std::string& path, std::uint64_t bytes) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  std::vector<std::uint64_t> buf(1 << 17);
  std::uint64_t x = 0x9E3779B97F4A7C15ull;
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

// Best-of-reps throughput in GB/s, or a negative value on failure.
double Measure(const Container& c, const sigil::SecretBytes& dek, unsigned threads, int reps, bool& locked) {
  double best = 0;
  sigil::loader::DecryptOptions opt;
  opt.threads = threads;
  opt.verify_digest = false;
  for (int r = 0; r < reps; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    auto m = sigil::loader::DecryptToMemfd(c, dek, opt);
    auto t1 = std::chrono::steady_clock::now();
    if (!m) {
      std::fprintf(stderr, "decrypt failed: %s\n", m.error().message().c_str());
      return -1;
    }
    locked = m->locked();
    double s = std::chrono::duration<double>(t1 - t0).count();
    best = std::max(best, static_cast<double>(c.header().plaintext_size) / s / 1e9);
  }
  return best;
}

// The memory floor on this machine: a LockedMemfd of the same size filled with pwrite, locked
// and sealed, without any crypto or file reads. Best of `reps`, GB/s.
double MeasureFill(std::uint64_t bytes, int reps) {
  std::vector<std::uint8_t> slice(256 << 10, 0x5a);
  double best = 0;
  for (int r = 0; r < reps; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    auto m = sigil::loader::LockedMemfd::Create(bytes);
    for (std::uint64_t off = 0; m && off < bytes; off += slice.size()) {
      std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(slice.size(), bytes - off));
      if (!m->WriteAt(off, std::span(slice.data(), n))) return -1;
    }
    if (!m || !m->Seal()) return -1;
    auto t1 = std::chrono::steady_clock::now();
    best = std::max(best, static_cast<double>(bytes) / std::chrono::duration<double>(t1 - t0).count() / 1e9);
  }
  return best;
}

int Run(const Args& a) {
  std::string base = a.dir.empty() ? (getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp") : a.dir;
  std::string tmpl = base + "/sigil-bench-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  std::string dir = tmpl;
  struct Cleanup {
    std::string d;
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(d, ec);
    }
  } cleanup{dir};
  std::uint64_t bytes = a.size_mib << 20;
  if (!WritePlaintext(dir + "/plain.bin", bytes)) {
    std::fprintf(stderr, "cannot write the plaintext in %s\n", dir.c_str());
    return 1;
  }
  auto dek = sigil::SecretBytes::Random(32);
  sigil::loader::EncryptOptions eo;
  eo.chunk_size = a.chunk_kib << 10;
  eo.plaintext_sha256 = false;
  auto h = sigil::loader::EncryptFileWithDek(dir + "/plain.bin", dir + "/model.sgl", BenchHeader(), *dek, eo);
  std::filesystem::remove(dir + "/plain.bin");
  auto c = h ? Container::Open(dir + "/model.sgl") : std::move(h).error();
  if (!c) {
    std::fprintf(stderr, "setup failed: %s\n", c.error().message().c_str());
    return 1;
  }
  std::printf("container size_mib=%llu chunk_kib=%u chunks=%llu reps=%d\n",
              static_cast<unsigned long long>(a.size_mib), a.chunk_kib,
              static_cast<unsigned long long>(c->layout().count()), a.reps);
  bool locked = false;
  (void)Measure(*c, *dek, 1, 1, locked);  // warm-up: page cache, code, allocator
  std::vector<double> gbps;
  for (unsigned t = 1; t <= a.threads_max; ++t) {
    double g = Measure(*c, *dek, t, a.reps, locked);
    if (g < 0) return 1;
    gbps.push_back(g);
    std::printf("decrypt threads=%u gbps=%.3f locked=%s\n", t, g, locked ? "yes" : "no");
  }
  std::printf("memfd_fill threads=1 gbps=%.3f (floor: create, pwrite, lock, seal; no crypto)\n",
              MeasureFill(bytes, a.reps));
  std::printf("decrypt_gbps_1t=%.3f decrypt_gbps_2t=%.3f\n", gbps[0], gbps.size() > 1 ? gbps[1] : 0.0);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (!ParseArgs(argc, argv, a)) {
    std::fprintf(stderr,
                 "usage: sigil-bench-decrypt [--size-mib N] [--chunk-kib K] [--reps R] [--threads-max T] "
                 "[--dir D]\n");
    return 2;
  }
  return Run(a);
}
