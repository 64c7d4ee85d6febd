// Purpose binding through the real sigild (issue 10, finding 4): a model-weights key goes only to
// a sealed in-memory load. `sigil-load cat` of weights is refused even with an approved consumer
// measurement and a policy that allows the key; the same cat of a dataset streams; `sigil-load
// run` of the weights is allowed; every release record names the proven workload.mode. Evidence
// that states no purpose (older loaders) gets datasets but no weights.
#include "core/file_io.h"
#include "tests/integration/broker_fixture.h"
#include "tests/support/matchers.h"

namespace sigil::integration {
namespace {

using testing::BinPath;

std::string Measure(bool in_process) {
  std::vector<std::string> argv{BinPath("sigil-load"), "measure", "--engine", BinPath("sigil-infer")};
  if (in_process) argv.insert(argv.begin() + 2, "--in-process");
  auto m = sigil::testing::Run(argv);
  EXPECT_EQ(m.exit_code, 0) << m.err;
  return m.out.substr(0, 96);
}

class Purpose : public ::testing::Test {
 protected:
  void SetUp() override {
    auto& env = BrokerEnv::Get();
    // Both measurements approved: the policy allows cat's consumer and run's engine, so only the
    // broker's purpose rule can refuse.
    for (bool in_process : {false, true}) {
      ASSERT_EQ(env.Sigil({"refs", "add", "acme", "engines", Measure(in_process)}).exit_code, 0);
    }
    auto mk = sigil::testing::Run({BinPath("sigil-infer"), "make-weights", dir_.File("w.safetensors"), "--seed", "3"});
    ASSERT_EQ(mk.exit_code, 0) << mk.err;
    Encrypt("acme/model", dir_.File("w.safetensors"), dir_.File("weights.sgl"));
    Encrypt("acme/data", dir_.File("w.safetensors"), dir_.File("data.sgl"));
  }
  void Encrypt(const std::string& key, const std::string& in, const std::string& out) {
    auto& env = BrokerEnv::Get();
    auto pub = env.Sigil({"key", "public", key});
    ASSERT_EQ(pub.exit_code, 0) << pub.err;
    ASSERT_OK(WriteFileAtomic(dir_.File("k.pub"), AsBytes(pub.out), 0644));
    auto enc = env.Sigil({"model", "encrypt", "--recipient", dir_.File("k.pub"), in, out});
    ASSERT_EQ(enc.exit_code, 0) << enc.err;
  }
  testing::CommandResult Cat(const std::string& file) {
    auto& env = BrokerEnv::Get();
    return sigil::testing::Run({BinPath("sigil-load"), "cat", "--broker", env.url(), "--ca", env.ca(), "--tenant",
                                "acme", "--dev-platform-key", env.data_dir() + "/dev/platform.key", "--measure",
                                BinPath("sigil-infer"), file});
  }
  static Json LastRecord() {
    auto recs = AuditRecords("acme");
    return recs.empty() ? Json::object() : recs.back();
  }
  testing::TempDir dir_;
};

TEST_F(Purpose, CatOfModelWeightsIsRefusedAndAudited) {
  auto r = Cat(dir_.File("weights.sgl"));
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_TRUE(r.out.empty()) << "no plaintext byte may reach stdout";
  EXPECT_NE(r.err.find("permission_denied"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("sealed in-memory load"), std::string::npos) << r.err;
  Json last = LastRecord();
  EXPECT_EQ(last.value("action", ""), "release") << last.dump();
  EXPECT_EQ(last.value("decision", ""), "deny") << last.dump();
  EXPECT_EQ(last.value("key", ""), "model") << last.dump();
  EXPECT_NE(last.value("reason", "").find("workload.mode 'stream'"), std::string::npos) << last.dump();
}

TEST_F(Purpose, CatOfADatasetStreamsAndTheRecordShowsTheMode) {
  auto r = Cat(dir_.File("data.sgl"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_OK_AND_ASSIGN(Bytes plain, ReadFile(dir_.File("w.safetensors")));
  EXPECT_TRUE(r.out == std::string(plain.begin(), plain.end()));
  Json last = LastRecord();
  EXPECT_EQ(last.value("decision", ""), "allow") << last.dump();
  EXPECT_EQ(last.value("key", ""), "data") << last.dump();
  EXPECT_NE(last.value("reason", "").find("workload.mode=stream"), std::string::npos) << last.dump();
}

TEST_F(Purpose, RunOfModelWeightsIsAllowedAndTheRecordShowsTheMode) {
  auto& env = BrokerEnv::Get();
  auto expected = sigil::testing::Run({BinPath("sigil-infer"), "run", dir_.File("w.safetensors")});
  ASSERT_EQ(expected.exit_code, 0) << expected.err;
  auto got = sigil::testing::Run({BinPath("sigil-load"), "run", "--broker", env.url(), "--ca", env.ca(), "--tenant",
                                  "acme", "--dev-platform-key", env.data_dir() + "/dev/platform.key", "--model",
                                  dir_.File("weights.sgl"), "--", BinPath("sigil-infer"), "run", "{model}"});
  ASSERT_EQ(got.exit_code, 0) << got.err;
  EXPECT_EQ(got.out, expected.out);
  Json last = LastRecord();
  EXPECT_EQ(last.value("decision", ""), "allow") << last.dump();
  EXPECT_EQ(last.value("key", ""), "model") << last.dump();
  EXPECT_NE(last.value("reason", "").find("workload.mode=sealed-memory"), std::string::npos) << last.dump();
}

// Raw protocol: evidence stating "stream", or no purpose at all, releases a dataset but no
// weights, whatever the policy says; the claims carry what was stated.
TEST(PurposeRaw, UnprovenOrStreamingPurposeGetsNoWeights) {
  auto c = BrokerEnv::Get().Client();
  for (std::string mode : {"", "stream"}) {
    SCOPED_TRACE("mode '" + mode + "'");
    Workload w = Workload::Make();
    w.mode = mode;
    ASSERT_OK_AND_ASSIGN(Bytes nonce, c->Challenge("acme", "dev"));
    ASSERT_OK_AND_ASSIGN(std::string token,
                         c->Attest("acme", "dev", nonce, w.Evidence(nonce, kMeasurementA, false), w.key.public_key));
    TestArtifact weights = MakeArtifact("acme", "model");
    EXPECT_CODE(c->Release(token, w.key.public_key, {weights.artifact}), Code::kPermissionDenied);
    Json last = AuditRecords("acme").back();
    EXPECT_EQ(last.value("decision", ""), "deny") << last.dump();
    EXPECT_NE(last.value("reason", "").find(mode.empty() ? "does not prove a workload.mode" : "'stream'"),
              std::string::npos) << last.dump();
    // All or nothing: a dataset in the same batch does not get through either.
    TestArtifact data = MakeArtifact("acme", "data");
    EXPECT_CODE(c->Release(token, w.key.public_key, {data.artifact, weights.artifact}), Code::kPermissionDenied);
    ASSERT_OK_AND_ASSIGN(auto released, c->Release(token, w.key.public_key, {data.artifact}));
    EXPECT_EQ(released.size(), 1u);
  }
}

}  // namespace
}  // namespace sigil::integration
