// SIGKILL at random moments under concurrent load (issue 11, "Crashes, measured"): a real sigild
// (dev TEE, dev root key) serves 4 client loops running full flows (challenge, dev evidence,
// attest, release of one artifact); the broker is killed after a random 100-400 ms of load and
// restarted, again and again. After every restart: the broker becomes ready (/readyz 200),
// `sigil audit verify` passes, and every release a client saw answered (HTTP 200 with the right
// key) has its allow record, matched by the evidence digest the client computed itself.
//
// The kill loop is one function parameterised by how the data directory's store is chosen
// (`sigild init` arguments): the embedded SQLite store, and a real PostgreSQL (label postgres).
//
// Environment: SIGIL_CRASH_SEED=N replays a schedule (the seed is printed on every run);
// SIGIL_CRASH_KILLS=K (default 20) is how `bench/run crash` runs the long version. Each test's
// last line is `crash[STORE]: kills=K answered=N missing_records=M verify_failures=V`.
#include <signal.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <random>
#include <set>
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
#include "net/https_client.h"
#include "tests/support/audit_records.h"
#include "tests/support/postgres_server.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace sigil::integration {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kTenant = "crash";
constexpr int kClients = 4;
constexpr int kMinWindowMs = 100, kMaxWindowMs = 400;
constexpr const char* kMeasurement =
    "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";
constexpr const char* kPolicy = R"({"version": 1, "rules": [{"name": "crash", "keys": ["model"],
  "when": {"allOf": [{"claim": "tee", "equals": "dev"}, {"claim": "debug", "equals": false},
                     {"claim": "measurement", "in_reference": "engines"}]}}]})";

// How the data directory's store is chosen: extra `sigild init` arguments (none: the embedded
// SQLite store).
struct StoreSetup {
  std::string name;
  std::vector<std::string> init_args;
};

struct CrashOutcome {
  int kills = 0;
  int answered = 0;         // releases answered 200 with the key the artifact was sealed with
  int wrong_keys = 0;       // answered 200 with a key that does not open or is not the DEK
  int missing_records = 0;  // answered releases without their allow record after a restart
  int verify_failures = 0;  // `sigil audit verify` runs that did not pass
  int failed_flows = 0;     // flows that ended in an error (expected around kills)
  // Allow records whose release no client saw answered: the kill fell between the commit and the
  // response (allowed; shows the kills reach that window).
  int unanswered_records = 0;
  double ready_min_s = 1e9, ready_max_s = 0;
};

std::uint64_t SeedFromEnv() {
  if (const char* s = std::getenv("SIGIL_CRASH_SEED"); s && *s) return std::strtoull(s, nullptr, 10);
  return (static_cast<std::uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}();
}

int KillsFromEnv() {
  if (const char* s = std::getenv("SIGIL_CRASH_KILLS"); s && *s) return std::max(1, std::atoi(s));
  return 20;
}

// What the client threads share with the loop that kills the broker. Clients start a flow only
// while the gate is open; the loop closes it at each kill and waits for the flows in flight to end
// (they fail: the broker is gone) before it restarts, verifies and checks, so `audit verify`
// reads a log nobody is appending to.
class Load {
 public:
  // Blocks until a flow may start; false when the load is over. Returns the broker's URL.
  bool Enter(std::string* url) {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [&] { return stop_ || open_; });
    if (stop_) return false;
    ++in_flight_;
    *url = url_;
    return true;
  }
  void Leave(const std::string& answered_digest, bool failed, const std::string& error, bool wrong_key) {
    std::lock_guard lk(mu_);
    --in_flight_;
    if (!answered_digest.empty()) answered_.push_back(answered_digest);
    if (failed) {
      ++failed_;
      if (errors_.size() < 5) errors_.push_back(error);
    }
    if (wrong_key) ++wrong_keys_;
    cv_.notify_all();
  }
  void Open(const std::string& url) {
    std::lock_guard lk(mu_);
    url_ = url;
    open_ = true;
    cv_.notify_all();
  }
  // No new flow starts; the ones in flight carry on (into the kill).
  void Close() {
    std::lock_guard lk(mu_);
    open_ = false;
  }
  // Waits until no flow is in flight; false if one is still running after `seconds` (a client
  // hung on a dead broker).
  bool Drain(double seconds) {
    std::unique_lock lk(mu_);
    return cv_.wait_for(lk, std::chrono::duration<double>(seconds), [&] { return in_flight_ == 0; });
  }
  void Stop() {
    std::lock_guard lk(mu_);
    stop_ = true;
    cv_.notify_all();
  }
  std::vector<std::string> Answered() {
    std::lock_guard lk(mu_);
    return answered_;
  }
  int Failed() {
    std::lock_guard lk(mu_);
    return failed_;
  }
  int WrongKeys() {
    std::lock_guard lk(mu_);
    return wrong_keys_;
  }
  std::vector<std::string> SampleErrors() {
    std::lock_guard lk(mu_);
    return errors_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false, stop_ = false;
  int in_flight_ = 0, failed_ = 0, wrong_keys_ = 0;
  std::string url_;
  std::vector<std::string> answered_, errors_;
};

struct FlowInputs {
  std::string ca;
  const SecretBytes* platform_seed = nullptr;
  net::ReleaseArtifact artifact;
  const SecretBytes* dek = nullptr;
};

// One full flow. Returns the evidence digest if the release was answered with the right key;
// `wrong_key` if it was answered with anything else.
Result<std::string> OneFlow(net::BrokerClient& c, const FlowInputs& in, bool* wrong_key) {
  SIGIL_ASSIGN_OR_RETURN(hpke::KeyPair k, hpke::GenerateKeyPair(hpke::Kem::kX25519HkdfSha256));
  SIGIL_ASSIGN_OR_RETURN(Bytes nonce, c.Challenge(kTenant, "dev"));
  const attestation::WorkloadPurpose purpose{"sealed-memory", kMeasurement, HexEncode(Sha256(AsBytes("")))};
  SIGIL_ASSIGN_OR_RETURN(Bytes ev, enclave::MakeDevEvidence(*in.platform_seed, protocol::Binding(nonce, k.public_key),
                                                            kMeasurement, false, std::chrono::system_clock::now(), purpose));
  SIGIL_ASSIGN_OR_RETURN(std::string token, c.Attest(kTenant, "dev", nonce, ev, k.public_key));
  SIGIL_ASSIGN_OR_RETURN(auto rel, c.Release(token, k.public_key, {in.artifact}));
  // From here on the broker has answered 200: whatever it handed out must be the DEK.
  *wrong_key = true;
  if (rel.size() != 1) return Fail(Code::kInternal, "release answered with " + std::to_string(rel.size()) + " keys");
  SIGIL_ASSIGN_OR_RETURN(SecretBytes dek, hpke::OpenSecret(hpke::kSigilSuite, rel[0].enc, k.private_key,
                                                           protocol::ReleaseInfo(kTenant, "model", 1, rel[0].artifact_id),
                                                           {}, rel[0].sealed_dek));
  if (!ConstantTimeEquals(dek, *in.dek)) {
    return Fail(Code::kInternal, "release answered with a key that is not the artifact's DEK");
  }
  *wrong_key = false;
  return HexEncode(Sha256(ev));
}

void ClientLoop(Load& load, const FlowInputs& in) {
  std::unique_ptr<net::BrokerClient> client;
  std::string client_url, url;
  while (load.Enter(&url)) {
    if (!client || client_url != url) {
      auto c = net::BrokerClient::Connect(url, in.ca);
      client = c ? std::move(*c) : nullptr;
      client_url = url;
    }
    bool wrong_key = false;
    Result<std::string> r = client ? OneFlow(*client, in, &wrong_key)
                                   : Result<std::string>(Fail(Code::kUnavailable, "cannot create a client"));
    // Connection errors around a kill are expected: a fresh connection for the next flow.
    if (!r) client.reset();
    load.Leave(r ? *r : "", !r, r ? "" : r.error().message(), wrong_key);
    if (!r) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

class CrashRun {
 public:
  CrashRun(const StoreSetup& setup, std::uint64_t seed) : setup_(setup), seed_(seed) {}

  std::string Data() const { return dir_.File("broker"); }
  std::string Admin() const { return Data() + "/admin"; }
  std::string LogTail() const {
    auto log = ReadTextFile(dir_.File("sigild.log")).value_or("");
    return log.size() > 3000 ? "..." + log.substr(log.size() - 3000) : log;
  }

  testing::CommandResult Sigil(std::vector<std::string> args) const {
    args.insert(args.begin(), {testing::BinPath("sigil"), "--admin-dir", Admin(), "--broker", url_});
    return testing::Run(args);
  }

  // Starts sigild and waits until it answers /readyz 200. Records start-to-ready time.
  void StartReady(CrashOutcome& out) {
    ::unlink(dir_.File("port").c_str());
    // A marker in the shared log, so a failure's log tail shows where this start begins.
    std::ofstream(dir_.File("sigild.log"), std::ios::app) << "=== crash_kill: start after kill " << out.kills << "\n";
    auto t0 = Clock::now();
    sigild_ = std::make_unique<testing::BackgroundProcess>(
        // Four client loops from 127.0.0.1 as fast as they can: not what the default per-address
        // limits are for (flood_test.cpp tests those).
        std::vector<std::string>{testing::BinPath("sigild"), "serve", "--data-dir", Data(), "--port-file",
                                 dir_.File("port"), "--unauth-rate-per-address", "0", "--unauth-rate-per-tenant", "0"},
        dir_.File("sigild.log"));
    std::string port = testing::WaitForFile(dir_.File("port"), 30);
    if (port.empty()) {
      // Hung (stops on SIGTERM: 0 or 143), died (its status), or never ran (127: exec failed, e.g.
      // build/bin/sigild being relinked by a build at that moment).
      int status = sigild_->Stop();
      sigild_.reset();
      FAIL() << "sigild did not start after kill " << out.kills << " (seed " << seed_ << "); exit status " << status
             << (status == 127 ? " (could not be executed)" : "") << "; log tail:\n" << LogTail();
    }
    url_ = "https://127.0.0.1:" + port.substr(0, port.find('\n'));
    auto http = net::HttpsClient::Create(url_, net::ClientTlsConfig{Admin() + "/ca.pem", {}, {}});
    ASSERT_TRUE(http.has_value()) << http.error().message();
    int status = 0;
    std::string body;
    for (int i = 0; i < 600 && status != 200; ++i) {
      auto r = (*http)->Send("GET", "/readyz", "");
      if (r) {
        status = r->status;
        body = r->body;
      }
      if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_EQ(status, 200) << "sigild not ready after kill " << out.kills << " (seed " << seed_ << "): " << body << "\n"
                           << LogTail();
    double s = std::chrono::duration<double>(Clock::now() - t0).count();
    out.ready_min_s = std::min(out.ready_min_s, s);
    out.ready_max_s = std::max(out.ready_max_s, s);
  }

  void Provision(FlowInputs& in) {
    auto init_argv = std::vector<std::string>{testing::BinPath("sigild"), "init", "--data-dir", Data(), "--dev-root-key",
                                              "--dev-tee", "--listen", "127.0.0.1:0"};
    init_argv.insert(init_argv.end(), setup_.init_args.begin(), setup_.init_args.end());
    auto init = testing::Run(init_argv);
    ASSERT_EQ(init.exit_code, 0) << init.err;
    CrashOutcome ignored;
    ASSERT_NO_FATAL_FAILURE(StartReady(ignored));
    ASSERT_TRUE(WriteFileAtomic(dir_.File("policy.json"), AsBytes(kPolicy), 0644).has_value());
    for (auto args : std::vector<std::vector<std::string>>{{"tenant", "create", kTenant},
                                                           {"key", "create", std::string(kTenant) + "/model"},
                                                           {"policy", "set", kTenant, dir_.File("policy.json")},
                                                           {"refs", "add", kTenant, "engines", kMeasurement}}) {
      auto r = Sigil(args);
      ASSERT_EQ(r.exit_code, 0) << args[0] << " " << args[1] << ": " << r.err;
    }
    auto pub = Sigil({"key", "public", std::string(kTenant) + "/model"});
    auto j = ParseJson(pub.out, "key public");
    ASSERT_TRUE(j.has_value()) << pub.out << pub.err;
    auto pk = Base64UrlDecode(j->value("public_key", ""));
    ASSERT_TRUE(pk.has_value() && pk->size() == 32);
    auto dek = SecretBytes::Random(32);
    ASSERT_TRUE(dek.has_value());
    dek_ = std::make_unique<SecretBytes>(std::move(*dek));
    auto sealed = hpke::Seal(hpke::kSigilSuite, *pk, protocol::DekSealInfo(kTenant, "model", 1), {},
                             dek_->Reveal(SecretAccess::Get()));
    ASSERT_TRUE(sealed.has_value());
    auto kp = attestation::dev::LoadDevPlatformKey(Data() + "/dev/platform.key");
    ASSERT_TRUE(kp.has_value()) << kp.error().message();
    platform_seed_ = std::make_unique<SecretBytes>(std::move(kp->seed));
    in.ca = Admin() + "/ca.pem";
    in.platform_seed = platform_seed_.get();
    in.artifact = net::ReleaseArtifact{std::string(kTenant) + "/model", 1, sealed->enc, sealed->ciphertext};
    in.dek = dek_.get();
  }

  // After a restart: the chain verifies, and every release answered so far has its allow record.
  void CheckAfterRestart(const std::vector<std::string>& answered, CrashOutcome& out) {
    auto v = Sigil({"audit", "verify", kTenant});
    if (v.exit_code != 0) {
      ++out.verify_failures;
      ADD_FAILURE() << "audit verify failed after kill " << out.kills << " (seed " << seed_ << "): exit "
                    << v.exit_code << "\n" << v.out << v.err;
    }
    auto list = Sigil({"--json", "audit", "list", kTenant});
    ASSERT_EQ(list.exit_code, 0) << list.err;
    std::set<std::string> recorded;
    for (const auto& rec : testing::ParseAuditList(list.out)) {
      if (rec.value("action", "") == "release" && rec.value("decision", "") == "allow") {
        recorded.insert(rec.value("evidence_digest", ""));
      }
    }
    std::set<std::string> answered_set(answered.begin(), answered.end());
    out.unanswered_records = static_cast<int>(
        std::count_if(recorded.begin(), recorded.end(), [&](const std::string& d) { return !answered_set.count(d); }));
    int missing = 0;
    for (const auto& d : answered) {
      if (recorded.count(d) || reported_missing_.count(d)) continue;
      reported_missing_.insert(d);
      // Each named once (the first ten in full): a broken broker can miss thousands.
      if (out.missing_records + ++missing <= 10) {
        ADD_FAILURE() << "release answered 200 but no allow record after kill " << out.kills << " (seed " << seed_
                      << "): evidence_digest " << d;
      }
    }
    out.missing_records += missing;
  }

  // SIGKILL, then reap it (its exit status must say it was killed, not that it exited by itself).
  void Kill(CrashOutcome& out) {
    ASSERT_EQ(::kill(sigild_->pid(), SIGKILL), 0);
    int status = sigild_->Stop();
    EXPECT_EQ(status, 128 + SIGKILL) << "sigild ended before its kill " << out.kills << " (seed " << seed_ << ")\n"
                                     << LogTail();
    sigild_.reset();
    ++out.kills;
  }

  CrashOutcome Run(int kills) {
    CrashOutcome out;
    FlowInputs in;
    Provision(in);
    if (::testing::Test::HasFatalFailure()) return out;
    std::mt19937_64 rng(seed_);
    std::uniform_int_distribution<int> window(kMinWindowMs, kMaxWindowMs);
    Load load;
    std::vector<std::thread> clients;
    for (int i = 0; i < kClients; ++i) clients.emplace_back([&] { ClientLoop(load, in); });
    for (int k = 0; k < kills && !::testing::Test::HasFatalFailure(); ++k) {
      load.Open(url_);
      std::this_thread::sleep_for(std::chrono::milliseconds(window(rng)));
      // Clients between flows wait from here; the four in flight are killed mid-flow, and none
      // spins on a dead port while the broker is reaped.
      load.Close();
      Kill(out);
      if (!load.Drain(60)) {
        ADD_FAILURE() << "a client flow did not end within 60 s of kill " << out.kills << " (seed " << seed_ << ")";
        break;
      }
      StartReady(out);
      if (::testing::Test::HasFatalFailure()) break;
      CheckAfterRestart(load.Answered(), out);
    }
    load.Stop();
    for (auto& t : clients) t.join();
    out.answered = static_cast<int>(load.Answered().size());
    out.failed_flows = load.Failed();
    out.wrong_keys = load.WrongKeys();
    for (const auto& e : load.SampleErrors()) std::printf("crash_kill: sample flow error: %s\n", e.c_str());
    if (sigild_) {
      EXPECT_EQ(sigild_->Stop(), 0) << "sigild did not shut down cleanly on SIGTERM after the last restart\n"
                                    << LogTail();
    }
    return out;
  }

 private:
  StoreSetup setup_;
  std::uint64_t seed_;
  testing::TempDir dir_;
  std::unique_ptr<testing::BackgroundProcess> sigild_;
  std::string url_;
  std::unique_ptr<SecretBytes> dek_, platform_seed_;
  std::set<std::string> reported_missing_;
};

// The kill loop on one store backend, with its summary printed and asserted.
void RunKillLoop(const StoreSetup& setup) {
  const std::uint64_t seed = SeedFromEnv();
  const int kills = KillsFromEnv();
  std::printf("crash_kill[%s]: seed=%llu kills=%d (replay the schedule with SIGIL_CRASH_SEED=%llu)\n",
              setup.name.c_str(), static_cast<unsigned long long>(seed), kills, static_cast<unsigned long long>(seed));
  std::fflush(stdout);
  SCOPED_TRACE("seed " + std::to_string(seed));
  auto t0 = Clock::now();
  CrashRun run(setup, seed);
  CrashOutcome out = run.Run(kills);
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf(
      "crash_kill[%s]: seconds=%.1f failed_flows=%d unanswered_allow_records=%d wrong_keys=%d start_to_ready_s=%.2f..%.2f\n",
      setup.name.c_str(), secs, out.failed_flows, out.unanswered_records, out.wrong_keys, out.ready_min_s,
      out.ready_max_s);
  std::printf("crash[%s]: kills=%d answered=%d missing_records=%d verify_failures=%d\n", setup.name.c_str(), out.kills,
              out.answered, out.missing_records, out.verify_failures);
  std::fflush(stdout);
  EXPECT_EQ(out.kills, kills);
  EXPECT_GT(out.answered, 0) << "no release was answered: the load did not run";
  EXPECT_EQ(out.wrong_keys, 0);
  EXPECT_EQ(out.missing_records, 0);
  EXPECT_EQ(out.verify_failures, 0);
}

TEST(CrashKill, SqliteStoreSurvivesRandomSigkillsUnderLoad) { RunKillLoop(StoreSetup{"sqlite", {}}); }

// The same loop on a real PostgreSQL (tests/support/postgres_server.h), which stays up: only the
// broker is killed.
TEST(CrashKill, PostgresStoreSurvivesRandomSigkillsUnderLoad) {
  testing::TempDir dir;
  auto pg = testing::PostgresServer::Start(dir.path());
  ASSERT_NE(pg, nullptr);
  RunKillLoop(StoreSetup{"postgres", {"--store", pg->CreateDatabase("sigil")}});
}

}  // namespace
}  // namespace sigil::integration
