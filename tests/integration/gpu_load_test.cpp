// sigil-load adding GPUs to its evidence (--gpu-report-cmd, --gpu-report; docs/cli.md "GPU
// reports"), end to end: a real `sigild serve` process, provisioned with the real `sigil` CLI,
// and the real `sigil-load cat` with the dev TEE as the CPU. The GPU report command is
// gpu_report_signer.py, which stands in for nvtrust on this GPU-less machine: it prints the REAL
// nvtrust H100 report with sigil-load's GPU nonce put in and re-signed by a generated test device
// key (tests/unit/attestation/nvidia's test PKI, FWID of the real report) whose root is in the
// broker's trust/nvidia-gpu/, with a current CRL. So the broker runs its full production
// verification (signature, chain, CRL, FWID, nonce, CPU binding over the reports) with NO
// test-only binding path: sigild has none. The captured, unmodified report is what --gpu-report
// is for, and sigil-load refuses it for a live attestation before sending anything.
//
// The policy is policies/examples/h100-host.json adapted: the dev TEE for the CPU, `cat`'s
// stream mode, one GPU for key "data", two for key "data2" and eight for key "data8" (each GPU a
// test device of its own: two reports by one device key are refused).
#include <gtest/gtest.h>
#include <openssl/pem.h>

#include <chrono>
#include <filesystem>

#include "attestation/nvidia/nvidia_claims.h"
#include "attestation/nvidia/report.h"
#include "core/encoding.h"
#include "core/file_io.h"
#include "core/json.h"
#include "tests/support/matchers.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/attestation/nvidia/nvidia_test_util.h"

namespace sigil {
namespace {

namespace nv = sigil::testing::nvidia;
using testing::BinPath;

constexpr const char* kPolicy = R"({"version": 1, "rules": [
  {"name": "dev-h100x1", "keys": ["data"], "when": {"allOf": [
    {"claim": "tee", "equals": "dev"},
    {"claim": "debug", "equals": false},
    {"claim": "workload.mode", "equals": "stream"},
    {"claim": "workload.engine", "in_reference": "approved-engines"},
    {"claim": "gpu.count", "equals": 1},
    {"forEachGpu": {"allOf": [
      {"claim": "tee", "equals": "nvidia-gpu"},
      {"claim": "measurement", "in_reference": "approved-h100-cc-on"},
      {"claim": "nvidia.driver_version", "version_gte": "550.54.15"},
      {"claim": "nvidia.revocation", "equals": "good"}]}}]}},
  {"name": "dev-h100x2", "keys": ["data2"], "when": {"allOf": [
    {"claim": "tee", "equals": "dev"},
    {"claim": "workload.mode", "equals": "stream"},
    {"claim": "workload.engine", "in_reference": "approved-engines"},
    {"claim": "gpu.count", "equals": 2}]}},
  {"name": "dev-h100x8", "keys": ["data8"], "when": {"allOf": [
    {"claim": "tee", "equals": "dev"},
    {"claim": "workload.mode", "equals": "stream"},
    {"claim": "workload.engine", "in_reference": "approved-engines"},
    {"claim": "gpu.count", "equals": 8},
    {"forEachGpu": {"allOf": [
      {"claim": "measurement", "in_reference": "approved-h100-cc-on"},
      {"claim": "nvidia.revocation", "equals": "good"}]}}]}}]})";

std::array<std::uint8_t, 48> VectorFwid() {
  std::array<std::uint8_t, 48> f{};
  const Bytes b = HexDecode(nv::kFwidHex).value();
  std::copy(b.begin(), b.end(), f.begin());
  return f;
}

std::string KeyPem(EVP_PKEY& key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), &key, nullptr, nullptr, 0, nullptr, nullptr) != 1) return "";
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

class GpuLoad : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    env_ = new Env();
    env_->Start();
  }
  static void TearDownTestSuite() {
    delete env_;
    env_ = nullptr;
  }

  struct Env {
    testing::TempDir dir;
    std::unique_ptr<testing::BackgroundProcess> sigild;
    std::string url;
    Bytes plaintext;

    std::string data() const { return dir.File("d"); }
    testing::CommandResult Sigil(std::vector<std::string> args) const {
      args.insert(args.begin(), {BinPath("sigil"), "--admin-dir", data() + "/admin", "--broker", url});
      return testing::Run(args);
    }
    void Start();
  };

  // sigil-load cat of key `key`'s dataset with `gpu_flags`.
  static testing::CommandResult Cat(const std::string& key, const std::vector<std::string>& gpu_flags) {
    std::vector<std::string> argv{BinPath("sigil-load"),
                                  "cat",
                                  "--broker",
                                  env_->url,
                                  "--ca",
                                  env_->data() + "/admin/ca.pem",
                                  "--tenant",
                                  "acme",
                                  "--dev-platform-key",
                                  env_->data() + "/dev/platform.key",
                                  "--measure",
                                  BinPath("sigil-infer")};
    argv.insert(argv.end(), gpu_flags.begin(), gpu_flags.end());
    argv.push_back(env_->dir.File(key + ".sgl"));
    return testing::Run(argv);
  }
  // The signer's command line for test GPU `i`.
  static std::string SignerCommand(int i) {
    return "python3 " + std::string(SIGIL_SOURCE_DIR) + "/tests/integration/gpu_report_signer.py {nonce} " +
           nv::VectorPath("nvtrust/hopperAttestationReport.txt") + " " + env_->dir.File(GpuFile(i, "key")) + " " +
           env_->dir.File(GpuFile(i, "chain"));
  }
  // --gpu-report-cmd running the signer for the test GPU.
  static std::vector<std::string> SignerFlags() { return {"--gpu-report-cmd", SignerCommand(0)}; }
  // --gpu-report-cmd for `n` GPUs: sh runs the signer once per GPU (sigil-load runs no shell of its
  // own; an operator who wants one writes it, as here).
  static std::vector<std::string> SignerFlags(int n) {
    std::string script;
    for (int i = 0; i < n; ++i) script += (i ? " && " : "") + SignerCommand(i);
    return {"--gpu-report-cmd", "sh -c '" + script + "'"};
  }
  static std::string GpuFile(int i, const char* ext) {
    return (i == 0 ? std::string("gpu.") : "gpu" + std::to_string(i) + ".") + ext;
  }
  // The number of audit records of acme that mention `what`.
  static std::size_t AuditCount(const std::string& what) {
    auto r = env_->Sigil({"audit", "list", "acme"});  // one record a line: "SEQ  TYPE  VERDICT ..."
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::size_t n = 0;
    for (std::size_t p = r.out.find(what); p != std::string::npos; p = r.out.find(what, p + 1)) ++n;
    return n;
  }

  static Env* env_;
};

GpuLoad::Env* GpuLoad::env_ = nullptr;

void GpuLoad::Env::Start() {
  auto init = testing::Run(
      {BinPath("sigild"), "init", "--data-dir", data(), "--dev-root-key", "--dev-tee", "--listen", "127.0.0.1:0"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  // A test GPU under a test root: its key and chain file (leaf, root, a CRL current now).
  const nv::TestPki pki = nv::MakePki(VectorFwid());
  const auto now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::filesystem::create_directories(data() + "/trust/nvidia-gpu");
  ASSERT_OK(WriteFileAtomic(data() + "/trust/nvidia-gpu/test-root.pem", AsBytes(nv::Pem(*pki.root)), 0644));
  for (int i = 0; i < 8; ++i) {  // eight test GPUs, each its own device key
    const nv::TestLeaf leaf = nv::IssueLeaf(pki, VectorFwid(), 200 + i);
    const std::string chain = nv::Pem(*leaf.cert) + nv::Pem(*pki.root) +
                              nv::CrlPem(*pki.root, *pki.root_key, now - 3600, now + 86400, nullptr);
    ASSERT_OK(WriteFileAtomic(dir.File(GpuFile(i, "key")), AsBytes(KeyPem(*leaf.key)), 0600));
    ASSERT_OK(WriteFileAtomic(dir.File(GpuFile(i, "chain")), AsBytes(chain), 0644));
  }
  sigild = std::make_unique<testing::BackgroundProcess>(
      std::vector<std::string>{BinPath("sigild"), "serve", "--data-dir", data(), "--port-file", dir.File("port"),
                               "--unauth-rate-per-address", "0", "--unauth-rate-per-tenant", "0"},
      dir.File("sigild.log"));
  const std::string port = testing::WaitForFile(dir.File("port"), 20);
  ASSERT_FALSE(port.empty()) << "sigild did not start";
  url = "https://127.0.0.1:" + std::to_string(std::stoi(port));

  auto engine = testing::Run({BinPath("sigil-load"), "measure", "--in-process", "--engine", BinPath("sigil-infer")});
  ASSERT_EQ(engine.exit_code, 0) << engine.err;
  const std::string h100 =
      HexEncode(attestation::nvidia::MeasurementDigest(attestation::nvidia::ParseReport(nv::ReportBytes()).value()));
  ASSERT_OK(WriteFileAtomic(dir.File("policy.json"), AsBytes(kPolicy), 0644));
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"tenant", "create", "acme"},
                                             {"key", "create", "acme/data", "--class", "dataset"},
                                             {"key", "create", "acme/data2", "--class", "dataset"},
                                             {"key", "create", "acme/data8", "--class", "dataset"},
                                             {"refs", "add", "acme", "approved-engines", engine.out.substr(0, 96)},
                                             {"refs", "add", "acme", "approved-h100-cc-on", h100},
                                             {"policy", "set", "acme", dir.File("policy.json")}}) {
    auto r = Sigil(args);
    ASSERT_EQ(r.exit_code, 0) << args[0] << " " << args[1] << ": " << r.err;
  }
  plaintext = ToBytes("rows of a dataset only a host with attested GPUs may read\n");
  ASSERT_OK(WriteFileAtomic(dir.File("plain.bin"), plaintext, 0600));
  for (const char* key : {"data", "data2", "data8"}) {
    auto pub = Sigil({"key", "public", std::string("acme/") + key});
    ASSERT_EQ(pub.exit_code, 0) << pub.err;
    ASSERT_OK(WriteFileAtomic(dir.File(std::string(key) + ".pub"), AsBytes(pub.out), 0644));
    auto enc = Sigil({"model", "encrypt", "--recipient", dir.File(std::string(key) + ".pub"), dir.File("plain.bin"),
                      dir.File(std::string(key) + ".sgl")});
    ASSERT_EQ(enc.exit_code, 0) << enc.err;
  }
}

TEST_F(GpuLoad, OneAttestedGpuReleasesTheKey) {
  auto r = Cat("data", SignerFlags());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, ToString(env_->plaintext));
}

TEST_F(GpuLoad, APolicyForTwoGpusDeniesOne) {
  auto r = Cat("data2", SignerFlags());
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_TRUE(r.out.empty());
  EXPECT_NE(r.err.find("denied"), std::string::npos) << r.err;
}

// The token of a many-GPU attestation carries every GPU's measurements (~11 KB each): it travels
// in the release body, so two and eight GPUs release their keys (in a header, two already
// exceeded the 16 KiB limit and the release was refused 413).
TEST_F(GpuLoad, TwoAndEightAttestedGpusReleaseTheirKeys) {
  auto two = Cat("data2", SignerFlags(2));
  ASSERT_EQ(two.exit_code, 0) << two.err;
  EXPECT_EQ(two.out, ToString(env_->plaintext));
  auto eight = Cat("data8", SignerFlags(8));
  ASSERT_EQ(eight.exit_code, 0) << eight.err;
  EXPECT_EQ(eight.out, ToString(env_->plaintext));
  // Seven GPUs do not satisfy the eight-GPU rule.
  auto seven = Cat("data8", SignerFlags(7));
  EXPECT_EQ(seven.exit_code, 4) << seven.err;
  EXPECT_TRUE(seven.out.empty());
}

TEST_F(GpuLoad, AFailingCommandRefusesBeforeAttesting) {
  const std::size_t attests = AuditCount(" attest ");
  auto r = Cat("data", {"--gpu-report-cmd", "/bin/sh -c 'echo nvml: no GPU found >&2; exit 2'"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_TRUE(r.out.empty());
  EXPECT_NE(r.err.find("GPU report command /bin/sh: exited with status 2"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nvml: no GPU found"), std::string::npos) << r.err;  // the command's own stderr
  auto slow = Cat("data", {"--gpu-report-timeout", "1", "--gpu-report-cmd", "sleep 30"});
  EXPECT_EQ(slow.exit_code, 3) << slow.err;
  EXPECT_NE(slow.err.find("did not finish within 1000 ms"), std::string::npos) << slow.err;
  auto garbage = Cat("data", {"--gpu-report-cmd", "echo not-json"});
  EXPECT_NE(garbage.exit_code, 0);
  EXPECT_NE(garbage.err.find("GPU report command output line 1"), std::string::npos) << garbage.err;
  EXPECT_EQ(AuditCount(" attest "), attests) << "an attestation reached the broker";
}

TEST_F(GpuLoad, ACapturedReportIsRefusedForALiveAttestation) {
  // The real nvtrust report, unmodified, in the command's line format.
  const std::string line =
      Json{{"report", ToString(nv::ReportHexText())}, {"cert_chain", ToString(nv::ChainPem())}}.dump();
  ASSERT_OK(WriteFileAtomic(env_->dir.File("h100.jsonl"), AsBytes(line + "\n"), 0644));
  const std::size_t attests = AuditCount(" attest ");
  auto r = Cat("data", {"--gpu-report", env_->dir.File("h100.jsonl")});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("GPU 0: its report answers nonce 931d8dd0add203ac"), std::string::npos) << r.err;
  EXPECT_EQ(AuditCount(" attest "), attests);
  // Both sources at once is a usage error.
  auto both = Cat("data", {"--gpu-report", env_->dir.File("h100.jsonl"), "--gpu-report-cmd", "true"});
  EXPECT_EQ(both.exit_code, 2) << both.err;
}

}  // namespace
}  // namespace sigil
