// End-to-end key release over HTTPS on loopback: a real sigild (dev TEE, embedded store) and C
// concurrent workload clients, each running full flows (challenge, dev evidence, attest,
// release, open the re-sealed DEK). Prints per-flow latency percentiles and flows per second;
// the last line is `flows_per_s=N p50_ms=A p99_ms=B` (bench/run release reads it).
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
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

std::string g_bin;
constexpr const char* kMeasurement =
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

int RunCmd(std::vector<std::string> argv, const std::string& out_file = "") {
  pid_t pid = fork();
  if (pid == 0) {
    if (!out_file.empty()) {
      FILE* f = std::fopen(out_file.c_str(), "w");
      if (f) dup2(fileno(f), 1);
    }
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    std::vector<char*> a;
    for (auto& s : argv) a.push_back(s.data());
    a.push_back(nullptr);
    execv(a[0], a.data());
    _exit(127);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

struct Flow {
  std::string url, ca, platform_key;
  net::ReleaseArtifact artifact;
};

Result<void> OneFlow(net::BrokerClient& c, const Flow& f, const SecretBytes& seed) {
  SIGIL_ASSIGN_OR_RETURN(hpke::KeyPair k, hpke::GenerateKeyPair(hpke::Kem::kX25519HkdfSha256));
  SIGIL_ASSIGN_OR_RETURN(Bytes nonce, c.Challenge("bench", "dev"));
  // A sealed in-memory load, as sigil-load run states it: the broker releases model-weights keys
  // to nothing else (broker/api/release_purpose.h).
  const attestation::WorkloadPurpose purpose{"sealed-memory", kMeasurement, HexEncode(Sha256(AsBytes("")))};
  SIGIL_ASSIGN_OR_RETURN(Bytes ev, enclave::MakeDevEvidence(seed, protocol::Binding(nonce, k.public_key), kMeasurement,
                                                            false, std::chrono::system_clock::now(), purpose));
  SIGIL_ASSIGN_OR_RETURN(std::string token, c.Attest("bench", "dev", nonce, ev, k.public_key));
  SIGIL_ASSIGN_OR_RETURN(auto rel, c.Release(token, k.public_key, {f.artifact}));
  SIGIL_ASSIGN_OR_RETURN(SecretBytes dek, hpke::OpenSecret(hpke::kSigilSuite, rel[0].enc, k.private_key,
                                                           protocol::ReleaseInfo("bench", "model", 1, rel[0].artifact_id),
                                                           {}, rel[0].sealed_dek));
  return Ok();
}

}  // namespace

int main(int argc, char** argv) {
  int clients = 4, flows_per_client = 100;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--clients") clients = std::atoi(argv[i + 1]);
    if (a == "--flows") flows_per_client = std::atoi(argv[i + 1]);
  }
  g_bin = std::filesystem::canonical("/proc/self/exe").parent_path().string();
  char tmpl[] = "/tmp/sigil-bench-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::string data = dir + "/broker", admin = data + "/admin";
  if (RunCmd({g_bin + "/sigild", "init", "--data-dir", data, "--dev-root-key", "--dev-tee", "--listen", "127.0.0.1:0"},
             dir + "/init.out") != 0) {
    std::fprintf(stderr, "sigild init failed\n");
    return 1;
  }
  pid_t broker = fork();
  if (broker == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    FILE* log = std::fopen((dir + "/sigild.log").c_str(), "w");
    if (log) dup2(fileno(log), 2);
    // Every flow comes from 127.0.0.1: the per-address limits (for many real clients) are off.
    execl((g_bin + "/sigild").c_str(), "sigild", "serve", "--data-dir", data.c_str(), "--port-file",
          (dir + "/port").c_str(), "--unauth-rate-per-address", "0", "--unauth-rate-per-tenant", "0",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  std::string port;
  for (int i = 0; i < 200 && port.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto p = ReadTextFile(dir + "/port");
    if (p && !p->empty()) port = p->substr(0, p->find('\n'));
  }
  std::string url = "https://127.0.0.1:" + port;
  std::string policy = dir + "/policy.json";
  (void)WriteFileAtomic(policy, AsBytes(R"({"version":1,"rules":[{"name":"bench","keys":["model"],"when":{"allOf":[
    {"claim":"tee","equals":"dev"},{"claim":"debug","equals":false},{"claim":"measurement","in_reference":"engines"}]}}]})"), 0644);
  for (auto args : std::vector<std::vector<std::string>>{{"tenant", "create", "bench"}, {"key", "create", "bench/model"},
                                                         {"policy", "set", "bench", policy},
                                                         {"refs", "add", "bench", "engines", kMeasurement}}) {
    args.insert(args.begin(), {g_bin + "/sigil", "--admin-dir", admin, "--broker", url});
    if (RunCmd(args, dir + "/cli.out") != 0) {
      std::fprintf(stderr, "provisioning failed: %s %s\n", args[5].c_str(), args[6].c_str());
      return 1;
    }
  }
  RunCmd({g_bin + "/sigil", "--admin-dir", admin, "--broker", url, "key", "public", "bench/model"}, dir + "/model.pub");
  auto pub_json = ParseJson(*ReadTextFile(dir + "/model.pub"), "model.pub");
  Bytes pk = *Base64UrlDecode(pub_json->value("public_key", ""));
  auto dek = SecretBytes::Random(32);
  auto sealed = hpke::Seal(hpke::kSigilSuite, pk, protocol::DekSealInfo("bench", "model", 1), {}, dek->Reveal(SecretAccess::Get()));
  Flow flow{url, admin + "/ca.pem", data + "/dev/platform.key", {"bench/model", 1, sealed->enc, sealed->ciphertext}};
  auto seed_kp = attestation::dev::LoadDevPlatformKey(flow.platform_key);

  std::vector<std::vector<double>> lat(static_cast<std::size_t>(clients));
  std::atomic<int> failures{0};
  auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      auto client = net::BrokerClient::Connect(flow.url, flow.ca);
      if (!client) { failures += flows_per_client; return; }
      for (int i = 0; i < flows_per_client; ++i) {
        auto s = Clock::now();
        auto r = OneFlow(**client, flow, seed_kp->seed);
        if (!r) {
          if (failures++ == 0) std::fprintf(stderr, "flow failed: %s\n", r.error().message().c_str());
          continue;
        }
        lat[static_cast<std::size_t>(c)].push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
      }
    });
  }
  for (auto& t : threads) t.join();
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  kill(broker, SIGTERM);
  waitpid(broker, nullptr, 0);
  std::filesystem::remove_all(dir);
  std::vector<double> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  if (all.empty()) {
    std::fprintf(stderr, "no flow succeeded\n");
    return 1;
  }
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) { return all[std::min(all.size() - 1, static_cast<std::size_t>(p * static_cast<double>(all.size())))]; };
  std::printf("release flows: clients=%d flows=%zu failures=%d seconds=%.2f\n", clients, all.size(), failures.load(), secs);
  std::printf("latency_ms: p50=%.2f p90=%.2f p99=%.2f max=%.2f\n", pct(0.5), pct(0.9), pct(0.99), all.back());
  std::printf("flows_per_s=%.1f p50_ms=%.2f p99_ms=%.2f\n", static_cast<double>(all.size()) / secs, pct(0.5), pct(0.99));
  return failures.load() == 0 ? 0 : 1;
}
