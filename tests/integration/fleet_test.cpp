// Three real sigild processes sharing one real PostgreSQL (a fleet): the first made by
// `sigild init --store postgresql://... --join-passphrase-file`, the others by `sigild join`,
// exactly as docs/architecture.md tells an operator. What a client sees must not depend on which
// broker answers: a challenge from one is redeemed exactly once at any; a token from one is good
// at another; a key disabled or a policy changed at one is in force for the next release at the
// others; and concurrent releases at all three leave one chain that `sigil audit verify` accepts.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "attestation/dev/platform_key.h"
#include "broker/keys/erasure_chain.h"
#include "broker/keys/root_key.h"
#include "core/digest.h"
#include "core/encoding.h"
#include "core/file_io.h"
#include "core/hpke.h"
#include "core/json.h"
#include "core/protocol.h"
#include "enclave/dev_attester.h"
#include "net/broker_client.h"
#include "tests/support/matchers.h"
#include "tests/support/postgres_server.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace sigil::integration {
namespace {

constexpr const char* kMeasurement =
    "abababababababababababababababababababababababababababababababababababababababababababababababab";
constexpr const char* kAllowPolicy = R"({"version":1,"rules":[{"name":"engines","keys":["model"],"when":{"allOf":[
  {"claim":"tee","equals":"dev"},{"claim":"debug","equals":false},{"claim":"measurement","in_reference":"engines"}]}}]})";
// The allow policy with memory: at most 3 releases of the model per hour per workload measurement,
// and each token good for one release.
constexpr const char* kLimitedPolicy = R"({"version":1,"rules":[{"name":"engines","keys":["model"],"when":{"allOf":[
  {"claim":"tee","equals":"dev"},{"claim":"debug","equals":false},{"claim":"measurement","in_reference":"engines"}]},
  "limits":[{"max":3,"per_seconds":3600,"per_claim":"measurement"}],"single_use_token":true}]})";
constexpr const char* kDenyPolicy = R"({"version":1,"rules":[{"name":"nothing","keys":["model"],"when":{"allOf":[
  {"claim":"tee","equals":"sgx"}]}}]})";

class FleetTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    pg_ = testing::PostgresServer::Start(dir_->path()).release();
    ASSERT_NE(pg_, nullptr);
    const std::string url = pg_->CreateDatabase("fleet");
    ASSERT_TRUE(WriteFileAtomic(dir_->File("join.pass"), AsBytes("fleet join passphrase\n"), 0600).has_value());
    auto init = testing::Run({testing::BinPath("sigild"), "init", "--data-dir", Data(0), "--dev-root-key", "--dev-tee",
                              "--listen", "127.0.0.1:0", "--store", url, "--join-passphrase-file", dir_->File("join.pass")});
    ASSERT_EQ(init.exit_code, 0) << init.err;
    for (int b = 1; b < 3; ++b) {
      auto join = testing::Run({testing::BinPath("sigild"), "join", "--data-dir", Data(b), "--dev-root-key", "--dev-tee",
                                "--listen", "127.0.0.1:0", "--store", url, "--join-passphrase-file", dir_->File("join.pass")});
      ASSERT_EQ(join.exit_code, 0) << join.err;
    }
    for (int b = 0; b < 3; ++b) {
      const std::string port_file = dir_->File("port" + std::to_string(b));
      brokers_[b] = new testing::BackgroundProcess(
          {testing::BinPath("sigild"), "serve", "--data-dir", Data(b), "--port-file", port_file,
           "--unauth-rate-per-address", "0", "--unauth-rate-per-tenant", "0"},  // loops from one address
          dir_->File("sigild" + std::to_string(b) + ".log"));
      std::string port = testing::WaitForFile(port_file, 30);
      ASSERT_FALSE(port.empty()) << "broker " << b << " did not start";
      urls_[b] = "https://127.0.0.1:" + port.substr(0, port.find('\n'));
    }
    ASSERT_TRUE(WriteFileAtomic(dir_->File("allow.json"), AsBytes(kAllowPolicy), 0644).has_value());
    ASSERT_TRUE(WriteFileAtomic(dir_->File("deny.json"), AsBytes(kDenyPolicy), 0644).has_value());
    ASSERT_TRUE(WriteFileAtomic(dir_->File("limited.json"), AsBytes(kLimitedPolicy), 0644).has_value());
    // Provisioned at broker 0 only: the others see it through the store.
    for (auto args : std::vector<std::vector<std::string>>{{"tenant", "create", "acme"}, {"key", "create", "acme/model"},
                                                           {"refs", "add", "acme", "engines", kMeasurement},
                                                           {"policy", "set", "acme", dir_->File("allow.json")}}) {
      auto r = Sigil(0, args);
      ASSERT_EQ(r.exit_code, 0) << args[0] << " " << args[1] << ": " << r.err;
    }
    auto pub = Sigil(0, {"key", "public", "acme/model"});
    auto j = ParseJson(pub.out, "key public");
    ASSERT_TRUE(j.has_value()) << pub.out << pub.err;
    auto pk = Base64UrlDecode(j->value("public_key", ""));
    ASSERT_TRUE(pk.has_value());
    model_public_key_ = new Bytes(*pk);
  }

  static void TearDownTestSuite() {
    for (auto*& b : brokers_) {
      if (b) {
        EXPECT_EQ(b->Stop(), 0) << "a broker did not shut down cleanly";
      }
      delete b;
      b = nullptr;
    }
    delete pg_;
    delete dir_;
    delete model_public_key_;
  }

  static std::string Data(int b) { return dir_->File("broker" + std::to_string(b)); }
  // `sigil` with broker 0's admin credentials (the fleet's) against broker `b`.
  static testing::CommandResult Sigil(int b, std::vector<std::string> args) {
    args.insert(args.begin(), {testing::BinPath("sigil"), "--admin-dir", Data(0) + "/admin", "--broker", urls_[b]});
    return testing::Run(args);
  }
  static std::unique_ptr<net::BrokerClient> Client(int b) {
    auto c = net::BrokerClient::Connect(urls_[b], Data(0) + "/admin/ca.pem");  // one fleet CA
    EXPECT_TRUE(c.has_value()) << (c ? "" : c.error().message());
    return c ? std::move(*c) : nullptr;
  }

  struct Attested {
    hpke::KeyPair key;
    Bytes nonce, evidence;
  };
  // A challenge from broker `b` and dev evidence over it (signed with the fleet's platform key).
  static Attested Challenge(int b) {
    auto kp = hpke::GenerateKeyPair(hpke::Kem::kX25519HkdfSha256);
    EXPECT_TRUE(kp.has_value());
    Attested a{std::move(*kp), {}, {}};
    auto nonce = Client(b)->Challenge("acme", "dev");
    EXPECT_TRUE(nonce.has_value()) << (nonce ? "" : nonce.error().message());
    if (!nonce) return a;
    a.nonce = *nonce;
    auto platform = attestation::dev::LoadDevPlatformKey(Data(0) + "/dev/platform.key");
    EXPECT_TRUE(platform.has_value());
    const attestation::WorkloadPurpose purpose{"sealed-memory", kMeasurement, HexEncode(Sha256(AsBytes("")))};
    auto ev = enclave::MakeDevEvidence(platform->seed, protocol::Binding(a.nonce, a.key.public_key), kMeasurement, false,
                                       std::chrono::system_clock::now(), purpose);
    EXPECT_TRUE(ev.has_value());
    if (ev) a.evidence = *ev;
    return a;
  }
  static Result<std::string> Attest(int b, const Attested& a) {
    return Client(b)->Attest("acme", "dev", a.nonce, a.evidence, a.key.public_key);
  }
  // Releases the model key at broker `b` with `token` and opens it: the DEK sealed at setup.
  static Result<void> Release(int b, const std::string& token, const Attested& a) {
    auto dek = SecretBytes::Random(32);
    SIGIL_CHECK(dek.has_value());
    SIGIL_ASSIGN_OR_RETURN(auto sealed, hpke::Seal(hpke::kSigilSuite, *model_public_key_, protocol::DekSealInfo("acme", "model", 1),
                                                   {}, dek->Reveal(SecretAccess::Get())));
    SIGIL_ASSIGN_OR_RETURN(auto rel, Client(b)->Release(token, a.key.public_key,
                                                        {net::ReleaseArtifact{"acme/model", 1, sealed.enc, sealed.ciphertext}}));
    SIGIL_ASSIGN_OR_RETURN(SecretBytes opened, hpke::OpenSecret(hpke::kSigilSuite, rel[0].enc, a.key.private_key,
                                                                protocol::ReleaseInfo("acme", "model", 1, rel[0].artifact_id),
                                                                {}, rel[0].sealed_dek));
    if (!ConstantTimeEquals(opened, *dek)) return Fail(Code::kInternal, "released DEK differs");
    return Ok();
  }

  static testing::TempDir* dir_;
  static testing::PostgresServer* pg_;
  static testing::BackgroundProcess* brokers_[3];
  static std::string urls_[3];
  static Bytes* model_public_key_;
};

testing::TempDir* FleetTest::dir_ = nullptr;
testing::PostgresServer* FleetTest::pg_ = nullptr;
testing::BackgroundProcess* FleetTest::brokers_[3] = {};
std::string FleetTest::urls_[3];
Bytes* FleetTest::model_public_key_ = nullptr;

TEST_F(FleetTest, AChallengeFromOneBrokerIsRedeemedOnceAtAnyAndATokenIsGoodAtAnother) {
  Attested a = Challenge(0);
  ASSERT_OK_AND_ASSIGN(std::string token, Attest(1, a));
  auto again = Attest(2, a);
  ASSERT_FALSE(again.has_value());
  EXPECT_NE(again.error().message().find("replay"), std::string::npos) << again.error().message();
  EXPECT_OK(Release(2, token, a));  // issued by broker 1, accepted by broker 2
}

TEST_F(FleetTest, TwoBrokersRacingOnOneNonceExactlyOneWins) {
  for (int round = 0; round < 10; ++round) {
    Attested a = Challenge(round % 3);
    std::atomic<int> won{0}, replay{0};
    auto race = [&](int b) {
      auto r = Attest(b, a);
      if (r) ++won;
      else if (r.error().message().find("replay") != std::string::npos) ++replay;
      else ADD_FAILURE() << r.error().message();
    };
    std::thread t1(race, 1), t2(race, 2);
    t1.join();
    t2.join();
    EXPECT_EQ(won.load(), 1) << "round " << round;
    EXPECT_EQ(replay.load(), 1) << "round " << round;
  }
}

// Every release reads key state, policy and references from the shared store (nothing is cached
// across requests except a parsed policy keyed by its version), so a change committed at one
// broker is in force for the next release anywhere: the documented bound is 1 s, the measured
// one is the next request.
TEST_F(FleetTest, AKeyDisabledOrAPolicyChangedAtOneBrokerHoldsAtTheOthersAtOnce) {
  Attested a = Challenge(1);
  ASSERT_OK_AND_ASSIGN(std::string token, Attest(1, a));
  ASSERT_EQ(Sigil(0, {"key", "disable", "acme/model"}).exit_code, 0);
  auto refused = Release(2, token, a);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), Code::kKeyDisabled);
  EXPECT_NE(refused.error().message().find("key_disabled"), std::string::npos) << refused.error().message();
  ASSERT_EQ(Sigil(0, {"key", "enable", "acme/model"}).exit_code, 0);
  EXPECT_OK(Release(2, token, a));

  ASSERT_EQ(Sigil(1, {"policy", "set", "acme", dir_->File("deny.json")}).exit_code, 0);
  Attested b = Challenge(2);
  ASSERT_OK_AND_ASSIGN(std::string token_b, Attest(2, b));
  auto denied = Release(0, token_b, b);
  EXPECT_FALSE(denied.has_value());
  ASSERT_EQ(Sigil(2, {"policy", "set", "acme", dir_->File("allow.json")}).exit_code, 0);
  EXPECT_OK(Release(0, token_b, b));
}

TEST_F(FleetTest, ConcurrentReleasesAtThreeBrokersLeaveOneChainThatVerifies) {
  std::atomic<int> ok{0};
  auto load = [&](int b) {
    for (int i = 0; i < 8; ++i) {
      Attested a = Challenge(b);
      auto token = Attest((b + 1) % 3, a);
      if (!token) {
        ADD_FAILURE() << token.error().message();
        continue;
      }
      auto r = Release((b + 2) % 3, *token, a);
      if (r) ++ok;
      else ADD_FAILURE() << r.error().message();
    }
  };
  std::atomic<bool> done{false};
  std::atomic<int> verified{0};
  // An auditor verifying while the brokers append: every listing must be a consistent snapshot.
  std::thread auditor([&] {
    for (int b = 0; !done.load(); b = (b + 1) % 3) {
      auto verify = Sigil(b, {"audit", "verify", "acme"});
      EXPECT_EQ(verify.exit_code, 0) << "during load, at broker " << b << ": " << verify.out << verify.err;
      ++verified;
    }
  });
  std::thread t0(load, 0), t1(load, 1), t2(load, 2);
  t0.join();
  t1.join();
  t2.join();
  done = true;
  auditor.join();
  EXPECT_GT(verified.load(), 0);
  EXPECT_EQ(ok.load(), 24);
  for (int b = 0; b < 3; ++b) {
    auto verify = Sigil(b, {"audit", "verify", "acme"});
    EXPECT_EQ(verify.exit_code, 0) << "at broker " << b << ": " << verify.out << verify.err;
  }
}

// PostgreSQL goes away: nothing is released (a release is answered only after its record
// commits) and the refusal says why; when it returns, every broker serves again by itself.
TEST_F(FleetTest, WhilePostgresIsDownNothingIsReleasedAndTheBrokersRecoverWithoutARestart) {
  Attested a = Challenge(0);
  ASSERT_OK_AND_ASSIGN(std::string token, Attest(1, a));
  pg_->Stop();
  for (int b = 0; b < 3; ++b) {
    auto refused = Release(b, token, a);
    ASSERT_FALSE(refused.has_value()) << "broker " << b << " released with the database down";
    EXPECT_EQ(refused.error().code(), Code::kUnavailable) << refused.error().message();
    EXPECT_NE(refused.error().message().find("store_unavailable"), std::string::npos) << refused.error().message();
    EXPECT_NE(refused.error().message().find("HTTP 503"), std::string::npos) << refused.error().message();
  }
  EXPECT_FALSE(Client(0)->Challenge("acme", "dev").has_value());
  ASSERT_TRUE(pg_->Restart());
  // No broker is restarted: each must serve again on its own once the database is back (polled
  // for up to 30 s; in practice the next request reconnects).
  for (int b = 0; b < 3; ++b) {
    Result<void> released = Fail(Code::kUnavailable, "not tried");
    for (int i = 0; i < 300 && !released; ++i) {
      released = Release(b, token, a);
      if (!released) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_TRUE(released.has_value()) << "broker " << b << " did not recover after PostgreSQL returned: "
                                      << released.error().message();
  }
  for (int b = 0; b < 3; ++b) {
    auto verify = Sigil(b, {"audit", "verify", "acme"});
    EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  }
}

// A policy's memory is the fleet's, not one broker's: a token spent at one broker is refused at
// the others, and brokers racing on one limit grant exactly its max between them, each refusal
// with its record; `sigil audit verify` accepts the log afterwards.
TEST_F(FleetTest, ALimitAndASingleUseTokenHoldAcrossTheFleet) {
  ASSERT_EQ(Sigil(1, {"policy", "set", "acme", dir_->File("limited.json")}).exit_code, 0);
  Attested first = Challenge(0);
  ASSERT_OK_AND_ASSIGN(std::string token, Attest(0, first));
  ASSERT_OK(Release(0, token, first));  // counts 1 of 3
  for (int b = 0; b < 3; ++b) {
    auto spent = Release(b, token, first);
    ASSERT_FALSE(spent.has_value()) << "broker " << b << " released with a spent token";
    EXPECT_EQ(spent.error().code(), Code::kReplay) << spent.error().message();
    EXPECT_NE(spent.error().message().find("token_spent"), std::string::npos) << spent.error().message();
  }
  std::atomic<int> allowed{0}, limited{0};
  auto load = [&](int b) {
    for (int i = 0; i < 2; ++i) {
      Attested a = Challenge(b);
      auto t = Attest(b, a);
      if (!t) {
        ADD_FAILURE() << t.error().message();
        continue;
      }
      auto r = Release((b + 1) % 3, *t, a);
      if (r) ++allowed;
      else if (r.error().code() == Code::kPolicyDenied && r.error().message().find("release_limit") != std::string::npos) ++limited;
      else ADD_FAILURE() << r.error().message();
    }
  };
  std::thread t0(load, 0), t1(load, 1), t2(load, 2);
  t0.join();
  t1.join();
  t2.join();
  EXPECT_EQ(allowed.load(), 2);  // 3 per hour, one already used
  EXPECT_EQ(limited.load(), 4);
  ASSERT_EQ(Sigil(2, {"policy", "set", "acme", dir_->File("allow.json")}).exit_code, 0);
  auto denials = Sigil(1, {"--json", "audit", "query", "--tenant", "acme", "--decision", "deny", "--limit", "1000"});
  ASSERT_EQ(denials.exit_code, 0) << denials.err;
  std::size_t limit_records = 0, spent_records = 0;
  for (std::size_t at = 0; (at = denials.out.find("release_limit", at)) != std::string::npos; ++at) ++limit_records;
  for (std::size_t at = 0; (at = denials.out.find("token_spent", at)) != std::string::npos; ++at) ++spent_records;
  EXPECT_EQ(limit_records, 4u) << denials.out;
  EXPECT_EQ(spent_records, 3u) << denials.out;
  for (int b = 0; b < 3; ++b) {
    auto verify = Sigil(b, {"audit", "verify", "acme"});
    EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  }
}

// Whoever can write the shared database must not be able to make model owners encrypt to a key
// of their own: the public half handed out is derived from the wrapped private key.
TEST_F(FleetTest, APublicKeySwappedInTheDatabaseIsRefusedWithAnAlarm) {
  ASSERT_EQ(Sigil(0, {"key", "create", "acme/swapped"}).exit_code, 0);
  ASSERT_EQ(Sigil(1, {"key", "public", "acme/swapped"}).exit_code, 0);
  auto attacker = hpke::GenerateKeyPair(hpke::Kem::kX25519HkdfSha256);
  ASSERT_TRUE(attacker.has_value());
  pg_->Psql("fleet", "UPDATE key_versions SET public_key='\\x" + HexEncode(attacker->public_key) +
                         "' WHERE tenant='acme' AND name='swapped'");
  for (int b = 0; b < 3; ++b) {
    auto r = Sigil(b, {"key", "public", "acme/swapped"});
    EXPECT_NE(r.exit_code, 0) << "broker " << b << " handed out the swapped key: " << r.out;
    EXPECT_NE(r.err.find("ALARM"), std::string::npos) << r.err;
  }
}

// A destruction at one broker moves the whole fleet to the next erasure epoch (a crypto-shred,
// docs/architecture.md "Destroying a key version"): the others follow on their own when they
// next open a KEK (checked against the store's record), keep releasing, and their shred.key
// files move on too. The join copy of the chain went with the destruction, so a new broker
// joins only after `sigild publish-join-copy` with a new passphrase.
TEST_F(FleetTest, ADestructionAtOneBrokerMovesTheFleetToTheNextEpochAndAJoinNeedsANewCopy) {
  bool dev = false;
  ASSERT_OK_AND_ASSIGN(SecretBytes root, broker::LoadRootKey(Data(0) + "/root.key", nullptr, &dev));
  ASSERT_OK_AND_ASSIGN(broker::ErasureChain before, broker::ErasureChain::Load(Data(2) + "/shred.key", root));
  ASSERT_EQ(Sigil(0, {"key", "create", "acme/doomed"}).exit_code, 0);
  auto d = Sigil(1, {"key", "destroy", "acme/doomed", "--confirm", "doomed"});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  for (int b : {0, 2, 1}) {
    Attested a = Challenge(b);
    ASSERT_OK_AND_ASSIGN(std::string token, Attest(b, a));
    auto released = Release(b, token, a);
    EXPECT_TRUE(released.has_value()) << "broker " << b << ": " << (released ? "" : released.error().message());
    ASSERT_OK_AND_ASSIGN(broker::ErasureChain now, broker::ErasureChain::Load(Data(b) + "/shred.key", root));
    EXPECT_EQ(now.epoch(), before.epoch() + 1) << "broker " << b;
  }
  const std::vector<std::string> join_args = {testing::BinPath("sigild"), "join", "--data-dir", dir_->File("late"),
                                              "--dev-root-key", "--dev-tee", "--listen", "127.0.0.1:0", "--store",
                                              pg_->Url("fleet"), "--join-passphrase-file"};
  auto join_with = [&](const std::string& pass_file) {
    std::vector<std::string> args = join_args;
    args.push_back(pass_file);
    return testing::Run(args);
  };
  auto refused = join_with(dir_->File("join.pass"));
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("publish-join-copy"), std::string::npos) << refused.err;
  EXPECT_FALSE(std::filesystem::exists(dir_->File("late")));
  ASSERT_OK(WriteFileAtomic(dir_->File("join2.pass"), AsBytes("a new fleet join passphrase\n"), 0600));
  auto published = testing::Run({testing::BinPath("sigild"), "publish-join-copy", "--data-dir", Data(2),
                                 "--join-passphrase-file", dir_->File("join2.pass")});
  ASSERT_EQ(published.exit_code, 0) << published.err;
  EXPECT_NE(join_with(dir_->File("join.pass")).exit_code, 0) << "the old passphrase";
  auto joined = join_with(dir_->File("join2.pass"));
  ASSERT_EQ(joined.exit_code, 0) << joined.err;
  ASSERT_OK_AND_ASSIGN(broker::ErasureChain late, broker::ErasureChain::Load(dir_->File("late") + "/shred.key", root));
  EXPECT_EQ(late.epoch(), before.epoch() + 1);
}

}  // namespace
}  // namespace sigil::integration
