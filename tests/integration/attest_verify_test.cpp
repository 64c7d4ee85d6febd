// `sigil attest verify` run as users run it (docs/cli.md): TPM quotes made by tpm2-tools with its
// default options on a real swtpm (tpm2_quote -m/-s/-o, so the PCR file is in tpm2-tools'
// default "serialized" form), nonces of other lengths than Sigil's, the Azure vTPM vector's
// 9-byte nonce, the SEV-SNP VCEK and KDS chain given as two --collateral files, DCAP quotes with
// --no-collateral, and every failure as JSON with --json.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/encoding.h"
#include "core/json.h"
#include "tests/integration/attest_cli_util.h"
#include "tests/support/process.h"
#include "tests/support/swtpm.h"
#include "tests/support/temp_dir.h"

namespace sigil::integration {
namespace {

using sigil::testing::BinPath;
using sigil::testing::CommandResult;

bool Contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

// One swtpm with an EK and an RSA AK made by tpm2_createek/tpm2_createak, shared by the TPM
// tests; quotes are made by tpm2_quote with its default output formats.
class AttestVerifyTpm : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    env_ = new Env();
    env_->Start();
  }
  static void TearDownTestSuite() { delete env_; }

  struct Env {
    sigil::testing::TempDir dir;
    std::optional<sigil::testing::Swtpm> swtpm;
    bool ready = false;

    // A tpm2-tools command against the swtpm; transient objects and sessions are flushed after
    // it (a TPM has only a few object slots).
    CommandResult Tool(std::vector<std::string> argv) const {
      argv[0] = "/usr/bin/" + argv[0];
      const std::vector<std::string> env{"TPM2TOOLS_TCTI=" + swtpm->ToolsTcti()};
      auto r = sigil::testing::Run(argv, env);
      sigil::testing::Run({"/usr/bin/tpm2_flushcontext", "-t"}, env);
      sigil::testing::Run({"/usr/bin/tpm2_flushcontext", "-s"}, env);
      return r;
    }

    void Start() {
      std::filesystem::create_directories(dir.File("swtpm"));
      auto sw = sigil::testing::Swtpm::Start(dir.File("swtpm"));
      ASSERT_TRUE(sw.has_value()) << sw.error().message();
      swtpm.emplace(std::move(*sw));
      auto ek = Tool({"tpm2_createek", "-c", dir.File("ek.ctx"), "-G", "rsa", "-u", dir.File("ek.pub")});
      ASSERT_EQ(ek.exit_code, 0) << ek.err;
      auto ak = Tool({"tpm2_createak", "-C", dir.File("ek.ctx"), "-c", dir.File("ak.ctx"), "-G", "rsa",
                      "-g", "sha256", "-s", "rsassa", "-u", dir.File("ak.pem"), "-f", "pem", "-n",
                      dir.File("ak.name")});
      ASSERT_EQ(ak.exit_code, 0) << ak.err;
      for (const char* pcr : {"7", "16"}) {  // non-zero PCR values, so that swapped values show
        auto ext = Tool({"tpm2_pcrextend", std::string(pcr) + ":sha256=" + std::string(64, pcr[0])});
        ASSERT_EQ(ext.exit_code, 0) << ext.err;
      }
      ready = true;
    }
  };

  struct QuoteFiles {
    std::string message, signature, pcrs;
  };

  // tpm2_quote -c AK -l SELECTION -q NONCE -m M -s S -o P [extra...] (defaults otherwise).
  static QuoteFiles Quote(const std::string& name, const std::string& selection,
                          const std::string& nonce_hex, std::vector<std::string> extra = {}) {
    QuoteFiles f{env_->dir.File(name + ".msg"), env_->dir.File(name + ".sig"), env_->dir.File(name + ".pcrs")};
    std::vector<std::string> argv{"tpm2_quote", "-c", env_->dir.File("ak.ctx"), "-l", selection, "-q",
                                  nonce_hex, "-m", f.message, "-s", f.signature, "-o", f.pcrs};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto r = env_->Tool(argv);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return f;
  }

  // The documented line: sigil attest verify --tee tpm --ak AK.pem --message M --signature S
  // --pcrs P [more...].
  static CommandResult Verify(const QuoteFiles& f, std::vector<std::string> more = {}, bool json = false) {
    std::vector<std::string> args{"attest", "verify", "--tee", "tpm", "--ak", env_->dir.File("ak.pem"),
                                  "--message", f.message, "--signature", f.signature, "--pcrs", f.pcrs};
    if (json) args.insert(args.begin(), "--json");
    args.insert(args.end(), more.begin(), more.end());
    return Sigil(args);
  }

  void SetUp() override { ASSERT_TRUE(env_ != nullptr && env_->ready) << "swtpm environment did not start"; }

  static Env* env_;
};
AttestVerifyTpm::Env* AttestVerifyTpm::env_ = nullptr;

constexpr const char* kNonce20 = "0102030405060708090a0b0c0d0e0f1011121314";

TEST_F(AttestVerifyTpm, Tpm2QuoteDefaultOutputVerifies) {
  QuoteFiles q = Quote("default", "sha256:0,1,2,7", kNonce20);
  // tpm2-tools' serialized form: TPML_PCR_SELECTION (132) + count (4) + one TPML_DIGEST (532).
  EXPECT_EQ(std::filesystem::file_size(q.pcrs), 668u);
  auto r = Verify(q);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(Contains(r.out, "attest verify: OK")) << r.out;
  // The values are the TPM's own, as tpm2_pcrread reads them.
  auto read = env_->Tool({"tpm2_pcrread", "sha256:7", "-o", env_->dir.File("pcr7.bin")});
  ASSERT_EQ(read.exit_code, 0) << read.err;
  auto j = JsonOut(Verify(q, {}, true));
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["claims"]["tpm.pcr.sha256.7"], HexEncode(Slurp(env_->dir.File("pcr7.bin"))));
  EXPECT_NE(j["claims"]["tpm.pcr.sha256.7"], std::string(64, '0'));
  EXPECT_EQ(j["not_checked"], Json::array({"report_data"}));
}

TEST_F(AttestVerifyTpm, SeveralDigestListsBanksAndValuesFormVerify) {
  // Ten PCRs in two banks: tpm2-tools reads at most 8 digests per TPML_DIGEST, so two lists.
  QuoteFiles two = Quote("two_lists", "sha1:0+sha256:0,1,2,3,4,5,6,7,16", kNonce20);
  EXPECT_EQ(std::filesystem::file_size(two.pcrs), 136u + 2 * 532u);
  auto r = Verify(two, {"--expect-qualifying-data", kNonce20});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  QuoteFiles values = Quote("values", "sha256:0,1,2,7", kNonce20, {"-F", "values"});
  EXPECT_EQ(std::filesystem::file_size(values.pcrs), 4u * 32u);
  r = Verify(values);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST_F(AttestVerifyTpm, MalformedOrInconsistentPcrFilesAreRefused) {
  QuoteFiles q = Quote("bad", "sha256:0,1,2,7", kNonce20);
  QuoteFiles other = Quote("other", "sha256:0,1,2,16", kNonce20);
  const Bytes good = Slurp(q.pcrs);
  ASSERT_EQ(good.size(), 668u);
  auto with = [&](const Bytes& pcrs) {
    Spit(env_->dir.File("edited.pcrs"), pcrs);
    QuoteFiles e = q;
    e.pcrs = env_->dir.File("edited.pcrs");
    return Verify(e);
  };
  struct Case {
    std::string what;
    Bytes pcrs;
    std::string error;
  };
  Bytes truncated(good.begin(), good.end() - 1);
  Bytes extra = good;
  extra.push_back(0);
  Bytes nine_digests = good;
  nine_digests[136] = 9;  // the TPML_DIGEST count
  Bytes three_digests = good;
  three_digests[136] = 3;
  Bytes short_digest = good;
  short_digest[140] = 20;  // the first TPM2B_DIGEST size: 20 in a SHA-256 bank
  Bytes no_banks = good;
  no_banks[0] = 0;  // TPML_PCR_SELECTION count
  for (const Case& c : std::vector<Case>{
           {"truncated", truncated, "truncated, has extra bytes"},
           {"extra byte", extra, "truncated, has extra bytes"},
           {"other selection", Slurp(other.pcrs), "its selection sha256:0,1,2,16 is not the quote's selection sha256:0,1,2,7"},
           {"9 digests in a list", nine_digests, "holds 9 digests"},
           {"3 digests for 4 PCRs", three_digests, "fewer digests (3) than selected PCRs (4)"},
           {"digest size", short_digest, "is not of the bank's size"},
           {"no banks", no_banks, "selection count 0"}}) {
    auto r = with(c.pcrs);
    EXPECT_NE(r.exit_code, 0) << c.what;
    EXPECT_TRUE(Contains(r.err, c.error)) << c.what << ": " << r.err;
    EXPECT_FALSE(Contains(r.out, "OK")) << c.what;
  }
  // Well-formed, but a PCR value that is not the quoted one: the pcrDigest check refuses it.
  Bytes changed = good;
  changed[142] ^= 0x01;  // first byte of the first digest (PCR 0)
  auto r = with(changed);
  EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
  EXPECT_TRUE(Contains(r.out, "REFUSED")) << r.out;
  EXPECT_EQ(with(good).exit_code, 0);  // the harness itself accepts the unchanged file
}

TEST_F(AttestVerifyTpm, QualifyingDataOfAnyTpmLength) {
  const std::string n1 = "ab";
  const std::string n64 = HexEncode(Bytes(64, 0x5a));
  for (const std::string& nonce : {n1, std::string(kNonce20), n64}) {
    QuoteFiles q = Quote("nonce" + std::to_string(nonce.size()), "sha256:0,7", nonce);
    auto ok = Verify(q, {"--expect-qualifying-data", nonce});
    EXPECT_EQ(ok.exit_code, 0) << nonce << ": " << ok.out << ok.err;
    EXPECT_FALSE(Contains(ok.out, "NOT checked")) << ok.out;
    std::string wrong = nonce;
    wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
    auto bad = Verify(q, {"--expect-qualifying-data", wrong});
    EXPECT_EQ(bad.exit_code, 4) << nonce << ": " << bad.out << bad.err;
    EXPECT_TRUE(Contains(bad.out, "qualifying data")) << bad.out;
  }
  // A prefix of the nonce is not the nonce.
  QuoteFiles q64 = Quote("nonce64b", "sha256:0", n64);
  EXPECT_EQ(Verify(q64, {"--expect-qualifying-data", n64.substr(0, 64)}).exit_code, 4);
  // More than a TPM2B_DATA holds (tpm2_quote refuses it too): a usage error.
  auto too_long = Verify(q64, {"--expect-qualifying-data", n64 + "00"});
  EXPECT_EQ(too_long.exit_code, 2) << too_long.err;
  EXPECT_TRUE(Contains(too_long.err, "1..64 bytes")) << too_long.err;
}

TEST_F(AttestVerifyTpm, JsonErrorsAreJsonWithTheSameExitCodes) {
  QuoteFiles q = Quote("json", "sha256:0", kNonce20);
  // Usage error (no --ak): exit 2, as without --json, and nothing but the JSON.
  auto usage = Sigil({"--json", "attest", "verify", "--tee", "tpm", "--message", q.message, "--signature",
                      q.signature, "--pcrs", q.pcrs});
  EXPECT_EQ(usage.exit_code, 2);
  EXPECT_EQ(Sigil({"attest", "verify", "--tee", "tpm", "--message", q.message, "--signature", q.signature,
                   "--pcrs", q.pcrs}).exit_code, 2);
  Json u = JsonOut(usage);
  EXPECT_EQ(u["ok"], false);
  EXPECT_EQ(u["error"]["code"], "invalid_argument");
  EXPECT_TRUE(Contains(u["error"].value("message", ""), "--ak")) << usage.out;
  EXPECT_TRUE(usage.err.empty()) << usage.err;
  // --json after the sub-command, a missing file.
  auto missing = Sigil({"attest", "verify", "--tee", "tpm", "--ak", env_->dir.File("ak.pem"), "--message",
                        env_->dir.File("nonexistent.msg"), "--signature", q.signature, "--pcrs", q.pcrs, "--json"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_TRUE(Contains(JsonOut(missing)["error"].value("message", ""), "nonexistent.msg")) << missing.out;
  // A bad PCR file (input error) and a refusal (exit 4).
  auto bad_pcrs = Verify({q.message, q.signature, q.message}, {}, true);
  EXPECT_EQ(bad_pcrs.exit_code, 1);
  EXPECT_EQ(JsonOut(bad_pcrs)["error"]["code"], "malformed_evidence");
  auto refused = Verify(q, {"--expect-qualifying-data", "00"}, true);
  EXPECT_EQ(refused.exit_code, 4);
  Json f = JsonOut(refused);
  EXPECT_EQ(f["ok"], false);
  EXPECT_EQ(f["error"]["code"], "verification_failed");
  auto too_long = Verify(q, {"--expect-qualifying-data", std::string(130, 'a')}, true);
  EXPECT_EQ(too_long.exit_code, 2);
  EXPECT_EQ(JsonOut(too_long)["error"]["code"], "invalid_argument");
  // Argument errors found by the option parser (no --tee, an unknown option): JSON as well, with
  // the parser's own exit code.
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"attest", "verify", "--evidence", q.message},
        std::vector<std::string>{"attest", "verify", "--tee", "tpm", "--bogus"}}) {
    auto text = Sigil(args);
    auto with_json = args;
    with_json.insert(with_json.begin(), "--json");
    auto json = Sigil(with_json);
    EXPECT_NE(text.exit_code, 0);
    EXPECT_EQ(json.exit_code, text.exit_code);
    EXPECT_EQ(JsonOut(json)["error"]["code"], "invalid_argument");
    EXPECT_TRUE(json.err.empty()) << json.err;
  }
}

// MANIFEST TPM-2 (Azure vTPM): a 9-byte nonce "challenge", PCRs as hex lines.
TEST(AttestVerifyVectors, AzureVtpmQuoteWithNineByteNonce) {
  const std::string d = Vector("tpm2/azure-cvm-tooling/");
  std::vector<std::string> args{"attest", "verify", "--tee", "tpm", "--ak", d + "akpub.pem", "--message",
                                d + "derived_attest.bin", "--signature", d + "derived_signature_rsassa_raw.bin",
                                "--pcrs", d + "derived_pcrs_sha256.txt", "--expect-qualifying-data"};
  auto ok = args;
  ok.push_back("6368616c6c656e6765");
  auto r = Sigil(ok);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  auto wrong = args;
  wrong.push_back("01020304");
  r = Sigil(wrong);
  EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
}

// MANIFEST SNP-1, the VCEK and the KDS cert_chain as two --collateral files, in either order.
TEST(AttestVerifyVectors, SnpVcekAndChainAsTwoCollateralFiles) {
  const std::string d = Vector("sev-snp/go-sev-guest/");
  auto run = [&](std::vector<std::string> collateral, const std::string& at) {
    std::vector<std::string> args{"attest", "verify", "--tee", "sev-snp", "--evidence", d + "attestation.bin",
                                  "--trust-anchor", d + "ask_ark_milan.pem"};
    for (const auto& c : collateral) {
      args.push_back("--collateral");
      args.push_back(c);
    }
    args.push_back("--at");
    args.push_back(at);
    return Sigil(args);
  };
  const std::string vcek = d + "vcek.der";
  const std::string chain = d + "ask_ark_milan.pem";
  for (const auto& files : {std::vector<std::string>{vcek, chain}, std::vector<std::string>{chain, vcek}}) {
    auto r = run(files, "2022-09-24T01:00:00Z");
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(Contains(r.out, "tee = sev-snp")) << r.out;
  }
  EXPECT_EQ(run({vcek}, "2022-09-24T01:00:00Z").exit_code, 0);  // the VCEK alone, as before
  auto expired = run({chain, vcek}, "2030-01-01T00:00:00Z");
  EXPECT_EQ(expired.exit_code, 4);
  EXPECT_TRUE(Contains(expired.out, "VCEK expired")) << expired.out;
  auto two_veks = run({vcek, Vector("sev-snp/virtee-sev/vcek_milan.der"), chain}, "2024-01-01T00:00:00Z");
  EXPECT_EQ(two_veks.exit_code, 2) << two_veks.err;
  EXPECT_TRUE(Contains(two_veks.err, "more than one VCEK/VLEK")) << two_veks.err;
}

// DCAP without collateral only on request, and the output says what was not checked.
TEST(AttestVerifyVectors, DcapNoCollateralSaysWhatWasNotChecked) {
  const std::string quote = Vector("tdx/go-tdx-guest/tdx_prod_quote_SPR_E4.dat");
  const std::vector<std::string> base{"attest", "verify", "--tee", "tdx", "--evidence", quote,
                                      "--trust-anchor", Vector("tdx/go-tdx-guest/trusted_root.pem"),
                                      "--at", "2023-07-01T01:00:00Z"};
  auto plus = [&](std::vector<std::string> more) {
    auto a = base;
    a.insert(a.end(), more.begin(), more.end());
    return a;
  };
  auto none = Sigil(base);
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_TRUE(Contains(none.err, "--no-collateral")) << none.err;
  auto human = Sigil(plus({"--no-collateral"}));
  ASSERT_EQ(human.exit_code, 0) << human.out << human.err;
  for (const char* s : {"NOT checked: TCB status", "NOT checked: revocation", "NOT checked: QE identity",
                        "tcb.status = NotEvaluated"}) {
    EXPECT_TRUE(Contains(human.out, s)) << s << " in " << human.out;
  }
  std::vector<std::string> json_args = plus({"--no-collateral"});
  json_args.insert(json_args.begin(), "--json");
  Json j = JsonOut(Sigil(json_args));
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["not_checked"], Json::array({"report_data", "tcb_status", "revocation", "qe_identity"}));
  EXPECT_EQ(j["claims"]["tcb.status"], "NotEvaluated");
  auto both = Sigil(plus({"--no-collateral", "--collateral", Vector("tdx/dcap-qvl/tdx_quote_collateral.json")}));
  EXPECT_EQ(both.exit_code, 2) << both.err;
  // The signature is still checked: a flipped TD quote body byte is refused.
  sigil::testing::TempDir dir;
  Bytes flipped = Slurp(quote);
  flipped[0x3C] ^= 0x32;
  Spit(dir.File("flipped.dat"), flipped);
  auto bad = base;
  bad[5] = dir.File("flipped.dat");
  bad.push_back("--no-collateral");
  EXPECT_EQ(Sigil(bad).exit_code, 4);
  // SGX (MANIFEST SGX-1) the same way.
  auto sgx = Sigil({"attest", "verify", "--tee", "sgx", "--evidence", Vector("sgx/dcap-qvl/sgx_quote.bin"),
                    "--trust-anchor", Vector("sgx/dcap-qvl/TrustedRootCA.der"), "--at",
                    "2025-07-19T10:01:17Z", "--no-collateral"});
  EXPECT_EQ(sgx.exit_code, 0) << sgx.out << sgx.err;
  EXPECT_TRUE(Contains(sgx.out, "NOT checked: QE identity")) << sgx.out;
}

}  // namespace
}  // namespace sigil::integration
