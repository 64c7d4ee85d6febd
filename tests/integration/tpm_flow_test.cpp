// End to end with a real TPM: swtpm on loopback, its AK registered with a real sigild through
// DATA/trust/tpm-aks/, a tenant policy that approves the platform's current PCR state, and
// `sigil-load run --tee tpm` attesting with a real quote, receiving the key and running
// sigil-infer on the decrypted weights (output equal to the plaintext run). Then PCR 16 is
// extended to a state the policy does not approve: the release is refused with the policy's
// reason and audited as a deny. Purpose binding: run extends "sealed-memory" into PCR 13 and
// cat "stream"; the broker reads them from the replayed event log, and refuses the weights to cat.
// Its own binary and environment (not broker_fixture.h's BrokerEnv): sigild reads the AKs only
// at start, so the swtpm and its AK must exist before sigild does.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>

#include "core/encoding.h"
#include "core/file_io.h"
#include "core/json.h"
#include "core/protocol.h"
#include "enclave/tpm/tpm_attester.h"
#include "tests/support/audit_records.h"
#include "tests/support/matchers.h"
#include "tests/support/process.h"
#include "tests/support/swtpm.h"
#include "tests/support/temp_dir.h"

namespace sigil::integration {
namespace {

using sigil::testing::BinPath;
using sigil::testing::CommandResult;

constexpr const char* kAkHandle = "0x81010001";
constexpr const char* kPcrs = "sha256:0,1,2,7,16";

class TpmFlow : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    env_ = new Env();
    env_->Start();
  }
  static void TearDownTestSuite() { delete env_; }

  struct Env {
    sigil::testing::TempDir dir;
    std::optional<sigil::testing::Swtpm> swtpm;
    std::unique_ptr<sigil::testing::BackgroundProcess> sigild;
    std::string url;

    std::string data() const { return dir.File("broker"); }
    std::string ca() const { return data() + "/admin/ca.pem"; }
    CommandResult Sigil(std::vector<std::string> args) const {
      args.insert(args.begin(),
                  {BinPath("sigil"), "--admin-dir", data() + "/admin", "--broker", url});
      return sigil::testing::Run(args);
    }

    void Start() {
      std::filesystem::create_directories(dir.File("swtpm"));
      auto sw = sigil::testing::Swtpm::Start(dir.File("swtpm"));
      ASSERT_TRUE(sw.has_value()) << sw.error().message();
      swtpm.emplace(std::move(*sw));
      // The operator's enrolment step: persist the AK and export its public key.
      auto ak = sigil::testing::Run({BinPath("sigil-load"), "tpm-ak", "--tpm-tcti", swtpm->Tcti(),
                                     "--persist", kAkHandle, "--out", dir.File("ak.pem")});
      ASSERT_EQ(ak.exit_code, 0) << ak.err;
      auto init = sigil::testing::Run({BinPath("sigild"), "init", "--data-dir", data(),
                                       "--dev-root-key", "--listen", "127.0.0.1:0"});
      ASSERT_EQ(init.exit_code, 0) << init.err;
      std::filesystem::create_directories(data() + "/trust/tpm-aks");
      std::filesystem::copy_file(dir.File("ak.pem"), data() + "/trust/tpm-aks/swtpm.pem");
      sigild = std::make_unique<sigil::testing::BackgroundProcess>(
          std::vector<std::string>{BinPath("sigild"), "serve", "--data-dir", data(), "--port-file",
                                   dir.File("port")},
          dir.File("sigild.log"));
      std::string port = sigil::testing::WaitForFile(dir.File("port"), 20);
      ASSERT_FALSE(port.empty()) << "sigild did not start";
      url = "https://127.0.0.1:" + port.substr(0, port.find('\n'));
      for (auto args : std::vector<std::vector<std::string>>{{"tenant", "create", "acme"},
                                                             {"key", "create", "acme/model"},
                                                             {"key", "create", "acme/data", "--class", "dataset"}}) {
        auto r = Sigil(args);
        ASSERT_EQ(r.exit_code, 0) << args[0] << ": " << r.err;
      }
    }
  };

  // The claims of a fresh quote of kPcrs, through `sigil attest verify --tee tpm` (offline,
  // the broker's code path) with the exported AK.
  static Json CurrentClaims() {
    enclave::tpm::TpmAttesterConfig c;
    c.tcti = env_->swtpm->Tcti();
    c.pcrs = kPcrs;
    auto handle = enclave::tpm::ParsePersistentHandle(kAkHandle);
    EXPECT_TRUE(handle.has_value());
    c.ak_handle = *handle;
    auto attester = enclave::tpm::TpmAttester::Create(c);
    EXPECT_TRUE(attester.has_value());
    auto ev = (*attester)->Evidence(Bytes(protocol::kBindingSize, 0x42));
    EXPECT_TRUE(ev.has_value()) << ev.error().message();
    EXPECT_TRUE(WriteFileAtomic(env_->dir.File("ev.json"), *ev, 0644).has_value());
    auto r =
        sigil::testing::Run({BinPath("sigil"), "--json", "attest", "verify", "--tee", "tpm", "--ak",
                             env_->dir.File("ak.pem"), "--evidence", env_->dir.File("ev.json")});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    auto j = ParseJson(r.out, "attest verify");
    EXPECT_TRUE(j.has_value());
    return j ? (*j)["claims"] : Json();
  }

  void SetUp() override {
    auto pub = env_->Sigil({"key", "public", "acme/model"});
    ASSERT_EQ(pub.exit_code, 0) << pub.err;
    ASSERT_OK(WriteFileAtomic(dir_.File("model.pub"), AsBytes(pub.out), 0644));
    auto mk = sigil::testing::Run(
        {BinPath("sigil-infer"), "make-weights", dir_.File("model.safetensors"), "--seed", "5"});
    ASSERT_EQ(mk.exit_code, 0) << mk.err;
    auto enc = env_->Sigil({"model", "encrypt", "--recipient", dir_.File("model.pub"),
                            dir_.File("model.safetensors"), dir_.File("model.sgl")});
    ASSERT_EQ(enc.exit_code, 0) << enc.err;
  }

  // The broker, tenant and TPM flags every sigil-load call here shares; `ak` selects the AK.
  std::vector<std::string> Common(const std::string& sub, std::vector<std::string> ak = {}) {
    if (ak.empty()) ak = {"--tpm-ak-handle", kAkHandle};
    // clang-format off
    std::vector<std::string> argv{BinPath("sigil-load"), sub, "--broker", env_->url,
                                  "--ca", env_->ca(), "--tenant", "acme", "--tee", "tpm",
                                  "--tpm-tcti", env_->swtpm->Tcti(), "--tpm-pcrs", kPcrs,
                                  "--tpm-purpose-log", env_->dir.File("purpose-pcr13.json")};
    // clang-format on
    argv.insert(argv.end(), ak.begin(), ak.end());
    return argv;
  }

  CommandResult Load() {
    auto argv = Common("run");
    for (std::string a : {std::string("--model"), dir_.File("model.sgl"), std::string("--"),
                          BinPath("sigil-infer"), std::string("run"), std::string("{model}")}) {
      argv.push_back(a);
    }
    return sigil::testing::Run(argv);
  }

  // `sigil-load cat --tee tpm` of data encrypted to acme/data (a dataset key), or to `key`.
  CommandResult Cat(const Bytes& data, const std::string& key = "acme/data") {
    auto pub = env_->Sigil({"key", "public", key});
    EXPECT_EQ(pub.exit_code, 0) << pub.err;
    EXPECT_TRUE(WriteFileAtomic(dir_.File("data.pub"), AsBytes(pub.out), 0644).has_value());
    EXPECT_TRUE(WriteFileAtomic(dir_.File("data.bin"), data, 0600).has_value());
    auto enc = env_->Sigil({"model", "encrypt", "--recipient", dir_.File("data.pub"),
                            dir_.File("data.bin"), dir_.File("data.sgl")});
    EXPECT_EQ(enc.exit_code, 0) << enc.err;
    auto argv = Common("cat");
    for (std::string a :
         {std::string("--measure"), BinPath("sigil-infer"), dir_.File("data.sgl")}) {
      argv.push_back(a);
    }
    return sigil::testing::Run(argv);
  }

  std::vector<Json> Audit() {
    return sigil::testing::ParseAuditList(env_->Sigil({"--json", "audit", "list", "acme"}).out);
  }

  static Env* env_;
  sigil::testing::TempDir dir_;
};
TpmFlow::Env* TpmFlow::env_ = nullptr;

TEST_F(TpmFlow, ApprovedPcrsReleaseTheKeyAndAnExtendedPcrIsRefused) {
  ASSERT_TRUE(env_->swtpm.has_value() && !env_->url.empty()) << "environment did not start";
  // The tenant approves exactly the platform state measured now: its `measurement` (SHA-384
  // over the quoted PCRs) in a reference set, and PCR 16 pinned explicitly.
  Json claims = CurrentClaims();
  ASSERT_TRUE(claims.contains("measurement") && claims.contains("tpm.pcr.sha256.16"))
      << claims.dump();
  std::string measurement = claims["measurement"].get<std::string>();
  std::string pcr16 = claims["tpm.pcr.sha256.16"].get<std::string>();
  auto add = env_->Sigil({"refs", "add", "acme", "tpm-platforms", measurement});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  std::string policy =
      R"({"version": 1, "rules": [{"name": "approved-tpm-platform", "keys": ["model", "data"],
    "when": {"allOf": [{"claim": "tee", "equals": "tpm"},
                       {"claim": "measurement", "in_reference": "tpm-platforms"},
                       {"claim": "tpm.pcr.sha256.16", "equals": ")" +
      pcr16 + R"("}]}}]})";
  ASSERT_OK(WriteFileAtomic(dir_.File("policy.json"), AsBytes(policy), 0644));
  auto set = env_->Sigil({"policy", "set", "acme", dir_.File("policy.json")});
  ASSERT_EQ(set.exit_code, 0) << set.err;

  auto expected =
      sigil::testing::Run({BinPath("sigil-infer"), "run", dir_.File("model.safetensors")});
  ASSERT_EQ(expected.exit_code, 0) << expected.err;
  ASSERT_FALSE(expected.out.empty());
  auto got = Load();
  ASSERT_EQ(got.exit_code, 0) << got.err;
  EXPECT_EQ(got.out, expected.out);
  auto recs = Audit();
  ASSERT_FALSE(recs.empty());
  EXPECT_EQ(recs.back().value("action", ""), "release");
  EXPECT_EQ(recs.back().value("decision", ""), "allow");
  // The purpose came from the replayed PCR 13 event log, not from anything the loader said.
  EXPECT_NE(recs.back().value("reason", "").find("workload.mode=sealed-memory"), std::string::npos)
      << recs.back().dump();
  Bytes data(200 * 1024 + 7);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 131 + 7);
  auto cat = Cat(data);
  ASSERT_EQ(cat.exit_code, 0) << cat.err;
  EXPECT_TRUE(cat.out == std::string(data.begin(), data.end()));
  EXPECT_NE(Audit().back().value("reason", "").find("workload.mode=stream"), std::string::npos);
  // The same platform, policy and AK, but the weights key through cat: refused by purpose.
  auto weights_cat = Cat(data, "acme/model");
  EXPECT_EQ(weights_cat.exit_code, 4) << weights_cat.err;
  EXPECT_TRUE(weights_cat.out.empty());
  EXPECT_NE(weights_cat.err.find("sealed in-memory load"), std::string::npos) << weights_cat.err;

  // Something unapproved was measured into PCR 16 (tpm2-tools, as an operator or a boot
  // component would): the next quote reports it and the broker refuses the key.
  auto extend =
      sigil::testing::Run({"/usr/bin/tpm2_pcrextend", "16:sha256=" + std::string(64, 'e')},
                          {"TPM2TOOLS_TCTI=" + env_->swtpm->ToolsTcti()});
  ASSERT_EQ(extend.exit_code, 0) << extend.err;
  auto refused = Load();
  EXPECT_EQ(refused.exit_code, 4) << refused.err;
  EXPECT_NE(refused.err.find("policy_denied"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("measurement"), std::string::npos) << refused.err;
  EXPECT_TRUE(refused.out.empty());
  auto refused_cat = Cat(data);
  EXPECT_EQ(refused_cat.exit_code, 4) << refused_cat.err;
  EXPECT_TRUE(refused_cat.out.empty());
  recs = Audit();
  ASSERT_FALSE(recs.empty());
  EXPECT_EQ(recs.back().value("decision", ""), "deny") << recs.back().dump();
  auto verify = env_->Sigil({"audit", "verify", "acme"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

TEST_F(TpmFlow, UnregisteredAkIsRefused) {
  ASSERT_TRUE(env_->swtpm.has_value() && !env_->url.empty()) << "environment did not start";
  // A primary AK of another type is a different key the broker never saw.
  auto argv = Common("run", {"--tpm-ak-kind", "ecc-p384"});
  for (std::string a : {std::string("--model"), dir_.File("model.sgl"), std::string("--"),
                        BinPath("sigil-infer"), std::string("run"), std::string("{model}")}) {
    argv.push_back(a);
  }
  auto got = sigil::testing::Run(argv);
  EXPECT_EQ(got.exit_code, 4) << got.err;
  EXPECT_TRUE(got.out.empty());
}

}  // namespace
}  // namespace sigil::integration
