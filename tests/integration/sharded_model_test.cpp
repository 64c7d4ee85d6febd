// Sharded models end to end: `sigil-infer shard` splits a model, `sigil model encrypt DIR OUT`
// encrypts the directory as a set, `sigil-load run --model OUT` attests once, releases every
// DEK in one batch and hands each member to sigil-infer as its own sealed memfd. The engine's
// output must equal its output on the plaintext shards (and on the unsharded file), and an
// altered set must never reach the engine.
#include <filesystem>

#include "core/file_io.h"
#include "loader/model_set.h"
#include "tests/integration/broker_fixture.h"
#include "tests/support/matchers.h"

namespace sigil::integration {
namespace {

namespace fs = std::filesystem;
using testing::BinPath;

class ShardedModel : public ::testing::Test {
 protected:
  void SetUp() override {
    auto& env = BrokerEnv::Get();
    auto pub = env.Sigil({"key", "public", "acme/model"});
    ASSERT_EQ(pub.exit_code, 0) << pub.err;
    ASSERT_OK(WriteFileAtomic(dir_.File("model.pub"), AsBytes(pub.out), 0644));
    auto mk = sigil::testing::Run({BinPath("sigil-infer"), "make-weights", dir_.File("model.safetensors"), "--seed",
                                   "21", "--dims", "16,48,48,32,8"});
    ASSERT_EQ(mk.exit_code, 0) << mk.err;
    fs::create_directories(dir_.File("plain"));
    auto sh = sigil::testing::Run({BinPath("sigil-infer"), "shard", dir_.File("model.safetensors"), dir_.File("plain"),
                                   "--shards", "3"});
    ASSERT_EQ(sh.exit_code, 0) << sh.err;
    auto enc = env.Sigil({"model", "encrypt", "--recipient", dir_.File("model.pub"), dir_.File("plain"), dir_.File("enc")});
    ASSERT_EQ(enc.exit_code, 0) << enc.err;
    auto m = sigil::testing::Run({BinPath("sigil-load"), "measure", "--engine", BinPath("sigil-infer")});
    ASSERT_EQ(m.exit_code, 0) << m.err;
    ASSERT_EQ(env.Sigil({"refs", "add", "acme", "engines", m.out.substr(0, 96)}).exit_code, 0);
  }

  testing::CommandResult Load(std::vector<std::string> engine_args) {
    auto& env = BrokerEnv::Get();
    std::vector<std::string> argv{BinPath("sigil-load"), "run", "--broker", env.url(), "--ca", env.ca(), "--tenant",
                                  "acme", "--tee", "dev", "--dev-platform-key", env.data_dir() + "/dev/platform.key",
                                  "--model", dir_.File("enc"), "--", BinPath("sigil-infer")};
    argv.insert(argv.end(), engine_args.begin(), engine_args.end());
    return sigil::testing::Run(argv);
  }

  static std::size_t Releases() {
    std::size_t n = 0;
    for (const Json& r : AuditRecords("acme")) n += r.value("action", "") == "release" ? 1 : 0;
    return n;
  }

  testing::TempDir dir_;
};

TEST_F(ShardedModel, EngineOutputFromTheEncryptedSetEqualsPlaintextOutput) {
  auto single = sigil::testing::Run({BinPath("sigil-infer"), "run", dir_.File("model.safetensors")});
  ASSERT_EQ(single.exit_code, 0) << single.err;
  auto plain = sigil::testing::Run({BinPath("sigil-infer"), "run", dir_.File("plain/model.safetensors.index.json")});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(plain.out, single.out);

  std::size_t before = Releases();
  auto got = Load({"run", "{model}"});
  ASSERT_EQ(got.exit_code, 0) << got.err;
  EXPECT_EQ(got.out, plain.out);
  // One batch release: one audit record per member (3 shards + the index), all allowed.
  EXPECT_EQ(Releases() - before, 4u);
}

TEST_F(ShardedModel, ShardsReachTheEngineOnlyThroughItsMemfds) {
  // {model} is the index's memfd; the shards are found through SIGIL_MODEL_FILES. With the
  // plaintext directory gone, nothing but the memfds can serve them.
  fs::rename(dir_.File("plain"), dir_.File("gone"));
  fs::remove(dir_.File("model.safetensors"));
  auto got = Load({"run", "--json", "{model}"});
  ASSERT_EQ(got.exit_code, 0) << got.err;
  EXPECT_NE(got.out.find("\"argmax\""), std::string::npos) << got.out;
}

TEST_F(ShardedModel, DroppedShardNeverReachesTheEngine) {
  ASSERT_OK_AND_ASSIGN(Bytes text, ReadFile(dir_.File("enc/sigil-set.json")));
  ASSERT_OK_AND_ASSIGN(loader::SetManifest m, loader::ParseSetManifest(ToString(text), "manifest"));
  ASSERT_EQ(m.members.size(), 4u);
  m.members.erase(m.members.begin() + 1);
  ASSERT_OK(WriteFileAtomic(dir_.File("enc/sigil-set.json"), AsBytes(loader::SerializeSetManifest(m)), 0644));
  auto got = Load({"run", "{model}"});
  EXPECT_EQ(got.exit_code, 4) << got.err;
  EXPECT_TRUE(got.out.empty());
  EXPECT_NE(got.err.find("tag"), std::string::npos) << got.err;
}

TEST_F(ShardedModel, SwappedShardFilesAreRefusedBeforeRelease) {
  std::size_t before = Releases();
  fs::rename(dir_.File("enc/model-00001-of-00003.safetensors.sgl"), dir_.File("enc/t"));
  fs::rename(dir_.File("enc/model-00002-of-00003.safetensors.sgl"), dir_.File("enc/model-00001-of-00003.safetensors.sgl"));
  fs::rename(dir_.File("enc/t"), dir_.File("enc/model-00002-of-00003.safetensors.sgl"));
  auto got = Load({"run", "{model}"});
  EXPECT_EQ(got.exit_code, 4) << got.err;
  EXPECT_TRUE(got.out.empty());
  EXPECT_NE(got.err.find("header SHA-256"), std::string::npos) << got.err;
  EXPECT_EQ(Releases(), before) << "no key may be requested for an altered set";
}

TEST_F(ShardedModel, EncryptRefusesAnIndexThatDoesNotMatchTheShards) {
  fs::remove(dir_.File("plain/model-00003-of-00003.safetensors"));
  auto enc = BrokerEnv::Get().Sigil(
      {"model", "encrypt", "--recipient", dir_.File("model.pub"), dir_.File("plain"), dir_.File("enc2")});
  EXPECT_NE(enc.exit_code, 0);
  EXPECT_NE(enc.err.find("model-00003-of-00003.safetensors"), std::string::npos) << enc.err;
  EXPECT_FALSE(fs::exists(dir_.File("enc2/sigil-set.json")));
}

}  // namespace
}  // namespace sigil::integration
