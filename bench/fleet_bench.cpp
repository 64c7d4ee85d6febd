// Load generator for `bench/run fleet`: full workload flows (challenge, dev evidence, attest,
// release of one artifact, open the re-sealed DEK) over HTTPS keep-alive against brokers that
// bench/run already started and provisioned (tenant "bench", key "bench/model", a policy for the
// dev TEE). Each worker thread keeps one connection to one broker; workers are spread round-robin
// over the --url list.
//
//   --sweep 1,2,4,...   closed loop: each concurrency for --seconds, stop after two steps in a row
//                       add no more than 5% over the best so far (one noisy step on a shared
//                       2-core machine ended sweeps at concurrency 2). Last line:
//                       max_flows_per_s=N best_concurrency=C
//   --rate R            open loop: arrivals at R/s for --seconds served by --workers threads;
//                       latency counts from the scheduled arrival (no coordinated omission).
//                       Last line: flows_per_s=N failures=F p50_ms=A p99_ms=B cpu_us_per_flow=Y
// --pid P (repeatable): broker processes whose utime+stime (/proc/P/stat) is charged per flow.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "attestation/dev/platform_key.h"
#include "core/digest.h"
#include "core/encoding.h"
#include "core/file_io.h"
#include "core/hpke.h"
#include "core/protocol.h"
#include "enclave/dev_attester.h"
#include "net/broker_client.h"

namespace {
using namespace sigil;
using Clock = std::chrono::steady_clock;

constexpr const char* kMeasurement =
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

struct Options {
  std::vector<std::string> urls;
  std::vector<int> pids, sweep;
  std::string ca, platform_key, key_pub;
  double seconds = 6, warmup = 1, rate = 0;
  int workers = 32;
};

struct Setup {
  Options o;
  SecretBytes seed;
  net::ReleaseArtifact artifact;
};

Result<void> OneFlow(net::BrokerClient& c, const Setup& s) {
  SIGIL_ASSIGN_OR_RETURN(hpke::KeyPair k, hpke::GenerateKeyPair(hpke::Kem::kX25519HkdfSha256));
  SIGIL_ASSIGN_OR_RETURN(Bytes nonce, c.Challenge("bench", "dev"));
  // A sealed in-memory load: the broker releases model-weights keys to nothing else.
  const attestation::WorkloadPurpose purpose{"sealed-memory", kMeasurement, HexEncode(Sha256(AsBytes("")))};
  SIGIL_ASSIGN_OR_RETURN(Bytes ev, enclave::MakeDevEvidence(s.seed, protocol::Binding(nonce, k.public_key), kMeasurement,
                                                            false, std::chrono::system_clock::now(), purpose));
  SIGIL_ASSIGN_OR_RETURN(std::string token, c.Attest("bench", "dev", nonce, ev, k.public_key));
  SIGIL_ASSIGN_OR_RETURN(auto rel, c.Release(token, k.public_key, {s.artifact}));
  SIGIL_ASSIGN_OR_RETURN(SecretBytes dek, hpke::OpenSecret(hpke::kSigilSuite, rel[0].enc, k.private_key,
                                                           protocol::ReleaseInfo("bench", "model", 1, rel[0].artifact_id),
                                                           {}, rel[0].sealed_dek));
  return Ok();
}

// utime+stime of the brokers in microseconds (fields 14 and 15 of /proc/PID/stat, in clock ticks).
double BrokerCpuUs(const std::vector<int>& pids) {
  double ticks = 0;
  for (int pid : pids) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto p = s.rfind(')');  // the command name may hold spaces
    if (p == std::string::npos) continue;
    std::istringstream f(s.substr(p + 2));
    std::string tok;
    for (int field = 3; field <= 15 && f >> tok; ++field) {
      if (field >= 14) ticks += std::strtod(tok.c_str(), nullptr);
    }
  }
  return ticks * 1e6 / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double SelfCpuUs() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto us = [](const timeval& t) { return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_usec); };
  return us(ru.ru_utime) + us(ru.ru_stime);
}

std::unique_ptr<net::BrokerClient> ConnectOrDie(const Setup& s, int worker) {
  const std::string& url = s.o.urls[static_cast<std::size_t>(worker) % s.o.urls.size()];
  auto c = net::BrokerClient::Connect(url, s.o.ca);
  if (!c) {
    std::fprintf(stderr, "connect %s: %s\n", url.c_str(), c.error().message().c_str());
    std::exit(1);
  }
  return std::move(*c);
}

void NoteFailure(std::atomic<long>& failures, const Error& e) {
  if (failures++ == 0) std::fprintf(stderr, "flow failed: %s\n", e.message().c_str());
}

// Closed loop at `conc` workers; returns flows/s over the measured window (after the warm-up).
double ClosedStep(const Setup& s, int conc, long* failed) {
  std::atomic<long> done{0}, failures{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int w = 0; w < conc; ++w) {
    threads.emplace_back([&, w] {
      auto c = ConnectOrDie(s, w);
      while (!stop.load(std::memory_order_relaxed)) {
        if (auto r = OneFlow(*c, s); r) done++; else NoteFailure(failures, r.error());
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(s.o.warmup));
  const long d0 = done.load();
  const double b0 = BrokerCpuUs(s.o.pids), g0 = SelfCpuUs();
  const auto t0 = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(s.o.seconds));
  const long d1 = done.load();
  const double b1 = BrokerCpuUs(s.o.pids), g1 = SelfCpuUs();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  stop = true;
  for (auto& t : threads) t.join();
  const double flows = static_cast<double>(d1 - d0), per_s = flows / secs;
  std::printf("closed concurrency=%d flows_per_s=%.1f broker_cpu_us_per_flow=%.0f generator_cpu_us_per_flow=%.0f "
              "failures=%ld\n", conc, per_s, flows > 0 ? (b1 - b0) / flows : 0.0, flows > 0 ? (g1 - g0) / flows : 0.0,
              failures.load());
  std::fflush(stdout);
  *failed += failures.load();
  return per_s;
}

int Sweep(const Setup& s) {
  double best = 0;
  int best_c = 0;
  long failed = 0;
  int flat_steps = 0;
  for (int c : s.o.sweep) {
    double r = ClosedStep(s, c, &failed);
    const bool improved = r > best * 1.05;
    if (r > best) { best = r; best_c = c; }
    flat_steps = improved ? 0 : flat_steps + 1;
    if (flat_steps == 2) break;
  }
  std::printf("max_flows_per_s=%.0f best_concurrency=%d failures=%ld\n", best, best_c, failed);
  return failed == 0 ? 0 : 1;
}

int OpenLoop(const Setup& s) {
  const long total = static_cast<long>(s.o.rate * s.o.seconds);
  std::vector<double> lat(static_cast<std::size_t>(total), -1);
  std::atomic<long> next{0}, failures{0}, ready{0};
  std::atomic<bool> go{false};
  Clock::time_point t0;
  std::vector<std::thread> threads;
  for (int w = 0; w < s.o.workers; ++w) {
    threads.emplace_back([&, w] {
      auto c = ConnectOrDie(s, w);
      (void)OneFlow(*c, s);  // the TLS handshake and first flow stay out of the measurement
      ready++;
      while (!go.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      for (long i; (i = next++) < total;) {
        const auto due = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                                  static_cast<double>(i) / s.o.rate));
        std::this_thread::sleep_until(due);
        if (auto r = OneFlow(*c, s); !r) { NoteFailure(failures, r.error()); continue; }
        lat[static_cast<std::size_t>(i)] = std::chrono::duration<double, std::milli>(Clock::now() - due).count();
      }
    });
  }
  while (ready.load() < s.o.workers) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const double b0 = BrokerCpuUs(s.o.pids), g0 = SelfCpuUs();
  t0 = Clock::now() + std::chrono::milliseconds(20);
  go = true;
  for (auto& t : threads) t.join();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  const double b1 = BrokerCpuUs(s.o.pids), g1 = SelfCpuUs();
  std::vector<double> ok;
  for (double l : lat) if (l >= 0) ok.push_back(l);
  if (ok.empty()) { std::fprintf(stderr, "no flow succeeded\n"); return 1; }
  std::sort(ok.begin(), ok.end());
  auto pct = [&](double p) { return ok[std::min(ok.size() - 1, static_cast<std::size_t>(p * static_cast<double>(ok.size())))]; };
  const double n = static_cast<double>(ok.size());
  std::printf("open rate=%.0f workers=%d flows=%zu seconds=%.2f p50=%.2f p90=%.2f p99=%.2f max=%.2f ms "
              "generator_cpu_us_per_flow=%.0f\n", s.o.rate, s.o.workers, ok.size(), secs, pct(0.5), pct(0.9),
              pct(0.99), ok.back(), (g1 - g0) / n);
  std::printf("flows_per_s=%.1f failures=%ld p50_ms=%.2f p99_ms=%.2f cpu_us_per_flow=%.0f\n", n / secs,
              failures.load(), pct(0.5), pct(0.99), (b1 - b0) / n);
  return failures.load() == 0 ? 0 : 1;
}

std::vector<int> IntList(const std::string& s) {
  std::vector<int> v;
  std::stringstream in(s);
  for (std::string x; std::getline(in, x, ',');) v.push_back(std::atoi(x.c_str()));
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  Setup s;
  Options& o = s.o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--url") o.urls.push_back(v);
    else if (a == "--pid") o.pids.push_back(std::atoi(v.c_str()));
    else if (a == "--ca") o.ca = v;
    else if (a == "--platform-key") o.platform_key = v;
    else if (a == "--key-pub") o.key_pub = v;
    else if (a == "--sweep") o.sweep = IntList(v);
    else if (a == "--seconds") o.seconds = std::atof(v.c_str());
    else if (a == "--warmup") o.warmup = std::atof(v.c_str());
    else if (a == "--rate") o.rate = std::atof(v.c_str());
    else if (a == "--workers") o.workers = std::atoi(v.c_str());
    else { std::fprintf(stderr, "unknown option %s\n", a.c_str()); return 2; }
  }
  if (o.urls.empty() || o.ca.empty() || o.platform_key.empty() || o.key_pub.empty() ||
      (o.sweep.empty() == (o.rate <= 0))) {
    std::fprintf(stderr, "usage: sigil-bench-fleet --url U [--url U2] --ca F --platform-key F --key-pub F "
                         "[--pid P]... (--sweep 1,2,4 | --rate R [--workers W]) [--seconds S] [--warmup S]\n");
    return 2;
  }
  auto kp = attestation::dev::LoadDevPlatformKey(o.platform_key);
  auto pub_text = ReadTextFile(o.key_pub);
  if (!kp || !pub_text) { std::fprintf(stderr, "cannot read the platform key or key public file\n"); return 1; }
  auto pub = ParseJson(*pub_text, "key public");
  if (!pub) { std::fprintf(stderr, "key public: %s\n", pub.error().message().c_str()); return 1; }
  auto pk = Base64UrlDecode(pub->value("public_key", ""));
  if (!pk) { std::fprintf(stderr, "key public: no public_key\n"); return 1; }
  auto dek = SecretBytes::Random(32);
  auto sealed = hpke::Seal(hpke::kSigilSuite, *pk, protocol::DekSealInfo("bench", "model", 1), {},
                           dek->Reveal(SecretAccess::Get()));
  if (!sealed) { std::fprintf(stderr, "seal: %s\n", sealed.error().message().c_str()); return 1; }
  s.seed = std::move(kp->seed);
  s.artifact = {"bench/model", 1, sealed->enc, sealed->ciphertext};
  return o.rate > 0 ? OpenLoop(s) : Sweep(s);
}
