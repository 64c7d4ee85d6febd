// Every example policy (policies/examples/*.json) against the claims that the real verifiers
// produce from the real vectors in ../shared/vectors (as tests/unit/attestation/{snp,dcap} run
// them), plus the dev verifier's claims: for every rule of every example, at least one real
// claim set it admits and at least one it refuses, so no example and no rule is dead (the old
// strict-production.json never admitted SEV-SNP and its "datasets/*" rule covered no valid key).
//
// Reference sets are filled as an operator approving these builds would, from the claims.
// The hardware vectors were captured without Sigil's loader, so they carry no workload.* claims
// (attestation/purpose.h); as the model-weights examples require them, THIS TEST ADDS
// workload.mode / workload.engine / workload.sandbox to every claim set explicitly, and checks
// that the model-weights rules refuse the same evidence in "stream" mode or without them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "attestation/cca/anchors.h"
#include "attestation/cca/cca_verifier.h"
#include "attestation/dcap/verifier.h"
#include "attestation/dev/evidence.h"
#include "attestation/dev/verifier.h"
#include "attestation/snp/report.h"
#include "attestation/snp/verifier.h"
#include "core/ed25519.h"
#include "core/encoding.h"
#include "core/file_io.h"
#include "policies/policy.h"
#include "tests/support/matchers.h"
#include "tests/unit/attestation/dev_test_util.h"

namespace sigil::policy {
namespace {

using attestation::Claims;
using namespace std::string_literals;

std::string Vector(const std::string& rel) { return std::string(SIGIL_SHARED_DIR) + "/vectors/" + rel; }

Bytes Load(const std::string& rel) {
  auto b = ReadFile(Vector(rel));
  EXPECT_TRUE(b.has_value()) << rel;
  return b ? *b : Bytes{};
}

std::chrono::system_clock::time_point Unix(std::int64_t s) {
  return std::chrono::system_clock::time_point(std::chrono::seconds(s));
}

Bytes HexFile(const std::string& rel) {
  std::string text = ToString(Load(rel));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  auto b = HexDecode(text);
  EXPECT_TRUE(b.has_value()) << rel;
  return b ? *b : Bytes{};
}

// SEV-SNP: MANIFEST SNP-1 (go-sev-guest, debug allowed) and SNP-2 (virtee, Milan), verified
// against AMD's Milan ARK with the vectors' VCEKs, at the manifest's times. The report's own
// REPORT_DATA stands in for the broker binding.
Claims Snp(const Bytes& report, std::int64_t at) {
  attestation::snp::SnpConfig config;
  config.anchors.roots.push_back(Load("sev-snp/go-sev-guest/ask_ark_milan.pem"));
  config.vcek_cache = {Load("sev-snp/go-sev-guest/vcek.der"), Load("sev-snp/virtee-sev/vcek_milan.der")};
  auto v = attestation::snp::SnpVerifier::Create(std::move(config));
  EXPECT_TRUE(v.has_value());
  auto parsed = attestation::snp::ParseReport(report);
  EXPECT_TRUE(parsed.has_value());
  const Bytes binding(parsed->report_data.begin(), parsed->report_data.end());
  auto claims = (*v)->Verify({report, {}, binding, Unix(at)});
  EXPECT_TRUE(claims.has_value()) << (claims ? "" : claims.error().message());
  return claims ? *claims : Claims();
}

// Intel DCAP: MANIFEST TDX-3 and SGX-1 (dcap-qvl), with their collateral, at its instant.
Claims Dcap(attestation::dcap::DcapTee tee, const char* quote, const char* collateral, std::int64_t at) {
  auto v = attestation::dcap::DcapVerifier::Create(tee, {{Load("tdx/dcap-qvl/TrustedRootCA.der")}, std::nullopt, {}});
  EXPECT_TRUE(v.has_value());
  auto claims = (*v)->Verify({Load(quote), Load(collateral), {}, Unix(at)});
  EXPECT_TRUE(claims.has_value()) << (claims ? "" : claims.error().message());
  return claims ? *claims : Claims();
}

// Arm CCA: MANIFEST CCA-1 (tf-rmm token, legacy tag 399) with its CPAK; realm challenge ab x 64.
Claims Cca() {
  auto anchors = attestation::cca::KeyAnchorsFromFiles({Load("cca-psa/ccatoken/tf-rmm_cca_platform.pub.pem")}, "CPAK");
  EXPECT_TRUE(anchors.has_value());
  auto v = attestation::cca::CcaVerifier::Create({anchors ? *anchors : std::vector<attestation::cca::KeyAnchor>{}, false});
  EXPECT_TRUE(v.has_value());
  const Bytes binding(64, 0xab);
  auto claims = (*v)->Verify({Load("cca-psa/ccatoken/tf-rmm_cca_token.cbor"), {}, binding, Unix(1700000000)});
  EXPECT_TRUE(claims.has_value()) << (claims ? "" : claims.error().message());
  return claims ? *claims : Claims();
}

// The dev TEE (no vectors: it is Sigil's own), through the real dev verifier.
Claims Dev() {
  attestation::dev::DevPayload p;
  p.binding = sigil::testing::TestBinding();
  p.measurement = sigil::testing::TestMeasurement();
  p.issued_at = 1700000000;
  attestation::dev::DevEnvelope e;
  e.payload = ToBytes(attestation::dev::SerializePayload(p).value());
  e.signature = Ed25519Sign(sigil::testing::TestSeed(), attestation::dev::SigningInput(e.payload)).value();
  auto v = attestation::dev::DevVerifier::Create(sigil::testing::TestPublicKey());
  EXPECT_TRUE(v.has_value());
  const Bytes binding = sigil::testing::TestBinding();
  auto claims = (*v)->Verify({attestation::dev::SerializeEnvelope(e), {}, binding, sigil::testing::TestNow()});
  EXPECT_TRUE(claims.has_value()) << (claims ? "" : claims.error().message());
  return claims ? *claims : Claims();
}

// The engine every claim set says it loads (explicit, see the header): the dev measurement, as
// `sigil-load measure` prints an engine's.
std::string Engine() { return sigil::testing::TestMeasurement(); }

void AddPurpose(Claims& c, const std::string& mode) {
  c.Set("workload.mode", mode);
  c.Set("workload.engine", Engine());
  c.Set("workload.sandbox", std::string(64, '5'));
}

struct Fixture {
  std::map<std::string, Claims> sets;  // name -> claims with workload.mode "sealed-memory"
  MapReferenceSets refs;
};

const Fixture& Get() {
  static const Fixture* f = [] {
    auto* x = new Fixture;
    x->sets["snp-1 go-sev-guest (debug)"] = Snp(Load("sev-snp/go-sev-guest/attestation.bin"), 1663981200);
    x->sets["snp-2 virtee milan"] = Snp(HexFile("sev-snp/virtee-sev/report_milan.hex"), 1704067200);
    x->sets["tdx-3 dcap-qvl"] = Dcap(attestation::dcap::DcapTee::kTdx, "tdx/dcap-qvl/tdx_quote.bin",
                                     "tdx/dcap-qvl/tdx_quote_collateral.json", 1752919234);
    x->sets["sgx-1 dcap-qvl"] = Dcap(attestation::dcap::DcapTee::kSgx, "sgx/dcap-qvl/sgx_quote.bin",
                                     "sgx/dcap-qvl/sgx_quote_collateral.json", 1752919277);
    x->sets["dev"] = Dev();
    x->sets["cca-1 tf-rmm"] = Cca();
    for (auto& [name, c] : x->sets) AddPurpose(c, "sealed-memory");
    auto s = [x](const char* set, const char* claim) { return x->sets.at(set).GetString(claim).value_or("?"); };
    // What an operator approving these builds would add with `sigil refs add`.
    for (const char* set : {"snp-1 go-sev-guest (debug)", "snp-2 virtee milan"}) {
      x->refs.Add("approved-snp-guests", s(set, "measurement"));
    }
    for (const char* set : {"snp-1 go-sev-guest (debug)", "snp-2 virtee milan", "tdx-3 dcap-qvl", "sgx-1 dcap-qvl"}) {
      x->refs.Add("approved-guests", s(set, "measurement"));
    }
    x->refs.Add("approved-tdx-guests", s("tdx-3 dcap-qvl", "measurement"));
    x->refs.Add("approved-tdx-firmware", s("tdx-3 dcap-qvl", "tdx.rtmr0"));
    x->refs.Add("approved-tdx-kernels", s("tdx-3 dcap-qvl", "tdx.rtmr1"));
    x->refs.Add("approved-tdx-cmdlines", s("tdx-3 dcap-qvl", "tdx.rtmr2"));
    x->refs.Add("approved-trainers", s("snp-2 virtee milan", "measurement"));
    x->refs.Add("registered-hosts", s("snp-2 virtee milan", "platform.id"));
    x->refs.Add("approved-engines", Engine());
    x->refs.Add("demo-engines", s("dev", "measurement"));
    x->refs.Add("approved-realms", s("cca-1 tf-rmm", "cca.realm.rim"));
    x->refs.Add("approved-cca-platforms", s("cca-1 tf-rmm", "cca.platform.implementation_id"));
    // azure-cvm.json: filled (with values no vector produces) so that its rule is judged.
    x->refs.Add("approved-paravisors", std::string(96, '0'));
    x->refs.Add("approved-azure-guests", std::string(64, '0'));
    // h100-host.json: judged on eight verified GPUs in tests/unit/attestation/composite.
    x->refs.Add("h100-cc-on-rims", "1:" + std::string(96, '0'));  // as `sigil refs import-nvidia-rim` writes
    return x;
  }();
  return *f;
}

// A key name the glob covers: each '*' and '?' becomes 'x'.
std::string KeyFor(const std::string& glob) {
  std::string k = glob;
  for (char& c : k) {
    if (c == '*' || c == '?') c = 'x';
  }
  return k;
}

// Rules that guard model weights: they must also refuse stream mode and absent purpose claims.
bool GuardsModelWeights(const std::string& rule) { return rule != "prod-datasets"; }

Policy LoadExample(const std::string& file) {
  auto text = ReadTextFile(std::string(SIGIL_SOURCE_DIR) + "/policies/examples/" + file);
  EXPECT_TRUE(text.has_value()) << file;
  auto p = ParsePolicy(text ? *text : "", file);
  EXPECT_TRUE(p.has_value()) << (p ? "" : p.error().message());
  return p ? std::move(*p) : ParsePolicy(R"({"version":1,"rules":[]})", "empty").value();
}

std::vector<std::string> ExampleFiles() {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(std::string(SIGIL_SOURCE_DIR) + "/policies/examples")) {
    if (e.path().extension() == ".json") files.push_back(e.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(ExamplesOnVectors, TheVectorsVerify) {
  for (const auto& [name, c] : Get().sets) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(c.GetString("tee").has_value());
    EXPECT_TRUE(c.GetString("measurement").has_value());
  }
  EXPECT_EQ(Get().sets.at("snp-2 virtee milan").GetString("tcb.status"), "Endorsed");
  EXPECT_EQ(Get().sets.at("tdx-3 dcap-qvl").GetString("tcb.status"), "UpToDate");
}

// Examples for which no public capture verifies, with why; their rules must refuse every real
// claim set instead (and still name only reference sets this test fills).
const std::map<std::string, std::string>& WithoutPassingPublicEvidence() {
  static const std::map<std::string, std::string> m = {
      {"azure-cvm.json", "MANIFEST azure-cvm: the SNP capture's VCEK is for another chip and the quote's AK is not "
                         "its HCLAkPub, so no public capture verifies all three layers"},
      {"h100-host.json", "the public NVIDIA vectors hold one H100 report and no claim set here has GPUs; the "
                         "example is judged on eight verified GPUs in tests/unit/attestation/composite/h100_policy_test.cpp"},
  };
  return m;
}

TEST(ExamplesOnVectors, EveryRuleOfEveryExampleAdmitsOneRealClaimSetAndRefusesAnother) {
  const Fixture& f = Get();
  const std::vector<std::string> files = ExampleFiles();
  ASSERT_GE(files.size(), 4u);
  for (const std::string& file : files) {
    SCOPED_TRACE(file);
    const Policy p = LoadExample(file);
    ASSERT_FALSE(p.rules().empty());
    for (const std::string& set : p.ReferenceSetNames()) {
      EXPECT_TRUE(f.refs.Exists(set)) << "reference set " << set << " is not filled by this test";
    }
    if (WithoutPassingPublicEvidence().contains(file)) {
      for (const auto& [name, claims] : f.sets) {
        EXPECT_FALSE(Evaluate(p, claims, "x", f.refs).allow) << name;
      }
      continue;
    }
    for (const Rule& rule : p.rules()) {
      SCOPED_TRACE(rule.name);
      const std::string key = KeyFor(rule.keys.front());
      std::vector<std::string> admitted, refused;
      for (const auto& [name, claims] : f.sets) {
        const Decision d = Evaluate(p, claims, key, f.refs);
        if (d.allow && d.rule == rule.name) admitted.push_back(name);
        if (!d.allow) refused.push_back(name);
        if (!d.allow || !GuardsModelWeights(rule.name)) continue;
        Claims stream = claims;
        stream.Set("workload.mode", "stream"s);
        EXPECT_FALSE(Evaluate(p, stream, key, f.refs).allow) << name << " in stream mode";
        Claims bare;
        for (const auto& [claim, value] : claims.values()) {
          if (claim.rfind("workload.", 0) != 0) bare.Set(claim, value);
        }
        EXPECT_FALSE(Evaluate(p, bare, key, f.refs).allow) << name << " without workload claims";
      }
      EXPECT_FALSE(admitted.empty()) << "rule admits none of the real claim sets (key " << key << ")";
      EXPECT_FALSE(refused.empty()) << "rule refuses none of the real claim sets (key " << key << ")";
    }
  }
}

// The specific verdicts the examples promise.
TEST(ExamplesOnVectors, ExpectedVerdicts) {
  const Fixture& f = Get();
  auto allows = [&f](const char* file, const char* key, const char* set) {
    return Evaluate(LoadExample(file), f.sets.at(set), key, f.refs).allow;
  };
  // strict-production admits both TEEs (it never admitted SEV-SNP) and covers dataset keys.
  EXPECT_TRUE(allows("strict-production.json", "llama3", "snp-2 virtee milan"));
  EXPECT_TRUE(allows("strict-production.json", "llama3", "tdx-3 dcap-qvl"));
  EXPECT_FALSE(allows("strict-production.json", "llama3", "snp-1 go-sev-guest (debug)"));
  EXPECT_FALSE(allows("strict-production.json", "llama3", "sgx-1 dcap-qvl"));
  EXPECT_FALSE(allows("strict-production.json", "llama3", "dev"));
  EXPECT_TRUE(allows("strict-production.json", "dataset-web", "snp-2 virtee milan"));
  EXPECT_FALSE(allows("strict-production.json", "dataset-web", "tdx-3 dcap-qvl"));
  EXPECT_TRUE(allows("snp-production.json", "llama", "snp-2 virtee milan"));
  EXPECT_FALSE(allows("snp-production.json", "llama", "snp-1 go-sev-guest (debug)"));
  EXPECT_FALSE(allows("snp-production.json", "llama", "tdx-3 dcap-qvl"));
  EXPECT_TRUE(allows("tdx-production.json", "llama", "tdx-3 dcap-qvl"));
  EXPECT_FALSE(allows("tdx-production.json", "llama", "snp-2 virtee milan"));
  EXPECT_TRUE(allows("demo-dev.json", "demo-mlp", "dev"));
  EXPECT_FALSE(allows("demo-dev.json", "demo-mlp", "snp-2 virtee milan"));
}

}  // namespace
}  // namespace sigil::policy
