// The whole path through real processes: sigil-infer makes weights, `sigil model encrypt`
// encrypts them offline, `sigil-load run` attests to the real sigild over HTTPS, receives the
// key, decrypts into a sealed memfd and runs sigil-infer on /proc/self/fd/N. Its output must equal
// the output computed from the plaintext file.
#include "core/file_io.h"
#include "tests/integration/broker_fixture.h"
#include "tests/support/matchers.h"

namespace sigil::integration {
namespace {

using testing::BinPath;


class FullFlow : public ::testing::Test {
 protected:
  void SetUp() override {
    auto& env = BrokerEnv::Get();
    auto pub = env.Sigil({"key", "public", "acme/model"});
    ASSERT_EQ(pub.exit_code, 0) << pub.err;
    ASSERT_OK(WriteFileAtomic(dir_.File("model.pub"), AsBytes(pub.out), 0644));
    auto mk = sigil::testing::Run({BinPath("sigil-infer"), "make-weights", dir_.File("model.safetensors"), "--seed", "11"});
    ASSERT_EQ(mk.exit_code, 0) << mk.err;
    auto enc = env.Sigil({"model", "encrypt", "--recipient", dir_.File("model.pub"), dir_.File("model.safetensors"),
                          dir_.File("model.sgl")});
    ASSERT_EQ(enc.exit_code, 0) << enc.err;
  }

  testing::CommandResult Load(const std::string& engine, std::vector<std::string> engine_args) {
    auto& env = BrokerEnv::Get();
    std::vector<std::string> argv{BinPath("sigil-load"), "run", "--broker", env.url(), "--ca", env.ca(), "--tenant",
                                  "acme", "--tee", "dev", "--dev-platform-key", env.data_dir() + "/dev/platform.key",
                                  "--model", dir_.File("model.sgl"), "--", engine};
    argv.insert(argv.end(), engine_args.begin(), engine_args.end());
    return sigil::testing::Run(argv);
  }

  testing::TempDir dir_;
};

TEST_F(FullFlow, EngineOutputFromDecryptedWeightsEqualsPlaintextOutput) {
  auto m = sigil::testing::Run({BinPath("sigil-load"), "measure", "--engine", BinPath("sigil-infer")});
  ASSERT_EQ(m.exit_code, 0) << m.err;
  std::string measurement = m.out.substr(0, m.out.find('\n'));
  ASSERT_EQ(measurement.size(), 96u);
  auto add = BrokerEnv::Get().Sigil({"refs", "add", "acme", "engines", measurement});
  ASSERT_EQ(add.exit_code, 0) << add.err;

  auto expected = sigil::testing::Run({BinPath("sigil-infer"), "run", dir_.File("model.safetensors")});
  ASSERT_EQ(expected.exit_code, 0) << expected.err;
  ASSERT_FALSE(expected.out.empty());
  auto got = Load(BinPath("sigil-infer"), {"run", "{model}"});
  ASSERT_EQ(got.exit_code, 0) << got.err;
  EXPECT_EQ(got.out, expected.out);

  auto recs = AuditRecords("acme");
  ASSERT_FALSE(recs.empty());
  EXPECT_EQ(recs.back().value("action", ""), "release");
  EXPECT_EQ(recs.back().value("decision", ""), "allow");
  EXPECT_TRUE(recs.back().value("insecure_dev_tee", false));
  auto verify = BrokerEnv::Get().Sigil({"audit", "verify", "acme"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out;
}

TEST_F(FullFlow, UnapprovedEngineGetsNoKey) {
  // /bin/cat's measurement is not in the tenant's reference set: the release is refused and the
  // engine never starts.
  auto got = Load("/bin/cat", {"{model}"});
  EXPECT_EQ(got.exit_code, 4) << got.err;
  EXPECT_NE(got.err.find("policy_denied"), std::string::npos) << got.err;
  EXPECT_TRUE(got.out.empty());
}

TEST_F(FullFlow, TamperedContainerIsRefusedAfterRelease) {
  auto m = sigil::testing::Run({BinPath("sigil-load"), "measure", "--engine", BinPath("sigil-infer")});
  ASSERT_EQ(BrokerEnv::Get().Sigil({"refs", "add", "acme", "engines", m.out.substr(0, 96)}).exit_code, 0);
  ASSERT_OK_AND_ASSIGN(Bytes sgl, ReadFile(dir_.File("model.sgl")));
  sgl[sgl.size() - 20] ^= 0x01;  // a byte of the last chunk's ciphertext
  ASSERT_OK(WriteFileAtomic(dir_.File("model.sgl"), sgl, 0644));
  auto got = Load(BinPath("sigil-infer"), {"run", "{model}"});
  EXPECT_NE(got.exit_code, 0);
  EXPECT_TRUE(got.out.empty()) << "the engine must not run on a tampered model";
  EXPECT_NE(got.err.find("chunk"), std::string::npos) << got.err;
}

}  // namespace
}  // namespace sigil::integration

namespace sigil::integration {
namespace {

// `sigil-load cat` streams a dataset's verified plaintext: the output equals the original, and a
// truncated container produces no output and a non-zero exit.
TEST(DatasetCat, StreamsVerifiedPlaintextAndRefusesTruncation) {
  auto& env = BrokerEnv::Get();
  testing::TempDir dir;
  Bytes data(3 * 1024 * 1024 + 123);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>((i * 2654435761u) >> 13);
  ASSERT_OK(WriteFileAtomic(dir.File("data.bin"), data, 0600));
  auto pub = env.Sigil({"key", "public", "acme/data"});
  ASSERT_OK(WriteFileAtomic(dir.File("k.pub"), AsBytes(pub.out), 0644));
  ASSERT_EQ(env.Sigil({"model", "encrypt", "--recipient", dir.File("k.pub"), dir.File("data.bin"), dir.File("data.sgl")})
                .exit_code, 0);
  auto m = sigil::testing::Run({testing::BinPath("sigil-load"), "measure", "--in-process", "--engine", testing::BinPath("sigil-infer")});
  ASSERT_EQ(env.Sigil({"refs", "add", "acme", "engines", m.out.substr(0, 96)}).exit_code, 0);
  std::vector<std::string> cat{testing::BinPath("sigil-load"), "cat", "--broker", env.url(), "--ca", env.ca(),
                               "--tenant", "acme", "--dev-platform-key", env.data_dir() + "/dev/platform.key",
                               "--measure", testing::BinPath("sigil-infer"), dir.File("data.sgl")};
  auto ok = sigil::testing::Run(cat);
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_TRUE(ok.out == std::string(data.begin(), data.end()));
  ASSERT_OK_AND_ASSIGN(Bytes sgl, ReadFile(dir.File("data.sgl")));
  sgl.resize(sgl.size() - 1000);
  ASSERT_OK(WriteFileAtomic(dir.File("data.sgl"), sgl, 0600));
  auto bad = sigil::testing::Run(cat);
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_TRUE(bad.out.empty());
  EXPECT_NE(bad.err.find("truncated"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace sigil::integration
